"""The applicability conditions written for each ACR variant (``applies_when``).

These check the hand-written data against the variant labels: every scenario has a phase,
sibling variants can be told apart, every code is in the vocabulary, and a set of spot
checks read straight off the labels.
"""

from __future__ import annotations

from collections import defaultdict

import pytest

from scanwise.domain.conditions import Conditions, Situation, evaluate
from scanwise.domain.kb import KnowledgeBase, Topic, Variant
from scanwise.domain.profile import STAGE_GROUPS, Indication, PatientProfile
from scanwise.knowledge.loader import load

# Sibling variants whose merged conditions are knowingly identical: topic 154 (retired)
# splits one scenario (newly diagnosed, stage I, asymptomatic, looking for spread) by the
# body region imaged -- bone, chest, abdomen, brain -- and Conditions has no field for the
# region. Any other collision is a data error.
KNOWN_IDENTICAL: set[tuple[int, tuple[int, ...]]] = {(154, (1, 2, 3, 4))}


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load()


def _topics(kb: KnowledgeBase) -> list[Topic]:
    return [t for t in kb.topics if t.status in ("current", "retired")]


def _merged(kb: KnowledgeBase, topic_id: int, number: int,
            status: str = "current") -> Conditions:
    topic = kb.topic(topic_id, status=status)  # type: ignore[arg-type]
    return topic.applies_when.merged(topic.variant(number).applies_when)


def _labelled(topic: Topic) -> list[Variant]:
    return [v for v in topic.variants if v.label is not None]


def _recognisable(topic: Topic) -> list[Variant]:
    """Variants with a label or a summary claim that describes them."""
    return [v for v in topic.variants if v.label is not None or v.summary_claims]


# --- coverage -------------------------------------------------------------------------------

def test_all_topics_are_checked(kb: KnowledgeBase) -> None:
    ids = {(t.topic_id, t.status) for t in _topics(kb)}
    assert (154, "retired") in ids and (248, "retired") in ids
    assert len(ids) == 17
    assert sum(len(t.variants) for t in _topics(kb)) == 98


def test_every_labelled_variant_has_a_phase(kb: KnowledgeBase) -> None:
    missing = [f"{t.topic_id} V{v.number}" for t in _topics(kb) for v in _recognisable(t)
               if t.applies_when.merged(v.applies_when).phase is None]
    assert not missing, f"variants without a phase: {missing}"


def test_every_labelled_variant_says_more_than_its_topic(kb: KnowledgeBase) -> None:
    """A topic with several variants needs each variant to add something of its own."""
    empty = [f"{t.topic_id} V{v.number}" for t in _topics(kb) if len(t.variants) > 1
             for v in _recognisable(t) if v.applies_when == Conditions()]
    assert not empty, f"labelled variants with no conditions of their own: {empty}"


def test_topics_without_variants_still_have_a_scenario(kb: KnowledgeBase) -> None:
    bare = [t for t in _topics(kb) if not t.variants]
    assert {t.topic_id for t in bare} == {236, 287, 306, 320}
    for t in bare:
        assert t.applies_when.phase, f"topic {t.topic_id} has no phase"
        assert t.applies_when != Conditions(phase=t.applies_when.phase), (
            f"topic {t.topic_id}: a phase alone does not identify its scenario")


def test_unknown_variants_are_left_empty(kb: KnowledgeBase) -> None:
    """Nothing is invented for a variant with neither a label nor a describing claim."""
    unknown = [(t, v) for t in _topics(kb) for v in t.variants
               if v.label is None and not v.summary_claims]
    assert [(t.topic_id, v.number) for t, v in unknown] == [(396, 5)]
    for _, v in unknown:
        assert v.applies_when == Conditions()


def test_sibling_variants_are_distinguishable(kb: KnowledgeBase) -> None:
    collisions: set[tuple[int, tuple[int, ...]]] = set()
    for t in _topics(kb):
        groups: dict[str, list[int]] = defaultdict(list)
        for v in _recognisable(t):
            merged = t.applies_when.merged(v.applies_when)
            groups[merged.model_dump_json(exclude_none=True)].append(v.number)
        collisions |= {(t.topic_id, tuple(n)) for n in groups.values() if len(n) > 1}
    assert collisions == KNOWN_IDENTICAL


# --- vocabulary and value shapes ------------------------------------------------------------

