"""compose_article(kb, topic_id, variant, library=, reviews=) -> Article: one guideline
scenario for clinicians.

The ratings table is ``match_for`` — the very rows ``assess`` gives ``recommend`` — so an
article cannot disagree with a recommendation. Everything said around the table is either
computed from the knowledge base (who fits, where else to go, the bottom line, the
verification status) or a fragment from ``knowledge/articles`` chosen by the variant's
conditions, with its citations and confidence carried through.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from scanwise.domain.assess import Match, find_topic, match_for
from scanwise.domain.conditions import Conditions, describe
from scanwise.domain.kb import CATEGORY_ORDER, KnowledgeBase, KnowledgeBaseError, Topic, Variant
from scanwise.domain.review import ReviewRecord, fingerprint, state_for
from scanwise.domain.statements import coverage_of, statement_refs

from .case import case_values
from .library import Fragment, Library
from .model import Article, Citation, FaqItem, Passage, TableRow
from .neighbours import article_path, redirects

_TEXT = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, trim_blocks=True,
                             lstrip_blocks=True)


def labeler(kb: KnowledgeBase) -> Callable[[str], str]:
    """Vocabulary code -> words; a lab code in a condition means the result is abnormal."""
    def label(code: str) -> str:
        term = kb.terms.get(code)
        return f"abnormal {term.label}" if term is not None and term.kind == "lab" else kb.label(code)

    return label


class _Sources:
    """The article's numbered source list, built as passages cite things."""

    def __init__(self, kb: KnowledgeBase, lib: Library) -> None:
        self.kb, self.lib = kb, lib
        self.items: list[Citation] = []

    def number(self, cite: str) -> int:
        for c in self.items:
            if c.id == cite:
                return c.number
        n = len(self.items) + 1
        if cite.startswith("fact:"):
            fact = self.lib.facts[cite.removeprefix("fact:")]
            srcs = [self.kb.sources[s] for s in fact.sources]
            label = f"scanwise fact base: {fact.id} (from " + "; ".join(
                _source_label(s.publisher, s.title, s.year) for s in srcs) + ")"
            url = next((s.url for s in srcs if s.url), None)
            year = max((s.year for s in srcs if s.year), default=None)
            self.items.append(Citation(id=cite, number=n, label=label, url=url, year=year,
                                       confidence=fact.confidence))
        else:
            src = self.kb.sources[cite]
            self.items.append(Citation(id=cite, number=n, url=src.url, year=src.year,
                                       label=_source_label(src.publisher, src.title, src.year),
                                       confidence=None))
        return n

    def guideline_years(self, cites: list[str]) -> list[str]:
        """'NCCN 2015' tags for the dated guideline bodies behind these citations (a body is
        a publisher with an abbreviation, such as NCCN or ASCO)."""
        tags: list[str] = []
        for cite in cites:
            keys = (self.lib.facts[cite[5:]].sources if cite.startswith("fact:") else [cite])
            for key in keys:
                src = self.kb.sources[key]
                short = re.search(r"\(([A-Z][A-Za-z&]+)\)", src.publisher)
                tag = f"{short.group(1)} {src.year}" if short and src.year else None
                if tag and tag not in tags:
                    tags.append(tag)
        return tags


def _source_label(publisher: str, title: str, year: int | None) -> str:
    return f"{publisher}. {title}" + (f" ({year})" if year else "")


def _caution(frag: Fragment, sources: _Sources) -> str | None:
    if frag.confidence == "old":
        tags = sources.guideline_years(frag.cites)
        return ("older guidance" + (f" ({', '.join(tags)})" if tags else "")
                + ", not re-checked against the current version")
    if frag.confidence == "uncertain":
        return "uncertain: not confirmed in a primary source"
    if frag.confidence == "secondary":
        return "from a secondary summary, not the primary document"
    return None


def _render(frag: Fragment, field: str, values: dict[str, Any]) -> str:
    try:
        text = _TEXT.from_string(getattr(frag, field) or "").render(values)
    except TemplateError as exc:
        raise KnowledgeBaseError(f"article fragment {frag.id}: {field} cannot be filled in: {exc}") from exc
    return " ".join(text.split())


def _passage(frag: Fragment, values: dict[str, Any], sources: _Sources) -> Passage:
    return Passage(text=_render(frag, "text", values), lead=frag.lead,
                   cites=[sources.number(c) for c in frag.cites], confidence=frag.confidence,
                   caution=_caution(frag, sources), fragment=frag.id)


def _pick(found: list[tuple[int, Fragment]], section: str) -> list[Fragment]:
    """A section's fragments: all specific ones; fallbacks only when there are none."""
    mine = [(lvl, f) for lvl, f in found if f.section == section]
    chosen = [(lvl, f) for lvl, f in mine if not f.fallback] or [(lvl, f) for lvl, f in mine]
    if section == "case":
        chosen = sorted(chosen, key=lambda x: (-x[0], x[1].order))[:1]
    return [f for _, f in sorted(chosen, key=lambda x: (x[1].order, -x[0], x[1].id))]


def _bottom_line(m: Match) -> str:
    if not m.procedures:
        return ("The ratings for this variant are not in the bundled data, so scanwise shows none. "
                "Check the ACR document linked below.")
    groups: dict[str, list[str]] = {}
    for p in m.procedures:
        groups.setdefault(p.category, []).append(p.name)
    parts = [f"{cat}: {', '.join(names)}"
             for cat, names in sorted(groups.items(), key=lambda kv: CATEGORY_ORDER[kv[0]])]
    only = next(iter(groups)) if len(groups) == 1 else None
    lead = (f"Every study rated for this scenario is {only}." if only
            else "The ACR ratings for this scenario, best first.")
    tail = "" if m.ratings_complete else (" The table in the bundled data is partial; studies not "
                                          "listed are unknown, not inappropriate.")
    return f"{lead} {'; '.join(parts)}.{tail}"


