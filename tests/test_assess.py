"""The assessment engine: matching, ratings from the knowledge base, red flags, missing facts."""

from __future__ import annotations

import pytest
from assessing import run, top

from scanwise.domain.assess import Assessment, assess
from scanwise.domain.kb import KnowledgeBase
from scanwise.domain.profile import Indication, PatientProfile
from scanwise.domain.staging import t_from_size

SEED = ("58-year-old woman, 1.8 cm grade 2 IDC, no palpable nodes, normal LFTs and ALP, clinical "
        "stage I. Is PET/CT needed for distant staging?")




def category(a: Assessment, name_part: str) -> set[str]:
    return {p.category for p in a.matches[0].procedures if name_part in p.name}


def test_seed_scenario_is_310_variant_2_with_staging_scans_not_appropriate(kb: KnowledgeBase) -> None:
    a = run(SEED, kb)
    assert top(a) == (310, 2)
    assert category(a, "FDG-PET/CT") == {"Usually Not Appropriate"}
    assert category(a, "Bone scan") == {"Usually Not Appropriate"}
    assert category(a, "CT chest abdomen pelvis") == {"Usually Not Appropriate"}
    best = a.matches[0]
    assert best.ratings_verified and best.ratings_complete
    assert any(p.asked for p in best.procedures if "FDG-PET/CT" in p.name)
    assert all(p.source == "gp310" and p.source_urls for p in best.procedures)
    assert a.kb_version == kb.version
    assert a.red_flags == []  # normal ALP and LFTs, no symptoms


def test_seed_patient_asking_about_extent_in_the_breast_gets_variant_1(kb: KnowledgeBase) -> None:
    a = run("58-year-old woman, 1.8 cm grade 2 IDC, no palpable nodes, clinical stage I. "
            "What imaging is needed to assess the extent of disease in the breast?", kb)
    assert top(a) == (310, 1)
    assert category(a, "MRI breast without and with IV contrast") == {"Usually Appropriate"}


@pytest.mark.parametrize(("text", "expected"), [
    ("61F, cT3N1 ER+/HER2- IDC, no bone pain, staging?", (310, 4)),
    ("54F, cT3N1 HER2-positive IDC, staging for distant disease?", (310, 5)),
    ("47 yo, triple negative IDC, cT2N1, PET/CT for staging?", (310, 5)),
    ("45 yo F, ILC 3.2 cm, cN1, HER2 negative by IHC 1+, ER 90%, staging CT?", (310, 4)),
])
def test_receptor_routing_for_late_stage_distant_staging(text: str, expected: tuple[int, int],
                                                         kb: KnowledgeBase) -> None:
    a = run(text, kb)
    assert top(a) == expected
    assert set(a.stage.groups) <= {"IIB", "IIIA", "IIIB", "IIIC"}


def test_late_stage_without_her2_says_what_decides(kb: KnowledgeBase) -> None:
    a = run("62F, cT3N1 IDC, staging for distant metastases?", kb)
    assert {top(a)} <= {(310, 4), (310, 5)}
    assert a.ambiguity and "receptor subtype" in a.ambiguity
    assert any(m.field == "subtype" for m in a.missing)


@pytest.mark.parametrize(("text", "expected"), [
    ("s/p lumpectomy and radiation 3 years ago, asymptomatic. Routine follow-up imaging of the breast?",
     (310, 6)),
    ("Mastectomy 4 years ago for IDC, no reconstruction, doing well. Any imaging to watch the chest wall?",
     (310, 7)),
    ("s/p lumpectomy and radiation 3 years ago, new lump at the lumpectomy scar", (310, 8)),
    ("Mastectomy for IDC in 2019, now a firm nodule on the chest wall near the scar", (310, 9)),
    ("Treated for stage II breast cancer 3 years ago, feels well. Annual CT or PET to look for metastases?",
     (310, 10)),
    ("Rising tumor markers and bone pain 3 years after treatment for breast cancer. What imaging?",
     (310, 11)),
])
def test_surveillance_versus_suspected_recurrence(text: str, expected: tuple[int, int],
                                                  kb: KnowledgeBase) -> None:
    assert top(run(text, kb)) == expected


