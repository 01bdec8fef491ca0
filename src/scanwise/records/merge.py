"""Merge what several documents say into one profile.

Agreeing documents pool their evidence. Where two documents disagree, the newer one wins only
when both give a date and the dates differ; otherwise the fact is reported as a conflict and
left unknown, so a person decides rather than the order the files were given in.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from scanwise.domain.profile import Evidence, PatientProfile
from scanwise.records.model import Conflict, ConflictValue, DocumentFacts, FieldValue

_LIST_FIELDS = ("symptoms", "denied_symptoms", "findings", "family_history")


def _label(doc: DocumentFacts) -> str:
    return f"{doc.name} ({doc.date.isoformat()})" if doc.date else doc.name


Merged = tuple[PatientProfile, dict[str, list[Evidence]], list[str], list[Conflict]]


def merge(docs: list[DocumentFacts]) -> Merged:
    warnings: list[str] = []
    conflicts: list[Conflict] = []
    evidence: dict[str, list[Evidence]] = {}
    facts: dict[str, Any] = {}
    for doc in docs:
        warnings.extend(doc.warnings)
        conflicts.extend(doc.conflicts)
    conflicted = {c.field for c in conflicts}

    by_field: dict[str, list[tuple[DocumentFacts, FieldValue]]] = defaultdict(list)
    for doc in docs:
        for field, fv in doc.facts.items():
            by_field[field].append((doc, fv))
    for field, entries in by_field.items():
        values: dict[Any, list[tuple[DocumentFacts, FieldValue]]] = defaultdict(list)
        for doc, fv in entries:
            values[fv.value].append((doc, fv))
        if field in conflicted:
            # one document already disagrees with itself: add the others' values to that conflict
            i = next(i for i, c in enumerate(conflicts) if c.field == field)
            extra = [ConflictValue(value=v, evidence=[e for _, fv in g for e in fv.evidence[:2]],
                                   date=g[0][0].date.isoformat() if g[0][0].date else None)
                     for v, g in values.items()]
            conflicts[i] = conflicts[i].model_copy(update={"values": conflicts[i].values + extra})
            continue
        if len(values) == 1:
            value, group = next(iter(values.items()))
            facts[field] = value
            evidence[field] = [e for _, fv in group for e in fv.evidence]
            continue
        newest = _newest(values)
        if newest is not None:
            value, group = newest
            facts[field] = value
            evidence[field] = [e for _, fv in group for e in fv.evidence]
            older = "; ".join(f"{v} in {_label(d)}" for v, g in values.items() if v != value for d, _ in g)
            warnings.append(f"{field}: {value} from {_label(group[0][0])} replaces {older}: "
                            "the newer record wins")
            continue
        conflicts.append(Conflict(
            field=field,
            values=[ConflictValue(value=v, evidence=[e for _, fv in g for e in fv.evidence[:2]],
                                  date=g[0][0].date.isoformat() if g[0][0].date else None)
                    for v, g in values.items()],
            note=f"the records disagree on {field.replace('_', ' ')} and do not all say when they were "
                 "written; it is left unknown until checked",
        ))

    lists: dict[str, list[str]] = {k: [] for k in _LIST_FIELDS}
    for doc in docs:
        for key, items in doc.lists.items():
            for code, ev in items:
                if code in lists[key]:
                    continue
                lists[key].append(code)
                ev_key = "family_history" if key == "family_history" else f"{key}:{code}"
                evidence.setdefault(ev_key, []).append(ev)
    both = [c for c in lists["symptoms"] if c in lists["denied_symptoms"]]
    for code in both:
        warnings.append(f"{code.replace('_', ' ')} is present in one place and denied in another: "
                        "counted as present; check the records")
    lists["denied_symptoms"] = [c for c in lists["denied_symptoms"] if c not in both]
    labs: dict[str, str] = {}
    for doc in docs:
        for code, (state, ev) in doc.labs.items():
            if code in labs and labs[code] != state:
                warnings.append(f"lab {code}: {labs[code]} and {state} in different places; "
                                "the first is kept")
                continue
            labs[code] = state
            evidence.setdefault(f"labs:{code}", []).append(ev)

    profile_fields = set(PatientProfile.model_fields) - {"evidence"}
    scalar = {k: v for k, v in facts.items() if k in profile_fields}
    profile = PatientProfile(**scalar, **lists, labs=labs, evidence=evidence)
    return profile, evidence, warnings, conflicts


def _newest(values: dict[Any, list[tuple[DocumentFacts, FieldValue]]]) -> tuple[Any, list[Any]] | None:
    """The value from the newest record, when every disagreeing record is dated and one is newest."""
    dated = [(fv.date or d.date, v) for v, g in values.items() for d, fv in g]
    if any(date is None for date, _ in dated):
        return None
    latest = max(date for date, _ in dated if date is not None)
    winners = {v for date, v in dated if date == latest}
    if len(winners) != 1:
        return None
    value = winners.pop()
    return value, values[value]
