"""Every cell of the three AJCC 8th edition breast tables, checked through ``stage()``.

The expected values are typed here by hand, in a different layout from the YAML files,
from the same public sources (NCI PDQ Table 9, VA VistA ONCSGA8X, AJCC examples). They
are never read from the YAML, so a wrong cell in the data makes a test fail.
"""

from __future__ import annotations

from functools import partial

import pytest

from scanwise.domain.staging import stage as stage_by
from scanwise.knowledge.loader import load_stage_tables

#: stage() by the bundled tables, as the core passes them.
stage = partial(stage_by, tables=load_stage_tables())

# Column order of every grid row below: HER2+ then HER2-, each as
# ER+PR+  ER+PR-  ER-PR+  ER-PR-
MARKERS = [
    (her2, er, pr)
    for her2 in ("positive", "negative")
    for er, pr in (("positive", "positive"), ("positive", "negative"),
                   ("negative", "positive"), ("negative", "negative"))
]

# AJCC lists each prognostic block by the T/N rows it covers.
BLOCK_ROWS: dict[str, list[tuple[str, str]]] = {
    "T1 N0": [("T1", "N0"), ("T0", "N1mi"), ("T1", "N1mi")],
    "T1 N1": [("T0", "N1"), ("T1", "N1"), ("T2", "N0")],
    "T2 N1": [("T2", "N1"), ("T2", "N1mi"), ("T3", "N0")],
    "N2": [("T0", "N2"), ("T1", "N2"), ("T2", "N2"), ("T3", "N1"), ("T3", "N1mi"), ("T3", "N2")],
    "T4 / N3": [("T4", "N0"), ("T4", "N1"), ("T4", "N1mi"), ("T4", "N2"),
                ("T0", "N3"), ("T1", "N3"), ("T2", "N3"), ("T3", "N3"), ("T4", "N3")],
}

CLINICAL: dict[str, dict[int, str]] = {
    "T1 N0": {
        1: "IA IA IA IA   IA IA IA IB",
        2: "IA IA IA IA   IA IA IA IB",
        3: "IA IA IA IA   IA IB IB IB",
    },
    "T1 N1": {
        1: "IB IIA IIA IIA   IB IIA IIA IIA",
        2: "IB IIA IIA IIA   IB IIA IIA IIB",
        3: "IB IIA IIA IIA   IIA IIB IIB IIB",
    },
    "T2 N1": {
        1: "IB IIA IIA IIB   IIA IIB IIB IIB",
        2: "IB IIA IIA IIB   IIA IIB IIB IIIB",
        3: "IB IIB IIB IIB   IIB IIIA IIIA IIIB",
    },
    "N2": {
        1: "IIA IIIA IIIA IIIA   IIA IIIA IIIA IIIB",
        2: "IIA IIIA IIIA IIIA   IIA IIIA IIIA IIIB",
        3: "IIB IIIA IIIA IIIA   IIIA IIIB IIIB IIIC",
    },
    "T4 / N3": {
        1: "IIIA IIIB IIIB IIIB   IIIB IIIB IIIB IIIC",
        2: "IIIA IIIB IIIB IIIB   IIIB IIIB IIIB IIIC",
        3: "IIIB IIIB IIIB IIIB   IIIB IIIC IIIC IIIC",
    },
}

PATHOLOGICAL: dict[str, dict[int, str]] = {
    "T1 N0": {
        1: "IA IA IA IA   IA IA IA IA",
        2: "IA IA IA IA   IA IA IA IB",
        3: "IA IA IA IA   IA IA IA IB",
    },
    "T1 N1": {
        1: "IA IB IB IIA   IA IB IB IIA",
        2: "IA IB IB IIA   IA IIA IIA IIA",
        3: "IA IIA IIA IIA   IB IIA IIA IIA",
    },
    "T2 N1": {
        1: "IA IIB IIB IIB   IA IIB IIB IIB",
        2: "IB IIB IIB IIB   IB IIB IIB IIB",
        3: "IB IIB IIB IIB   IIA IIB IIB IIIA",
    },
    "N2": {
        1: "IB IIIA IIIA IIIA   IB IIIA IIIA IIIA",
        2: "IB IIIA IIIA IIIA   IB IIIA IIIA IIIB",
        3: "IIA IIIA IIIA IIIA   IIB IIIA IIIA IIIC",
    },
    "T4 / N3": {
        1: "IIIA IIIB IIIB IIIB   IIIA IIIB IIIB IIIB",
        2: "IIIA IIIB IIIB IIIB   IIIA IIIB IIIB IIIC",
        3: "IIIB IIIB IIIB IIIB   IIIB IIIC IIIC IIIC",
    },
}

# Real categories used to write each T/N group, different per table so that the
# subcategories are exercised too (T1c vs T1b, N1 vs pN1a, ...).
CLINICAL_SPELLING = {"T0": "T0", "T1": "T1c", "T2": "T2", "T3": "T3", "T4": "T4b",
                     "N0": "N0", "N1mi": "N1mi", "N1": "N1", "N2": "N2a", "N3": "N3c"}