def test_male_patient(kb: KnowledgeBase) -> None:
    a = run("67M on spironolactone with tender right breast enlargement; exam c/w gynecomastia.", kb)
    assert top(a) == (205, 1)
    assert a.profile.sex == "male"


def test_pregnant_patient_gets_the_pregnancy_topic(kb: KnowledgeBase) -> None:
    a = run("27-year-old, 24 weeks pregnant, new palpable lump in the left breast.", kb)
    assert top(a) == (396, 4)
    assert a.matches[0].ratings_verified is False  # the bundled data has no table for it
    assert a.matches[0].procedures == []


def test_pregnancy_not_mentioned_is_not_a_pregnancy_match(kb: KnowledgeBase) -> None:
    a = run("55 y/o woman, average risk, no symptoms. What screening does she need?", kb)
    assert top(a) == (179, 1)
    assert all(m.topic_id != 396 for m in a.matches)


@pytest.mark.parametrize("text", [
    "Lung adenocarcinoma staging - PET/CT?",
    "Prostate cancer with rising PSA, is a bone scan needed?",
    "knee pain after a fall, MRI?",
    "asdf qwerty zxcv",
])
def test_out_of_scope_gives_no_match_and_a_plain_statement(text: str, kb: KnowledgeBase) -> None:
    a = run(text, kb)
    assert a.matches == []
    assert not a.indication.in_scope
    assert "breast" in a.statement


def test_negation_and_family_history(kb: KnowledgeBase) -> None:
    a = run("52F with newly diagnosed 1.2 cm IDC, cN0. Denies bone pain or headache. Mother had breast "
            "cancer at 50. Staging scans?", kb)
    assert a.profile.symptoms == []
    assert {"bone_pain", "neurologic_symptoms"} <= set(a.profile.denied_symptoms)
    assert a.profile.family_history == ["mother: breast cancer"]
    assert a.red_flags == []
    assert top(a) == (310, 2)


def test_red_flag_changes_the_advice_but_keeps_the_scenario(kb: KnowledgeBase) -> None:
    a = run("New diagnosis stage II breast cancer (T2N0 IDC, 2.5 cm) in a 49-year-old with new back pain "
            "over the last 3 weeks. What staging imaging?", kb)
    assert [f.id for f in a.red_flags][:1] == ["bone"]
    flag = a.red_flags[0]
    assert flag.sources and flag.confidence == "old"
    assert flag.triggered_by[0].evidence == "back pain"
    assert {(r.topic_id, r.variant) for r in flag.points_to} >= {(310, 11)}
    assert "Red flags present" in a.statement


def test_abnormal_lab_is_a_red_flag_and_a_normal_one_is_not(kb: KnowledgeBase) -> None:
    high = run("55F new 1.6 cm IDC, cN0, alkaline phosphatase 210 (elevated). Bone scan?", kb)
    normal = run("55F new 1.6 cm IDC, cN0, alkaline phosphatase normal. Bone scan?", kb)
    assert "bone" in {f.id for f in high.red_flags}
    assert normal.red_flags == []


def test_stage_is_computed_from_size_and_nodes_when_not_given(kb: KnowledgeBase) -> None:
    a = run("56 yo woman, newly diagnosed 3.2 cm IDC, clinically node negative, PET/CT?", kb)
    assert a.stage.groups == ["IIA"]
    assert "cT2" in a.stage.basis and "M0 assumed" in a.stage.basis


def test_missing_facts_are_reported_not_assumed(kb: KnowledgeBase) -> None:
    a = run("Newly diagnosed invasive ductal carcinoma. Is a PET/CT needed?", kb)
    assert any(m.field == "stage" for m in a.missing)
    assert all("stage" not in w for w in a.matches[0].why)


