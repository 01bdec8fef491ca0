"""Sourced statements in plain language: the fact base behind patient answers and articles.

Each fact is one statement in the project's own words, with the sources it rests on and a
confidence: "verified" (checked against the source), "old" (from a guideline version that
has since been updated), "secondary" (taken from a summary, not the primary document) or
"uncertain" (not confirmed). Uncertain facts are phrased as such or left out of answers.

Files: ``scanwise/knowledge/facts/*.yaml``, each a top-level list named ``facts``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from scanwise.domain.kb import Confidence, KnowledgeBase, KnowledgeBaseError
from scanwise.domain.profile import Phase, StageGroup, Subtype
from scanwise.knowledge.loader import DATA_DIR, load_yaml, top_level_list, validate_entry

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


FACTS_DIR = DATA_DIR / "facts"


def load_facts(kb: KnowledgeBase, facts_dir: Path = FACTS_DIR) -> dict[str, Fact]:
    """Read and validate every fact file; every source id must exist in the knowledge base."""
    facts: dict[str, Fact] = {}
    for path in sorted(facts_dir.glob("*.yaml")):
        for i, item in enumerate(top_level_list(load_yaml(path), path, "facts")):
            fact = validate_entry(Fact, item, path, f"facts[{i}] ({item.get('id', '?')})")
            if fact.id in facts:
                raise KnowledgeBaseError(f"{path.name}: duplicate fact id {fact.id!r}")
            for src in fact.sources:
                if src not in kb.sources:
                    raise KnowledgeBaseError(f"{path.name}: fact {fact.id}: unknown source {src!r}")
            facts[fact.id] = fact
    return facts
