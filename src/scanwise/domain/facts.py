"""Sourced statements in plain language: the fact base behind patient answers and articles.

Each fact is one statement in the project's own words, with the sources it rests on and a
confidence: "verified" (checked against the source), "old" (from a guideline version that
has since been updated), "secondary" (taken from a summary, not the primary document) or
"uncertain" (not confirmed). Uncertain facts are phrased as such or left out of answers.

Files: ``scanwise/knowledge/facts/*.yaml``, each a top-level list named ``facts``, read and
validated by ``knowledge/loader.py`` (``load_facts``); the core holds the loaded fact base.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from scanwise.domain.kb import Confidence
from scanwise.domain.profile import Phase, StageGroup, Subtype

FactKind = Literal[
    "how_it_works",  # what the test does and how it is done
    "shows",  # what it can and cannot see
    "uses",  # when it is used in breast cancer care
    "limits",  # false positives, false negatives, who it does not suit
    "preparation",  # what the patient does before and during
    "dose",  # radiation dose, with a familiar comparison
    "safety",  # contrast, pregnancy, implants, other risks
    "guideline",  # what a guideline says for a situation
    "probability",  # how likely a finding is (pre-test probability, yield)
    "subtype",  # what a tumour subtype changes
    "question",  # a question worth asking the care team
    "basics",  # background, e.g. what an mSv is
]


class FactScope(BaseModel):
    """Where a fact applies; absent fields mean everywhere."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    stages: list[StageGroup] | None = None
    subtypes: list[Subtype] | None = None
    phases: list[Phase] | None = None
    symptomatic: bool | None = None


class Fact(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    subject: str  # a study (vocabulary procedure code) or a theme, e.g. "staging", "her2_pos"
    kind: FactKind
    text: str
    sources: list[str] = Field(min_length=1)
    confidence: Confidence
    dose_msv: float | None = Field(default=None, ge=0)
    applies: FactScope = FactScope()
