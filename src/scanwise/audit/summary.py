"""The audit's aggregation: the same SQL on DuckDB and on Spark, then summary.json.

Every query reads one relation named ``rated`` (the columns of ``rating.RATED_SCHEMA``) and
uses only SQL both engines speak (``CASE``, ``COUNT(DISTINCT ...)``, ``array_contains``).
Rates and their 95% Wilson intervals are worked out here in Python from the integer counts, so
both engines give the same numbers to the last digit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from scanwise.audit.measures import Measure, wilson

RunSql = Callable[[str], list[dict[str, Any]]]

_UNA = "'Usually Not Appropriate'"
_COUNTS = (
    f"COUNT(*) AS orders, "
    f"SUM(CASE WHEN low_value THEN 1 ELSE 0 END) AS low_value, "
    f"SUM(CASE WHEN category = {_UNA} THEN 1 ELSE 0 END) AS usually_not_appropriate, "
    f"SUM(CASE WHEN category IS NOT NULL THEN 1 ELSE 0 END) AS with_category, "
    f"SUM(CASE WHEN insufficient_information THEN 1 ELSE 0 END) AS insufficient_information"
)


def _measure_counts(measures: Sequence[Measure]) -> str:
    parts = []
    for i, m in enumerate(measures):
        parts.append(f"SUM(CASE WHEN array_contains(denominators, '{m.id}') THEN 1 ELSE 0 END) AS d{i}")
        parts.append(f"SUM(CASE WHEN array_contains(measures, '{m.id}') THEN 1 ELSE 0 END) AS n{i}")
    return ", ".join(parts)


def queries(measures: Sequence[Measure]) -> dict[str, str]:
    mc = _measure_counts(measures)
    patients = ", ".join(
        f"COUNT(DISTINCT CASE WHEN array_contains(denominators, '{m.id}') THEN patient_id END) AS pd{i}, "
        f"COUNT(DISTINCT CASE WHEN array_contains(measures, '{m.id}') THEN patient_id END) AS pn{i}"
        for i, m in enumerate(measures)
    )
    return {
        "totals": f"SELECT {_COUNTS}, COUNT(patient_id) AS with_patient, "
        f"COUNT(ordering_service) AS with_service, {mc}, {patients} FROM rated",
        "by_procedure": f"SELECT procedure, study, {_COUNTS} FROM rated GROUP BY procedure, study",
        "by_variant": f"SELECT topic_id, variant, {_COUNTS} FROM rated WHERE topic_id IS NOT NULL "
        f"GROUP BY topic_id, variant",
        "by_month": f"SELECT month, {_COUNTS}, {mc} FROM rated GROUP BY month",
        "by_service": f"SELECT ordering_service, {_COUNTS}, {mc} FROM rated "
        f"WHERE ordering_service IS NOT NULL GROUP BY ordering_service",
    }


def _rate(numerator: int, denominator: int) -> dict[str, Any]:
    lo, hi = wilson(numerator, denominator)
    return {
        "numerator": numerator,
        "denominator": denominator,
        "rate": round(numerator / denominator, 6) if denominator else None,
        "ci_low": lo,
        "ci_high": hi,
    }


def _int(v: Any) -> int:
    return int(v or 0)


def _counts(r: dict[str, Any]) -> dict[str, Any]:
    orders = _int(r["orders"])
    low = _int(r["low_value"])
    una = _int(r["usually_not_appropriate"])
    rated = _int(r["with_category"])
    return {
        "orders": orders,
        "low_value": low,
        "low_value_rate": _rate(low, orders)["rate"],
        "with_category": rated,
        "usually_not_appropriate": una,
        "usually_not_appropriate_rate": _rate(una, rated)["rate"],
        "insufficient_information": _int(r["insufficient_information"]),
    }


def _per_measure(r: dict[str, Any], measures: Sequence[Measure]) -> dict[str, Any]:
    return {m.id: _rate(_int(r[f"n{i}"]), _int(r[f"d{i}"])) for i, m in enumerate(measures)}


def _key(*values: Any) -> tuple[Any, ...]:
    return tuple((v is None, v if v is not None else 0) for v in values)


def build_summary(
    run_sql: RunSql,
    measures: Sequence[Measure],
    *,
    rows_in: int,
    quarantined: int,
    kb_version: str,
    sources: dict[str, Any],
    quarantine_reasons: dict[str, int],
) -> dict[str, Any]:
    q = queries(measures)
    total = run_sql(q["totals"])[0]
    rated = _int(total["orders"])
    with_patient = _int(total["with_patient"]) > 0
    out_measures = []
    for i, m in enumerate(measures):
        entry: dict[str, Any] = {
            "id": m.id,
            "title": m.title,
            "source": "; ".join(_cite(sources, s) for s in m.sources),
        }
        entry.update(_rate(_int(total[f"n{i}"]), _int(total[f"d{i}"])))
        entry["patients"] = _rate(_int(total[f"pn{i}"]), _int(total[f"pd{i}"])) if with_patient else None
        entry["sources"] = list(m.sources)
        out_measures.append(entry)
    by_procedure = sorted(
        (
            {"procedure": r["procedure"], "study": r["study"], **_counts(r)}
            for r in run_sql(q["by_procedure"])
        ),
        key=lambda e: (-e["orders"], *_key(e["procedure"], e["study"])),
    )
    by_variant = sorted(
        (
            {"topic_id": int(r["topic_id"]), "variant": int(r["variant"]), **_counts(r)}
            for r in run_sql(q["by_variant"])
        ),
        key=lambda e: (e["topic_id"], e["variant"]),
    )
    by_month = sorted(
        (
            {"month": r["month"], **_counts(r), "measures": _per_measure(r, measures)}
            for r in run_sql(q["by_month"])
        ),
        key=lambda e: _key(e["month"]),
    )
    by_service = None
    if _int(total["with_service"]) > 0:
        by_service = sorted(
            (
                {
                    "ordering_service": r["ordering_service"],
                    **_counts(r),
                    "measures": _per_measure(r, measures),
                }
                for r in run_sql(q["by_service"])
            ),
            key=lambda e: _key(e["ordering_service"]),
        )
    return {
        "rows_in": rows_in,
        "rated": rated,
        "quarantined": quarantined,
        "accounted": rows_in == rated + quarantined,
        "kb_version": kb_version,
        "totals": _counts(total),
        "measures": out_measures,
        "quarantine_reasons": dict(sorted(quarantine_reasons.items())),
        "by_procedure": by_procedure,
        "by_variant": by_variant,
        "by_month": by_month,
        "by_service": by_service,
    }


def _cite(sources: dict[str, Any], key: str) -> str:
    s = sources[key]
    return f"{s.publisher}: {s.title}" + (f" ({s.year})" if s.year else "")
