"""What is known about the reader, from the question or from their records, and its words."""

from __future__ import annotations

from dataclasses import dataclass, field

from scanwise.domain.answers.models import Question
from scanwise.domain.assess import Assessment
from scanwise.domain.facts import Fact
from scanwise.domain.profile import Phase, Receptor, StageGroup, Subtype

_PHASE_WORDS: dict[str, str] = {
    "screening": "screening", "diagnostic_workup": "checking a breast problem",
    "new_diagnosis": "newly diagnosed", "neoadjuvant": "having treatment before surgery",
    "surveillance": "in follow-up after treatment", "suspected_recurrence": "cancer may have come back",
}
_SUBTYPE_WORDS: dict[str, str] = {
    "her2_pos": "HER2-positive", "triple_negative": "triple-negative",
    "er_pos_her2_neg": "ER-positive, HER2-negative", "er_neg_pr_pos_her2_neg": "ER-negative, PR-positive",
}


# --- the reader's situation -------------------------------------------------------------------

@dataclass
class Context:
    """What is known about the reader, from the question or from their records."""

    stages: list[StageGroup] = field(default_factory=list)
    subtype: Subtype | None = None
    er: Receptor | None = None
    phase: Phase | None = None
    symptomatic: bool | None = None
    symptoms: list[str] = field(default_factory=list)
    lobular: bool = False
    inflammatory: bool = False
    pregnant: bool = False
    breastfeeding: bool = False

    @property
    def fact_subtype(self) -> Subtype | None:
        """The subtype used to pick facts; ER-positive with HER2 unknown reads as the usual group."""
        if self.subtype is None and self.er == "positive":
            return "er_pos_her2_neg"
        return self.subtype

    def fits(self, fact: Fact, *, about_test: bool = False) -> bool:
        """Whether a fact applies here; unknown facts about the reader do not exclude test facts."""
        scope = fact.applies
        if scope.stages and self.stages and not set(scope.stages) & set(self.stages):
            return False
        if scope.subtypes:
            sub = self.fact_subtype
            if sub is None and not about_test:
                return False
            if sub is not None and sub not in scope.subtypes:
                return False
        if scope.phases and self.phase and self.phase not in scope.phases:
            return False
        return not (scope.symptomatic is not None and self.symptomatic is not None
                    and scope.symptomatic != self.symptomatic)

    def described(self) -> list[str]:
        parts = []
        if self.stages:
            parts.append(_stage_words(self.stages))
        if self.fact_subtype:
            parts.append(_SUBTYPE_WORDS[self.fact_subtype])
        if self.lobular:
            parts.append("lobular cancer")
        if self.inflammatory:
            parts.append("inflammatory breast cancer")
        if self.phase:
            parts.append(_PHASE_WORDS[self.phase])
        if self.symptomatic is False:
            parts.append("no symptoms")
        return parts


def _stage_words(stages: list[StageGroup]) -> str:
    if len(stages) == 1:
        return f"stage {stages[0]}"
    firsts = {s.rstrip("ABC") for s in stages}
    if len(firsts) == 1:
        return f"stage {firsts.pop()}"
    return f"stage {stages[0]} to {stages[-1]}"


def context_from(question: Question, assessment: Assessment | None) -> Context:
    ctx = Context(stages=list(question.stages), subtype=question.subtype, er=question.er,
                  phase=question.phase, symptomatic=question.symptomatic, symptoms=list(question.symptoms),
                  lobular=question.lobular, inflammatory=question.inflammatory,
                  pregnant=question.pregnant, breastfeeding=question.breastfeeding)
    if assessment is None:
        return ctx
    p = assessment.profile
    groups = [g for g in assessment.stage.groups if g in ("0", "IA", "IB", "IIA", "IIB", "IIIA", "IIIB",
                                                           "IIIC", "IV")]
    ctx.stages = groups or ctx.stages  # type: ignore[assignment]
    ctx.subtype = p.subtype or ctx.subtype
    ctx.er = p.er or ctx.er
    ctx.phase = assessment.indication.phase or ctx.phase
    if p.symptoms or p.findings or any(v == "abnormal" for v in p.labs.values()):
        ctx.symptomatic = True
        ctx.symptoms = list(dict.fromkeys(ctx.symptoms + p.symptoms))
    elif p.asymptomatic or ctx.symptomatic is None and p.denied_symptoms:
        ctx.symptomatic = False
    ctx.lobular = ctx.lobular or p.histology == "lobular"
    ctx.pregnant = ctx.pregnant or bool(p.pregnant)
    ctx.breastfeeding = ctx.breastfeeding or bool(p.lactating)
    return ctx
