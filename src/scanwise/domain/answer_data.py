"""The patient answers' own data, as models: the topics with the outline of each answer, the
glossary of words to define, and the publishers an answer may cite.

Files: ``knowledge/answers/topics.yaml``, ``knowledge/facts/words/glossary.yaml`` and
``knowledge/answers/source-hosts.yaml``, read and validated by ``knowledge/loader.py`` into
``KnowledgeBase.answers`` (so they are part of ``kb_version`` and of the cached knowledge
base). The rules that use them are in ``domain/answers/`` (``text.glossary``,
``sources.allowed_host``); a topic's rule is matched against the question by the question
reader (``nlp/question.py``).

A topic's rule is regular expressions on the question (case-insensitive): all of ``all``, at
least one of ``any`` when given, none of ``none``. An outline names the facts of the short
answer, then sections of facts, ACR scenarios (shown as a ratings table straight from the
knowledge base) and plain lines (scanwise's words about itself, never medical claims).
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from scanwise.domain.profile import Phase

TopicIntent = Literal["screening", "follow_up", "symptoms", "monitoring", "report", "preparation",
                      "alternatives", "cost", "out_of_scope"]
HostKind = Literal["guideline body", "professional society", "government", "journal", "cancer centre",
                   "standards body", "resolver"]


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



class AllowedHost(_Strict):
    domain: str = Field(pattern=r"^[a-z0-9.-]+\.[a-z]{2,}$")
    #: Only URLs whose path starts with this (a publisher's own space on a shared host).
    path: str | None = Field(default=None, pattern=r"^/[^\s]*/$")
    publisher: str
    kind: HostKind


class GlossaryEntry(_Strict):
    """Words to define on first use, the fact that defines them, and the facts that explain
    them well enough that no definition is needed once shown."""

    fact: str
    words: list[str]
    defined_by: list[str] = []


class AnswerData(_Strict):
    """Everything the patient answers read besides the fact base and the ACR data."""

    topics: Topics | None = None  # None only for a knowledge base without answers/topics.yaml
    glossary: list[GlossaryEntry] = []
    hosts: list[AllowedHost] = []
