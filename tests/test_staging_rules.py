"""The chapter's rules, one test each, plus missing-input behaviour and explanations."""

from __future__ import annotations

from functools import partial

import pytest

from scanwise.domain.staging import StageResult, StagingError
from scanwise.domain.staging import stage as stage_by
from scanwise.knowledge.loader import load_stage_tables

#: stage() by the bundled tables, as the core passes them.
stage = partial(stage_by, tables=load_stage_tables())

FULL = {"grade": 2, "er": "positive", "pr": "positive", "her2": "negative"}


def test_brief_example_all_three_tables() -> None:
    result = stage("T1c", "N0", "M0", **FULL)  # type: ignore[arg-type]
    assert (result.anatomic, result.clinical_prognostic, result.pathological_prognostic) == (
        "IA", "IA", "IA"
    )
    assert result.warnings == []
    assert (result.t, result.n, result.m) == ("T1c", "N0", "M0")
    assert result.basis == "both"


# --- M1 is stage IV ---------------------------------------------------------------------

@pytest.mark.parametrize(("t", "n"), [("T1c", "N0"), ("Tis", "N0"), ("T0", "N0"), ("T4d", "N3c")])
def test_m1_is_stage_iv_in_every_table_without_biomarkers(t: str, n: str) -> None:
    result = stage(t, n, "M1")
    assert (result.anatomic, result.clinical_prognostic, result.pathological_prognostic) == (
        "IV", "IV", "IV"
    )
    assert result.warnings == []


def test_m1_with_unknown_t_is_still_iv_and_says_why() -> None:
    result = stage("TX", None, "cM1")
    assert result.anatomic == "IV"
    assert any("TX" in w and "M1" in w for w in result.warnings)
    assert any("N is missing" in w for w in result.warnings)


# --- Tis N0 M0 is stage 0 ---------------------------------------------------------------

@pytest.mark.parametrize("t", ["Tis", "pTis(DCIS)", "cTis(Paget)"])
def test_tis_n0_m0_is_stage_0_without_grade_or_markers(t: str) -> None:
    result = stage(t, "N0", "M0")
    assert result.anatomic == "0"
    assert "0" in (result.clinical_prognostic, result.pathological_prognostic)
    assert result.warnings == []


def test_tis_with_nodes_has_no_stage_and_warns() -> None:
    result = stage("Tis", "N1", "M0", **FULL)  # type: ignore[arg-type]
    assert result.anatomic is None and result.clinical_prognostic is None
    assert any("Tis" in w for w in result.warnings)


# --- T1 includes T1mi; N1mi in the T0-T1 rows ---------------------------------------------

def test_t1mi_stages_as_t1() -> None:
    assert stage("T1mi", "N0", "M0", **FULL).anatomic == "IA"  # type: ignore[arg-type]
    assert stage("T1mi", "N1a", "M0").anatomic == "IIA"


@pytest.mark.parametrize("t", ["T0", "T1mi", "T1a", "T1c", "T1"])
def test_t0_t1_with_n1mi_is_anatomic_ib(t: str) -> None:
    assert stage(t, "N1mi", "M0").anatomic == "IB"


def test_t0_t1_n1mi_use_the_t1_n0_prognostic_block() -> None:
    # Triple-negative G3: T1 N0 block gives clinical IB; the T1 N1 block would give IIB.
    tn = {"grade": 3, "er": "negative", "pr": "negative", "her2": "negative"}
    assert stage("T1c", "N1mi", "M0", **tn).clinical_prognostic == "IB"  # type: ignore[arg-type]
    assert stage("T1c", "N1", "M0", **tn).clinical_prognostic == "IIB"  # type: ignore[arg-type]


def test_t2_and_larger_with_n1mi_stage_as_n1() -> None:
    assert stage("T2", "N1mi", "M0").anatomic == stage("T2", "N1", "M0").anatomic == "IIB"
    assert stage("T3", "N1mi", "M0").anatomic == "IIIA"
    assert stage("T4a", "N1mi", "M0").anatomic == "IIIB"
    g3 = {"grade": 3, "er": "negative", "pr": "negative", "her2": "negative"}
    assert stage("pT2", "pN1mi", "M0", **g3).pathological_prognostic == "IIIA"  # type: ignore[arg-type]


