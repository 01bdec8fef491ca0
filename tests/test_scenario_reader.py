"""Reading clinical scenarios in free text: facts, their evidence, negation, and robustness."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanwise.domain.kb import KnowledgeBase
from scanwise.nlp.scenario import UnusableText, read_scenario


@pytest.mark.parametrize(("text", "age", "sex"), [
    ("58F with a new 1.8 cm IDC", 58, "female"),
    ("a 58-year-old woman with IDC", 58, "female"),
    ("58 yo woman, IDC", 58, "female"),
    ("61 y/o M, palpable breast mass", 61, "male"),
    ("45 yo F with ILC", 45, "female"),
    ("Trans woman, 38, silicone implants", 38, "male"),
    ("I'm 52 and just found out I have stage 1 breast cancer", 52, None),
    ("M 58, palpable L breast mass.", 58, "male"),
    ("Woman, thirty-three, persistent pain in the right breast", 33, "female"),
    ("Twenty-eight y/o with a tender L breast lump", 28, None),
])
def test_ages_and_sex(text: str, age: int, sex: str | None, kb: KnowledgeBase) -> None:
    profile, _ = read_scenario(text, kb)
    assert profile.age == age
    assert profile.sex == sex


def test_a_duration_is_not_an_age(kb: KnowledgeBase) -> None:
    profile, _ = read_scenario("58F, silicone implants in place for 15 years, suspected rupture", kb)
    assert profile.age == 58
    assert profile.implant_years == 15


@pytest.mark.parametrize(("text", "size"), [
    ("1.8 cm IDC", 18), ("18 mm IDC", 18), ("2.1 x 1.5 x 1.2 cm mass, IDC", 21),
    ("IDC measuring 32mm", 32),
])
def test_sizes_in_mm(text: str, size: float, kb: KnowledgeBase) -> None:
    profile, _ = read_scenario(text, kb)
    assert profile.tumor_size_mm == size


def test_a_lymph_node_size_is_not_the_tumor_size(kb: KnowledgeBase) -> None:
    profile, _ = read_scenario("60F, incidental 2.2 cm round right axillary lymph node on chest CT", kb)
    assert profile.tumor_size_mm is None


@pytest.mark.parametrize(("text", "t", "n", "m"), [
    ("cT3N1 IDC", "cT3", "cN1", None),
    ("T2 N0 M0 ILC", "cT2", "cN0", "cM0"),
    ("pT1cN0(sn) IDC", "pT1c", "pN0(sn)", None),
    ("ypT0 ypN0 after NAC", "ypT0", "ypN0", None),
])
def test_tnm_strings(text: str, t: str, n: str, m: str | None, kb: KnowledgeBase) -> None:
    profile, _ = read_scenario(text, kb)
    assert (profile.t, profile.n, profile.m) == (t, n, m)


@pytest.mark.parametrize(("text", "er", "pr", "her2"), [
    ("ER+/HER2- IDC", "positive", None, "negative"),
    ("ER+ PR+ HER2- IDC", "positive", "positive", "negative"),
    ("triple negative breast cancer", "negative", "negative", "negative"),
    ("TNBC, 2 cm", "negative", "negative", "negative"),
    ("HER2 negative by IHC 1+, ER 90%, PR 0%", "positive", "negative", "negative"),
    ("HER2 IHC 2+ with FISH not amplified, ER positive", "positive", None, "negative"),
    ("HER2 IHC 2+, FISH amplified", None, None, "positive"),
    ("HER2 3+ IDC", None, None, "positive"),
    ("ER/PR positive, HER2-positive IDC", "positive", "positive", "positive"),
    ("estrogen receptor negative, progesterone receptor negative", "negative", "negative", None),
])
def test_receptor_wording(text: str, er: str | None, pr: str | None, her2: str | None,
                          kb: KnowledgeBase) -> None:
    profile, _ = read_scenario(text, kb)
    assert (profile.er, profile.pr, profile.her2) == (er, pr, her2)


def test_each_fact_keeps_the_words_it_came_from(kb: KnowledgeBase) -> None:
    text = "58F, 1.8 cm grade 2 IDC, ER+/HER2-, no bone pain"
    profile, _ = read_scenario(text, kb)
    for field, words in (("tumor_size_mm", "1.8 cm"), ("grade", "grade 2"), ("histology", "IDC"),
                         ("age", "58F")):
        ev = profile.evidence[field][0]
        assert ev.text == words
        assert text[ev.start:ev.end] == words
    assert profile.evidence["denied:bone_pain"][0].text == "bone pain"


def test_negated_symptoms_are_not_symptoms(kb: KnowledgeBase) -> None:
    profile, _ = read_scenario("New IDC. No bone pain, denies headache or cough. Staging?", kb)
    assert profile.symptoms == []
    assert set(profile.denied_symptoms) == {"bone_pain", "neurologic_symptoms", "cough"}


def test_a_negation_stops_at_a_new_assertion(kb: KnowledgeBase) -> None:
    profile, _ = read_scenario("New IDC. No bone pain; elevated ALP. Staging?", kb)
    assert profile.denied_symptoms == ["bone_pain"]
    assert profile.labs == {"alp": "abnormal"}


def test_a_normal_word_covers_a_list_of_labs(kb: KnowledgeBase) -> None:
    profile, _ = read_scenario("58F, new IDC, normal LFTs and ALP, staging?", kb)
    assert profile.labs == {"lft": "normal", "alp": "normal"}


def test_a_relatives_cancer_is_not_the_patients(kb: KnowledgeBase) -> None:
    profile, ind = read_scenario("45F, screening. Mother had breast cancer at 50, sister too.", kb)
    assert profile.family_history == ["mother: breast cancer"]
    assert profile.cancer_history is None
    assert ind.phase == "screening"


def test_hypothetical_symptoms_are_not_present(kb: KnowledgeBase) -> None:
    profile, _ = read_scenario("Stage I IDC. If she develops headaches, would a brain MRI be needed?", kb)
    assert "neurologic_symptoms" not in profile.symptoms


@pytest.mark.parametrize(("text", "phase", "purpose"), [
    ("61F, cT3N1 ER+/HER2- IDC, no bone pain, staging?", "new_diagnosis", "distant"),
    ("newly diagnosed IDC, extent of disease in the breast?", "new_diagnosis", "locoregional"),
    ("new 1.5 cm IDC, cN0. Is axillary ultrasound indicated?", "new_diagnosis", "axilla"),
    ("s/p lumpectomy 2019, new lump at the scar", "suspected_recurrence", "locoregional"),
    ("3 cycles into neoadjuvant chemo, MRI to assess response in the breast?", "neoadjuvant", "locoregional"),
    ("HER2+ IDC, neoadjuvant chemo planned, baseline MRI of the breast?", "new_diagnosis", "locoregional"),
    ("40F, average risk, no symptoms. Should she start mammograms?", "screening", None),
    ("34F with a palpable lump in the left breast", "diagnostic_workup", None),
])
def test_phase_and_purpose_cues(text: str, phase: str, purpose: str | None, kb: KnowledgeBase) -> None:
    _, ind = read_scenario(text, kb)
    assert (ind.phase, ind.purpose) == (phase, purpose)


def test_inferences_are_said_out_loud(kb: KnowledgeBase) -> None:
    _, ind = read_scenario("61F, cT3N1 ER+/HER2- IDC, staging?", kb)
    assert any("staging" in a for a in ind.assumptions)


def test_planned_surgery_is_not_surgical_history(kb: KnowledgeBase) -> None:
    profile, ind = read_scenario("1 cm IDC, stage 1. Should I get a breast MRI before my lumpectomy?", kb)
    assert profile.surgery is None
    assert ind.phase == "new_diagnosis"


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_text_is_unusable(text: str, kb: KnowledgeBase) -> None:
    with pytest.raises(UnusableText, match="empty"):
        read_scenario(text, kb)


def test_oversized_and_binary_input_is_refused(kb: KnowledgeBase) -> None:
    with pytest.raises(UnusableText, match="limit"):
        read_scenario("lump " * 10_000, kb)
    with pytest.raises(UnusableText, match="binary"):
        read_scenario("58F\x00\x01IDC", kb)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(min_size=1, max_size=300))
def test_any_text_reads_or_is_refused_clearly(kb: KnowledgeBase, text: str) -> None:
    try:
        profile, ind = read_scenario(text, kb)
    except UnusableText:
        return
    for key, items in profile.evidence.items():
        for ev in items:
            assert ev.start is not None and text[ev.start:ev.end] == ev.text, key


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(age=st.integers(18, 99), sex=st.sampled_from(["F", "M"]),
       size_mm=st.integers(2, 90), unit=st.sampled_from(["mm", "cm"]))
def test_generated_one_liners_round_trip(kb: KnowledgeBase, age: int, sex: str, size_mm: int,
                                         unit: str) -> None:
    size = f"{size_mm / 10:g} cm" if unit == "cm" else f"{size_mm} mm"
    profile, _ = read_scenario(f"{age}{sex}, {size} IDC, cN0, staging?", kb)
    assert profile.age == age
    assert profile.sex == ("female" if sex == "F" else "male")
    assert profile.tumor_size_mm == pytest.approx(size_mm)
    assert profile.nodal_status == "negative"


@pytest.mark.parametrize(("text", "field", "value"), [
    ("CT negative for PE showed a round right axillary lymph node without a fatty hilum.", "findings",
     ["suspicious_axillary_node_other_imaging"]),  # seen on CT, so "other imaging"
    ("24F, focal pain. Exam: no palpable abnormality.", "denied_symptoms", ["palpable_mass"]),
    ("59F, no breast cancer history, no implants.", "implant", None),
    ("Transfeminine, 46, silicone augmentation 2012, firmness of the L breast.", "implant", "silicone"),
    ("Trans woman, 45, started oestrogen 2 years ago.", "hormone_use_years", 2),
    ("Trans woman, 45. No personal or family history of cancer.", "risk", "average"),
    ("New dx L breast IDC 12 mm. Straight to surgery planned (lumpectomy + SLNB).", "surgery", None),
])
def test_wordings_from_the_third_held_out_set(text: str, field: str, value: object,
                                              kb: KnowledgeBase) -> None:
    profile, _ = read_scenario(text, kb)
    assert getattr(profile, field) == value


@pytest.mark.parametrize("text", [
    "I'm 41 and 20 weeks pregnant. My yearly mammogram is due next month. No lumps, just routine.",
    "45 year old woman, never had a biopsy or chest radiation, no symptoms. How often should I be screened?",
    "I'm 34. My sister was just diagnosed with breast cancer at 39. Can I have a screening mammogram?",
])
def test_regular_imaging_without_cancer_is_screening(text: str, kb: KnowledgeBase) -> None:
    _, indication = read_scenario(text, kb)
    assert indication.phase == "screening"
