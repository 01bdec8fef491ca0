"""Reading mechanisms that replace word lists, each tried on words none of the sets use.

Spelling by distance to the knowledge base's own words (never changing an English word), where
breast pain is from words apart from it (focal, spread, or not said), a request for a mammogram
as screening, relatives by marriage, and a reconstruction said but not its kind.
"""

from __future__ import annotations

import pytest
from assessing import branches, run, top

from scanwise.domain.kb import KnowledgeBase
from scanwise.nlp.rules import expand
from scanwise.nlp.scenario import read_scenario
from scanwise.nlp.spelling import speller


@pytest.mark.parametrize(("written", "meant"), [
    ("mastectmy", "mastectomy"),          # a dropped letter
    ("ultarsound", "ultrasound"),         # two letters swapped
    ("Reconstrcution", "Reconstruction"),  # two edits in a long word, capital kept
    ("gynecomstia", "gynecomastia"),
])
def test_a_misspelt_clinical_word_is_read_as_the_word_meant(written: str, meant: str) -> None:
    assert speller().correct(written) == meant


@pytest.mark.parametrize("word", [
    "pumps",     # English, one edit from "lumps": a breast pump is not a lump
    "ripple",    # English, one edit from "nipple"
    "lump",      # too short to correct safely
    "mammogram",  # already a known word
    "grandkids",  # no knowledge-base word is near it
])
def test_words_that_are_english_known_short_or_far_are_left_as_written(word: str) -> None:
    assert speller().correct(word) is None


def test_evidence_quotes_the_misspelt_words_as_written(kb: KnowledgeBase) -> None:
    text = "54F s/p rt lumpectommy 2016, surveillance mamogram due"
    assert "lumpectomy" in expand(text).text and "mammogram" in expand(text).text
    profile, _ = read_scenario(text, kb)
    assert profile.surgery == "lumpectomy"
    assert profile.evidence["surgery"][0].text == "lumpectommy"


@pytest.mark.parametrize(("text", "code"), [
    ("I'm 47. There is a sore point at the top of my left breast, always in one small spot.",
     "breast_pain_focal"),
    ("33F both breasts sore every month before her cycle, whole breast feels heavy", "breast_pain_diffuse"),
])
def test_where_breast_pain_is_comes_from_words_apart_from_it(text: str, code: str, kb: KnowledgeBase) -> None:
    profile, indication = read_scenario(text, kb)
    assert code in profile.symptoms
    assert indication.phase == "diagnostic_workup"


def test_breast_pain_of_an_unsaid_kind_is_asked_about_not_guessed(kb: KnowledgeBase) -> None:
    a = run("I'm 52 and my right nipple has been painful for a month.", kb)
    assert "breast_pain" in a.profile.symptoms
    assert {(204, 1), (204, 4)} <= branches(a)


def test_a_mammogram_asked_for_with_nothing_wrong_is_screening(kb: KnowledgeBase) -> None:
    a = run("46 year old woman, average risk, wants a mammo", kb)
    assert a.indication.phase == "screening"
    assert top(a) == (179, 1)


@pytest.mark.parametrize("text", [
    "SCLC with liver mets, restaging CT?",            # another organ's cancer
    "I'm 40 and my shoulder aches. Can I get an MRI of my shoulder?",  # another body part
])
def test_a_study_asked_for_elsewhere_is_not_breast_screening(text: str, kb: KnowledgeBase) -> None:
    a = run(text, kb)
    assert a.indication.phase != "screening"


def test_a_relative_by_marriage_is_not_family_history(kb: KnowledgeBase) -> None:
    profile, _ = read_scenario("My sister-in-law was just diagnosed with breast cancer. I'm 44, "
                               "nothing wrong, due for a mammogram.", kb)
    assert profile.family_history == [] and profile.first_degree_relative is None


def test_a_reconstruction_of_unsaid_kind_is_not_no_reconstruction(kb: KnowledgeBase) -> None:
    a = run("hx R breast ca, mastectomy both sides with reconstruction, kind unknown; screening?", kb)
    assert branches(a) == {(282, 2), (282, 3)}


def test_a_reconstruction_denied_is_none(kb: KnowledgeBase) -> None:
    profile, _ = read_scenario("BRCA1 carrier, both breasts removed to lower her risk, she never had "
                               "reconstruction", kb)
    assert profile.reconstruction == "none"


