"""Patient answers: plain-language, sourced answers to questions about breast-cancer imaging.

    answer(question, kb, facts, *, read, profile=None, indication=None, assessment=None) -> Answer

``read`` is the question reader (``scanwise.nlp.question``), which reads the question into
its intent and slots (a :class:`Question`): the domain reads no text itself, so the core
passes it in. The answer is composed
from the fact base (:mod:`.compose`), every paragraph citing the facts it uses. A patient
context, given as a profile (with or without an indication) or a ready assessment, adds a
personal section from the assessment engine. Pure: no network, no files beyond the
knowledge base.
"""

from __future__ import annotations

from scanwise.domain.answers.branches import stage_decision, with_decision
from scanwise.domain.answers.compose import DISCLAIMER, RETRIEVAL_LABEL, compose
from scanwise.domain.answers.models import (
    INTENTS,
    MAX_QUESTION_CHARS,
    Answer,
    GuidelineRef,
    Intent,
    Question,
    QuestionReader,
    Section,
    SourceRef,
    TestMention,
    UnusableQuestion,
)
from scanwise.domain.assess import Assessment, assess
from scanwise.domain.facts import Fact
from scanwise.domain.kb import KnowledgeBase
from scanwise.domain.profile import STAGE_SUBGROUPS, Indication, PatientProfile


def answer(question: str, kb: KnowledgeBase, facts: dict[str, Fact], *, read: QuestionReader,
           profile: PatientProfile | None = None, indication: Indication | None = None,
           assessment: Assessment | None = None) -> Answer:
    """Answer a patient's question; see the module docstring. Raises UnusableQuestion."""
    context_phase = (assessment.indication.phase if assessment is not None
                     else indication.phase if indication is not None else None)
    q = read(question, kb, context_phase=context_phase)
    personalized = assessment is not None or profile is not None
    if _about_another_cancer(q, profile, indication, kb):  # "do I need a PET?" with a prostate context
        assert indication is not None
        q = q.model_copy(update={"intent": "out_of_scope", "scope_note": indication.scope_note})
    if q.intent == "out_of_scope":
        return compose(q, kb, facts, personalized=personalized)
    if assessment is None and profile is not None:
        merged = merge_indication(indication, q, kb, profile)
        assessment = assess(profile, merged, kb)
        if profile.stage is None and len(q.stages) > 1:
            assessment = with_decision(assessment, stage_decision(profile, merged, list(q.stages), kb))
    elif assessment is None:
        assessment = _assess_from_question(q, kb)
    result = compose(q, kb, facts, assessment=assessment, personalized=personalized)
    if assessment is not None:  # the engine's branch and unread words travel with the answer
        result = result.model_copy(update={"unread": assessment.unread, "decision": assessment.decision})
    return result


def _about_another_cancer(q: Question, profile: PatientProfile | None,
                          indication: Indication | None, kb: KnowledgeBase) -> bool:
    """The context is about another organ's cancer and the question names nothing of the breast
    (no breast study: the vocabulary's studies for the breast itself, purpose locoregional)."""
    breast_study = any(c in kb.terms and kb.terms[c].purpose == "locoregional" for c in q.codes)
    return (profile is not None and indication is not None and not indication.in_scope
            and profile.other_cancer is not None and not q.names_breast
            and not breast_study)


def merge_indication(indication: Indication | None, q: Question, kb: KnowledgeBase,
                     profile: PatientProfile | None = None) -> Indication:
    """The context's indication, completed by what the question says (phase, studies, purpose).

    A context that names no breast question on its own ("stage 2, no symptoms") is in scope
    when the question is about breast-cancer imaging; one about another cancer stays out."""
    base = indication or Indication(text=q.text)
    asked = list(dict.fromkeys(base.asked_procedures + q.codes))
    purpose = base.purpose or _purpose(q, kb)
    if (not base.in_scope and q.intent != "out_of_scope"
            and (profile is None or profile.other_cancer is None)):
        base = base.model_copy(update={"in_scope": True, "scope_note": None})
    return base.model_copy(update={
        "phase": base.phase or q.phase,
        "purpose": purpose,
        "asked_procedures": asked,
        "assumptions": base.assumptions + [a for a in q.assumptions if a not in base.assumptions],
    })


def _purpose(q: Question, kb: KnowledgeBase) -> str | None:
    purposes = {kb.terms[c].purpose for c in q.codes if c in kb.terms and kb.terms[c].purpose}
    if len(purposes) == 1:
        return purposes.pop()
    if q.phase == "new_diagnosis" and q.intent in ("which_tests", "need") and not purposes:
        return "distant"  # "which scans do I need for staging" asks about spread
    return None


def _assess_from_question(q: Question, kb: KnowledgeBase) -> Assessment | None:
    """When the question itself names a stage, match it to a guideline scenario as well."""
    stated = _stated_stage(q) or (q.stages[0] if len(q.stages) > 1 and "IV" not in q.stages else None)
    if stated is None or q.phase is None:
        return None
    profile = PatientProfile(
        stage=stated,
        er=q.er,
        her2=q.her2,
        pr="negative" if q.triple_negative else None,
        histology="lobular" if q.lobular else None,
        asymptomatic=True if q.symptomatic is False else None,
        symptoms=q.symptoms,
        pregnant=True if q.pregnant else None,
        lactating=True if q.breastfeeding else None,
    )
    indication = merge_indication(None, q, kb)
    result = assess(profile, indication, kb)
    if len(q.stages) > 1:  # "stage II" spans IIA and IIB, "2 or 3" is not settled: branch, never pick
        result = with_decision(result, stage_decision(profile, indication, list(q.stages), kb))
    return result


def _stated_stage(q: Question) -> str | None:
    stages = q.stages
    if len(stages) == 1:
        return stages[0]
    for group, subs in STAGE_SUBGROUPS.items():
        if tuple(stages) == subs:
            return group
    return None  # "early stage" spans I to IIA: no single stated stage


__all__ = ["DISCLAIMER", "INTENTS", "MAX_QUESTION_CHARS", "RETRIEVAL_LABEL", "Answer", "GuidelineRef",
           "Intent", "Question", "QuestionReader", "Section", "SourceRef", "TestMention", "UnusableQuestion",
           "answer", "merge_indication"]
