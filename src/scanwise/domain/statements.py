"""Other guidelines' statements where the ACR tables are missing, and who supplied each table.

:func:`annotate` fills ``Match.statements`` (and ``UncoveredTopic.statements``) from the
knowledge base after the engine has matched, and ``Match.pack`` with the content pack that
supplied the ACR table. A statement is never a rating: it carries a direction
(recommended / not recommended / consider / insufficient), its publisher, year, currency and
verification, and the ACR rating of the variant stays whatever the ACR data says (unknown
where there is none). Where statements on the same test point different ways,
:func:`disagreements` lists both sides so every surface can show them; nothing here picks one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from scanwise.domain.assess import Assessment, StatementRef
from scanwise.domain.kb import KnowledgeBase, Statement, Topic, Variant

FOR = ("recommended", "consider")
AGAINST = ("not recommended",)


def to_ref(s: Statement, kb: KnowledgeBase) -> StatementRef:
    src = kb.sources[s.source]
    terms = kb.terms
    return StatementRef(
        id=s.id,
        publisher=s.publisher,
        document=src.title + (f", {s.section}" if s.section else ""),
        year=s.year,
        currency=s.currency,
        verification=s.verification,
        direction=s.direction,
        procedures=[terms[p].label if p in terms else p for p in s.procedures],
        text=s.text,
        url=src.url,
    )


def _order(r: StatementRef) -> tuple[bool, int, str]:
    return (r.currency != "current", -(r.year or 0), r.id)


def statement_refs(kb: KnowledgeBase, topic_id: int, variant: int | None = None) -> list[StatementRef]:
    """A variant's statements (``None``: the topic-wide ones), current and newest first."""
    found = kb.derived(_ref_table).get((topic_id, variant))
    if found is None:  # a topic or variant the knowledge base does not hold
        return sorted((to_ref(s, kb) for s in kb.statements_for(topic_id, variant)), key=_order)
    return list(found)


def _ref_table(kb: KnowledgeBase) -> dict[tuple[int, int | None], tuple[StatementRef, ...]]:
    """Every variant's and every topic's statement references, built once per knowledge base
    (``StatementRef`` is frozen, so every assessment can share them)."""
    keys = dict.fromkeys(key for t in kb.topics
                         for key in ((t.topic_id, None), *((t.topic_id, v.number) for v in t.variants)))
    return {key: tuple(sorted((to_ref(s, kb) for s in kb.statements_for(*key)), key=_order))
            for key in keys}


def _packs(kb: KnowledgeBase) -> dict[tuple[int, str], str | None]:
    return {(t.topic_id, t.status): t.pack for t in kb.topics}


def annotate(a: Assessment, kb: KnowledgeBase) -> Assessment:
    """The assessment with each match's statements and supplying pack filled in."""
    packs = kb.derived(_packs)
    matches = []
    for m in a.matches:
        refs, pack = statement_refs(kb, m.topic_id, m.variant), packs.get((m.topic_id, m.status))
        # Most matches have neither: they are kept as they are, not copied.
        unchanged = not refs and pack is None and not m.statements and m.pack is None
        matches.append(m if unchanged else m.model_copy(update={"statements": refs, "pack": pack}))
    uncovered = [u.model_copy(update={"statements": statement_refs(kb, u.topic_id)})
                 for u in a.uncovered_topics]
    if not uncovered and all(m is old for m, old in zip(matches, a.matches, strict=True)):
        return a  # nothing to add
    return a.model_copy(update={"matches": matches, "uncovered_topics": uncovered})


@dataclass(frozen=True)
class Disagreement:
    """Statements on one test that point different ways; each side's publishers (and years)."""

    procedure: str
    for_: list[str]  # recommended or to consider
    against: list[str]

    def sentence(self) -> str:
        return (f"Guideline statements differ on {self.procedure}: for it or to consider — "
                f"{', '.join(self.for_)}; against — {', '.join(self.against)}. Their populations "
                "differ (read each statement); scanwise does not pick one.")


def _who(r: StatementRef) -> str:
    return f"{r.publisher} {r.year}" if r.year else r.publisher


def disagreements(refs: list[StatementRef]) -> list[Disagreement]:
    """Tests that some statements favour and others advise against, in first-mention order."""
    out = []
    procedures = dict.fromkeys(p for r in refs for p in r.procedures)
    for proc in procedures:
        pro = list(dict.fromkeys(_who(r) for r in refs if proc in r.procedures and r.direction in FOR))
        con = list(dict.fromkeys(_who(r) for r in refs if proc in r.procedures and r.direction in AGAINST))
        if pro and con:
            out.append(Disagreement(proc, pro, con))
    return out


def statement_line(r: StatementRef) -> str:
    """How a statement is introduced everywhere: publisher and year, old and secondary marked."""
    marks = []
    if r.currency == "old":
        marks.append("older guidance")
    if r.verification == "secondary":
        marks.append("secondary source: seen in a copy, not on the publisher's own page")
    year = f" ({r.year})" if r.year else " (year not shown)"
    return f"{r.publisher}{year}, {r.direction}" + (f" [{'; '.join(marks)}]" if marks else "")


# --- coverage --------------------------------------------------------------------------------

Coverage = Literal["acr", "statements", "none"]


def coverage_of(kb: KnowledgeBase, topic: Topic, variant: Variant | None) -> Coverage:
    """What the knowledge base can say about a variant (``None``: a topic without variants):
    ACR ratings, other guidelines' statements only, or nothing."""
    if variant is not None and variant.ratings.verified:
        return "acr"
    number = variant.number if variant is not None else None
    return "statements" if kb.statements_for(topic.topic_id, number) else "none"


def variant_coverage(kb: KnowledgeBase, topic: Topic) -> dict[str, Any]:
    """A topic's variant numbers split by :func:`coverage_of`, plus its topic-wide statements."""
    split: dict[str, list[int]] = {"acr": [], "statements": [], "none": []}
    for v in topic.variants:
        split[coverage_of(kb, topic, v)].append(v.number)
    return {"with_acr_ratings": split["acr"], "with_statements_only": split["statements"],
            "with_nothing": split["none"],
            "topic_statements": len(kb.statements_for(topic.topic_id)) if topic.status == "current" else 0}