# --- Oncotype DX ------------------------------------------------------------------------

@pytest.mark.parametrize("t", ["pT1a", "pT1c", "pT2"])
@pytest.mark.parametrize("grade", [1, 2, 3])
@pytest.mark.parametrize("pr", ["positive", "negative"])
def test_oncotype_below_11_is_pathological_ia(t: str, grade: int, pr: str) -> None:
    result = stage(t, "pN0", "cM0", grade=grade, er="positive", pr=pr, her2="negative",
                   oncotype=10)
    assert result.pathological_prognostic == "IA"
    assert result.oncotype_applied
    assert "Oncotype DX recurrence score 10" in result.explain()


def test_oncotype_changes_a_stage_that_the_table_puts_higher() -> None:
    # pT2 N0 G3 ER+ PR- HER2-: table IIA; with RS 5 it is IA.
    base = {"grade": 3, "er": "positive", "pr": "negative", "her2": "negative"}
    assert stage("pT2", "pN0", "M0", **base).pathological_prognostic == "IIA"  # type: ignore[arg-type]
    assert stage("pT2", "pN0", "M0", **base, oncotype=5).pathological_prognostic == "IA"  # type: ignore[arg-type]


def test_oncotype_11_or_more_leaves_the_table_stage() -> None:
    base = {"grade": 3, "er": "positive", "pr": "negative", "her2": "negative"}
    result = stage("pT2", "pN0", "M0", **base, oncotype=11)  # type: ignore[arg-type]
    assert result.pathological_prognostic == "IIA"
    assert not result.oncotype_applied
    assert result.warnings == []


@pytest.mark.parametrize(
    ("t", "n", "er", "her2"),
    [("pT3", "pN0", "positive", "negative"),  # T3 is outside the rule
     ("pT1c", "pN1a", "positive", "negative"),  # node-positive
     ("pT1c", "pN1mi", "positive", "negative"),
     ("pT1c", "pN0", "negative", "negative"),  # ER-negative (PR+ is not enough)
     ("pT1c", "pN0", "positive", "positive")],  # HER2-positive
)
def test_oncotype_outside_its_rule_is_ignored_with_a_warning(
    t: str, n: str, er: str, her2: str
) -> None:
    result = stage(t, n, "M0", grade=3, er=er, pr="positive", her2=her2, oncotype=3)
    assert not result.oncotype_applied
    assert any("Oncotype" in w and "not used" in w for w in result.warnings)


def test_oncotype_never_changes_clinical_stage() -> None:
    result = stage("T2", "N0", "M0", grade=3, er="positive", pr="negative", her2="negative",
                   oncotype=4)
    assert result.clinical_prognostic == "IIB"  # clinical T2 N0 G3 HER2- ER+ PR-
    assert result.pathological_prognostic == "IA"
    clinical_only = stage("cT2", "cN0", "M0", grade=3, er="positive", pr="negative",
                          her2="negative", oncotype=4)
    assert clinical_only.clinical_prognostic == "IIB"
    assert any("only the pathological" in w for w in clinical_only.warnings)


def test_oncotype_applies_even_without_grade_or_pr() -> None:
    # The AJCC row reads "Any" grade and "Any" PR; the clinical table still needs them.
    result = stage("T1c", "N0", "M0", er="positive", her2="negative", oncotype=8)
    assert result.pathological_prognostic == "IA"
    assert result.clinical_prognostic is None
    assert any(w.startswith("Clinical prognostic stage not assigned") and "grade" in w
               and "PR" in w for w in result.warnings)


@pytest.mark.parametrize("bad", [-1, 101, "ten", "9.5", True])
def test_bad_oncotype_is_an_error(bad: object) -> None:
    with pytest.raises(StagingError, match="oncotype"):
        stage("pT1", "pN0", "M0", oncotype=bad)  # type: ignore[arg-type]


# --- Post-neoadjuvant -------------------------------------------------------------------

