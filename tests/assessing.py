"""What the reading tests ask of a text: the assessment of it, its top variant, its branches."""

from __future__ import annotations

from scanwise.domain.assess import Assessment, assess
from scanwise.domain.kb import KnowledgeBase
from scanwise.nlp.scenario import read_scenario


def run(text: str, kb: KnowledgeBase, **kw: bool) -> Assessment:
    """The text read and assessed, as every surface does."""
    profile, indication = read_scenario(text, kb)
    return assess(profile, indication, kb, **kw)


def top(a: Assessment) -> tuple[int, int] | None:
    return (a.matches[0].topic_id, a.matches[0].variant) if a.matches else None


def branches(a: Assessment) -> set[tuple[int, int]]:
    """The variants of a "depends on" answer (none when one was picked)."""
    return {(b.topic_id, b.variant) for b in a.decision.branches} if a.decision else set()
