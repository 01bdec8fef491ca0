"""Prose fragments for clinician articles, stored as data next to the facts they explain.

Files: ``scanwise/knowledge/articles/*.yaml``. Each may hold two top-level lists:

``situations``
    Recurring clinical situations (distant staging early vs late, surveillance, a palpable
    mass by age, ...). A situation selects variants by their ``applies_when`` conditions, so
    a new variant in the data picks up the right fragments without code changes.
``fragments``
    Short passages in the project's own words, each for one article section, aimed at
    situations, topics or single variants, and citing sources (registry ids) or facts
    (``fact:<id>`` from the patient fact base). Fragment text is a Jinja template: it may use
    the case values (``age``, ``person``...) that ``case.py`` derives from the conditions.

The files are read by ``knowledge/loader.py`` (``load_library``), which validates every entry
(file, entry and field named on error); :func:`build_library` here then checks every
reference (source and fact ids, situation ids, topic and variant numbers) and makes the
:class:`Library`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from scanwise.domain.conditions import Conditions, Range
from scanwise.domain.facts import Fact
from scanwise.domain.kb import Confidence, KnowledgeBase, KnowledgeBaseError, Topic, Variant

Section = Literal[
    "case",  # the short case at the top (a template over the case values)
    "looking_for",  # what the imaging is meant to find or exclude
    "pretest",  # how likely that is before the test
    "why",  # the evidence behind the ratings: yield, false positives, radiation, outcomes
    "study",  # a note on one study in the table (``studies`` picks the rows)
    "workflow",  # what happens after each decision, and when to reconsider
    "pitfalls",
    "faq",
]
SECTIONS: tuple[str, ...] = ("case", "looking_for", "pretest", "why", "study", "workflow",
                             "pitfalls", "faq")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Situation(_Strict):
    """A recurring clinical situation, selected by the conditions of a variant."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str
    # Every field set here must also be set on the variant (topic and variant merged) and
    # lie within it: list values a subset, ranges inside, flags equal.
    when: Conditions = Conditions()
    absent: list[str] = []  # Conditions fields the variant must leave unset
    topics: list[int] | None = None  # only these ACR topics
    rated: bool | None = None  # whether the variant's rating table is in the bundled data

    @model_validator(mode="after")
    def _known_fields(self) -> Situation:
        unknown = [f for f in self.absent if f not in Conditions.model_fields]
        if unknown:
            raise ValueError(f"absent names unknown condition fields: {unknown}")
        return self


