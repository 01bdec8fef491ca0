"""Assessments per second: structured input (engine only) and free text (reader + engine).

    .venv/bin/python benchmarks/bench_assess.py [--seconds 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

from scanwise.domain.assess import assess
from scanwise.domain.profile import Indication, PatientProfile
from scanwise.eval.runner import load_scenarios
from scanwise.knowledge.loader import default_kb
from scanwise.nlp.scenario import read_scenario


def measure(label: str, work, seconds: float) -> None:  # type: ignore[no-untyped-def]
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        start = time.perf_counter()
        work()
        latencies.append(time.perf_counter() - start)
    total = sum(latencies)
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    print(f"{label:<34} {len(latencies) / total:8.0f} /s   p50 {statistics.median(latencies) * 1e3:6.2f} ms"
          f"   p99 {p99 * 1e3:6.2f} ms   (n={len(latencies)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    kb = default_kb()
    texts = [c.text for c in load_scenarios()]
    read_scenario(texts[0], kb)  # build the medspaCy pipeline once, outside the timing

    profile = PatientProfile(age=58, sex="female", histology="ductal", tumor_size_mm=18, grade=2,
                             er="positive", pr="positive", her2="negative", t="cT1c", n="cN0")
    indication = Indication(phase="new_diagnosis", purpose="distant")
    measure("structured (assess only)", lambda: assess(profile, indication, kb), args.seconds)

    cycle = iter(texts * 1000)

    def free_text() -> None:
        p, i = read_scenario(next(cycle), kb)
        assess(p, i, kb)

    measure(f"free text ({len(texts)} scenarios)", free_text, args.seconds)


if __name__ == "__main__":
    main()