def test_no_phase_means_no_match_and_asks_for_the_situation(kb: KnowledgeBase) -> None:
    a = assess(PatientProfile(age=50, sex="female"), Indication(text="50F"), kb)
    assert a.matches == []
    assert [m.field for m in a.missing] == ["phase"]


def test_structured_input_without_text(kb: KnowledgeBase) -> None:
    profile = PatientProfile(age=60, sex="female", histology="lobular", t="cT1c", n="cN0", m="cM0")
    a = assess(profile, Indication(phase="new_diagnosis", purpose="distant"), kb)
    assert top(a) == (310, 2)
    assert a.stage.anatomic == "IA"


def test_topic_without_variants_is_named_not_guessed(kb: KnowledgeBase) -> None:
    a = run("Newly diagnosed DCIS, 2 cm of calcifications, is a breast MRI useful?", kb)
    assert 320 in {u.topic_id for u in a.uncovered_topics}
    assert all(m.topic_id != 310 for m in a.matches)  # 310 is for invasive cancer


def test_retired_topics_only_when_asked(kb: KnowledgeBase) -> None:
    text = "Newly diagnosed stage I breast cancer, asymptomatic. Rule out bone metastases with a bone scan?"
    assert all(m.status == "current" for m in run(text, kb).matches)
    retired = run(text, kb, include_retired=True)
    assert any(m.topic_id == 154 for m in retired.matches)


@pytest.mark.parametrize(("text", "variants"), [
    ("Newly diagnosed stage I breast cancer, asymptomatic. Staging to rule out metastases?", {1, 2, 3, 4}),
    ("Stage I breast cancer treated 3 years ago, asymptomatic. Surveillance scans for metastases?", {5}),
    ("Stage I breast cancer treated 3 years ago, asymptomatic. Surveillance mammogram of the breast?", {6}),
])
def test_retired_stage_i_variants_are_reachable(text: str, variants: set[int], kb: KnowledgeBase) -> None:
    found = {m.variant for m in run(text, kb, include_retired=True).matches if m.topic_id == 154}
    assert variants <= found


@pytest.mark.parametrize(("text", "variant"), [
    ("32F breastfeeding her 4-month-old, due for breast cancer screening", 1),
    ("27F, 20 weeks pregnant, BRCA1 carrier (high risk), screening?", 2),
    ("35F, 16 weeks pregnant, intermediate risk from atypical ductal hyperplasia, screening?", 3),
    ("42F, 20 weeks pregnant, average risk, due for screening", 4),
    ("30F, 28 weeks pregnant, palpable lump in the right breast", 5),
    ("33F, pregnant, bloody nipple discharge from one duct", 6),
    ("36F, 18 weeks pregnant, newly diagnosed IDC, locoregional staging of the breast?", 7),
])
def test_retired_pregnancy_variants_are_reachable(text: str, variant: int, kb: KnowledgeBase) -> None:
    found = {m.variant for m in run(text, kb, include_retired=True).matches if m.topic_id == 248}
    assert variant in found


def test_t_from_size_follows_ajcc_cut_points() -> None:
    assert [t_from_size(x) for x in (0.5, 1, 4, 5, 9, 10, 19, 20, 21, 50, 51)] == [
        "T1mi", "T1mi", "T1a", "T1a", "T1b", "T1b", "T1c", "T1c", "T2", "T2", "T3"]


def test_one_range_within_another_respects_open_and_closed_bounds() -> None:
    from scanwise.domain.conditions import Range

    assert Range(ge=40).within(Range(ge=25))
    assert not Range(ge=25).within(Range(ge=40))
    assert Range(gt=30).within(Range(ge=30)) and not Range(ge=30).within(Range(gt=30))
    assert Range(ge=30, lt=40).within(Range(lt=40)) and not Range(lt=40).within(Range(ge=30, lt=40))


