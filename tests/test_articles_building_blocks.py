"""The two shared pieces articles stand on: describe() for conditions and match_for()."""

from __future__ import annotations

import pytest

from scanwise.domain.assess import assess, match_for
from scanwise.domain.conditions import Conditions, Range, describe
from scanwise.domain.kb import KnowledgeBase
from scanwise.domain.profile import Indication, PatientProfile


def test_describe_names_every_constraint_in_field_order() -> None:
    cond = Conditions(phase=["new_diagnosis"], purpose=["distant"], stage=["IA", "IB", "IIA"],
                      invasive=True)
    assert describe(cond) == ["newly diagnosed", "imaging for distant spread (metastases)",
                              "clinical stage IA–IIA", "invasive cancer"]


def test_describe_empty_conditions_say_nothing() -> None:
    assert describe(Conditions()) == []


@pytest.mark.parametrize(("rng", "expected"), [
    (Range(ge=40), "age 40 or older"),
    (Range(lt=30), "age under 30"),
    (Range(ge=30, lt=40), "age 30 to 39"),
])
def test_describe_age_bands(rng: Range, expected: str) -> None:
    assert describe(Conditions(age=rng)) == [expected]


def test_describe_uses_the_labels_given_for_codes() -> None:
    cond = Conditions(symptoms_any=["bone_pain", "cough"], findings_any=["birads_3"])
    words = describe(cond, labels=lambda c: {"bone_pain": "bone pain", "cough": "a cough",
                                              "birads_3": "BI-RADS 3"}[c])
    assert words == ["with bone pain or a cough", "earlier imaging showed BI-RADS 3"]


def test_describe_initial_imaging_and_other_absent_codes() -> None:
    cond = Conditions(none_present=["birads_1", "birads_4", "nipple_retraction"])
    assert describe(cond) == ["initial imaging: no imaging assessment (BI-RADS) yet",
                              "none of: nipple retraction"]


def test_describe_every_variant_in_the_kb_says_something(kb: KnowledgeBase) -> None:
    for topic in kb.topics:
        for v in topic.variants:
            cond = topic.applies_when.merged(v.applies_when)
            if cond != Conditions():
                assert describe(cond), f"{topic.topic_id} V{v.number}"


def test_match_for_agrees_with_assess_for_the_seed(kb: KnowledgeBase) -> None:
    profile = PatientProfile(age=58, sex="female", histology="ductal", tumor_size_mm=18,
                             stage="IA", asymptomatic=True)
    indication = Indication(phase="new_diagnosis", purpose="distant")
    best = assess(profile, indication, kb).matches[0]
    direct = match_for(kb, 310, 2)
    assert (best.topic_id, best.variant) == (310, 2)
    assert best.procedures == direct.procedures
    assert direct.why == [] and direct.unknown == []
    assert direct.citation == best.citation


def test_match_for_reaches_retired_topics(kb: KnowledgeBase) -> None:
    m = match_for(kb, 154, 1)
    assert m.status == "retired" and m.procedures


@pytest.mark.parametrize(("topic", "variant", "message"), [
    (999, 1, "no ACR topic 999"),
    (310, 99, "ACR topic 310 has no variant 99"),
])
def test_match_for_names_what_is_missing(kb: KnowledgeBase, topic: int, variant: int,
                                         message: str) -> None:
    with pytest.raises(KeyError) as info:
        match_for(kb, topic, variant)
    assert info.value.args[0] == message
