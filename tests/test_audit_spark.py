"""DuckDB and Spark (local mode) give identical outputs on the same synthetic orders, read
from a folder of two CSV parts (so row numbering across files is checked too)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from scanwise.audit import synth
from scanwise.audit.engine import find_inputs, run_duckdb


def test_duckdb_and_spark_give_identical_outputs(tmp_path: Path) -> None:
    pytest.importorskip("pyspark", reason="the spark extra is not installed (make test installs it)")
    if shutil.which("java") is None:
        pytest.fail("no Java runtime: run tools/ensure_java.sh (make test does)")
    from scanwise.audit.spark import run_spark

    whole = tmp_path / "all.csv"
    synth.write(1500, 21, whole)
    lines = whole.read_text(encoding="utf-8").splitlines(keepends=True)
    folder = tmp_path / "orders"
    folder.mkdir()
    (folder / "part-1.csv").write_text("".join(lines[:900]), encoding="utf-8")
    (folder / "part-2.csv").write_text(lines[0] + "".join(lines[900:]), encoding="utf-8")
    inputs = find_inputs(folder, None)
    duck = run_duckdb(inputs, tmp_path / "duckdb", batch_rows=400)
    spark = run_spark(inputs, tmp_path / "spark")
    assert duck.rows_in == spark.rows_in == 1500
    for name in ("rated.parquet", "quarantine.csv", "summary.json"):
        assert (tmp_path / "duckdb" / name).read_bytes() == (tmp_path / "spark" / name).read_bytes(), name
    assert spark.summary["rows_in"] == spark.summary["rated"] + spark.summary["quarantined"]
