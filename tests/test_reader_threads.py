"""The text reader is safe to call from many threads at once (the web app does)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from scanwise.domain.kb import KnowledgeBase
from scanwise.eval.runner import load_scenarios
from scanwise.nlp.scenario import read_scenario


def test_concurrent_reads_give_what_one_read_gives(kb: KnowledgeBase) -> None:
    texts = [c.text for c in load_scenarios()][:30]
    alone = [read_scenario(t, kb) for t in texts]
    with ThreadPoolExecutor(max_workers=8) as pool:
        together = list(pool.map(lambda t: read_scenario(t, kb), texts * 3))
    for i, result in enumerate(together):
        assert result == alone[i % len(texts)]
