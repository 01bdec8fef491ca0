"""Property tests for the record extractors: wordings round-trip, junk never crashes."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanwise.knowledge.loader import default_kb
from scanwise.nlp import pathology as path
from scanwise.nlp.normalize import clean
from scanwise.records import RecordError, RecordReading, read_records

ROMAN = {1: "I", 2: "II", 3: "III"}
DIFFERENTIATED = {1: "well differentiated", 2: "moderately differentiated", 3: "poorly differentiated"}
SCORES = {1: [(1, 1, 1), (1, 2, 2), (2, 1, 2)], 2: [(3, 2, 1), (2, 2, 2), (3, 3, 1)],
          2.5: [], 3: [(3, 3, 2), (3, 3, 3), (2, 3, 3)]}
WORD_NUMBERS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
                "eleven", "twelve", "thirteen", "fourteen", "fifteen"]
# Filler that cannot itself state a grade, a receptor or a node count.
filler = st.lists(st.sampled_from(["Specimen received fresh.", "Margins are negative.", "See comment.",
                                   "Left breast, excision:", "Invasive ductal carcinoma,", "Block A3.",
                                   "Microcalcifications present.", "The slides were reviewed."]),
                  max_size=4).map(" ".join)


def best(cands: list[path.Candidate], field: str) -> set[object]:
    mine = [c for c in cands if c.field == field]
    if not mine:
        return set()
    top = max(c.rank for c in mine)
    return {c.value for c in mine if c.rank == top}


@st.composite
def grade_wording(draw: st.DrawFn) -> tuple[int, str]:
    g = draw(st.integers(1, 3))
    forms = [f"grade {g}", f"Nottingham grade {ROMAN[g]}", f"histologic grade: {g} of 3",
             f"SBR grade {g}", f"Grade {ROMAN[g]}/III", DIFFERENTIATED[g], f"overall grade {g}"]
    a, b, c = draw(st.sampled_from(SCORES[g]))
    forms.append(f"{a}+{b}+{c} = {a + b + c}, grade {g}")
    forms.append(f"Nottingham score {a + b + c} of 9")
    form = draw(st.sampled_from(forms))
    return g, form if draw(st.booleans()) else form.upper()


@settings(deadline=None)  # no timing: a slow first call is not a failure
@given(grade_wording(), filler, filler)
def test_any_grade_wording_round_trips(case: tuple[int, str], before: str, after: str) -> None:
    g, wording = case
    text = clean(f"{before} {wording}. {after}").text
    assert best(path.grades(text), "grade") == {g}


@settings(deadline=None)  # no timing: a slow first call is not a failure
@given(st.integers(1, 3), filler)
def test_dcis_nuclear_grade_is_not_the_grade(g: int, around: str) -> None:
    dcis = f"Ductal carcinoma in situ, nuclear grade {g}. DCIS nuclear grade: {ROMAN[g]}."
    text = clean(f"{around} {dcis}").text
    assert best(path.grades(text), "grade") == set()


@st.composite
def receptor_wording(draw: st.DrawFn) -> tuple[str, str, str]:
    key = draw(st.sampled_from(["er", "pr"]))
    words = {"er": ["ER", "Estrogen receptor", "ESTROGEN RECEPTORS", "Estrogen receptor (ER)"],
             "pr": ["PR", "PgR", "Progesterone receptor", "PROGESTERONE RECEPTORS"]}
    word = draw(st.sampled_from(words[key]))
    value = draw(st.sampled_from(["positive", "negative"]))
    pct = draw(st.integers(1, 100)) if value == "positive" else 0
    form = draw(st.sampled_from([
        "{w}: {V}", "{w} {v}", "{w} - {V} ({p}%)", "{w}: {V}, {p}% of tumor cells", "{w}. {V}.",
        "{w} status: {v}", "{v} for {w}", "{w}: {p}%", "{w} is {v}"]))
    if value == "negative" and "{p}%" in form and "{V}" not in form and "{v}" not in form:
        form = "{w}: <1%"
    text = form.format(w=word, v=value, V=value.capitalize(), p=pct)
    return key, value, text


@settings(deadline=None)  # no timing: a slow first call is not a failure
@given(receptor_wording(), filler)
def test_receptor_wording_round_trips(case: tuple[str, str, str], around: str) -> None:
    key, value, wording = case
    text = clean(f"{around} {wording}. {around}").text
    assert best(path.receptors(text), key) == {value}


@settings(deadline=None)  # no timing: a slow first call is not a failure
@given(st.sampled_from(["0", "1+", "2+", "3+"]),
       st.sampled_from(["HER2 (IHC): {s}", "HER2/neu: {s}", "HER-2/neu by IHC: score {s}", "HER 2 NEU: {s}",
                        "HER2: IHC score {s}"]), filler)
def test_her2_ihc_score_round_trips(score: str, form: str, around: str) -> None:
    text = clean(f"{around} {form.format(s=score)}. {around}").text
    assert best(path.receptors(text), "her2_ihc") == {score}


@settings(deadline=None)  # no timing: a slow first call is not a failure
@given(st.integers(0, 10), st.integers(0, 5), st.booleans(), filler)
def test_node_counts_round_trip(positive: int, extra: int, as_words: bool, around: str) -> None:
    examined = positive + extra
    if examined == 0:
        return
    p = WORD_NUMBERS[positive] if as_words else str(positive)
    e = WORD_NUMBERS[examined] if as_words else str(examined)
    text = clean(f"{around} {p.capitalize()} of {e} axillary lymph nodes are positive for carcinoma.").text
    groups = [c.value for c in path.nodes(text) if c.field == "node_group"]
    assert groups and groups[0] == (positive, examined)


@settings(deadline=None)  # no timing: a slow first call is not a failure
@given(st.text(max_size=400))
def test_clean_keeps_a_valid_map_to_the_original(text: str) -> None:
    c = clean(text)
    assert len(c.origin) == len(c.text) + 1
    assert all(0 <= a <= len(text) for a in c.origin)
    assert list(c.origin[:-1]) == sorted(c.origin[:-1])
    for start in range(0, len(c.text), 7):
        a, b = c.span(start, min(len(c.text), start + 5))
        assert 0 <= a <= b <= len(text)


@settings(deadline=None)  # no timing: a slow first call is not a failure
@given(st.text(max_size=600))
def test_extractors_never_crash(text: str) -> None:
    t = clean(text).text
    for extract in (path.receptors, path.grades, path.sizes, path.histologies, path.lateralities, path.nodes,
                    path.ki67, path.stages):
        extract(t)
    path.tnm(t, "p")


KB = default_kb()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=1500), st.sampled_from(["a.txt", "b.pdf", "c.json", "d"]))
def test_junk_only_ever_raises_the_readers_error(data: bytes, name: str) -> None:
    try:
        result = read_records([(name, data)], KB)
    except RecordError as exc:
        assert name in str(exc)
    else:
        assert isinstance(result, RecordReading)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=10),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                               max_size=3), max_leaves=8),
       st.sampled_from(["Bundle", "Observation", "Condition", "Patient"]))
def test_junk_fhir_only_ever_raises_the_readers_error(body: object, rtype: str) -> None:
    import json

    obj = {"resourceType": rtype, "id": "x", "extra": body}
    for key in ("entry", "code", "valueCodeableConcept", "bodySite"):
        obj[key] = body
    try:
        read_records([("j.json", json.dumps(obj).encode())], KB)
    except RecordError as exc:
        assert "j.json" in str(exc)
