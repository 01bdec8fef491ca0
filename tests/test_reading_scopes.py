"""Reading mechanisms of issue 12, third round (reader12b): each said in words the eval sets do
not use. Denied operations, denials of noticing, clause breaks, lists denying each item, pain
kept to one place, the axilla's words over the breast's, an inferred risk against a variant for
any risk, implant years from a year, another person's clause, injuries elsewhere.
"""

from __future__ import annotations

import pytest
from assessing import run, top

from scanwise.domain.kb import KnowledgeBase
from scanwise.nlp.scenario import read_scenario


@pytest.mark.parametrize("text", [
    "trans man, 47, never had top surgery, routine screening?",
    "46 year old transmasculine patient, has not had a mastectomy, average risk. Screening?",
])
def test_a_denied_operation_is_not_history(text: str, kb: KnowledgeBase) -> None:
    profile, _ = read_scenario(text, kb)
    assert profile.surgery is None


@pytest.mark.parametrize("text", [
    "58F with pain in the left breast; I have not noticed any lump.",
    "I'm 48, my breast aches and I didn't feel a lump anywhere.",
    "I never felt a lump, but both breasts ache before my period. I'm 39.",
])
def test_a_denied_noticing_denies_what_follows(text: str, kb: KnowledgeBase) -> None:
    profile, _ = read_scenario(text, kb)
    assert "palpable_mass" not in profile.symptoms


def test_a_new_clause_ends_a_denial(kb: KnowledgeBase) -> None:
    profile, _ = read_scenario("My father, 70, has a lump behind his nipple that is not sore, and the "
                               "nipple is turned inward now. Which test?", kb)
    assert "nipple_retraction" in profile.symptoms


def test_a_list_denying_each_item_affirms_the_one_without(kb: KnowledgeBase) -> None:
    profile, _ = read_scenario("34F, no fever, no trauma, localized breast pain on the left, "
                               "no lump felt", kb)
    assert "breast_pain_focal" in profile.symptoms


@pytest.mark.parametrize("text", [
    "51 year old woman: my left breast is tender in one place near the armpit, every day for weeks.",
    "I'm 47. There is a specific spot on my right breast that aches. No lump.",
    "60F, right breast pain for a month, it is always in the same place.",
])
def test_pain_kept_to_one_place_is_focal(text: str, kb: KnowledgeBase) -> None:
    profile, _ = read_scenario(text, kb)
    assert "breast_pain_focal" in profile.symptoms


def test_the_axillas_words_name_the_study(kb: KnowledgeBase) -> None:
    _, ind = read_scenario("70F, local recurrence at the mastectomy site confirmed; what axillary "
                           "imaging is next?", kb)
    assert ind.purpose == "axilla"


def test_an_inferred_risk_does_not_outrank_any_risk(kb: KnowledgeBase) -> None:
    a = run("41 years old, 20 weeks pregnant, my sister had breast cancer. Screening mammogram?", kb)
    assert top(a) == (396, 1)


def test_implant_years_from_the_year_placed(kb: KnowledgeBase) -> None:
    profile, ind = read_scenario("44F, saline implants put in 2015, no problems, routine check?", kb)
    assert profile.implant == "saline" and profile.implant_years is not None and profile.implant_years >= 10
    assert any("2015" in a for a in ind.assumptions)


def test_another_persons_clause_is_theirs(kb: KnowledgeBase) -> None:
    profile, _ = read_scenario("My coworker with implants had an ultrasound that showed a leak. Mine are "
                               "silicone, I'm 41 and I feel fine. Do I need imaging?", kb)
    assert profile.implant == "silicone"
    assert "implant_rupture_suspected" not in profile.symptoms


def test_an_injury_elsewhere_is_out_of_scope(kb: KnowledgeBase) -> None:
    _, ind = read_scenario("Breast cancer 8 years ago, all clear since. Sprained my wrist after a fall "
                           "skiing, is an x-ray ok?", kb)
    assert ind.in_scope is False


def test_a_staging_ultrasound_done_is_not_distant_staging(kb: KnowledgeBase) -> None:
    _, ind = read_scenario("New breast cancer; the staging US found a suspicious axillary node. "
                           "What now?", kb)
    assert ind.purpose == "axilla"
