"""The AJCC stage tables: their models, validation and indexes (pure: no file reading).

The data is YAML under ``knowledge/staging/``, read by ``knowledge/loader.py`` and
handed to :func:`build_tables`. Each file is one AJCC table with a ``source`` block (publisher,
document, edition, table, year, URL) and ``notes`` recording where public copies
disagreed and which value was kept. Validation is strict: an unknown field, a stage
that is not an AJCC group, a missing grid cell or two rows claiming the same T/N pair
all stop loading with a message naming the file.

Lookups go through dictionaries built once at load time, so staging a row costs a few
dictionary reads and no table scans.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

#: An AJCC 8th edition stage group: the one type for stages everywhere (the profile too).
StageGroup = Literal["0", "IA", "IB", "IIA", "IIB", "IIIA", "IIIB", "IIIC", "IV"]
STAGE_GROUPS: tuple[StageGroup, ...] = ("0", "IA", "IB", "IIA", "IIB", "IIIA", "IIIB", "IIIC", "IV")

T_GROUPS: tuple[str, ...] = ("T0", "Tis", "T1", "T2", "T3", "T4")
N_GROUPS: tuple[str, ...] = ("N0", "N1mi", "N1", "N2", "N3")
M_GROUPS: tuple[str, ...] = ("M0", "M1")
GRADES: tuple[str, ...] = ("G1", "G2", "G3")
HER2_KEYS: tuple[str, ...] = ("HER2+", "HER2-")
RECEPTOR_KEYS: tuple[str, ...] = ("ER+/PR+", "ER+/PR-", "ER-/PR+", "ER-/PR-")

#: Every invasive M0 T/N pair a prognostic grid must place (T0 N0 and Tis are not staged
#: by the grid: T0 N0 has no stage group and Tis N0 is a fixed stage 0 row).
PROGNOSTIC_TN: frozenset[tuple[str, str]] = frozenset(
    (t, n) for t in ("T0", "T1", "T2", "T3", "T4") for n in N_GROUPS if (t, n) != ("T0", "N0")
)

TABLE_FILES: dict[str, str] = {
    "anatomic": "anatomic.yaml",
    "clinical_prognostic": "clinical_prognostic.yaml",
    "pathological_prognostic": "pathological_prognostic.yaml",
}


class TableError(ValueError):
    """A table file that does not match the schema; the message names the file."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CrossCheck(_Strict):
    name: str
    url: str | None = None


class Source(_Strict):
    publisher: str
    document: str
    edition: str
    table: str
    year: int
    url: str
    checked_against: list[CrossCheck] = []


def _check_groups(values: list[str], allowed: tuple[str, ...], what: str) -> list[str]:
    for value in values:
        if value != "any" and value not in allowed:
            raise ValueError(f"unknown {what} group {value!r} (allowed: {', '.join(allowed)})")
    return values


class Row(_Strict):
    """One row of a fixed lookup: T groups x N groups x one M group -> stage."""

    t: list[str] = Field(min_length=1)
    n: list[str] = Field(min_length=1)
    m: str
    stage: StageGroup

    @field_validator("t")
    @classmethod
    def _t(cls, v: list[str]) -> list[str]:
        return _check_groups(v, T_GROUPS, "T")

    @field_validator("n")
    @classmethod
    def _n(cls, v: list[str]) -> list[str]:
        return _check_groups(v, N_GROUPS, "N")

    @field_validator("m")
    @classmethod
    def _m(cls, v: str) -> str:
        _check_groups([v], M_GROUPS, "M")
        return v