def test_narrower_conditions_are_told_from_overlapping_ones() -> None:
    from scanwise.domain.conditions import Conditions, Range

    any_risk_40 = Conditions(phase=["screening"], age=Range(ge=40))
    high_risk_25 = Conditions(phase=["screening"], age=Range(ge=25), risk=["intermediate", "high"])
    high_risk_40 = Conditions(phase=["screening"], age=Range(ge=40), risk=["high"])
    # Each of the first two has a constraint the other lacks: they overlap.
    assert not any_risk_40.at_least_as_narrow_as(high_risk_25)
    assert not high_risk_25.at_least_as_narrow_as(any_risk_40)
    assert high_risk_40.at_least_as_narrow_as(any_risk_40)
    assert high_risk_40.at_least_as_narrow_as(high_risk_25)
    # An axilla question is part of a locoregional one; ruling out more is narrower.
    assert Conditions(purpose=["axilla"]).at_least_as_narrow_as(Conditions(purpose=["locoregional"]))
    assert not Conditions(purpose=["locoregional"]).at_least_as_narrow_as(Conditions(purpose=["axilla"]))
    assert Conditions(none_present=["a", "b"]).at_least_as_narrow_as(Conditions(none_present=["a"]))
    assert not Conditions(none_present=["a"]).at_least_as_narrow_as(Conditions(none_present=["a", "b"]))


def test_overlapping_variants_of_one_topic_are_both_shown_not_one_picked(kb: KnowledgeBase) -> None:
    # Pregnant, 42 and a BRCA2 carrier: "40 or older, any risk" (396 V1) and "25 or older,
    # higher-than-average risk" (396 V3) both fit, and neither label is narrower.
    a = run("42 y/o pregnant, BRCA2 carrier, what screening during pregnancy?", kb)
    assert {(m.topic_id, m.variant) for m in a.matches[:2]} == {(396, 1), (396, 3)}
    assert a.ambiguity and "Both fit" in a.ambiguity
    # Under 40 only the high-risk scenario fits: nothing to show.
    b = run("32 y/o pregnant, BRCA2 carrier, what screening during pregnancy?", kb)
    assert top(b) == (396, 3) and not (b.ambiguity or "").startswith("Both fit")


def test_the_scenario_written_for_the_patients_implants_leads_over_the_general_one(kb: KnowledgeBase) -> None:
    # An armpit lump in a woman with silicone implants: the implant document's unexplained
    # adenopathy scenarios (a felt node is adenopathy), not the general armpit-lump one; with
    # no age given, its age bands are the question.
    a = run("There is a swollen node in my left armpit and I have silicone breast implants. Which scan?", kb)
    assert {(b.topic_id, b.variant) for b in a.decision.branches} >= {(239, 10), (239, 11), (239, 12)} \
        if a.decision else False
    b = run("52F, silicone implants, swollen node in her left armpit, no cause found. Which scan?", kb)
    assert top(b) == (239, 12)
    # With no implant the general scenario stays.
    assert top(run("52F, swollen node in her left armpit, no cause found. Which scan?", kb)) == (286, 1)


def test_a_case_of_a_partly_known_topic_that_none_of_its_variants_fits_is_covered_not_unknown(
        kb: KnowledgeBase) -> None:
    # Only the average-risk screening variant of topic 179 was found: a BRCA1 carrier's
    # screening is the topic's case, its ratings unknown, said plainly (never "no scenario").
    a = run("38F, BRCA1 carrier, no personal history of cancer, what screening?", kb)
    assert a.matches == [] and [u.topic_id for u in a.uncovered_topics] == [179]
    assert "179" in a.statement and "not among those found" in a.statement
    # An average-risk woman gets its variant, and no such note.
    b = run("52F average risk, screening mammogram?", kb)
    assert top(b) == (179, 1) and not b.uncovered_topics
