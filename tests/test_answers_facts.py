"""The patient fact base: sources, confidence wording, coverage of every test."""

from __future__ import annotations

import re

import pytest

from scanwise.domain.answers.text import glossary
from scanwise.domain.facts import Fact
from scanwise.domain.kb import KnowledgeBase, KnowledgeBaseError
from scanwise.knowledge.loader import default_kb, load_facts

THEMES = {"radiation", "pregnancy", "contrast", "acr", "staging", "inflammatory", "surveillance",
          "warning_signs", "recurrence", "subtypes", "her2_pos", "triple_negative", "er_pos_her2_neg",
          "lobular", "questions", "glossary",
          # patient topics (issue 13)
          "screening", "density", "symptoms", "neoadjuvant", "birads", "implants", "breastfeeding",
          "alternatives", "cost"}
TESTS = ["mammography", "tomosynthesis", "contrast_mammography", "breast_us", "axillary_us", "breast_mri",
         "ct", "pet_ct", "fes_pet", "bone_scan", "spect_ct", "chest_xray", "brain_mri", "spine_mri",
         "sentinel_node_mapping", "dexa", "echo_muga"]
_HEDGE = re.compile(r"\b(not certain|not confirmed|has not (been )?(confirmed|checked)|rough guess|"
                    r"thought to|is said|widely said|summaries say|may)\b", re.I)


@pytest.fixture(scope="module")
def facts(kb: KnowledgeBase) -> dict[str, Fact]:
    return load_facts(kb)


def test_fact_base_loads_with_every_source_registered(facts: dict[str, Fact]) -> None:
    assert len(facts) >= 150


def test_subjects_are_tests_or_known_themes(facts: dict[str, Fact], kb: KnowledgeBase) -> None:
    procedures = {t.code for t in kb.vocabulary if t.kind == "procedure"}
    assert {f.subject for f in facts.values()} <= procedures | THEMES


@pytest.mark.parametrize("code", TESTS)
def test_every_test_is_explained_with_its_radiation(code: str, facts: dict[str, Fact],
                                                    kb: KnowledgeBase) -> None:
    assert kb.terms[code].kind == "procedure"
    mine = [f for f in facts.values() if f.subject == code]
    assert any(f.kind in ("how_it_works", "uses") for f in mine)
    assert any(f.kind == "dose" or f.dose_msv is not None for f in mine), "no radiation fact"


def test_uncertain_facts_say_so(facts: dict[str, Fact]) -> None:
    for f in facts.values():
        if f.confidence == "uncertain":
            assert _HEDGE.search(f.text), f.id


def test_old_guideline_facts_name_their_age(facts: dict[str, Fact]) -> None:
    for f in facts.values():
        if f.confidence == "old" and f.kind == "guideline":
            assert re.search(r"\bolder\b|\b20(0|1)\d\b", f.text), f.id


def test_dose_values_match_the_text(facts: dict[str, Fact]) -> None:
    for f in facts.values():
        if f.kind == "dose" and f.dose_msv:
            assert f"{f.dose_msv:g}" in f.text.replace(",", ""), f.id


def test_glossary_points_at_real_facts(facts: dict[str, Fact]) -> None:
    terms = glossary(facts, default_kb().answers.glossary)
    assert terms and all(t.fact in facts for t in terms)


def test_a_missing_source_is_an_error(tmp_path, kb: KnowledgeBase) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "x.yaml").write_text(
        "facts:\n- id: x.how\n  subject: ct\n  kind: how_it_works\n  text: t\n  sources: [nope]\n"
        "  confidence: verified\n", encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match="unknown source 'nope'"):
        load_facts(kb, tmp_path)
