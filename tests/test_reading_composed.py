"""Mechanisms the tenth blind set asked for, each tried on wording of its own: whose text it is,
symptoms composed from words apart, chemotherapy before surgery inferred, lay operations."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from assessing import branches, run, top

from scanwise.domain.kb import KnowledgeBase
from scanwise.nlp.scenario import read_scenario


def test_a_friends_diagnosis_is_not_the_patients(kb: KnowledgeBase) -> None:
    a = run("My coworker was diagnosed with breast cancer last month. I'm 47, no lumps. Do I need "
            "a different kind of screening?", kb)
    assert a.profile.cancer_history is not True and a.indication.phase == "screening"
    assert top(a) == (179, 1) or (179, 1) in branches(a)


def test_a_relatives_story_with_the_writers_own_question_is_the_writers(kb: KnowledgeBase) -> None:
    a = run("My aunt had breast cancer at 52; she is doing well now. How often should I get checked?", kb)
    assert a.profile.cancer_history is not True
    assert any(f.startswith("aunt") for f in a.profile.family_history)


def test_a_text_about_a_relative_from_its_first_words_makes_them_the_patient(kb: KnowledgeBase) -> None:
    a = run("My dad is 64 and he says there is clear fluid coming out of his right nipple on its own. "
            "What should be done?", kb)
    assert a.profile.sex == "male" and a.profile.age == 64
    assert "nipple_discharge_pathologic" in a.profile.symptoms
    assert top(a) == (205, 5)


@pytest.mark.parametrize(("text", "code"), [
    ("I'm 33 and a brownish liquid leaks from one nipple by itself.", "nipple_discharge_pathologic"),
    ("I'm 41; if I press my nipples some milk comes out, both sides, never on its own.",
     "nipple_discharge_physiologic"),
    ("I'm 41 and something is leaking from my nipple.", "nipple_discharge"),
])
def test_nipple_discharge_is_composed_from_words_apart(text: str, code: str, kb: KnowledgeBase) -> None:
    profile, indication = read_scenario(text, kb)
    assert code in profile.symptoms, (text, profile.symptoms)
    assert any("from the nipple" in a for a in indication.assumptions)


@pytest.mark.parametrize(("text", "surgery"), [
    ("She had her right breast removed in 2018 for cancer, yearly imaging?", "mastectomy"),
    ("Part of my breast was removed for cancer in 2020; what follow-up imaging?", None),
])
def test_a_breast_removed_is_a_mastectomy(text: str, surgery: str | None, kb: KnowledgeBase) -> None:
    profile, _ = read_scenario(text, kb)
    assert profile.surgery == surgery if surgery else profile.surgery != "mastectomy"


def test_pain_on_the_operated_side_after_a_mastectomy_is_breast_pain(kb: KnowledgeBase) -> None:
    a = run("62F, left mastectomy 4 years ago, no reconstruction; now a sore spot on the chest wall "
            "that is always in the same place.", kb)
    assert "breast_pain_focal" in a.profile.symptoms
    assert top(a) == (282, 7)
    # With no operation said, chest-wall pain is not read as breast pain.
    profile, _ = read_scenario("45F, sore spot on the chest wall, always in the same place.", kb)
    assert "breast_pain_focal" not in profile.symptoms


@pytest.mark.parametrize(("text", "state"), [
    ("I'm in the middle of chemo for a 3.5 cm breast tumor and now I feel a lump in my armpit.", "ongoing"),
    ("58F, chemo given to shrink the tumour before her operation, cycle 3 of 6; MRI to see the response?",
     "ongoing"),
    # chemotherapy finished with the operation still ahead
    ("I just finished chemo and my surgery is next month. What imaging of the breast now?", "completed"),
    ("52F, completed chemo, lumpectomy scheduled in 3 weeks; MRI to check response?", "completed"),
])
def test_chemo_with_the_tumour_in_place_is_neoadjuvant(text: str, state: str, kb: KnowledgeBase) -> None:
    profile, indication = read_scenario(text, kb)
    assert profile.neoadjuvant == state
    assert indication.phase == "neoadjuvant"


def test_chemo_after_the_operation_is_not_read_as_neoadjuvant(kb: KnowledgeBase) -> None:
    profile, _ = read_scenario("I'm halfway through chemo after my lumpectomy for a 2 cm tumor.", kb)
    assert profile.neoadjuvant is None


def test_an_age_set_off_by_commas_after_who_the_writer_is(kb: KnowledgeBase) -> None:
    profile, _ = read_scenario("I'm a trans woman, 48, on estrogen for 9 years. Mammogram?", kb)
    assert profile.age == 48


def test_never_pregnant_is_not_pregnant(kb: KnowledgeBase) -> None:
    profile, _ = read_scenario("I'm 36, have never been pregnant, and I have a lump in my breast.", kb)
    assert profile.pregnant is not True


def test_a_finding_felt_on_examination_is_also_the_sign(kb: KnowledgeBase) -> None:
    profile, _ = read_scenario("61F, firm left axillary adenopathy on exam, no breast mass.", kb)
    assert "axillary_adenopathy" in profile.findings and "axillary_lump" in profile.symptoms
    # seen on imaging only, it is a finding and no lump
    profile, _ = read_scenario("61F, axillary adenopathy on screening mammogram.", kb)
    assert "axillary_lump" not in profile.symptoms


def test_a_mans_examination_suspicious_for_cancer_is_the_suspicious_exam_variant(kb: KnowledgeBase) -> None:
    a = run("66M, retroareolar mass, exam concerning for malignancy. Initial imaging?", kb)
    assert "suspicious_exam" in a.profile.symptoms
    assert top(a) == (205, 5)


def test_felt_as_must_name_a_symptom(tmp_path: Path) -> None:
    from scanwise.domain.kb import KnowledgeBaseError
    from scanwise.knowledge.loader import DATA_DIR, load

    data_dir = tmp_path / "knowledge"
    shutil.copytree(DATA_DIR, data_dir, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    path = data_dir / "vocabulary.yaml"
    path.write_text(path.read_text().replace("felt_as: axillary_lump", "felt_as: birads_4"))
    with pytest.raises(KnowledgeBaseError, match="felt_as 'birads_4' must name a symptom"):
        load(data_dir)


def test_a_studys_result_does_not_deny_the_symptom_before_it(kb: KnowledgeBase) -> None:
    profile, _ = read_scenario("50F with a palpable lump; the mammogram is negative. Next?", kb)
    assert "palpable_mass" in profile.symptoms and "birads_1" in profile.findings


def test_a_new_clause_ends_a_denial_without_a_comma(kb: KnowledgeBase) -> None:
    profile, _ = read_scenario("My GP doesn't order anything else and I had breast cancer in 2019. "
                               "Should I have scans?", kb)
    assert profile.cancer_history is True
    profile, _ = read_scenario("No pain and swelling in the breast. 44F.", kb)
    assert "palpable_mass" not in profile.symptoms


@pytest.mark.parametrize(("text", "gender"), [
    ("My child is transgender; she is 30 and has taken estrogen for 8 years. Mammogram?", "transfeminine"),
    ("I'm trans, he/him, 34, no top surgery yet. Do I need screening?", "transmasculine"),
    ("trans masc, 45, average risk, screening?", "transmasculine"),
])
def test_which_way_a_transgender_patient_is_comes_from_their_own_words(text: str, gender: str,
                                                                       kb: KnowledgeBase) -> None:
    profile, _ = read_scenario(text, kb)
    assert profile.gender == gender


def test_an_operation_not_had_is_not_history(kb: KnowledgeBase) -> None:
    profile, _ = read_scenario("Trans man, 38, hasn't had top surgery, screening?", kb)
    assert profile.surgery is None


def test_an_organ_in_a_denied_family_history_is_no_other_cancer(kb: KnowledgeBase) -> None:
    a = run("47F, no family history of breast or colon cancer, I haven't had a mammogram yet. "
            "When should I start screening?", kb)
    assert a.indication.in_scope and top(a) == (179, 1)


@pytest.mark.parametrize("text", [
    "My wife's mother had breast cancer and my sister-in-law carries BRCA2. I'm 52, screening?",
    "Her brother's wife had breast cancer at 40. She is 52, average otherwise. Screening?",
])
def test_relatives_by_marriage_are_no_family_history(text: str, kb: KnowledgeBase) -> None:
    profile, _ = read_scenario(text, kb)
    assert not profile.family_history and profile.risk != "high"


def test_a_question_that_poses_a_case_is_read_as_that_case(kb: KnowledgeBase) -> None:
    a = run("Asking for a class: if a 52-year-old woman had a new hard lump in her breast, which "
            "imaging comes first?", kb)
    assert "palpable_mass" in a.profile.symptoms and top(a) == (153, 1)
    b = run("Hypothetically, if a 33-year-old had pain in one spot of her breast, not with her "
            "cycle, which scan first?", kb)
    assert "breast_pain_focal" in b.profile.symptoms
    assert any("poses a case" in x for x in b.indication.assumptions)
    # beside the patient's own facts, a "what if" stays hypothetical
    profile, _ = read_scenario("I'm 45 with a lump in my breast. If it were painful, would that change "
                               "anything?", kb)
    assert "breast_pain" not in profile.symptoms and "breast_pain_focal" not in profile.symptoms


def test_what_a_scan_looks_at_says_its_purpose(kb: KnowledgeBase) -> None:
    _, ind = read_scenario("Finished my breast cancer treatment 2 years ago; should they scan my "
                           "liver every year?", kb)
    assert ind.purpose == "distant" and ind.phase == "surveillance"
    _, ind = read_scenario("New breast cancer, 3 cm, nodes felt. What imaging for the armpit next?", kb)
    assert ind.purpose == "axilla"


@pytest.mark.parametrize(("text", "field", "value"), [
    ("im 30 and i cant feel any lump, just pain in one spot of my breast", "symptoms", "breast_pain_focal"),
    ("had both boobs taken off to prevent cancer, brca2, rebuilt with my belly fat, screening?",
     "reconstruction", "autologous"),
    ("BRCA2+, bilat ppx mastectomies, no recon, scr?", "surgery", "prophylactic_mastectomy"),
    ("she has a little rubbery grape thing in her breast, she's 24", "symptoms", "palpable_mass"),
    ("44M palpable mass, equivocal finding on diagnostic mammogram", "findings", "imaging_indeterminate"),
    ("FtM 52y, average risk, no top surgery, scr?", "age", 52),
])
def test_lay_and_typed_wording(text: str, field: str, value: object, kb: KnowledgeBase) -> None:
    profile, _ = read_scenario(text, kb)
    got = getattr(profile, field)
    assert value in got if isinstance(got, list) else got == value, (text, got)


def test_chemotherapy_denied_is_not_neoadjuvant(kb: KnowledgeBase) -> None:
    profile, ind = read_scenario("47F, 2.4 cm IDC, nodes feel normal, surgery first and no chemo first. "
                                 "Axillary imaging?", kb)
    assert profile.neoadjuvant is None and ind.phase != "neoadjuvant"
    profile, _ = read_scenario("cN0, axilla not imaged before NAC, chemo done. Axilla before surgery?", kb)
    assert profile.neoadjuvant == "completed"
    profile, _ = read_scenario("New 3 cm HER2+ IDC, the chemo-first plan starts next week. Baseline MRI?", kb)
    assert profile.neoadjuvant == "planned"


def test_a_mans_skin_dimpling_beside_a_mass_is_a_suspicious_examination(kb: KnowledgeBase) -> None:
    assert top(run("72M firm subareolar mass with skin dimpling, initial imaging?", kb)) == (205, 5)


def test_a_study_done_whose_result_is_not_known_makes_the_result_the_question(kb: KnowledgeBase) -> None:
    a = run("47F palpable lump R breast, diagnostic mammo done last week, results not back yet. Next?", kb)
    assert "imaging_result_unknown" in a.profile.findings
    assert a.decision is not None and {(153, 1), (153, 2)} <= branches(a)


def test_another_organs_scan_that_found_an_armpit_node_is_in_scope(kb: KnowledgeBase) -> None:
    a = run("My chest CT for a lung nodule showed an enlarged lymph node in my left armpit. I'm 60. "
            "What test is next?", kb)
    assert a.indication.in_scope and "axillary_lump" not in a.profile.symptoms
    assert top(a) == (286, 12)


def test_a_bare_axilla_question_asks_about_the_axilla(kb: KnowledgeBase) -> None:
    _, ind = read_scenario("2.2 cm IDC L, dx mammo done, no palpable nodes. Axilla?", kb)
    assert ind.purpose == "axilla"


def test_a_lump_placed_elsewhere_beside_a_denied_breast_word_is_not_a_breast_lump(kb: KnowledgeBase) -> None:
    profile, _ = read_scenario("Not a breast question: 50F with a lump on her thigh. Imaging?", kb)
    assert "palpable_mass" not in profile.symptoms
