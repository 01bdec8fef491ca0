"""When the answer turns on a fact nobody has given yet: say what it depends on, never pick.

The engine reports such a fork as ``Assessment.decision``. A stage written without its
letter ("stage 2") is one: IIA and IIB fall in different ACR scenarios. When the engine has
not set a decision, the answer layer asks the engine once per sub-stage and, if the results
differ, forms the decision from those results, so the patient sees both branches.
"""

from __future__ import annotations

from scanwise.domain.assess import Assessment, Branch, Decision, Match, assess
from scanwise.domain.kb import KnowledgeBase
from scanwise.domain.profile import Indication, PatientProfile, StageGroup


def stage_decision(profile: PatientProfile, indication: Indication, stages: list[StageGroup],
                   kb: KnowledgeBase) -> Decision | None:
    """Branches by sub-stage when the stated stage spans scenarios (IIA vs IIB), else None."""
    if len(stages) < 2:
        return None
    by_scenario: dict[tuple[int, int], list[StageGroup]] = {}
    labels: dict[tuple[int, int], str | None] = {}
    for stage in stages:
        result = assess(profile.model_copy(update={"stage": stage}), indication, kb)
        if not result.matches:
            continue
        best = result.matches[0]
        key = (best.topic_id, best.variant)
        by_scenario.setdefault(key, []).append(stage)  # sub-stages leading to one scenario share a branch
        labels[key] = best.label
    branches = [Branch(if_="stage " + (s[0] if len(s) == 1 else f"{s[0]} to {s[-1]}"), topic_id=key[0],
                       variant=key[1], label=labels[key], stages=s) for key, s in by_scenario.items()]
    if len(branches) < 2:
        return None
    return Decision(depends_on="your exact stage",
                    question="Which is it: " + " or ".join(b.if_ for b in branches) + "?",
                    branches=branches)


def with_decision(assessment: Assessment, decision: Decision | None) -> Assessment:
    """The engine's own decision wins; ours fills in only where it has none."""
    if assessment.decision is not None or decision is None:
        return assessment
    return assessment.model_copy(update={"decision": decision})


def branch_match(kb: KnowledgeBase, branch: Branch) -> Match:
    from scanwise.domain.assess import match_for

    return match_for(kb, branch.topic_id, branch.variant)
