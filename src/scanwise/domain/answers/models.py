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
from scanwise.domain.assess import Decision, Unread
from scanwise.domain.facts import Fact

SectionKind = Literal[
    "content",  # facts about the tests or the guidelines
    "situation",  # the reader's own situation (assessment engine, or what would refine it)
    "questions",  # questions to ask the care team
    "retrieval",  # facts found by search when no fixed topic matched
    "scope",  # what scanwise covers, for questions outside it (no claims, no citations)
    "sources",  # the numbered source list
]


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
    intent: Intent
    personalized: bool  # a patient context (text, record or profile) shaped the answer
    sections: list[Section]
    sources: list[SourceRef]
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
        seen: list[str] = []
        for section in self.sections:
            for fid in section.citations:
                if fid not in seen:
                    seen.append(fid)
        return seen

    def source_numbers(self, fact_ids: list[str], facts: Mapping[str, Fact]) -> list[int]:
        """The numbers, in this answer's source list, of the sources behind these facts."""
        number = {s.id: s.number for s in self.sources}
        return sorted({number[src] for fid in fact_ids if fid in facts
                       for src in facts[fid].sources if src in number})
