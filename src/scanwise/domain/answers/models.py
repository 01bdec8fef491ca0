"""The answer a patient reads, as data: sections of sourced paragraphs, sources, a notice.

``Answer.model_dump()`` is the JSON contract of ``scanwise ask --json``. Every paragraph
and bullet keeps the fact ids it was written from (``paragraph_citations``,
``bullet_citations``); a section's ``citations`` is their union. Guideline ratings that
come from the assessment engine also name the ACR topic and variant (``guideline_refs``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, Field

from scanwise.domain.answers.question import Intent, Question
from scanwise.domain.facts import Fact

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
