"""Patient answers: the question set, the seed question, and rules every answer keeps."""

from __future__ import annotations

import fnmatch
import statistics
from pathlib import Path
from typing import Any

import pytest
import yaml

from scanwise.domain.answers import DISCLAIMER, RETRIEVAL_LABEL, Answer, answer
from scanwise.domain.facts import Fact
from scanwise.domain.kb import KnowledgeBase
from scanwise.knowledge.loader import load_facts
from scanwise.nlp.question import read_question
from scanwise.nlp.scenario import read_scenario

CASES: list[dict[str, Any]] = yaml.safe_load(
    (Path(__file__).parent / "fixtures" / "questions_answers.yaml").read_text(encoding="utf-8"))["questions"]
SEED = "What is the difference between a CT scan and a PET scan for HER2-positive breast cancer?"


@pytest.fixture(scope="module")
def facts(kb: KnowledgeBase) -> dict[str, Fact]:
    return load_facts(kb)


@pytest.fixture(scope="module")
def answers(kb: KnowledgeBase, facts: dict[str, Fact]) -> dict[str, Answer]:
    out = {}
    for case in CASES:
        profile = indication = None
        if case.get("context"):
            profile, indication = read_scenario(case["context"], kb)
        out[case["q"]] = answer(case["q"], kb, facts, read=read_question, profile=profile,
                                indication=indication)
    return out


def _text(a: Answer) -> str:
    cells = [c for s in a.sections if s.table for row in s.table.rows for c in row]
    texts = [t for s in a.sections for t in s.paragraphs + s.bullets]
    return " ".join([a.title, a.short_answer, *texts, *cells])


def test_question_set_is_large_and_covers_every_intent() -> None:
    assert len(CASES) >= 40
    assert {c["intent"] for c in CASES} >= {"compare", "explain", "need", "which_tests", "radiation",
                                            "preparation", "results", "frequency", "general", "out_of_scope"}


@pytest.mark.parametrize("case", CASES, ids=[c["q"][:50] for c in CASES])
def test_question(case: dict[str, Any], answers: dict[str, Answer]) -> None:
    a = answers[case["q"]]
    cited = set(a.fact_ids())
    assert a.intent == case["intent"]
    assert a.personalized is bool(case.get("personalized", False))
    missing = [f for f in case.get("facts", []) if f not in cited]
    assert not missing, f"facts not cited: {missing}"
    wrong = [f for pattern in case.get("not_facts", []) for f in cited if fnmatch.fnmatch(f, pattern)]
    assert not wrong, f"facts that do not fit this question: {wrong}"
    text = _text(a).lower()
    for phrase in case.get("phrases", []):
        assert phrase.lower() in text, phrase
    for phrase in case.get("not_phrases", []):
        assert phrase.lower() not in text, phrase


@pytest.mark.parametrize("case", CASES, ids=[c["q"][:50] for c in CASES])
def test_every_claim_has_a_source(case: dict[str, Any], answers: dict[str, Answer],
                                  facts: dict[str, Fact], kb: KnowledgeBase) -> None:
    a = answers[case["q"]]
    assert a.disclaimer == DISCLAIMER
    assert a.reading_grade > 0
    source_ids = {s.id for s in a.sources}
    for section in a.sections:
        assert len(section.paragraph_citations) == len(section.paragraphs)
        assert len(section.bullet_citations) == len(section.bullets)
        if section.kind in ("scope", "sources"):
            continue
        for text, cites in zip(section.paragraphs, section.paragraph_citations, strict=True):
            assert cites, f"uncited paragraph in {section.heading!r}: {text[:80]}"
        for fid in section.citations:
            assert fid in facts, fid
            assert set(facts[fid].sources) <= source_ids
        if section.kind == "questions":
            assert all(section.bullet_citations)
        for ref in section.guideline_refs:
            kb.topic(ref.topic_id).variant(ref.variant)
    if a.intent != "out_of_scope":
        assert a.sources and a.sections[-1].heading == "Sources"


@pytest.mark.parametrize("case", [c for c in CASES if c["intent"] == "out_of_scope"],
                         ids=lambda c: c["q"][:50])
def test_out_of_scope_answers_invent_nothing(case: dict[str, Any], answers: dict[str, Answer]) -> None:
    a = answers[case["q"]]
    assert a.fact_ids() == [] and a.sources == []
    assert "scanwise answers questions about imaging tests for breast cancer" in _text(a)


def test_retrieval_answers_say_so(answers: dict[str, Answer]) -> None:
    general = [a for a in answers.values() if a.intent == "general"]
    assert general
    for a in general:
        assert a.title == RETRIEVAL_LABEL
        assert a.sections[0].kind == "retrieval" and a.sections[0].note == RETRIEVAL_LABEL