def _check_tn(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    for t, n in pairs:
        _check_groups([t], T_GROUPS, "T")
        _check_groups([n], N_GROUPS, "N")
    return pairs


class GenomicRule(_Strict):
    """A multigene-assay row that overrides the grid (the chapter's Oncotype DX rule)."""

    assay: Literal["oncotype_dx"]
    description: str
    score_below: int = Field(ge=0, le=100)
    tn: list[tuple[str, str]] = Field(min_length=1)
    er: Literal["positive", "negative"]
    her2: Literal["positive", "negative"]
    stage: StageGroup

    @field_validator("tn")
    @classmethod
    def _tn(cls, v: list[tuple[str, str]]) -> list[tuple[str, str]]:
        return _check_tn(v)


class Group(_Strict):
    """One block of a prognostic table: the T/N pairs it covers and its 24 cells."""

    id: str
    label: str
    tn: list[tuple[str, str]] = Field(min_length=1)
    stages: dict[str, dict[str, dict[str, StageGroup]]]

    @field_validator("tn")
    @classmethod
    def _tn(cls, v: list[tuple[str, str]]) -> list[tuple[str, str]]:
        return _check_tn(v)

    @field_validator("stages")
    @classmethod
    def _complete_grid(
        cls, v: dict[str, dict[str, dict[str, StageGroup]]]
    ) -> dict[str, dict[str, dict[str, StageGroup]]]:
        # Exactly grade x HER2 x ER/PR: a missing or extra cell is an error, never a gap.
        if sorted(v) != sorted(GRADES):
            raise ValueError(f"grades must be exactly {', '.join(GRADES)}, got {sorted(v)}")
        for grade, by_her2 in v.items():
            if sorted(by_her2) != sorted(HER2_KEYS):
                raise ValueError(f"{grade}: HER2 keys must be {HER2_KEYS}, got {sorted(by_her2)}")
            for her2, cells in by_her2.items():
                if sorted(cells) != sorted(RECEPTOR_KEYS):
                    raise ValueError(
                        f"{grade} {her2}: cells must be {RECEPTOR_KEYS}, got {sorted(cells)}"
                    )
        return v


class AnatomicTable(_Strict):
    table: Literal["anatomic"]
    title: str
    source: Source
    notes: list[str] = Field(min_length=1)
    rows: list[Row] = Field(min_length=1)


class PrognosticTable(_Strict):
    table: Literal["clinical_prognostic", "pathological_prognostic"]
    title: str
    source: Source
    notes: list[str] = Field(min_length=1)
    fixed: list[Row] = Field(min_length=1)
    genomic_rules: list[GenomicRule] = []
    groups: list[Group] = Field(min_length=1)

    @model_validator(mode="after")
    def _each_pair_once(self) -> PrognosticTable:
        seen: dict[tuple[str, str], str] = {}
        for group in self.groups:
            for pair in group.tn:
                if pair in seen:
                    raise ValueError(f"{pair[0]} {pair[1]} is in both {seen[pair]} and {group.id}")
                seen[pair] = group.id
        missing = sorted(PROGNOSTIC_TN - set(seen))
        if missing:
            raise ValueError(f"T/N pairs with no group: {missing}")
        return self


def _expand(row: Row) -> list[tuple[str, str, str]]:
    ts = T_GROUPS if "any" in row.t else row.t
    ns = N_GROUPS if "any" in row.n else row.n
    return [(t, n, row.m) for t in ts for n in ns]


class AnatomicIndex:
    """The anatomic table keyed by (T group, N group, M group)."""

    def __init__(self, table: AnatomicTable) -> None:
        self.table = table
        self._cells: dict[tuple[str, str, str], StageGroup] = {}
        self._any_m: dict[str, StageGroup] = {}  # rows staged by M alone ("Any T, Any N, M1")
        for row in table.rows:
            if "any" in row.t and "any" in row.n:
                self._any_m[row.m] = row.stage
            for key in _expand(row):
                if key in self._cells and self._cells[key] != row.stage:
                    raise TableError(f"anatomic: {key} appears twice with different stages")
                self._cells[key] = row.stage

    def lookup(self, t: str | None, n: str | None, m: str) -> StageGroup | None:
        if t is None or n is None:
            return self._any_m.get(m)
        return self._cells.get((t, n, m))


class PrognosticIndex:
    """A prognostic table keyed by T/N pair, grade, HER2, ER and PR."""

    def __init__(self, table: PrognosticTable) -> None:
        self.table = table
        self._fixed: dict[tuple[str, str, str], StageGroup] = {}
        self._any_m: dict[str, StageGroup] = {}
        for row in table.fixed:
            if "any" in row.t and "any" in row.n:
                self._any_m[row.m] = row.stage
            for key in _expand(row):
                self._fixed[key] = row.stage
        self._group_of: dict[tuple[str, str], Group] = {
            pair: group for group in table.groups for pair in group.tn
        }
        self._cells: dict[tuple[str, str, int, bool, bool, bool], StageGroup] = {}
        for group in table.groups:
            for pair, grade, her2, receptors in product(group.tn, GRADES, HER2_KEYS, RECEPTOR_KEYS):
                cell_key = (*pair, int(grade[1]), her2 == "HER2+", receptors.startswith("ER+"),
                            receptors.endswith("PR+"))
                self._cells[cell_key] = group.stages[grade][her2][receptors]
        self._genomic: dict[tuple[str, str], GenomicRule] = {
            pair: rule for rule in table.genomic_rules for pair in rule.tn
        }

    def fixed(self, t: str | None, n: str | None, m: str) -> StageGroup | None:
        """Stages that need no grade or receptors: Tis N0 M0 and any M1."""
        if t is None or n is None:
            return self._any_m.get(m)
        return self._fixed.get((t, n, m))

    def group(self, t: str, n: str) -> Group | None:
        return self._group_of.get((t, n))

    def cell(
        self, t: str, n: str, grade: int, her2: bool, er: bool, pr: bool
    ) -> StageGroup | None:
        return self._cells.get((t, n, grade, her2, er, pr))

    def genomic_rule(self, t: str, n: str) -> GenomicRule | None:
        return self._genomic.get((t, n))


def validate_anatomic(raw: dict[str, object], filename: str = "anatomic.yaml") -> AnatomicTable:
    try:
        return AnatomicTable.model_validate(raw)
    except ValidationError as exc:
        raise TableError(f"{filename}: {exc}") from exc


def validate_prognostic(raw: dict[str, object], filename: str) -> PrognosticTable:
    try:
        return PrognosticTable.model_validate(raw)
    except ValidationError as exc:
        raise TableError(f"{filename}: {exc}") from exc


@dataclass(frozen=True)
class StageTables:
    """The three AJCC tables, validated and indexed, with the short content hash of their
    files (``version``, reported with every result). Built by the knowledge loader from the
    files under ``knowledge/staging/``; the staging functions are given it."""

    anatomic: AnatomicIndex
    clinical: PrognosticIndex
    pathological: PrognosticIndex
    version: str


def build_tables(raw: dict[str, dict[str, object]], version: str) -> StageTables:
    """Validate and index the tables as read (``raw`` keyed by the names in TABLE_FILES);
    raise :class:`TableError` naming the file at fault."""
    return StageTables(
        anatomic=AnatomicIndex(validate_anatomic(raw["anatomic"], TABLE_FILES["anatomic"])),
        clinical=PrognosticIndex(
            validate_prognostic(raw["clinical_prognostic"], TABLE_FILES["clinical_prognostic"])
        ),
        pathological=PrognosticIndex(
            validate_prognostic(
                raw["pathological_prognostic"], TABLE_FILES["pathological_prognostic"]
            )
        ),
        version=version,
    )
