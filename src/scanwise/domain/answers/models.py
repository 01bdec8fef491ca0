"""The answer a patient reads, as data: sections of sourced paragraphs, sources, a notice.

``Answer.model_dump()`` is the JSON contract of ``scanwise ask --json``. Every paragraph
and bullet keeps the fact ids it was written from (``paragraph_citations``,
``bullet_citations``); a section's ``citations`` is their union. Guideline ratings that
come from the assessment engine also name the ACR topic and variant (``guideline_refs``).

The question as read (``Question``: its intent and slots) is data here too; the reader of its
text is ``scanwise.nlp.question``, passed in as a ``QuestionReader``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from scanwise.domain.assess import Decision, Unread
from scanwise.domain.facts import Fact
from scanwise.domain.kb import KnowledgeBase
from scanwise.domain.profile import Phase, Receptor, StageGroup, Subtype

# --- the question, as read -----------------------------------------------------------

Intent = Literal[
    "compare",  # how do tests A and B differ
    "explain",  # what is test A
    "need",  # do I need test A (in my situation)
    "which_tests",  # which tests fit my situation
    "radiation",  # radiation dose and safety
    "preparation",  # how to get ready, what happens during the test
    "results",  # what results mean, what comes next
    "frequency",  # how often during follow-up
    "general",  # in scope, but no fixed intent fits: answered by retrieval
    "out_of_scope",  # not about imaging in breast cancer
    # Patient topics (knowledge/answers/topics.yaml decides when each applies):
    "screening",  # when to start, how often, family history, density, supplemental tests
    "follow_up",  # imaging after treatment: how often, which breast, why no routine scans
    "symptoms",  # a lump, pain, discharge, in women and men
    "monitoring",  # checking how treatment before surgery is working
    "report",  # what a report or a BI-RADS category means
    "alternatives",  # tests offered instead of a mammogram that are not substitutes
    "cost",  # coverage and cost: what to ask, and whom
]
INTENTS: tuple[Intent, ...] = ("compare", "explain", "need", "which_tests", "radiation", "preparation",
                               "results", "frequency", "general", "out_of_scope", "screening", "follow_up",
                               "symptoms", "monitoring", "report", "alternatives", "cost")

MAX_QUESTION_CHARS = 2_000


class UnusableQuestion(ValueError):
    """The question cannot be read (empty, too long, binary)."""


class TestMention(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str  # vocabulary procedure code
    label: str
    words: str  # as written in the question
    fuzzy: bool = False  # matched as a likely misspelling


class Question(BaseModel):
    """What the question asks; ``None`` or empty means not said."""

    text: str
    intent: Intent
    tests: list[TestMention] = []
    stages: list[StageGroup] = []
    stage_words: str | None = None
    er: Receptor | None = None
    her2: Receptor | None = None
    triple_negative: bool = False
    lobular: bool = False
    inflammatory: bool = False
    phase: Phase | None = None
    symptomatic: bool | None = None  # True: symptoms named; False: "no symptoms" said
    symptoms: list[str] = []  # vocabulary codes of symptoms named (not denied)
    pregnant: bool = False
    breastfeeding: bool = False
    names_pregnancy: bool = False  # pregnancy named at all (said of the person or not)
    names_breast: bool = False  # the breast named at all
    names_contrast: bool = False  # contrast dye, or what it can affect (the kidneys), named
    scope_note: str | None = None  # why the question is out of scope
    topic: str | None = None  # the patient topic (topics.yaml) that matched, if any
    assumptions: list[str] = []

    @property
    def codes(self) -> list[str]:
        return [t.code for t in self.tests]

    @property
    def subtype(self) -> Subtype | None:
        if self.triple_negative:
            return "triple_negative"
        if self.her2 == "positive":
            return "her2_pos"
        if self.er == "positive" and self.her2 == "negative":
            return "er_pos_her2_neg"
        return None


class QuestionReader(Protocol):
    """Reads a question's text into a :class:`Question` (``scanwise.nlp.question``): the domain
    reads no text itself, so the core passes the reader in."""

    def __call__(self, text: str, kb: KnowledgeBase, *, context_phase: Phase | None = None) -> Question: ...


SectionKind = Literal[
    "content",  # facts about the tests or the guidelines
    "situation",  # the reader's own situation (assessment engine, or what would refine it)
    "questions",  # questions to ask the care team
    "retrieval",  # facts found by search when no fixed topic matched
    "scope",  # what scanwise covers, for questions outside it (no claims, no citations)
    "sources",  # the numbered source list
    "decision",  # the answer depends on a fact not known yet: one branch per value, none picked
    "statements",  # what other guidelines say where ACR ratings are unknown (never ACR ratings)
    "ratings",  # ACR ratings for named scenarios, as a table straight from the knowledge base
    "plain",  # scanwise's own words about what it can and cannot know (no medical claims)
]


class Table(BaseModel):
    """Side by side: one column per test (comparisons) or per rating (ACR scenarios)."""

    columns: list[str]
    rows: list[list[str]]  # each row has one cell per column; the first cell names the row
    row_citations: list[list[str]] = []  # fact ids behind each row (empty for ratings rows)
    caption: str | None = None


class GuidelineRef(BaseModel):
    """A guideline scenario a paragraph rests on, so anyone can check it at the source."""

    publisher: Literal["ACR"] = "ACR"
    topic_id: int
    topic: str
    variant: int
    label: str | None
    year: int | None = None
    ratings_in_data: bool
    url: str | None = None


class Section(BaseModel):
    heading: str
    kind: SectionKind = "content"
    paragraphs: list[str] = []
    bullets: list[str] = []
    citations: list[str] = []  # fact ids, in order of first use
    paragraph_citations: list[list[str]] = []  # one list per paragraph
    bullet_citations: list[list[str]] = []  # one list per bullet (empty for plain prompts)
    guideline_refs: list[GuidelineRef] = []
    note: str | None = None
    table: Table | None = None


class SourceGroup(BaseModel):
    """Sources by publisher, for a list shown by publisher and title (links behind)."""

    publisher: str
    numbers: list[int]


class SourceRef(BaseModel):
    number: int
    id: str
    title: str
    publisher: str
    year: int | None
    url: str | None
    note: str | None = None


class Answer(BaseModel):
    question: str
    title: str
    short_answer: str = Field(default="", description="The direct answer, two or three sentences")
    short_citations: list[str] = []  # fact ids behind the short answer
    intent: Intent
    personalized: bool  # a patient context (text, record or profile) shaped the answer
    sections: list[Section]
    sources: list[SourceRef]
    source_groups: list[SourceGroup] = []
    disclaimer: str
    reading_grade: float = Field(description="Flesch-Kincaid grade level of the text a reader sees")
    kb_version: str
    understood: Question
    assumptions: list[str] = []  # what was inferred rather than stated
    notes: list[str] = []
    # From the assessment behind a personal answer: words not understood, and the branch when
    # a deciding fact is unknown (see Assessment).
    unread: list[Unread] = []
    decision: Decision | None = None

    def fact_ids(self) -> list[str]:
        seen: list[str] = list(dict.fromkeys(self.short_citations))
        for section in self.sections:
            for fid in section.citations:
                if fid not in seen:
                    seen.append(fid)
        return seen

    def word_count(self) -> int:
        """Words a reader sees: title, short answer, sections (tables included), not the sources."""
        texts = [self.title, self.short_answer]
        for s in self.sections:
            if s.kind == "sources":
                continue
            texts += [s.heading, *s.paragraphs, *s.bullets]
            if s.table:
                texts += s.table.columns + [c for row in s.table.rows for c in row]
        return sum(len(t.split()) for t in texts)

    def source_numbers(self, fact_ids: list[str], facts: Mapping[str, Fact]) -> list[int]:
        """The numbers, in this answer's source list, of the sources behind these facts."""
        number = {s.id: s.number for s in self.sources}
        return sorted({number[src] for fid in fact_ids if fid in facts
                       for src in facts[fid].sources if src in number})