def _verification(m: Match) -> str:
    if not m.ratings_verified:
        return "ratings: not in the bundled data (unknown); see the ACR document"
    kinds = {p.verification for p in m.procedures}
    origin = ("ACR primary table" if kinds == {"primary"}
              else "ACR table via a 2020 copy of the ACR site" if all("scrape" in k for k in kinds)
              else "ACR tables (primary, with rows from a 2020 copy of the ACR site)")
    numbers = [p.rating for p in m.procedures]
    detail = ("with numeric ratings" if all(numbers)
              else "categories only, no numeric ratings" if not any(numbers)
              else "numeric ratings for some rows only")
    return f"ratings: {origin}, {'complete' if m.ratings_complete else 'partial'}; {detail}"


def _notice(topic: Topic, m: Match) -> str | None:
    parts = []
    if topic.status != "current":
        year = f" ({m.year})" if m.year else ""
        parts.append(f"This ACR topic{year} is retired. It is kept for reference and is not used "
                     "for current answers; see the current scenarios listed under who this is not for.")
    if not m.ratings_verified:
        parts.append("The rating table for this variant is not in the bundled data, so no study "
                     "ratings are shown. Check the ACR document for them.")
    return " ".join(parts) or None


def _title(topic: Topic, variant: Variant) -> str:
    own = describe(variant.applies_when)
    summary = "; ".join(own[:3]) if own else ("definition not in the bundled data"
                                              if variant.label is None else "")
    return f"{topic.title}, variant {variant.number}" + (f": {summary}" if summary else "")


def compose_article(kb: KnowledgeBase, topic_id: int, variant: int, *, library: Library,
                    reviews: list[ReviewRecord]) -> Article:
    """The article for one ACR variant from the article library and the stored sign-offs
    (both loaded by the caller: the core). Raises KeyError naming a missing topic or variant."""
    lib = library
    topic = find_topic(kb, topic_id)
    v = topic.variant(variant)
    m = match_for(kb, topic_id, variant)
    cond = topic.applies_when.merged(v.applies_when)
    labels = labeler(kb)
    values = case_values(cond, labels)
    found = lib.fragments_for(topic, v)
    sources = _Sources(kb, lib)
    for key in dict.fromkeys(k.strip() for p in m.procedures for k in p.source.split("+")):
        sources.number(key)

    def passages(section: str) -> list[Passage]:
        return [_passage(f, values, sources) for f in _pick(found, section)]

    case = passages("case")
    looking_for = passages("looking_for")
    pretest = passages("pretest")
    study_frags = _pick(found, "study")
    rows = []
    for p in m.procedures:
        frag = next((f for f in study_frags if any(s.lower() in p.name.lower() for s in f.studies)),
                    None)
        rows.append(TableRow(**p.model_dump(),
                             note=_passage(frag, values, sources) if frag else None))
    why = passages("why")
    workflow = passages("workflow")
    pitfalls = passages("pitfalls")
    faq = [FaqItem(question=_render(f, "question", values), answer=_passage(f, values, sources))
           for f in _pick(found, "faq")]
    not_for, related = redirects(kb, topic, v, labels)
    article = Article(
        kb_version=kb.version,
        topic_id=topic.topic_id,
        topic=topic.title,
        variant=v.number,
        status=topic.status,
        year=m.year,
        label=v.label,
        label_complete=v.label_complete,
        title=_title(topic, v),
        path=article_path(topic.topic_id, v.number),
        # Situations about the data itself (ratings missing) are not clinical situations.
        situations=[s.title for s in lib.situations_for(topic, v) if s.when != Conditions()],
        case=case[0] if case else Passage(text="No case is given: the bundled data does not say "
                                          "who this variant is for.", confidence="verified"),
        who_fits=describe(cond, labels),
        not_for=not_for,
        looking_for=looking_for,
        pretest=pretest,
        bottom_line=_bottom_line(m),
        table=rows,
        unrated_procedures=m.unrated_procedures,
        ratings_note=m.ratings_note,
        why=why,
        workflow=workflow,
        pitfalls=pitfalls,
        faq=faq,
        related=related,
        sources=sources.items,
        source_urls=m.source_urls,
        citation=m.citation,
        verification=_verification(m),
        notice=_notice(topic, m),
        statements=statement_refs(kb, topic.topic_id, v.number),
        coverage=coverage_of(kb, topic, v),
        pack=topic.pack,
    )
    return with_review(article, reviews)


def article_fingerprint(article: Article) -> str:
    """What a reviewer signs: the article's content, without its version or review state."""
    return fingerprint(article.model_dump_json(exclude={"kb_version", "review"}))


def with_review(article: Article, reviews: list[ReviewRecord]) -> Article:
    """The article with its review state from the sign-offs."""
    key = f"{article.topic_id}/{article.variant}"
    return article.model_copy(update={
        "review": state_for(reviews, "article", key, article_fingerprint(article))})


def all_variants(kb: KnowledgeBase) -> list[tuple[int, int]]:
    """Every (topic, variant) in the knowledge base, current topics first."""
    return [(t.topic_id, v.number) for t in kb.topics for v in t.variants]
