"""The Spark engine (``--engine spark``): the same rating over Spark partitions.

Spark reads the orders (CSV or Parquet, a file or a folder of parts), numbers the rows in
file order (file name, then position in the file: the same numbering DuckDB gives), finds
repeated order ids, and runs :meth:`Rater.rate_batch` over each partition with ``mapInArrow``:
each Python worker builds its own application core once. The part files it writes are then
finished exactly as the DuckDB engine's are, with the aggregation SQL run by Spark SQL.

Local mode (``local[2]``) by default; ``--spark-master URL`` runs on a cluster, where ORDERS and
DIR must be on storage every executor can read and write. Needs the ``spark`` extra
(``pip install 'scanwise[spark]'``) and a Java 17+ runtime.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa

from scanwise.audit.engine import WORK, Inputs, Result, finish, select_list
from scanwise.audit.measures import Measure
from scanwise.audit.rating import PART_SCHEMA, Rater
from scanwise.audit.summary import RunSql

_RATER: Rater | None = None


class SparkMissing(RuntimeError):
    """PySpark or Java is not installed."""


def _rate_partition(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """Runs inside each Spark Python worker: one rater per worker process, reused."""
    global _RATER
    if _RATER is None:
        from scanwise.audit.engine import rater

        _RATER = rater()
    for batch in batches:
        if batch.num_rows:
            yield _RATER.rate_batch(batch)


def session(master: str | None) -> Any:
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise SparkMissing(
            "--engine spark needs PySpark: pip install 'scanwise[spark]' (and a Java 17+ runtime)"
        ) from exc
    if shutil.which("java") is None and not _java_home():
        raise SparkMissing("--engine spark needs a Java 17+ runtime (tools/ensure_java.sh installs one)")
    # Workers run this interpreter (the one with scanwise installed) unless told otherwise.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = (
        SparkSession.builder.master(master or "local[2]")
        .appName("scanwise-audit")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "4" if master is None else "200")
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", "10000")
    )
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _java_home() -> bool:
    return bool(os.environ.get("JAVA_HOME"))


def run_spark(inp: Inputs, out: Path, *, master: str | None = None) -> Result:
    from pyspark.sql import Window
    from pyspark.sql import functions as F
    from pyspark.sql.pandas.types import from_arrow_schema

    started = time.perf_counter()
    spark = session(master)
    work = out / WORK
    shutil.rmtree(work, ignore_errors=True)
    parts = work / "parts"
    paths = [str(p) for p in inp.files]
    if inp.kind == "csv":
        df = (
            spark.read.option("header", True)
            .option("inferSchema", False)
            .option("multiLine", True)
            .option("escape", '"')
            .csv(paths)
        )
    else:
        df = spark.read.parquet(*paths)
    cols = []
    for name, src, default in select_list(inp, df.columns):
        value = F.col(f"`{src}`").cast("string") if src is not None else F.lit(None).cast("string")
        if default is not None:
            trimmed = F.trim(value)
            value = F.when(value.isNull() | (trimmed == ""), F.lit(default)).otherwise(value)
        cols.append(value.alias(name))
    df = df.select(
        *cols,
        F.col("_metadata.file_path").alias("_file"),
        F.col("_metadata.file_block_start").alias("_block"),
        F.monotonically_increasing_id().alias("_seq"),
    )
    in_file_order = Window.orderBy("_file", "_block", "_seq")
    numbered = df.withColumn("row", F.row_number().over(in_file_order).cast("long"))
    numbered = numbered.drop("_file", "_block", "_seq").cache()
    ids = F.trim(F.col("order_id"))
    dups = (
        numbered.where(ids != "")
        .groupBy(ids.alias("_id"))
        .agg(F.min("row").alias("first_row"), F.count("*").alias("_n"))
        .where(F.col("_n") > 1)
        .drop("_n")
    )
    joined = numbered.join(dups, F.trim(numbered["order_id"]) == dups["_id"], "left").drop("_id")
    rated = joined.mapInArrow(_rate_partition, from_arrow_schema(PART_SCHEMA))
    rated.write.mode("overwrite").parquet(str(parts))
    rows_in = numbered.count()
    numbered.unpersist()
    done = spark.read.parquet(str(parts)).where("quarantine_reason IS NULL").cache()
    done.createOrReplaceTempView("rated")

    def aggregate(_measures: list[Measure]) -> RunSql:  # the SQL names the measures itself
        def run_sql(sql: str) -> list[dict[str, Any]]:
            return [r.asDict() for r in spark.sql(sql).collect()]

        return run_sql

    # The ratings happen in the workers, so the driver has no count of distinct inputs (0).
    return finish(out, parts, rows_in, resumed_rows=0, distinct=0, started=started, aggregate=aggregate)