@pytest.mark.parametrize(("t", "n"), [("ypT2", "ypN1a"), ("ycT2", "ycN1"), ("ypT2", "pN1a"),
                                      ("yT2", "N1")])
def test_post_neoadjuvant_gets_anatomic_stage_only(t: str, n: str) -> None:
    result = stage(t, n, "cM0", **FULL)  # type: ignore[arg-type]
    assert result.anatomic == "IIB"
    assert result.clinical_prognostic is None and result.pathological_prognostic is None
    assert result.basis == "post-neoadjuvant"
    assert any("neoadjuvant" in w for w in result.warnings)


def test_complete_response_has_no_stage_group() -> None:
    result = stage("ypT0", "ypN0", "cM0", **FULL)  # type: ignore[arg-type]
    assert result.anatomic is None
    assert any("complete pathological response" in w for w in result.warnings)


# --- HER2 equivocal ---------------------------------------------------------------------

@pytest.mark.parametrize("her2", ["equivocal", "Equivocal", "2+"])
def test_her2_equivocal_blocks_prognostic_staging(her2: str) -> None:
    result = stage("T2", "N0", "M0", grade=2, er="positive", pr="positive", her2=her2)
    assert result.anatomic == "IIA"
    assert result.clinical_prognostic is None and result.pathological_prognostic is None
    assert result.her2 == "equivocal"
    assert any("HER2 is equivocal" in w and "ISH" in w for w in result.warnings)


# --- Unknown inputs: anatomic only, with a warning naming them ---------------------------

@pytest.mark.parametrize(
    ("missing", "kwargs"),
    [("grade", {"er": "+", "pr": "+", "her2": "-"}),
     ("ER", {"grade": 2, "pr": "+", "her2": "-"}),
     ("PR", {"grade": 2, "er": "+", "her2": "-"}),
     ("HER2", {"grade": 2, "er": "+", "pr": "+"})],
)
def test_missing_marker_gives_anatomic_only_and_names_it(missing: str, kwargs: dict) -> None:
    result = stage("T2", "N1", "M0", **kwargs)
    assert result.anatomic == "IIB"
    assert result.clinical_prognostic is None and result.pathological_prognostic is None
    assert len(result.warnings) == 1
    assert f"{missing} is missing" in result.warnings[0]


def test_gx_is_unknown_grade_and_says_gx() -> None:
    result = stage("T2", "N1", "M0", grade="GX", er="+", pr="+", her2="-")
    assert result.grade is None
    assert result.clinical_prognostic is None
    assert "grade is GX" in result.warnings[0]


def test_empty_strings_mean_unknown_not_negative() -> None:
    result = stage("T1c", "N0", "M0", grade="", er="", pr="", her2="")
    assert (result.er, result.pr, result.her2, result.grade) == (None, None, None, None)
    assert "grade, ER, PR and HER2 are missing" in result.warnings[0]


@pytest.mark.parametrize(
    ("t", "n", "m", "named"),
    [("TX", "N0", "M0", "T is TX"), ("T2", "NX", "M0", "N is NX"),
     (None, "N0", "M0", "T is missing"),
     ("T2", None, "M0", "N is missing"), ("", "N1", "M0", "T is missing"),
     ("T2", "N0", None, "M is missing"), ("T2", "N0", "MX", "M is MX")],
)
def test_unassessable_or_missing_tnm_gives_no_stage(
    t: str | None, n: str | None, m: str | None, named: str
) -> None:
    result = stage(t, n, m, **FULL)  # type: ignore[arg-type]
    assert result.anatomic is None
    assert result.clinical_prognostic is None and result.pathological_prognostic is None
    assert any(named in w for w in result.warnings)


def test_t0_n0_m0_has_no_stage_group() -> None:
    result = stage("T0", "N0", "M0", **FULL)  # type: ignore[arg-type]
    assert result.anatomic is None
    assert any("no AJCC stage group" in w for w in result.warnings)


# --- Which prognostic table applies -----------------------------------------------------