def test_all_codes_are_in_the_vocabulary_with_the_right_kind(kb: KnowledgeBase) -> None:
    terms = kb.terms
    problems = []
    for t in _topics(kb):
        for where, cond in [("topic", t.applies_when)] + [
                (f"V{v.number}", v.applies_when) for v in t.variants]:
            for field, allowed in (("symptoms_any", {"symptom", "lab"}),
                                   ("findings_any", {"finding"}),
                                   ("none_present", {"finding", "symptom", "lab"})):
                for code in getattr(cond, field) or []:
                    if code not in terms:
                        problems.append(f"{t.topic_id} {where} {field}: unknown code {code!r}")
                    elif terms[code].kind not in allowed:
                        problems.append(f"{t.topic_id} {where} {field}: {code!r} is a "
                                        f"{terms[code].kind}")
    assert not problems, problems


def test_stage_lists_are_contiguous_and_in_order(kb: KnowledgeBase) -> None:
    for t in _topics(kb):
        for v in t.variants:
            stage = t.applies_when.merged(v.applies_when).stage
            if stage is None:
                continue
            lo = STAGE_GROUPS.index(stage[0])
            assert list(STAGE_GROUPS[lo:lo + len(stage)]) == stage, (t.topic_id, v.number)


@pytest.mark.parametrize(("topic_id", "numbers"), [
    (153, (6, 11, 1)),  # palpable mass, initial imaging: <30, 30-39, >=40
    (153, (7, 2)),  # BI-RADS 4/5: under 30 (US) vs 40 and over (mammography)
    (204, (2, 3, 4)),  # focal breast pain: <30, 30-39, >=40
    (239, (2, 3, 4)),  # saline, equivocal for rupture
    (239, (7, 8, 9)),  # silicone, suspected complication
    (239, (10, 11, 12)),  # unexplained axillary adenopathy with silicone implants
    (205, (2, 3)),  # male palpable mass: <25 vs >=25
])
def test_age_bands_do_not_overlap(kb: KnowledgeBase, topic_id: int,
                                  numbers: tuple[int, ...]) -> None:
    ranges = [_merged(kb, topic_id, n).age for n in numbers]
    assert all(r is not None for r in ranges)
    for age in range(18, 101):
        hits = [n for n, r in zip(numbers, ranges, strict=True) if r and r.contains(age)]
        assert len(hits) <= 1, f"topic {topic_id}: age {age} falls in variants {hits}"
    if topic_id != 153 or numbers == (6, 11, 1):
        for age in range(18, 101):
            assert any(r and r.contains(age) for r in ranges), f"{topic_id}: age {age} uncovered"


# --- spot checks read off the labels --------------------------------------------------------

LATE = ["IIB", "IIIA", "IIIB", "IIIC"]


def test_310_newly_diagnosed_variants(kb: KnowledgeBase) -> None:
    v1, v2, v3, v4, v5 = (_merged(kb, 310, n) for n in (1, 2, 3, 4, 5))
    assert v1.stage == v2.stage == ["IA", "IB", "IIA"]
    assert v3.stage == v4.stage == v5.stage == LATE
    assert (v1.purpose, v2.purpose, v3.purpose) == (["locoregional"], ["distant"],
                                                    ["locoregional"])
    assert v4.subtype == ["er_pos_her2_neg"] and v4.purpose == ["distant"]
    assert set(v5.subtype or []) == {"her2_pos", "triple_negative"} and v5.purpose == ["distant"]
    assert all(c.phase == ["new_diagnosis"] for c in (v1, v2, v3, v4, v5))
    assert v1.subtype is None and v2.subtype is None  # early stage: any subtype


def test_310_invasive_and_follow_up_variants(kb: KnowledgeBase) -> None:
    topic = kb.topic(310)
    assert topic.applies_when.invasive is True
    assert all(_merged(kb, 310, v.number).invasive for v in topic.variants)
    assert _merged(kb, 310, 6).surgery == ["lumpectomy"]
    assert "mastectomy" in (_merged(kb, 310, 7).surgery or [])
    assert _merged(kb, 310, 8).phase == ["suspected_recurrence"]
    assert _merged(kb, 310, 10).phase == ["surveillance"]
    assert _merged(kb, 310, 10).purpose == _merged(kb, 310, 11).purpose == ["distant"]
    assert _merged(kb, 310, 11).phase == ["suspected_recurrence"]


def test_population_checks(kb: KnowledgeBase) -> None:
    assert kb.topic(205).applies_when.population == ["male"]
    assert all(_merged(kb, 205, v.number).population == ["male"] for v in kb.topic(205).variants)
    assert set(kb.topic(235).applies_when.population or []) == {
        "female", "male", "transfeminine", "transmasculine"}
    assert _merged(kb, 239, 1).population == ["female", "transfeminine"]
    assert _merged(kb, 283, 1).population == ["transfeminine"]
    assert _merged(kb, 283, 8).population == ["transmasculine"]
    assert kb.topic(153).applies_when.population == ["female"]


