"""T/N/M, grade and receptor readers: examples from reports, and property tests."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scanwise.domain.staging import (
    ParsedCategory,
    StagingError,
    parse_grade,
    parse_her2,
    parse_m,
    parse_n,
    parse_oncotype,
    parse_receptor,
    parse_t,
    stage,
)
from scanwise.knowledge.loader import load_stage_tables

TABLES = load_stage_tables()

T_VALID = ["TX", "T0", "Tis", "T1mi", "T1", "T1a", "T1b", "T1c", "T2", "T3", "T4",
           "T4a", "T4b", "T4c", "T4d"]
N_VALID = ["NX", "N0", "N0(i+)", "N0(mol+)", "N1mi", "N1", "N1a", "N1b", "N1c", "N2", "N2a",
           "N2b", "N3", "N3a", "N3b", "N3c"]
M_VALID = ["M0", "M0(i+)", "M1"]
PREFIXES = ["", "c", "p", "y", "yc", "yp", "r", "rc", "rp"]


@pytest.mark.parametrize(
    ("text", "prefix", "category", "suffixes"),
    [("pT2", "p", "T2", ()), ("T1c", "", "T1c", ()), ("ypT0", "yp", "T0", ()),
     ("cTis(DCIS)", "c", "Tis", ("DCIS",)), ("pT2(m)", "p", "T2", ("m",)),
     ("T1mic", "", "T1mi", ()), ("tlc", "", "T1c", ()), ("pT 1b", "p", "T1b", ()),
     ("PT4D", "p", "T4d", ()), ("1c", "", "T1c", ()), ("Tl", "", "T1", ())],
)
def test_parse_t_examples(text: str, prefix: str, category: str, suffixes: tuple) -> None:
    parsed = parse_t(text)
    assert (parsed.prefix, parsed.category, parsed.suffixes) == (prefix, category, suffixes)


@pytest.mark.parametrize(
    ("text", "prefix", "category", "suffixes"),
    [("pn1a", "p", "N1a", ()), ("N0(i+)", "", "N0(i+)", ()),
     ("pN0(I+)(sn)", "p", "N0(i+)", ("sn",)),
     ("pN0(sn)(i+)", "p", "N0(i+)", ("sn",)), ("pN0(mol+)", "p", "N0(mol+)", ()),
     ("N0i+", "", "N0(i+)", ()), ("pN0(i-)", "p", "N0", ()), ("pNO", "p", "N0", ()),
     ("pN1mi", "p", "N1mi", ()), ("N1(mi)", "", "N1mi", ()), ("pN1mic", "p", "N1mi", ()),
     ("pN1a (2/14)", "p", "N1a", ("2/14",)), ("cN3c", "c", "N3c", ()),
     ("ypN1(f)", "yp", "N1", ("f",)), ("NX", "", "NX", ())],
)
def test_parse_n_examples(text: str, prefix: str, category: str, suffixes: tuple) -> None:
    parsed = parse_n(text)
    assert (parsed.prefix, parsed.category, parsed.suffixes) == (prefix, category, suffixes)


@pytest.mark.parametrize(
    ("text", "prefix", "category"),
    [("M0", "", "M0"), ("cM0(i+)", "c", "M0(i+)"), ("pM1", "p", "M1"), ("MO", "", "M0"),
     ("cm1", "c", "M1"), ("MX", "", "MX")],
)
def test_parse_m_examples(text: str, prefix: str, category: str) -> None:
    parsed = parse_m(text)
    assert (parsed.prefix, parsed.category) == (prefix, category)


@pytest.mark.parametrize(
    ("reader", "text"),
    [(parse_t, "T5"), (parse_t, "T1d"), (parse_t, "Tis(LCIS)"), (parse_t, "T2(DCIS)"),
     (parse_t, "N1"), (parse_t, "pT"), (parse_t, "T1c)"), (parse_t, "T2(zz)"), (parse_t, ""),
     (parse_n, "N4"), (parse_n, "N1d"), (parse_n, "N2c"), (parse_n, "T1"), (parse_n, "N1(i+)"),
     (parse_m, "M2"), (parse_m, "M1a"), (parse_m, "N0")],
)
def test_parse_rejects_non_categories(reader, text: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(StagingError) as info:
        reader(text)
    assert repr(text) in str(info.value)


def test_parse_rejects_non_text() -> None:
    for value in (None, 2, 1.5, ["T1"]):
        with pytest.raises(StagingError, match="must be text"):
            parse_t(value)  # type: ignore[arg-type]


def test_groups_collapse_subcategories() -> None:
    assert {parse_t(t).group for t in ("T1mi", "T1a", "T1b", "T1c", "T1")} == {"T1"}
    assert {parse_t(t).group for t in ("T4", "T4a", "T4b", "T4c", "T4d")} == {"T4"}
    assert {parse_n(n).group for n in ("N0", "N0(i+)", "N0(mol+)")} == {"N0"}
    assert parse_n("N1mi").group == "N1mi"
    assert parse_t("TX").group is None and parse_n("NX").group is None
    assert parse_m("M0(i+)").group == "M0"


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1, 1), ("2", 2), ("G3", 3), ("g1", 1), ("Grade II", 2), ("III", 3), ("GX", None),
     ("", None), (None, None), ("unknown", None)],
)
def test_parse_grade(value: object, expected: int | None) -> None:
    assert parse_grade(value) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [0, 4, "G4", "high", True, 2.0])
def test_parse_grade_rejects(value: object) -> None:
    with pytest.raises(StagingError, match="grade"):
        parse_grade(value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "expected"),
    [("positive", "positive"), ("POS", "positive"), ("+", "positive"), ("Negative", "negative"),
     ("neg", "negative"), ("-", "negative"), ("\u2212", "negative"), ("", None), (None, None)],
)
def test_parse_receptor(value: str | None, expected: str | None) -> None:
    assert parse_receptor(value, "er") == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("positive", "positive"), ("3+", "positive"), ("negative", "negative"), ("1+", "negative"),
     ("0", "negative"), ("equivocal", "equivocal"), ("2+", "equivocal"), ("", None)],
)
def test_parse_her2(value: str, expected: str | None) -> None:
    assert parse_her2(value) == expected


def test_parse_oncotype() -> None:
    assert parse_oncotype("9") == 9 and parse_oncotype(0) == 0 and parse_oncotype("") is None
    with pytest.raises(StagingError, match="oncotype"):
        parse_oncotype("9.5")


# --- Property tests ---------------------------------------------------------------------

CASE = st.sampled_from([str, str.lower, str.upper])


def _roundtrip(reader, text: str, prefix: str, category: str) -> ParsedCategory:  # type: ignore[no-untyped-def]
    parsed = reader(text)
    assert parsed.prefix == prefix
    assert parsed.category == category
    again = reader(str(parsed))
    assert again == parsed
    return parsed


@given(st.sampled_from(PREFIXES), st.sampled_from(T_VALID), st.sampled_from(["", "(m)"]), CASE,
       st.sampled_from(["", " "]))
def test_t_roundtrips_with_any_prefix_and_suffix(
    prefix: str, category: str, suffix: str, case, space: str  # type: ignore[no-untyped-def]
) -> None:
    parsed = _roundtrip(parse_t, case(prefix + space + category + suffix), prefix, category)
    assert parsed.suffixes == (("m",) if suffix else ())


@given(st.sampled_from(PREFIXES), st.sampled_from(N_VALID),
       st.lists(st.sampled_from(["(sn)", "(f)", "(3/12)"]), max_size=2, unique=True), CASE)
def test_n_roundtrips_with_any_prefix_and_suffixes(
    prefix: str, category: str, suffixes: list[str], case  # type: ignore[no-untyped-def]
) -> None:
    parsed = _roundtrip(parse_n, case(prefix + category + "".join(suffixes)), prefix, category)
    assert parsed.suffixes == tuple(s.strip("()") for s in suffixes)


@given(st.sampled_from(PREFIXES), st.sampled_from(M_VALID), CASE)
def test_m_roundtrips_with_any_prefix(prefix: str, category: str, case) -> None:  # type: ignore[no-untyped-def]
    _roundtrip(parse_m, case(prefix + category), prefix, category)


@given(st.text(max_size=30))
def test_garbage_text_never_crashes_the_tnm_readers(text: str) -> None:
    for reader in (parse_t, parse_n, parse_m):
        try:
            parsed = reader(text)
        except StagingError:
            continue
        assert isinstance(parsed, ParsedCategory)
        assert reader(str(parsed)) == parsed


@given(st.one_of(st.none(), st.integers(), st.floats(), st.binary(max_size=5),
                 st.lists(st.integers(), max_size=2)))
def test_non_text_is_a_staging_error(value: object) -> None:
    for reader in (parse_t, parse_n, parse_m):
        with pytest.raises(StagingError):
            reader(value)  # type: ignore[arg-type]


ANY = st.one_of(st.none(), st.text(max_size=12))


@given(ANY, ANY, ANY, st.one_of(st.none(), st.integers(-2, 6), st.text(max_size=6)), ANY, ANY, ANY,
       st.one_of(st.none(), st.integers(-5, 120)))
def test_stage_returns_a_result_or_raises_staging_error(
    t: str | None, n: str | None, m: str | None, grade: int | str | None,
    er: str | None, pr: str | None, her2: str | None, oncotype: int | None,
) -> None:
    try:
        result = stage(t, n, m, grade=grade, er=er, pr=pr, her2=her2, oncotype=oncotype,
                       tables=TABLES)
    except StagingError:
        return
    assert result.explain()
    if result.anatomic is None:
        assert result.warnings  # never a silent non-answer