@pytest.mark.parametrize(
    ("t", "n", "basis"),
    [("T1c", "N0", "both"), ("pT1c", "pN0", "pathological"), ("pT1c", "cN0", "pathological"),
     ("T1c", "pN0(sn)", "pathological"), ("cT1c", "cN0", "clinical"), ("cT1c", "N0", "clinical"),
     ("rpT1c", "rpN0", "pathological"), ("rT1c", "rN0", "both")],
)
def test_prefix_chooses_the_prognostic_tables(t: str, n: str, basis: str) -> None:
    result = stage(t, n, "cM0", **FULL)  # type: ignore[arg-type]
    assert result.basis == basis
    assert (result.clinical_prognostic is not None) == (basis in ("both", "clinical"))
    assert (result.pathological_prognostic is not None) == (basis in ("both", "pathological"))


def test_pm0_is_read_as_m0_with_a_warning() -> None:
    result = stage("pT1c", "pN0", "pM0", **FULL)  # type: ignore[arg-type]
    assert result.pathological_prognostic == "IA"
    assert any("pM0" in w for w in result.warnings)


# --- Input forms and errors -------------------------------------------------------------

def test_marker_spellings_are_equivalent() -> None:
    words = stage("T2", "N1", "M0", grade="G3", er="Positive", pr="NEGATIVE", her2="neg")
    signs = stage("T2", "N1", "M0", grade=3, er="+", pr="-", her2="\u2212")
    short = stage("T2", "N1", "M0", grade="3", er="pos", pr="neg", her2="-")
    assert words.clinical_prognostic == signs.clinical_prognostic == short.clinical_prognostic
    assert words.clinical_prognostic == "IIIA"


@pytest.mark.parametrize(
    ("field", "kwargs", "bad"),
    [("t", {"t": "T9"}, "T9"), ("n", {"n": "N5"}, "N5"), ("m", {"m": "M2"}, "M2"),
     ("grade", {"grade": 4}, "4"), ("grade", {"grade": "G4"}, "G4"),
     ("er", {"er": "maybe"}, "maybe"), ("pr", {"pr": "++"}, "++"),
     ("her2", {"her2": "4+"}, "4+"), ("t", {"t": "N1"}, "N1")],
)
def test_malformed_value_raises_staging_error_naming_field_and_value(
    field: str, kwargs: dict, bad: str
) -> None:
    args = {"t": "T1", "n": "N0", "m": "M0", **kwargs}
    with pytest.raises(StagingError) as info:
        stage(args.pop("t"), args.pop("n"), args.pop("m"), **args)
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}: ")
    assert bad in str(info.value)
    assert isinstance(info.value, ValueError)


# --- Explanation ------------------------------------------------------------------------

def test_explain_matches_the_documented_sentence() -> None:
    result = stage("T1c", "N0", "M0", grade=2, er="positive", pr="positive", her2="negative")
    assert result.explain() == (
        "T1c N0 M0, G2, ER+ PR+ HER2\u2212: anatomic IA, clinical prognostic IA, "
        "pathological prognostic IA"
    )


def test_explain_shows_prefixes_unknowns_and_warnings() -> None:
    result = stage("pT2", "pN1a(sn)", "cM0", grade=None, er="+", pr=None, her2="equivocal")
    text = result.explain()
    first, *rest = text.splitlines()
    assert first.startswith("pT2 pN1a(sn) cM0, grade unknown, ER+ PR? HER2 equivocal: ")
    assert "anatomic IIB" in first
    assert "clinical prognostic not applicable" in first
    assert "pathological prognostic not assigned" in first
    assert len(rest) == len(result.warnings) == 2


def test_result_is_a_pydantic_model_with_json_fields() -> None:
    result = stage("T3", "N2a", "M0", grade=1, er="-", pr="-", her2="+")
    assert isinstance(result, StageResult)
    data = result.to_dict()
    for key in ("anatomic", "clinical_prognostic", "pathological_prognostic", "warnings",
                "t", "n", "m", "explanation", "tables_version"):
        assert key in data
    assert data["anatomic"] == "IIIA" and data["clinical_prognostic"] == "IIIA"
    assert data["pathological_prognostic"] == "IIIA"
    assert StageResult.model_validate_json(result.model_dump_json()) == result