class Fragment(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    section: Section
    # Targets: a situation id, "topic:310", "variant:310/2", or "all".
    for_: list[str] = Field(alias="for", min_length=1)
    text: str
    cites: list[str] = Field(min_length=1)  # source ids, or "fact:<id>"
    confidence: Confidence
    lead: str | None = None  # a short bold lead-in (workflow, pitfalls)
    question: str | None = None  # faq only
    studies: list[str] = []  # study only: case-insensitive parts of procedure names
    fallback: bool = False  # used only when nothing more specific fills the section
    order: int = 50  # within a section, lower first

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _section_fields(self) -> Fragment:
        if (self.section == "faq") != (self.question is not None):
            raise ValueError("a faq fragment needs a question, and only faq fragments have one")
        if (self.section == "study") != bool(self.studies):
            raise ValueError("a study fragment names its studies, and only study fragments do")
        return self

    @property
    def fact_ids(self) -> list[str]:
        return [c.removeprefix("fact:") for c in self.cites if c.startswith("fact:")]

    @property
    def source_ids(self) -> list[str]:
        return [c for c in self.cites if not c.startswith("fact:")]


class ArticleFile(_Strict):
    """One article file's two lists, as read."""

    situations: list[Situation] = []
    fragments: list[Fragment] = []


@dataclass(frozen=True)
class Library:
    situations: dict[str, Situation]
    fragments: list[Fragment]
    facts: dict[str, Fact]

    def situations_for(self, topic: Topic, variant: Variant) -> list[Situation]:
        cond = topic.applies_when.merged(variant.applies_when)
        return [s for s in self.situations.values() if selects(s, topic.topic_id, cond)
                and (s.rated is None or s.rated == variant.ratings.verified)]

    def fragments_for(self, topic: Topic, variant: Variant) -> list[tuple[int, Fragment]]:
        """Fragments aimed at this variant, each with its specificity (higher is narrower)."""
        ids = {s.id for s in self.situations_for(topic, variant)}
        wanted = {f"variant:{topic.topic_id}/{variant.number}": 3, f"topic:{topic.topic_id}": 1,
                  "all": 0} | {sid: 2 for sid in ids}
        out: list[tuple[int, Fragment]] = []
        for frag in self.fragments:
            levels = [wanted[t] for t in frag.for_ if t in wanted]
            if levels:
                out.append((max(levels), frag))
        return out


# --- selecting by conditions -----------------------------------------------------------------

def _range_within(inner: Range, outer: Range) -> bool:
    """Every value ``inner`` allows is allowed by ``outer``."""
    lo_in = inner.ge if inner.ge is not None else inner.gt
    lo_out = outer.ge if outer.ge is not None else outer.gt
    hi_in = inner.le if inner.le is not None else inner.lt
    hi_out = outer.le if outer.le is not None else outer.lt
    if lo_out is not None and (lo_in is None or lo_in < lo_out):
        return False
    return not (hi_out is not None and (hi_in is None or hi_in > hi_out))


def selects(situation: Situation, topic_id: int, cond: Conditions) -> bool:
    if situation.topics is not None and topic_id not in situation.topics:
        return False
    if any(getattr(cond, name) is not None for name in situation.absent):
        return False
    for name in situation.when.model_fields_set:
        want, have = getattr(situation.when, name), getattr(cond, name)
        if want is None:
            continue
        if have is None:
            return False
        if isinstance(want, list):
            if not set(have) <= set(want):
                return False
        elif isinstance(want, Range):
            if not _range_within(have, want):
                return False
        elif have != want:
            return False
    return True


# --- checking what was read ------------------------------------------------------------------

def _check_targets(path: Path, frag: Fragment, kb: KnowledgeBase, situations: set[str]) -> None:
    for target in frag.for_:
        kind, _, rest = target.partition(":")
        if target == "all" or (not rest and target in situations):
            continue
        try:
            if kind == "topic":
                _topic(kb, int(rest))
                continue
            if kind == "variant":
                topic_id, _, number = rest.partition("/")
                _topic(kb, int(topic_id)).variant(int(number))
                continue
        except (KeyError, ValueError) as exc:
            raise KnowledgeBaseError(f"{path.name}: fragment {frag.id}: target {target!r}: "
                                     f"{exc.args[0] if exc.args else exc}") from exc
        raise KnowledgeBaseError(f"{path.name}: fragment {frag.id}: unknown target {target!r} "
                                 "(a situation id, topic:N, variant:N/M or all)")


def _topic(kb: KnowledgeBase, topic_id: int) -> Topic:
    for t in kb.topics:
        if t.topic_id == topic_id:
            return t
    raise KeyError(f"no ACR topic {topic_id}")


def _check_cites(path: Path, frag: Fragment, kb: KnowledgeBase, facts: dict[str, Fact]) -> None:
    for src in frag.source_ids:
        if src not in kb.sources:
            raise KnowledgeBaseError(f"{path.name}: fragment {frag.id}: unknown source {src!r}")
    for fid in frag.fact_ids:
        if fid not in facts:
            raise KnowledgeBaseError(f"{path.name}: fragment {frag.id}: unknown fact {fid!r}")
        weaker = facts[fid].confidence
        if weaker != "verified" and frag.confidence == "verified":
            raise KnowledgeBaseError(
                f"{path.name}: fragment {frag.id}: cites fact {fid} ({weaker}) "
                "but claims to be verified")


def build_library(kb: KnowledgeBase, facts: dict[str, Fact],
                  files: list[tuple[Path, ArticleFile]]) -> Library:
    """The library from the article files as read, after checking every id is unique and
    every target and citation exists (KnowledgeBaseError naming the file and fragment)."""
    situations: dict[str, Situation] = {}
    for path, file in files:
        for sit in file.situations:
            if sit.id in situations:
                raise KnowledgeBaseError(f"{path.name}: duplicate situation id {sit.id!r}")
            situations[sit.id] = sit
    fragments: list[Fragment] = []
    seen: set[str] = set()
    for path, file in files:
        for frag in file.fragments:
            if frag.id in seen:
                raise KnowledgeBaseError(f"{path.name}: duplicate fragment id {frag.id!r}")
            seen.add(frag.id)
            _check_targets(path, frag, kb, set(situations))
            _check_cites(path, frag, kb, facts)
            fragments.append(frag)
    return Library(situations=situations, fragments=fragments, facts=facts)