def test_wording_entries_take_the_vocabulary_syntax(kb: KnowledgeBase) -> None:
    # one entry, "[finished|completed|done with] [my|the]? chemo before [my|the]? [surgery|operation]"
    for text in ("completed the chemo before the operation, 2.5 cm IDC, cN0; imaging of the axilla?",
                 "done with chemo before surgery; 2.5 cm IDC, cN0; imaging of the axilla?"):
        profile, _ = read_scenario(text, kb)
        assert profile.neoadjuvant == "completed", text


def test_a_gestational_age_in_shorthand_is_a_pregnancy(kb: KnowledgeBase) -> None:
    profile, _ = read_scenario("36F G3P2 @ 28 wks, new palpable L breast lump", kb)
    assert profile.pregnant is True


def test_evidence_quotes_whole_words_where_the_reader_expanded_part(kb: KnowledgeBase) -> None:
    profile, _ = read_scenario("29F 12 wks IUP, palpable R breast mass", kb)
    assert profile.evidence["pregnant"][0].text == "IUP" or "IUP" in profile.evidence["pregnant"][0].text


def test_a_stage_with_no_organ_named_is_read_as_breast_cancer_and_said(kb: KnowledgeBase) -> None:
    a = run("Just found out it's stage 3, ER positive. Do I need scans to see if it spread?", kb)
    assert a.indication.in_scope
    assert any("no organ is named" in s for s in a.indication.assumptions)


def test_a_nodule_size_with_an_organ_elsewhere_stays_out_of_scope(kb: KnowledgeBase) -> None:
    a = run("6 mm solid nodule in the left upper lobe, ex-smoker; next CT when?", kb)
    assert not a.indication.in_scope or not a.matches


def test_a_hyphenated_size_is_a_size(kb: KnowledgeBase) -> None:
    profile, _ = read_scenario("Woman with a 4-cm breast cancer, node negative, new diagnosis", kb)
    assert profile.tumor_size_mm == 40.0


@pytest.mark.parametrize("change", ["looks lopsided now", "has dropped lower", "feels softer than before"])
def test_a_change_said_of_an_implant_is_a_possible_implant_problem(change: str, kb: KnowledgeBase) -> None:
    profile, _ = read_scenario(f"I'm 35 with silicone implants from 2015. The left one {change}.", kb)
    assert "implant_rupture_suspected" in profile.symptoms


def test_both_breasts_removed_to_lower_risk_is_prophylactic(kb: KnowledgeBase) -> None:
    profile, _ = read_scenario("BRCA1, had a bilateral mastectomy to lower my risk, no reconstruction. "
                               "Any screening now?", kb)
    assert profile.surgery == "prophylactic_mastectomy"


def test_no_new_lumps_stays_denied(kb: KnowledgeBase) -> None:
    profile, _ = read_scenario("Two years after lumpectomy for IDC. No new lumps. Annual mammogram due.", kb)
    assert "palpable_mass" not in profile.symptoms


@pytest.mark.parametrize(("text", "code"), [
    ("I'm 41 and there's a hard lump under my right arm, near the armpit fold.", "axillary_lump"),
    ("38F new palpable masses in both axillae x2 weeks", "axillary_lump_bilateral"),
])
def test_a_lump_is_placed_by_its_sentence(text: str, code: str, kb: KnowledgeBase) -> None:
    profile, _ = read_scenario(text, kb)
    assert code in profile.symptoms and "palpable_mass" not in profile.symptoms


def test_a_lump_elsewhere_in_the_body_is_no_breast_finding(kb: KnowledgeBase) -> None:
    profile, _ = read_scenario("I'm 30 and found a small lump on my thigh. My sister had breast cancer.", kb)
    assert "palpable_mass" not in profile.symptoms


def test_another_cancers_past_beside_a_screening_question_is_a_risk_factor(kb: KnowledgeBase) -> None:
    a = run("61F, h/o colon ca treated 2015, no breast problems, due for screening", kb)
    assert a.indication.in_scope and a.indication.phase == "screening"


def test_screening_for_another_organs_cancer_is_out_of_scope(kb: KnowledgeBase) -> None:
    a = run("BRCA2 carrier, 45, wants to know about pancreatic cancer screening", kb)
    assert not a.indication.in_scope


