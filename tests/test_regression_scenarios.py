"""The regression suite: free-text scenarios with the variant a breast radiologist expects.

The scenarios were written from the variant labels, not from the code. A drop below the
recorded accuracy fails the build; the per-scenario list says what broke.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scanwise.core import Scanwise
from scanwise.domain.kb import KnowledgeBase
from scanwise.eval import runner
from scanwise.eval.runner import load_scenarios, run

# Measured on this suite when it was last changed; raise it when the engine improves.
MIN_TOP1 = 0.99
MIN_PER_CHECK = 0.99


def test_suite_accuracy_holds(kb: KnowledgeBase) -> None:
    report = run(load_scenarios(), Scanwise(kb))
    failing = [(f["id"], f["failed"]) for f in report["failures"]]
    assert report["top1_accuracy"] >= MIN_TOP1, failing
    for check, v in report["by_check"].items():
        assert v["accuracy"] >= MIN_PER_CHECK, (check, failing)


def test_every_labelled_current_variant_is_the_answer_to_some_scenario(kb: KnowledgeBase) -> None:
    expected = {tuple(s.top) for s in load_scenarios() if s.top}
    labelled = {(t.topic_id, v.number) for t in kb.current_topics() for v in t.variants
                if v.applies_when.phase is not None or t.applies_when.phase is not None}
    assert labelled - expected == set()


def test_suite_has_enough_scenarios_and_out_of_scope_cases() -> None:
    cases = load_scenarios()
    assert len(cases) >= 60
    assert sum(1 for c in cases if c.expect.out_of_scope) >= 6


@pytest.mark.parametrize("name", ["scenarios.yaml", "holdout.yaml", "holdout2.yaml", "holdout3.yaml",
                                  "holdout4.yaml", "holdout5.yaml", "holdout6.yaml", "holdout7.yaml"])
def test_every_set_names_only_current_variants(kb: KnowledgeBase, name: str) -> None:
    """A scenario set that expects a variant the data does not have would measure nothing."""
    current = {(t.topic_id, v.number) for t in kb.current_topics() for v in t.variants}
    topics = {t.topic_id for t in kb.current_topics()}
    for case in load_scenarios(Path(runner.__file__).with_name(name)):
        for pair in ([case.top] if case.top else []) + list(case.also_ok) + list(case.branch):
            assert tuple(pair) in current, (case.id, pair)
        if case.covered_by_topic is not None:
            assert case.covered_by_topic in topics, case.id


#: The held-out sets kept as regression once their blind figure was recorded: the top-1 count
#: each gave when last changed (a drop fails) and no confidently wrong answer on a tuned set.
#: holdout7 was measured blind once and is kept at its figure, confidently wrong answers and all.
HELD_OUT: dict[str, tuple[int, int]] = {  # name: (top-1 at least, confidently wrong at most)
    "holdout.yaml": (70, 0), "holdout2.yaml": (76, 0), "holdout3.yaml": (80, 0),
    "holdout4.yaml": (135, 0), "holdout5.yaml": (99, 0), "holdout6.yaml": (128, 0),
    "holdout7.yaml": (126, 0), "holdout8.yaml": (192, 0), "holdout9.yaml": (125, 0),
    "holdout10.yaml": (156, 0), "holdout11.yaml": (165, 1), "holdout12.yaml": (237, 1),
    "holdout13.yaml": (118, 8),
}


@pytest.mark.parametrize("name", sorted(HELD_OUT))
def test_held_out_set_does_not_get_worse(kb: KnowledgeBase, name: str) -> None:
    report = run(load_scenarios(Path(runner.__file__).with_name(name)), Scanwise(kb))
    least_top, most_wrong = HELD_OUT[name]
    failing = [(f["id"], f["failed"]) for f in report["failures"]]
    assert report["by_check"]["top"]["correct"] >= least_top, failing
    assert report["confidently_wrong"] <= most_wrong, failing
