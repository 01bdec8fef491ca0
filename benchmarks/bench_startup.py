"""Start-up of the command line: wall time of whole processes, median of 5, with the on-disk
knowledge cache (warm) beside the obvious alternative, loading and validating the YAML every
run (``SCANWISE_NO_CACHE=1``); then where the time goes inside one process.

    .venv/bin/python benchmarks/bench_startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCANWISE = str(Path(sys.executable).with_name("scanwise"))
TEXT = "58-year-old woman, 1.8 cm grade 2 IDC, clinical stage I. Is PET/CT needed?"
COMMANDS = [
    ("scanwise --help", [SCANWISE, "--help"]),
    ("scanwise kb", [SCANWISE, "kb"]),
    ("scanwise recommend TEXT --json", [SCANWISE, "recommend", TEXT, "--json"]),
    ("scanwise ask TEXT --json", [SCANWISE, "ask", "What is a PET scan?", "--json"]),
]

STEPS = """
import time
t0 = time.perf_counter()
import scanwise.cache, scanwise.domain.kb, scanwise.domain.facts
t1 = time.perf_counter()
from scanwise.core import Scanwise
core = Scanwise.default(); core.facts
t2 = time.perf_counter()
import medspacy
t3 = time.perf_counter()
from scanwise.nlp import clinical
clinical.pipeline(core.kb)
t4 = time.perf_counter()
core.read_text("stage I breast cancer, staging?")
t5 = time.perf_counter()
print(f"{t1-t0:.3f} {t2-t1:.3f} {t3-t2:.3f} {t4-t3:.3f} {t5-t4:.3f}")
"""


def wall(command: list[str], env: dict[str, str], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cached = {**os.environ, "SCANWISE_CACHE_DIR": tmp, "SCANWISE_NO_CACHE": "0"}
        uncached = {**os.environ, "SCANWISE_NO_CACHE": "1"}
        subprocess.run([SCANWISE, "kb"], env=cached, stdout=subprocess.DEVNULL, check=True)  # fill it
        print(f"{os.cpu_count()} CPUs; wall time, median of {args.runs} runs")
        print(f"{'command':<34} {'no cache':>9} {'cache':>9} {'ratio':>7}")
        for label, command in COMMANDS:
            slow = wall(command, uncached, args.runs)
            fast = wall(command, cached, args.runs)
            print(f"{label:<34} {slow:8.2f}s {fast:8.2f}s {slow / fast:6.1f}x")
        print("\ninside one process (median of runs): imports | knowledge+facts | import medspaCy | "
              "build pipeline | first read")
        for label, env in (("no cache", uncached), ("cache", cached)):
            rows = [list(map(float, subprocess.run([sys.executable, "-c", STEPS], env=env, check=True,
                                                   capture_output=True, text=True).stdout.split()))
                    for _ in range(args.runs)]
            medians = [statistics.median(col) for col in zip(*rows, strict=True)]
            print(f"  {label:<9} " + " | ".join(f"{m:.3f}s" for m in medians))


if __name__ == "__main__":
    main()