def test_153_initial_imaging_excludes_earlier_findings(kb: KnowledgeBase) -> None:
    birads = ["birads_1", "birads_2", "birads_3", "birads_4", "birads_5"]
    for n in (1, 6, 11):
        assert _merged(kb, 153, n).none_present == birads
    assert _merged(kb, 153, 2).findings_any == ["birads_4", "birads_5"]
    assert _merged(kb, 153, 10).findings_any == ["birads_1"]
    assert _merged(kb, 153, 11).age == _merged(kb, 204, 3).age  # "30 to 39"


def test_screening_with_personal_history_is_also_surveillance(kb: KnowledgeBase) -> None:
    for n in (1, 2, 3):
        c = _merged(kb, 282, n)
        assert c.phase == ["surveillance", "screening"] and c.cancer_history is True
    assert _merged(kb, 282, 4).phase == ["screening"]
    assert _merged(kb, 283, 2).phase == ["surveillance", "screening"]
    assert _merged(kb, 283, 1).phase == ["screening"]


def test_283_hormone_use_and_age(kb: KnowledgeBase) -> None:
    v1, v2, v3 = (_merged(kb, 283, n) for n in (1, 2, 3))
    assert v1.hormone_use_years is not None and v1.hormone_use_years.ge == 5
    assert v3.hormone_use_years is not None and v3.hormone_use_years.lt == 5
    assert v2.age is not None and v2.age.ge == 25  # "25 to 30 years of age or older"
    assert v3.age is None  # "at any age"
    assert _merged(kb, 283, 5).surgery == ["bilateral_mastectomy"]


def test_neoadjuvant_and_axilla_topics(kb: KnowledgeBase) -> None:
    assert _merged(kb, 235, 1).phase == ["new_diagnosis", "neoadjuvant"]
    assert _merged(kb, 235, 3).purpose == ["axilla"]
    assert _merged(kb, 235, 3).nodal_status == ["negative"]
    assert _merged(kb, 235, 4).nodal_status == ["positive"]
    assert _merged(kb, 235, 6).purpose == ["distant"]
    v3, v6 = _merged(kb, 286, 3), _merged(kb, 286, 6)
    assert v3.tumor_size_mm is not None and v3.tumor_size_mm.le == 20
    assert v6.tumor_size_mm is not None and v6.tumor_size_mm.gt == 20
    assert v3.purpose == ["axilla"] and v3.phase == ["new_diagnosis"]
    assert _merged(kb, 286, 9).neoadjuvant == ["completed"]


def test_pregnancy_implants_and_bare_topics(kb: KnowledgeBase) -> None:
    assert all(_merged(kb, 396, n).pregnant for n in (1, 2, 3, 4))
    assert _merged(kb, 248, 1, "retired").lactating is True
    assert _merged(kb, 248, 1, "retired").pregnant is None
    v6 = _merged(kb, 239, 6)
    assert v6.implant == ["silicone"] and v6.asymptomatic is True
    assert v6.implant_years is not None and v6.implant_years.ge == 5
    assert _merged(kb, 239, 1).implant == ["saline"]
    assert kb.topic(320).applies_when.histology == ["dcis"]
    assert kb.topic(287).applies_when.findings_any == ["dense_breasts"]
    assert kb.topic(154, status="retired").applies_when.stage == ["IA", "IB"]


# --- the data used by the checker -----------------------------------------------------------

def _statuses(cond: Conditions, sit: Situation) -> dict[str, str]:
    return {c.field: c.status for c in evaluate(cond, sit)}


def test_stage_iii_er_positive_distant_staging_fits_310_v4_only(kb: KnowledgeBase) -> None:
    profile = PatientProfile(age=52, sex="female", histology="ductal", er="positive",
                             pr="positive", her2="negative")
    sit = Situation(profile=profile,
                    indication=Indication(phase="new_diagnosis", purpose="distant"),
                    stages=["IIIA"])
    fits = [v.number for v in kb.topic(310).variants
            if set(_statuses(_merged(kb, 310, v.number), sit).values()) == {"held"}]
    assert fits == [4]
    assert _statuses(_merged(kb, 310, 5), sit)["subtype"] == "failed"
    assert _statuses(_merged(kb, 310, 2), sit)["stage"] == "failed"


def test_palpable_mass_after_benign_mammogram_moves_past_initial_imaging(
        kb: KnowledgeBase) -> None:
    profile = PatientProfile(age=45, sex="female", symptoms=["palpable_mass"],
                             findings=["birads_2"])
    sit = Situation(profile=profile, indication=Indication(phase="diagnostic_workup"))
    fits = [v.number for v in kb.topic(153).variants
            if set(_statuses(_merged(kb, 153, v.number), sit).values()) == {"held"}]
    assert fits == [4]
