"""Assessments per second, and matching beside BM25 retrieval over the variant labels, in one run.

    .venv/bin/python benchmarks/bench_assess.py [--seconds 3] [--rounds 3]

1. Structured input, the engine only: one fixed case (a 58-year-old, cT1c cN0 ER+/HER2-,
   distant staging), then every profile the reader makes of the bundled scenario sets
   (scenarios.yaml, holdout*.yaml), through ``domain.assess.assess`` and through
   ``Scanwise.assess`` (what every surface calls: the engine plus other guidelines' statements).
2. Free text: reader and engine together, on the same scenario texts.
3. Matching against BM25 (``rank_bm25.BM25Okapi``) over the variant labels, the first stage of the
   retrieval-augmented systems in the literature: each scenario text is the query, the best-
   scoring variant its answer. Accuracy is the evaluation's top-1 rule (the expected variant or
   one of its ``also_ok``; for scanwise a "depends on" answer counts when it offers the expected
   variant); BM25 always names one variant, so where the set expects none it is wrong. Time per
   scenario for BM25 is one query; for scanwise it is reading the text and assessing it.

Rates are per CPU second of this process (``time.process_time``; "per core"), the best of
``--rounds`` passes (other work on a shared machine only slows a pass down), with the load
average printed beside them.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from measure import cpu_per_item  # benchmarks/measure.py, beside this script
from rank_bm25 import BM25Okapi

from scanwise.core import Scanwise
from scanwise.domain.assess import assess
from scanwise.domain.profile import Indication, PatientProfile
from scanwise.eval.runner import Scenario, load_scenarios, top_correct

SETS = ["scenarios", "holdout", "holdout2", "holdout3", "holdout4", "holdout5"]
EVAL = Path(__file__).resolve().parents[1] / "src" / "scanwise" / "eval"


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def measure(label: str, work: Callable[[], object], seconds: float, rounds: int) -> None:
    """Calls per CPU second: the best of ``rounds`` passes of ``seconds / rounds`` each (other
    work on a shared machine only ever slows a pass down), with p50 and p99 over all calls."""
    latencies: list[float] = []
    best = 0.0
    for _ in range(rounds):
        calls, spent = 0, 0.0
        deadline = time.process_time() + seconds / rounds
        while time.process_time() < deadline:
            start = time.process_time()
            work()
            took = time.process_time() - start
            latencies.append(took)
            calls, spent = calls + 1, spent + took
        best = max(best, calls / spent)
    latencies.sort()
    p50, p99 = statistics.median(latencies), latencies[int(len(latencies) * 0.99) - 1]
    print(f"  {label:<46} {best:8.0f} /s   p50 {p50 * 1e3:6.3f} ms"
          f"   p99 {p99 * 1e3:6.3f} ms   (n={len(latencies)})")


def row(label: str, seconds: float) -> None:
    print(f"  {label:<46} {1 / seconds:8.0f} /s   {seconds * 1e3:7.3f} ms each")


_WORD = re.compile(r"[a-z0-9]+")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


class LabelRetriever:
    """BM25 over every current variant's label (with its topic's title, which names the topic)."""

    def __init__(self, app: Scanwise) -> None:
        self.keys: list[tuple[int, int]] = []
        docs = []
        for topic in app.kb.current_topics():
            for v in topic.variants:
                self.keys.append((topic.topic_id, v.number))
                docs.append(words(f"{topic.title}. {v.label or ''}"))
        self.bm25 = BM25Okapi(docs)

    def best(self, text: str) -> tuple[int, int]:
        scores = self.bm25.get_scores(words(text))
        return self.keys[max(range(len(scores)), key=scores.__getitem__)]


def bm25_correct(case: Scenario, got: tuple[int, int]) -> bool:
    if case.top is None:
        return False  # the set expects no variant; a retriever always names one
    return got in [tuple(case.top), *map(tuple, case.also_ok)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    app = Scanwise.default()
    kb = app.kb
    sets = {name: load_scenarios(EVAL / f"{name}.yaml") for name in SETS}
    cases = [c for name in SETS for c in sets[name]]
    read = {c.id + c.text: app.read_text(c.text) for c in cases}  # builds the pipeline once
    assess(*read[cases[0].id + cases[0].text], kb)  # builds the knowledge base's index once
    print(f"scanwise {app.kb_version}; {load()}")

    print("\n1. structured input, engine only")
    profile = PatientProfile(age=58, sex="female", histology="ductal", tumor_size_mm=18, grade=2,
                             er="positive", pr="positive", her2="negative", t="cT1c", n="cN0")
    indication = Indication(phase="new_diagnosis", purpose="distant")
    measure("one fixed case, domain.assess", lambda: assess(profile, indication, kb), args.seconds,
            args.rounds)
    measure("one fixed case, Scanwise.assess", lambda: app.assess(profile, indication), args.seconds,
            args.rounds)
    pairs = list(read.values())
    row(f"{len(pairs)} scenario profiles, domain.assess",
        cpu_per_item(lambda pi: assess(pi[0], pi[1], kb), pairs, args.rounds))
    row(f"{len(pairs)} scenario profiles, Scanwise.assess",
        cpu_per_item(lambda pi: app.assess(pi[0], pi[1]), pairs, args.rounds))
    print(f"  ({load()})")

    print("\n2. free text, reader and engine")
    texts = [c.text for c in cases]
    row(f"{len(texts)} scenario texts, read and assess",
        cpu_per_item(lambda t: app.assess(*app.read_text(t)), texts, 1))
    print(f"  ({load()})")

    print("\n3. matching beside BM25 over the variant labels (same scenarios, same run)")
    retriever = LabelRetriever(app)
    print(f"  BM25 index: {len(retriever.keys)} current variants' labels with their topic titles")
    print(f"  {'set':<11} {'n':>4}   {'scanwise top-1':>14}   {'BM25 top-1':>10}   "
          f"{'scanwise ms/text':>16}   {'BM25 ms/query':>13}")
    totals = [0, 0, 0, 0.0, 0.0]
    for name in SETS:
        group = sets[name]
        ours = sum(top_correct(c, app.assess(*read[c.id + c.text])) for c in group)
        theirs = sum(bm25_correct(c, retriever.best(c.text)) for c in group)
        ours_s = cpu_per_item(lambda c: app.assess(*app.read_text(c.text)), group, 1)
        theirs_s = cpu_per_item(lambda c: retriever.best(c.text), group, args.rounds)
        n = len(group)
        print(f"  {name:<11} {n:>4}   {ours / n:>14.1%}   {theirs / n:>10.1%}   "
              f"{ours_s * 1e3:>16.2f}   {theirs_s * 1e3:>13.3f}")
        totals = [totals[0] + n, totals[1] + ours, totals[2] + theirs,
                  totals[3] + ours_s * n, totals[4] + theirs_s * n]
    n = int(totals[0])
    print(f"  {'all':<11} {n:>4}   {totals[1] / n:>14.1%}   {totals[2] / n:>10.1%}   "
          f"{totals[3] / n * 1e3:>16.2f}   {totals[4] / n * 1e3:>13.3f}")
    engine = cpu_per_item(lambda pi: app.assess(pi[0], pi[1]), pairs, args.rounds)
    print(f"  scanwise's engine alone, once the text is read: {engine * 1e3:.3f} ms per scenario "
          f"(a BM25 query takes {totals[4] / n / engine:.1f}x that)")
    print(f"  ({load()})")


if __name__ == "__main__":
    main()
