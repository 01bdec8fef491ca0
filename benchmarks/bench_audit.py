"""Order audit throughput and peak memory: 100k and 1M synthetic orders, DuckDB and Spark.

Prints rows per second end to end (reading, rating, writing every output, the report) and the
peak resident memory of the run (the audit process and everything it started, the JVM
included), beside the obvious alternative: rating each row on its own with the application
core, without the audit's reuse of identical rating inputs. Not a test.

    python benchmarks/bench_audit.py            # 100k and 1M on DuckDB and Spark local mode
    python benchmarks/bench_audit.py --quick    # 100k on DuckDB only
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SEED = 2025


def one_run(orders: Path, out: Path, engine: str) -> dict[str, float]:
    """Run one audit in a fresh process; its wall time and peak memory (with its children)."""
    code = (
        "import json, resource, sys, time\n"
        "from pathlib import Path\n"
        "from scanwise.audit.engine import find_inputs, run_duckdb\n"
        "t = time.perf_counter()\n"
        "inp = find_inputs(Path(sys.argv[1]), None)\n"
        "if sys.argv[3] == 'spark':\n"
        "    from scanwise.audit.spark import run_spark\n"
        "    r = run_spark(inp, Path(sys.argv[2]))\n"
        "else:\n"
        "    r = run_duckdb(inp, Path(sys.argv[2]))\n"
        "s = time.perf_counter() - t\n"
        "own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "res = {'rows': r.rows_in, 'seconds': s, 'rss_kib': own, 'child_rss_kib': kids,\n"
        "       'distinct': r.distinct_ratings}\n"
        "print('RESULT ' + json.dumps(res))\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(orders), str(out), engine],
                          capture_output=True, text=True, check=True)
    line = next(x for x in reversed(done.stdout.splitlines()) if "RESULT " in x)
    return json.loads(line.split("RESULT ", 1)[1])


def naive(orders: Path, n: int = 1000) -> float:
    """Rows per second rating each row with no reuse (a fresh rater per row's inputs)."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    from scanwise.audit.engine import rater

    table = pcsv.read_csv(orders).slice(0, n)
    table = table.cast(pa.schema([(f.name, pa.string()) for f in table.schema]))
    rows = table.append_column("row", pa.array(range(1, table.num_rows + 1)))
    r = rater()
    r.rate_batch(rows.slice(0, 1))  # loads the reader once, outside the timing
    t = time.perf_counter()
    for i in range(rows.num_rows):
        r._rate.cache_clear()  # no reuse: every row is rated from scratch
        r._readings.clear()
        r._verdicts.clear()
        r.rate_batch(rows.slice(i, 1))
    return rows.num_rows / (time.perf_counter() - t)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="100k orders on DuckDB only")
    ap.add_argument("--sizes", help="comma-separated order counts (default 100000,1000000)")
    ap.add_argument("--engines", help="comma-separated engines (default duckdb,spark)")
    args = ap.parse_args()
    sizes = [100_000] if args.quick else [100_000, 1_000_000]
    engines = ["duckdb"] if args.quick else ["duckdb", "spark"]
    if args.sizes:
        sizes = [int(x) for x in args.sizes.split(",")]
    if args.engines:
        engines = args.engines.split(",")
    from scanwise.audit import synth

    work = Path(tempfile.mkdtemp(prefix="bench-audit-"))
    try:
        print(f"{'orders':>10} {'engine':>8} {'rows/s':>9} {'seconds':>8} {'peak MiB':>9} {'distinct':>9}")
        first: Path | None = None
        for n in sizes:
            orders = work / f"orders-{n}.csv"
            synth.write(n, SEED, orders)
            first = first or orders
            for engine in engines:
                res = one_run(orders, work / f"out-{n}-{engine}", engine)
                peak = max(res["rss_kib"], res["child_rss_kib"]) / 1024
                print(f"{n:>10,} {engine:>8} {res['rows'] / res['seconds']:>9,.0f} {res['seconds']:>8.1f} "
                      f"{peak:>9.0f} {res['distinct'] or '-':>9}", flush=True)
        if first is not None:
            print(f"{'1,000':>10} {'no reuse':>8} {naive(first):>9,.0f}   (each row rated on its own; "
                  "the obvious alternative)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
