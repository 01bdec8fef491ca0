"""Staging many cases: records keyed by column name in, one result or error per record out.

This is the code path of ``scanwise stage --input cases.csv``; the CLI only reads the
file and prints. A bad value in one record becomes an error entry naming the row, the
field and the value, and the other records are still staged.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence

from scanwise.domain.staging.engine import StageResult, stage
from scanwise.domain.staging.errors import StagingError
from scanwise.domain.staging.parsing import parse_oncotype
from scanwise.domain.staging.tables import StageTables

REQUIRED_COLUMNS: tuple[str, ...] = ("t", "n", "m", "grade", "er", "pr", "her2")
OPTIONAL_COLUMNS: tuple[str, ...] = ("oncotype",)


def missing_columns(columns: Sequence[str] | None) -> list[str]:
    """Required columns absent from a header (names compared trimmed, any case)."""
    present = {c.strip().lower() for c in columns or ()}
    return [c for c in REQUIRED_COLUMNS if c not in present]


def _cell(record: Mapping[str, str | None], column: str) -> str | None:
    value = record.get(column)
    if value is None:
        return None
    value = value.strip()
    return value or None  # an empty cell means "unknown", never a default


def stage_record(record: Mapping[str, str | None], tables: StageTables) -> StageResult:
    """Stage one record whose keys are the CSV column names (t, n, m, grade, er, pr, her2,
    and optionally oncotype) by ``tables``. Raises :class:`StagingError` for an unreadable
    value."""
    return stage(
        _cell(record, "t"),
        _cell(record, "n"),
        _cell(record, "m"),
        grade=_cell(record, "grade"),
        er=_cell(record, "er"),
        pr=_cell(record, "pr"),
        her2=_cell(record, "her2"),
        oncotype=parse_oncotype(_cell(record, "oncotype")),
        tables=tables,
    )


def _normalise_keys(record: Mapping[str | None, object]) -> dict[str, str | None]:
    # csv.DictReader puts surplus cells under the key None; they are not staging inputs.
    return {
        key.strip().lower(): (value if isinstance(value, str) else None)
        for key, value in record.items()
        if isinstance(key, str)
    }


def stage_records(
    records: Iterable[Mapping[str | None, object]], tables: StageTables, first_row: int = 1
) -> Iterator[dict[str, object]]:
    """One JSON-ready dict per record, in order, each with its 1-based ``row`` number.

    A staged record gives ``{"row": 1, "anatomic": ..., "warnings": [...], ...}``; a bad
    one gives ``{"row": 3, "error": {"field": "t", "value": "T9", "message": ...}}``.
    """
    for row, record in enumerate(records, start=first_row):
        try:
            result = stage_record(_normalise_keys(record), tables)
        except StagingError as exc:
            yield {"row": row, "error": exc.to_dict()}
        else:
            yield {"row": row, **result.to_dict()}