PATHOLOGICAL_SPELLING = {"T0": "T0", "T1": "T1b", "T2": "T2", "T3": "T3", "T4": "T4d",
                         "N0": "N0(i+)", "N1mi": "N1mi", "N1": "N1a", "N2": "N2b", "N3": "N3a"}


def _cells(grid: dict[str, dict[int, str]], spelling: dict[str, str], prefix: str) -> list:
    cases = []
    for block, by_grade in grid.items():
        for t_group, n_group in BLOCK_ROWS[block]:
            for grade, row in by_grade.items():
                stages = row.split()
                assert len(stages) == 8, (block, grade)
                for (her2, er, pr), expected in zip(MARKERS, stages, strict=True):
                    t, n = prefix + spelling[t_group], prefix + spelling[n_group]
                    cases.append(pytest.param(
                        t, n, grade, er, pr, her2, expected,
                        id=f"{t}-{n}-G{grade}-ER{er[:3]}-PR{pr[:3]}-HER2{her2[:3]}",
                    ))
    return cases


@pytest.mark.parametrize(
    ("t", "n", "grade", "er", "pr", "her2", "expected"), _cells(CLINICAL, CLINICAL_SPELLING, "c")
)
def test_clinical_prognostic_cell(
    t: str, n: str, grade: int, er: str, pr: str, her2: str, expected: str
) -> None:
    result = stage(t, n, "cM0", grade=grade, er=er, pr=pr, her2=her2)
    assert result.clinical_prognostic == expected
    assert result.pathological_prognostic is None  # "c" prefix: clinical table only
    assert result.warnings == []


@pytest.mark.parametrize(
    ("t", "n", "grade", "er", "pr", "her2", "expected"),
    _cells(PATHOLOGICAL, PATHOLOGICAL_SPELLING, "p"),
)
def test_pathological_prognostic_cell(
    t: str, n: str, grade: int, er: str, pr: str, her2: str, expected: str
) -> None:
    result = stage(t, n, "cM0", grade=grade, er=er, pr=pr, her2=her2)
    assert result.pathological_prognostic == expected
    assert result.clinical_prognostic is None  # "p" prefix: pathological table only
    assert result.warnings == []


def test_both_grids_cover_120_cells_each() -> None:
    for grid in (CLINICAL, PATHOLOGICAL):
        assert sum(len(row.split()) for rows in grid.values() for row in rows.values()) == 120


# --- Anatomic table ---------------------------------------------------------------------

ANATOMIC: dict[str, dict[str, str]] = {  # T group -> N group -> stage; absent = no group
    "Tis": {"N0": "0"},
    "T0": {"N1mi": "IB", "N1": "IIA", "N2": "IIIA", "N3": "IIIC"},
    "T1": {"N0": "IA", "N1mi": "IB", "N1": "IIA", "N2": "IIIA", "N3": "IIIC"},
    "T2": {"N0": "IIA", "N1mi": "IIB", "N1": "IIB", "N2": "IIIA", "N3": "IIIC"},
    "T3": {"N0": "IIB", "N1mi": "IIIA", "N1": "IIIA", "N2": "IIIA", "N3": "IIIC"},
    "T4": {"N0": "IIIB", "N1mi": "IIIB", "N1": "IIIB", "N2": "IIIB", "N3": "IIIC"},
}
T_SPELLINGS = {
    "Tis": ["Tis", "Tis(DCIS)", "Tis(Paget)"], "T0": ["T0"],
    "T1": ["T1", "T1mi", "T1a", "T1b", "T1c"], "T2": ["T2"], "T3": ["T3"],
    "T4": ["T4", "T4a", "T4b", "T4c", "T4d"],
}
N_SPELLINGS = {
    "N0": ["N0", "N0(i+)", "N0(mol+)"], "N1mi": ["N1mi"], "N1": ["N1", "N1a", "N1b", "N1c"],
    "N2": ["N2", "N2a", "N2b"], "N3": ["N3", "N3a", "N3b", "N3c"],
}
ANATOMIC_CASES = [
    pytest.param(t, n, ANATOMIC[t_group].get(n_group), id=f"{t}-{n}")
    for t_group, ts in T_SPELLINGS.items() for t in ts
    for n_group, ns in N_SPELLINGS.items() for n in ns
]


@pytest.mark.parametrize(("t", "n", "expected"), ANATOMIC_CASES)
def test_anatomic_cell(t: str, n: str, expected: str | None) -> None:
    result = stage(t, n, "M0")
    assert result.anatomic == expected
    if expected is None:
        assert result.warnings, "a T/N pair with no stage group must say so"


@pytest.mark.parametrize("m", ["M0", "cM0", "M0(i+)", "cM0(i+)"])
def test_anatomic_m0_forms_stage_alike(m: str) -> None:
    assert stage("T2", "N1a", m).anatomic == "IIB"


@pytest.mark.parametrize(
    ("t", "n"), [(t, n) for ts in T_SPELLINGS.values() for t in ts[:1] for n in ("N0", "N3")]
)
def test_anatomic_m1_is_iv_for_every_t(t: str, n: str) -> None:
    assert stage(t, n, "M1").anatomic == "IV"