def test_the_age_at_an_event_is_not_the_age_now(kb: KnowledgeBase) -> None:
    profile, _ = read_scenario("woman 34, mantle radiation at age 16 for Hodgkin, screening?", kb)
    assert profile.age == 34


def test_a_reconstruction_the_patient_is_unsure_of_is_of_unknown_kind(kb: KnowledgeBase) -> None:
    profile, _ = read_scenario("Mastectomy for cancer with reconstruction; I'm not sure whether they used "
                               "my own tissue or an implant. Screening?", kb)
    assert profile.reconstruction is None
    assert "reconstruction" in profile.evidence


def test_unexplained_axillary_nodes_with_silicone_implants_are_adenopathy(kb: KnowledgeBase) -> None:
    a = run("45F, silicone implants 2012, unexplained enlarged left axillary nodes on exam", kb)
    assert "axillary_adenopathy" in a.profile.findings
    assert top(a) == (239, 12)


def test_shorthand_after_a_prefix_is_read(kb: KnowledgeBase) -> None:
    profile, _ = read_scenario("2.8 cm IDC, cN0, post-NAC, axillary US?", kb)
    assert profile.neoadjuvant == "completed"


def test_nodes_said_clear_are_node_negative(kb: KnowledgeBase) -> None:
    profile, _ = read_scenario("4 cm tumour, the nodes were clear at diagnosis, starting chemo first", kb)
    assert profile.nodal_status == "negative"


def test_a_text_about_a_relative_makes_them_the_patient(kb: KnowledgeBase) -> None:
    a = run("My dad had breast cancer in 2018. Now he has back pain that is getting worse and his "
            "oncologist is worried.", kb)
    assert a.profile.cancer_history is True and "bone_pain" in a.profile.symptoms
    assert a.indication.phase == "suspected_recurrence"


def test_the_person_the_text_opens_with_is_found_whatever_the_case(kb: KnowledgeBase) -> None:
    a = run("My Dad had breast cancer in 2018. Now he has back pain that is getting worse and his "
            "oncologist is worried.", kb)
    assert a.profile.cancer_history is True and a.indication.phase == "suspected_recurrence"


def test_a_relatives_cancer_stays_family_history_when_the_writer_is_the_patient(kb: KnowledgeBase) -> None:
    profile, _ = read_scenario("My mom had breast cancer at 50. She thinks I should start mammograms. "
                               "I'm 41.", kb)
    assert profile.family_history and profile.cancer_history is None


def test_a_symptom_that_wont_go_away_is_present(kb: KnowledgeBase) -> None:
    profile, _ = read_scenario("52F hx L breast ca 2019, now a cough that won't go away", kb)
    assert "cough" in profile.symptoms


def test_an_animals_lump_is_out_of_scope_but_a_pet_in_passing_is_not(kb: KnowledgeBase) -> None:
    assert not run("Our cat has a lump near a nipple. Which scan would a vet use?", kb).indication.in_scope
    a = run("55F new palpable L breast mass, diagnostic mammo? (she asked to finish before walking "
            "the dog)", kb)
    assert a.indication.in_scope and top(a) == (153, 1)


def test_weeks_along_is_a_pregnancy(kb: KnowledgeBase) -> None:
    profile, _ = read_scenario("I'm 36 and 12 weeks along, found a lump in my breast", kb)
    assert profile.pregnant is True


def test_chemo_given_before_surgery_in_other_words_is_neoadjuvant(kb: KnowledgeBase) -> None:
    profile, _ = read_scenario("I finished the chemo you get before the operation; 4 cm tumour", kb)
    assert profile.neoadjuvant == "completed"


def test_spread_to_the_nodes_is_node_positive_not_distant(kb: KnowledgeBase) -> None:
    profile, indication = read_scenario("3 cm cancer that had spread into two lymph nodes, new diagnosis", kb)
    assert profile.nodal_status == "positive"
    assert indication.purpose != "distant"


def test_a_node_that_lit_up_on_pet_is_a_suspicious_node(kb: KnowledgeBase) -> None:
    profile, _ = read_scenario("He's 52; a PET for melanoma follow-up lit up a node in the right axilla", kb)
    assert profile.age == 52
    assert "suspicious_axillary_node_other_imaging" in profile.findings
