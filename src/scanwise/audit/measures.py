"""The audit's measures and diagnosis-code mapping, as validated data.

``knowledge/audit/measures.yaml`` defines each low-value imaging measure (who is counted, which
orders count against it, its sources and the published rates to compare with);
``knowledge/audit/reason-codes.yaml`` maps diagnosis codes to profile facts. Both are checked
on load against the knowledge base: an unknown field, phase, stage group, study code, red flag
or source fails with a message naming the file, the entry and the field.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from scanwise.domain.kb import Category, KnowledgeBase, KnowledgeBaseError
from scanwise.domain.profile import PatientProfile, Phase, StageGroup
from scanwise.knowledge.loader import DATA_DIR, load_yaml, top_level_list, validate_entry

AUDIT_DIR = DATA_DIR / "audit"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class When(_Strict):
    """Conditions on one rated order; every one that is set must hold."""

    phase: list[Phase] | None = None
    stage_within: list[StageGroup] | None = None
    asymptomatic: bool | None = None
    symptoms_present: bool | None = None
    red_flags_except: list[str] | None = None
    study: list[str] | None = None
    category: list[Category] | None = None


class Published(_Strict):
    source: str
    setting: str
    period: str
    population: str
    patients: int
    rate: float


class Measure(_Strict):
    id: str
    title: str
    short: str
    definition: str
    population: When
    numerator: When
    sources: list[str]
    published: list[Published] = []


class ReasonCode(_Strict):
    system: str
    prefix: str
    display: str
    sets: dict[str, Any]
    phase: Phase | None = None
    source: str


@dataclass
class OrderFacts:
    """What the measures look at for one rated order."""

    phase: str | None = None
    stages: list[str] = field(default_factory=list)
    asymptomatic: bool = False
    symptoms_present: bool = False
    red_flags: list[str] = field(default_factory=list)
    study: str | None = None
    category: str | None = None
    insufficient: bool = False


def holds(when: When, f: OrderFacts) -> bool:
    if when.phase is not None and f.phase not in when.phase:
        return False
    if when.stage_within is not None and (not f.stages or any(s not in when.stage_within for s in f.stages)):
        return False
    if when.asymptomatic is not None and f.asymptomatic != when.asymptomatic:
        return False
    if when.symptoms_present is not None and f.symptoms_present != when.symptoms_present:
        return False
    if when.red_flags_except is not None and any(r not in when.red_flags_except for r in f.red_flags):
        return False
    if when.study is not None and f.study not in when.study:
        return False
    return when.category is None or f.category in when.category


def counted(measure: Measure, f: OrderFacts) -> tuple[bool, bool]:
    """(in the denominator, in the numerator). Insufficient information is in neither."""
    if f.insufficient or not holds(measure.population, f):
        return False, False
    return True, holds(measure.numerator, f)


def wilson(
    numerator: int, denominator: int, z: float = 1.959963984540054
) -> tuple[float | None, float | None]:
    """The Wilson score interval (95% by default) for a proportion; (None, None) when empty."""
    if denominator <= 0:
        return None, None
    p = numerator / denominator
    z2 = z * z
    centre = (p + z2 / (2 * denominator)) / (1 + z2 / denominator)
    half = (
        z
        * math.sqrt(p * (1 - p) / denominator + z2 / (4 * denominator * denominator))
        / (1 + z2 / denominator)
    )
    return round(max(0.0, centre - half), 6), round(min(1.0, centre + half), 6)


def _check(kb: KnowledgeBase, path: Path, m: Measure) -> None:
    studies = {t.code for t in kb.vocabulary if t.kind == "procedure"}
    flags = {f.id for f in kb.red_flags}
    for part in ("population", "numerator"):
        when: When = getattr(m, part)
        for code in when.study or []:
            if code not in studies:
                raise KnowledgeBaseError(
                    f"{path.name}: measure {m.id}, field {part}.study: unknown study {code!r}"
                )
        for flag in when.red_flags_except or []:
            if flag not in flags:
                raise KnowledgeBaseError(
                    f"{path.name}: measure {m.id}, field {part}.red_flags_except: unknown red flag {flag!r}"
                )
    for src in [*m.sources, *(p.source for p in m.published)]:
        if src not in kb.sources:
            raise KnowledgeBaseError(f"{path.name}: measure {m.id}: unknown source {src!r}")


def load_measures(kb: KnowledgeBase, path: Path = AUDIT_DIR / "measures.yaml") -> list[Measure]:
    data = load_yaml(path)
    out: list[Measure] = []
    for i, item in enumerate(top_level_list(data, path, "measures")):
        m = validate_entry(
            Measure, item, path, f"measures[{i}] ({item.get('id', '?') if isinstance(item, dict) else '?'})"
        )
        _check(kb, path, m)
        if any(o.id == m.id for o in out):
            raise KnowledgeBaseError(f"{path.name}: duplicate measure id {m.id!r}")
        out.append(m)
    return out


def load_reason_codes(kb: KnowledgeBase, path: Path = AUDIT_DIR / "reason-codes.yaml") -> list[ReasonCode]:
    data = load_yaml(path)
    out: list[ReasonCode] = []
    for i, item in enumerate(top_level_list(data, path, "codes")):
        rc = validate_entry(ReasonCode, item, path, f"codes[{i}]")
        if rc.source not in kb.sources:
            raise KnowledgeBaseError(f"{path.name}: codes[{i}]: unknown source {rc.source!r}")
        try:
            PatientProfile(**rc.sets)
        except ValueError as exc:
            raise KnowledgeBaseError(f"{path.name}: codes[{i}] ({rc.prefix}): sets: {exc}") from exc
        out.append(rc)
    return out


@cache
def _cached(_kb_version: str, kind: str) -> Any:  # the version is the cache key only
    from scanwise.core import Scanwise

    kb = Scanwise.default().kb
    return load_measures(kb) if kind == "measures" else load_reason_codes(kb)


def default_measures() -> list[Measure]:
    return list(_cached(_version(), "measures"))


def default_reason_codes() -> list[ReasonCode]:
    return list(_cached(_version(), "codes"))


def _version() -> str:
    from scanwise.core import Scanwise

    return Scanwise.default().kb_version
