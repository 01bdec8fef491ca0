"""Rows staged per second through the batch path of ``scanwise stage --input``.

Generates a CSV of random cases in memory (valid categories in mixed spellings, some
unknown markers, a few malformed values), then runs it through the core's batch path the
CLI uses, including JSON encoding of every output line. Prints throughput; not a test.

    .venv/bin/python benchmarks/bench_staging.py [rows]
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import random
import sys
import time

from scanwise.core import Scanwise
from scanwise.domain.staging import StagingError, stage

T = ["T0", "Tis", "T1mi", "T1a", "pT1b", "T1c", "cT2", "pT2", "T3", "T4a", "T4d", "TX", "ypT1c"]
N = ["N0", "pN0(i+)(sn)", "N1mi", "pN1a", "cN1", "N2a", "pN2b", "N3a", "N3c", "NX", "ypN0"]
M = ["M0", "cM0", "cM0(i+)", "M1"]
GRADE = ["1", "2", "3", "G1", "G2", "G3", "GX", ""]
MARKER = ["+", "-", "positive", "negative", "pos", "neg", ""]
HER2 = MARKER + ["equivocal"]
BAD = ["T9", "N5", "M2", "grade 7", "maybe"]


def make_csv(rows: int, seed: int = 8) -> str:
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["t", "n", "m", "grade", "er", "pr", "her2", "oncotype"])
    for _ in range(rows):
        row = [rng.choice(T), rng.choice(N), rng.choice(M), rng.choice(GRADE),
               rng.choice(MARKER), rng.choice(MARKER), rng.choice(HER2),
               rng.choice(["", "", "", str(rng.randint(0, 40))])]
        if rng.random() < 0.01:  # about 1% malformed rows, as in real registry extracts
            row[rng.randrange(4)] = rng.choice(BAD)
        writer.writerow(row)
    return out.getvalue()


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    text = make_csv(rows)
    app = Scanwise.default()
    tables = app.kb.stage_tables  # loaded with the knowledge base
    stage("T1c", "N0", "M0", grade=2, er="+", pr="+", her2="-", tables=tables)

    start = time.perf_counter()
    staged = errors = 0
    sink = io.StringIO()
    reader = csv.DictReader(io.StringIO(text))
    for item in app.stage_rows(reader.fieldnames, reader):
        sink.write(json.dumps(item, ensure_ascii=False))
        sink.write("\n")
        if "error" in item:
            errors += 1
        else:
            staged += 1
    elapsed = time.perf_counter() - start

    print(f"bench_staging: {rows:,} rows ({staged:,} staged, {errors:,} malformed) "
          f"in {elapsed:.2f} s through the CSV batch path")
    print(f"bench_staging: {rows / elapsed:,.0f} rows/s")

    # The core alone, without CSV reading and JSON writing, for comparison.
    cases = list(csv.DictReader(io.StringIO(text)))
    start = time.perf_counter()
    for case in cases:
        with contextlib.suppress(StagingError):  # the ~1% malformed rows
            stage(case["t"] or None, case["n"] or None, case["m"] or None,
                  grade=case["grade"] or None, er=case["er"] or None, pr=case["pr"] or None,
                  her2=case["her2"] or None, tables=tables)
    core = time.perf_counter() - start
    print(f"bench_staging: stage() alone {len(cases) / core:,.0f} rows/s")


if __name__ == "__main__":
    main()
