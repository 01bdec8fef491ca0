"""Start-up of the command line: wall time of whole processes, median of 5, in three set-ups
side by side: loading and validating the YAML every run (``SCANWISE_NO_CACHE=1``, the obvious
way), the on-disk knowledge cache, and the cache with the warm reader up (the background
reader ``recommend`` and ``ask`` start for the next command, :mod:`scanwise.warm_reader`);
then where the time goes inside one process.

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


READER = """
import sys, time
from scanwise import warm_reader
from scanwise.cache import knowledge
version = knowledge()[0].version
if sys.argv[1] == "start":
    warm_reader.start(version)
    target = warm_reader.address(version)
    deadline = time.monotonic() + 120
    while target is not None and not target.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
else:
    warm_reader.stop(version)
"""


def start_reader(env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "-c", READER, "start"], env=env, check=True)


def stop_reader(env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "-c", READER, "stop"], env=env, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryDirectory(prefix="sw", dir="/tmp") as run:
        base = {**os.environ, "XDG_RUNTIME_DIR": run}
        cached = {**base, "SCANWISE_CACHE_DIR": tmp, "SCANWISE_NO_CACHE": "0", "SCANWISE_NO_WARM_READER": "1"}
        uncached = {**base, "SCANWISE_NO_CACHE": "1", "SCANWISE_NO_WARM_READER": "1"}
        warm = {**cached, "SCANWISE_NO_WARM_READER": "0"}
        subprocess.run([SCANWISE, "kb"], env=cached, stdout=subprocess.DEVNULL, check=True)  # fill it
        start_reader(warm)
        print(f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}; wall time, median of {args.runs} runs")
        print(f"{'command':<34} {'no cache':>9} {'cache':>9} {'+ warm reader':>14} {'ratio':>7}")
        try:
            for label, command in COMMANDS:
                slow = wall(command, uncached, args.runs)
                fast = wall(command, cached, args.runs)
                warmed = wall(command, warm, args.runs)
                print(f"{label:<34} {slow:8.2f}s {fast:8.2f}s {warmed:13.2f}s {slow / warmed:6.1f}x")
        finally:
            stop_reader(warm)
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
