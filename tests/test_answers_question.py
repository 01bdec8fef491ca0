"""Question understanding: tests from lay words and misspellings, slots, and robustness."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanwise.domain.answers import INTENTS, UnusableQuestion
from scanwise.domain.kb import KnowledgeBase
from scanwise.nlp.question import find_tests, understand
from scanwise.nlp.scenario import read_profile


@pytest.mark.parametrize(("text", "codes"), [
    ("PET vs CT", ["pet_ct", "ct"]),
    ("is a cat scan safe", ["ct"]),
    ("do I need a nuclear bone test", ["bone_scan"]),
    ("how do I prepare for my mamogram", ["mammography"]),
    ("what does an ultra sound show", ["breast_us"]),
    ("is a 3D mammogram better", ["tomosynthesis"]),
    ("MRI of my brain", ["brain_mri"]),
    ("MRI of the spine for back pain", ["spine_mri"]),
    ("FES PET scan", ["fes_pet"]),
    ("a DEXA scan on letrozole", ["dexa"]),
    ("echocardiagram on herceptin", ["echo_muga"]),
    ("SPECT/CT after my bone scan", ["spect_ct", "bone_scan"]),
    ("sentinel node biopsy", ["sentinel_node_mapping"]),
    ("armpit ultrasound", ["axillary_us"]),
    ("what is a tomosynthesys", ["tomosynthesis"]),
    ("will chemo make my hair fall out", []),
    ("should I worry about my stage", []),
])
def test_find_tests(text: str, codes: list[str], kb: KnowledgeBase) -> None:
    assert [t.code for t in find_tests(text, kb)] == codes


def test_misspellings_are_flagged_as_assumptions(kb: KnowledgeBase) -> None:
    q = understand("how do I prepare for my mamogram", kb, read=read_profile)
    assert q.tests[0].fuzzy and any("mamogram" in a for a in q.assumptions)


@pytest.mark.parametrize(("text", "stages", "subtype", "phase"), [
    ("is a bone scan necessary for stage 1", ["IA", "IB"], None, "new_diagnosis"),
    ("stage IIB triple negative, which scans?", ["IIB"], "triple_negative", "new_diagnosis"),
    ("ER+/HER2- stage 3a, PET?", ["IIIA"], "er_pos_her2_neg", "new_diagnosis"),
    ("HER2 positive, finished chemo last year, how often mammograms?", [], "her2_pos", "surveillance"),
    ("metastatic breast cancer, which scans during treatment", ["IV"], None, None),
    ("early stage breast cancer, do I need a CT?", ["IA", "IB", "IIA"], None, "new_diagnosis"),
    ("I'm worried my cancer came back, my back hurts", [], None, "suspected_recurrence"),
])
def test_slots(text: str, stages: list[str], subtype: str | None, phase: str | None,
               kb: KnowledgeBase) -> None:
    q = understand(text, kb, read=read_profile)
    assert q.stages == stages and q.subtype == subtype and q.phase == phase


def test_her2_negative_is_not_er_negative(kb: KnowledgeBase) -> None:
    q = understand("HER2-negative, ER positive: do I need a PET?", kb, read=read_profile)
    assert q.er == "positive" and q.her2 == "negative"


def test_denied_symptoms_are_not_symptoms(kb: KnowledgeBase) -> None:
    q = understand("stage 1, no bone pain, do I need a bone scan?", kb, read=read_profile)
    assert q.symptoms == [] and q.symptomatic is False
    q = understand("stage 1 with new bone pain, do I need a bone scan?", kb, read=read_profile)
    assert q.symptoms == ["bone_pain"] and q.symptomatic is True


@pytest.mark.parametrize("text", ["", "   ", "a\x00b", "x" * 2001])
def test_unusable_questions_name_the_problem(text: str, kb: KnowledgeBase) -> None:
    with pytest.raises(UnusableQuestion):
        understand(text, kb, read=read_profile)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(min_size=1, max_size=300).filter(lambda s: s.strip() and "\x00" not in s))
def test_any_text_reads_to_a_known_intent(text: str, kb: KnowledgeBase) -> None:
    q = understand(text, kb, read=read_profile)
    assert q.intent in INTENTS
    assert all(t.code in kb.terms and kb.terms[t.code].kind == "procedure" for t in q.tests)


_WORDS = [("mammogram", "mammography"), ("ultrasound", "breast_us"), ("echocardiogram", "echo_muga"),
          ("tomosynthesis", "tomosynthesis"), ("mammography", "mammography"), ("lymphoscintigraphy",
                                                                                 "sentinel_node_mapping"),
          ("sonogram", "breast_us"), ("fluoroestradiol", "fes_pet")]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(word_code=st.sampled_from(_WORDS), where=st.integers(min_value=2, max_value=20),
       how=st.sampled_from(["drop", "double"]))
def test_one_letter_typos_still_find_the_test(word_code: tuple[str, str], where: int, how: str,
                                              kb: KnowledgeBase) -> None:
    word, code = word_code
    i = where % (len(word) - 1) + 1  # never the first letter
    typo = word[:i] + word[i + 1:] if how == "drop" else word[:i] + word[i] + word[i:]
    assert code in [t.code for t in find_tests(f"what is a {typo}", kb)]


_FILLER = ["please", "tell", "me", "about", "the", "my", "a", "scan", "doctor", "said", "and", "is", "it",
           "worth", "having"]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(words=st.lists(st.sampled_from(_FILLER), max_size=12))
def test_filler_words_never_invent_a_test(words: list[str], kb: KnowledgeBase) -> None:
    assert find_tests(" ".join(words), kb) == []


@pytest.mark.parametrize(("text", "want"), [
    ("I have been coughing and I am short of breath", ["cough", "dyspnea"]),
    ("I get blurry vision and weakness in my arm", ["neurologic_symptoms"]),
    ("pain in my hip since last month, and my eyes look yellow eyes", ["bone_pain", "jaundice"]),
    ("I found a firm lump in my left breast", ["palpable_mass"]),
])
def test_symptoms_are_read_with_the_vocabulary_words(kb: KnowledgeBase, text: str, want: list[str]) -> None:
    assert sorted(understand(text, kb, read=read_profile).symptoms) == sorted(want)
