"""Patient topics as data: when each applies, and the outline of its answer.

``knowledge/answers/topics.yaml`` lists topics in order; the first whose rule matches the
question wins. A rule is regular expressions on the question (case-insensitive): all of
``all``, at least one of ``any`` when given, none of ``none``. An outline names the facts of
the short answer, then sections of facts, ACR scenarios (shown as a ratings table straight
from the knowledge base) and plain lines (scanwise's words about itself, never medical
claims). Validated on load: patterns compile, and ``check_outlines`` confirms every fact id
and ACR scenario exists.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from scanwise.domain.assess import match_for
from scanwise.domain.facts import Fact
from scanwise.domain.kb import KnowledgeBase, KnowledgeBaseError
from scanwise.domain.profile import Phase
from scanwise.knowledge.loader import DATA_DIR, load_yaml, validate_entry

TOPICS_FILE = DATA_DIR / "answers" / "topics.yaml"

TopicIntent = Literal["screening", "follow_up", "symptoms", "monitoring", "report", "preparation",
                      "alternatives", "cost", "out_of_scope"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Rule(_Strict):
    all: list[str] = []
    any: list[str] = []
    none: list[str] = []

    @field_validator("all", "any", "none")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        for p in patterns:
            try:
                re.compile(p)
            except re.error as exc:
                raise ValueError(f"pattern {p!r} does not compile: {exc}") from exc
        return patterns

    def matches(self, text: str) -> bool:
        if not (self.all or self.any):
            return False
        def hit(p: str) -> bool:
            return re.search(p, text, re.IGNORECASE) is not None
        return (all(hit(p) for p in self.all) and (not self.any or any(hit(p) for p in self.any))
                and not any(hit(p) for p in self.none))


class AcrRef(_Strict):
    topic: int
    variant: int


class OutlineSection(_Strict):
    heading: str
    facts: list[str] = []
    acr: list[AcrRef] = []
    plain: list[str] = []


class Topic(_Strict):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    intent: TopicIntent
    title: str
    when: Rule
    short: list[str] = []  # facts whose text is the direct answer
    plain: list[str] = []  # plain lines of the short answer (scanwise about itself)
    sections: list[OutlineSection] = []
    questions: list[str] = []
    scope_note: str | None = None  # for out_of_scope topics: why, kindly, and where to go
    # Phases of care the topic fits; when the reader's phase is known and not listed, it does not apply.
    phases: list[Phase] = []


class Topics(_Strict):
    can_answer: list[str] = Field(min_length=1)
    topics: list[Topic]


@cache
def load_topics(path: Path = TOPICS_FILE) -> Topics:
    data = load_yaml(path)
    if not isinstance(data, dict):
        raise KnowledgeBaseError(f"{path.name}: expected a mapping with can_answer and topics")
    topics: Topics = validate_entry(Topics, data, path, "topics")
    ids = [t.id for t in topics.topics]
    if len(set(ids)) != len(ids):
        raise KnowledgeBaseError(f"{path.name}: duplicate topic id")
    for t in topics.topics:
        if (t.intent == "out_of_scope") != (t.scope_note is not None):
            raise KnowledgeBaseError(f"{path.name}: topic {t.id}: a scope_note goes with out_of_scope, only")
        if t.intent != "out_of_scope" and not (t.short or t.plain):
            raise KnowledgeBaseError(f"{path.name}: topic {t.id} has no short answer")
    return topics


def find_topic(text: str, phase: Phase | None = None, path: Path = TOPICS_FILE) -> Topic | None:
    """The first topic whose rule matches the question (and fits the phase, when known)."""
    return next((t for t in load_topics(path).topics if t.when.matches(text)
                 and not (phase and t.phases and phase not in t.phases)), None)


_checked: set[tuple[Path, str, int]] = set()


def check_outlines(facts: dict[str, Fact], kb: KnowledgeBase, path: Path = TOPICS_FILE) -> Topics:
    """The topics, after confirming every fact id and ACR scenario they name exists."""
    topics = load_topics(path)
    key = (path, kb.version, len(facts))
    if key in _checked:
        return topics
    for t in topics.topics:
        named = t.short + t.questions + [f for s in t.sections for f in s.facts]
        for fid in named:
            if fid not in facts:
                raise KnowledgeBaseError(f"{path.name}: topic {t.id}: unknown fact id {fid!r}")
        for s in t.sections:
            for ref in s.acr:
                try:
                    match_for(kb, ref.topic, ref.variant)
                except KeyError as exc:
                    raise KnowledgeBaseError(f"{path.name}: topic {t.id}: {exc}") from exc
    _checked.add(key)
    return topics