def test_median_reading_grade_is_at_most_9(answers: dict[str, Answer]) -> None:
    grades = [a.reading_grade for a in answers.values()]
    assert statistics.median(grades) <= 9
    assert max(grades) <= 12


def test_seed_question(kb: KnowledgeBase, facts: dict[str, Fact]) -> None:
    a = answer(SEED, kb, facts, read=read_question)
    headings = [s.heading for s in a.sections]
    for heading in ("Side by side", "When each is used", "For your situation",
                    "Questions to ask your care team", "Sources"):
        assert heading in headings
    by = {s.heading: " ".join(s.paragraphs + s.bullets) for s in a.sections}
    # The comparison is one table: a row per theme, a column per test (issue 13).
    table = next(s.table for s in a.sections if s.heading == "Side by side")
    assert table is not None and table.columns == ["", "CT scan", "FDG-PET/CT"]
    rows = {r[0]: r[1:] for r in table.rows}
    assert "X-rays" in rows["How it works"][0] and "radioactive" in rows["How it works"][1]
    assert "anatomy" in rows["What it shows"][0] and "metabolic activity" in rows["What it shows"][1]
    assert "7 mSv" in rows["Radiation"][0] and "24 mSv" in rows["Radiation"][1]
    assert a.short_answer and len(a.short_answer.split()) < 60
    assert "brain MRI" in by["For your situation"] and "symptoms" in by["For your situation"]
    assert "HER2" in a.title and a.intent == "compare" and not a.personalized
    assert any(s.kind == "situation" and s.bullets for s in a.sections)  # says what would refine it


def test_context_personalises_with_the_acr_scenario(kb: KnowledgeBase, facts: dict[str, Fact]) -> None:
    profile, indication = read_scenario(
        "61-year-old, 1.5 cm grade 1 IDC, ER positive, HER2 negative, clinical stage I, no symptoms, "
        "just diagnosed", kb)
    a = answer("Do I need a bone scan?", kb, facts, read=read_question, profile=profile,
               indication=indication)
    situation = next(s for s in a.sections if s.kind == "situation")
    assert a.personalized
    assert [(r.topic_id, r.variant) for r in situation.guideline_refs][:1] == [(310, 2)]
    assert "bone scan you asked about, the ACR rating here is usually not appropriate" in \
        " ".join(situation.paragraphs)
    assert not any(f.startswith("staging.advanced") for f in a.fact_ids())


def test_red_flags_change_the_personal_section(kb: KnowledgeBase, facts: dict[str, Fact]) -> None:
    profile, indication = read_scenario("stage I IDC, just diagnosed, new bone pain in my hip", kb)
    a = answer("Do I need a bone scan?", kb, facts, read=read_question, profile=profile,
               indication=indication)
    situation = " ".join(next(s for s in a.sections if s.kind == "situation").paragraphs)
    assert "You mentioned" in situation and "bone" in situation


def test_assessment_can_be_passed_in(kb: KnowledgeBase, facts: dict[str, Fact]) -> None:
    from scanwise.domain.assess import assess

    profile, indication = read_scenario("s/p lumpectomy and radiation 3 years ago, doing well", kb)
    done = assess(profile, indication, kb)
    a = answer("How often do I need a mammogram?", kb, facts, read=read_question, assessment=done)
    assert a.personalized and a.intent == "frequency"
    assert "surveillance.mammogram" in a.fact_ids()


def test_json_contract(kb: KnowledgeBase, facts: dict[str, Fact]) -> None:
    data = answer(SEED, kb, facts, read=read_question).model_dump(mode="json")
    assert {"question", "title", "intent", "personalized", "sections", "sources", "disclaimer",
            "reading_grade"} <= set(data)
    assert {"heading", "paragraphs", "bullets", "citations"} <= set(data["sections"][0])
    assert {"id", "title", "publisher", "year", "url"} <= set(data["sources"][0])


def test_follow_up_candidates_are_read_once_per_process(kb: KnowledgeBase) -> None:
    """The design behind a cheap follow-up list: the candidate questions come from the knowledge
    base's test names, so each is read once, not on every answer."""
    from scanwise.core import Scanwise

    core = Scanwise(kb)
    reads: list[str] = []
    real = core._read_slots

    def counting(text: str, kb: KnowledgeBase) -> Any:
        reads.append(text)
        return real(text, kb)

    core._read_slots = counting  # type: ignore[method-assign]
    given = core.answer("How much radiation does a bone scan give?")
    first = core.follow_ups(given)
    after_first = len(reads)
    assert first and after_first > 0
    assert core.follow_ups(core.answer("How much radiation does a bone scan give?")) == first
    again = len(reads) - after_first
    assert again < after_first, "the second list read no candidate again (only the question)"
    assert not any(q in reads[after_first:] for q in first)
