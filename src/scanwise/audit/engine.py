"""Run an audit: read the orders, rate them in batches, write the outputs.

The DuckDB engine (the default, embedded) copies the input once into a DuckDB file in the
output folder's work area, numbering rows in file order, then streams fixed row ranges through
:meth:`Rater.rate_batch` as Arrow and writes each range as a checkpointed part file. ``--resume``
picks up after the last complete part. The Spark engine (``scanwise.audit.spark``) produces the
same part files with ``mapInArrow``. Both finish here: ``rated.parquet`` and
``quarantine.csv`` in row order, ``summary.json`` from the shared SQL, ``report.html``.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from scanwise.audit.measures import Measure, default_measures, default_reason_codes
from scanwise.audit.rating import INPUT_COLUMNS, PART_SCHEMA, RATED_SCHEMA, Rater
from scanwise.audit.summary import build_summary
from scanwise.core import Scanwise, UnusableInput

BATCH_ROWS = 20_000
WORK = ".audit-work"
Progress = Callable[[int, int], None]  # (rows done, rows in)


@dataclass(frozen=True)
class Inputs:
    files: list[Path]
    kind: str  # "csv" or "parquet"
    columns: dict[str, str]  # contract name -> the file's column name
    defaults: dict[str, str]  # contract name -> a value for every row (from --columns)


@dataclass
class Result:
    rows_in: int
    rated: int
    quarantined: int
    resumed_rows: int
    distinct_ratings: int
    seconds: float
    summary: dict[str, Any]


def find_inputs(path: Path, column_map: Path | None) -> Inputs:
    """The input files (a file, or a folder of parts) and how their columns map."""
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in (".csv", ".parquet") and p.is_file())
        if not files:
            raise UnusableInput(f"ORDERS: {path} holds no .csv or .parquet files", "orders", "no_input")
    elif path.is_file():
        files = [path]
    else:
        raise UnusableInput(f"ORDERS: {path} does not exist", "orders", "no_input")
    kinds = {"parquet" if p.suffix.lower() == ".parquet" else "csv" for p in files}
    if len(kinds) > 1:
        raise UnusableInput(f"ORDERS: {path} mixes CSV and Parquet files", "orders", "mixed_input")
    columns: dict[str, str] = {}
    defaults: dict[str, str] = {}
    if column_map is not None:
        columns, defaults = _read_column_map(column_map)
    return Inputs(files, kinds.pop(), columns, defaults)


def _read_column_map(path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """``columns: {contract name: file column}`` and ``defaults: {contract name: value}``."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise UnusableInput(f"--columns: {path} cannot be read as YAML ({exc})", "columns") from exc
    if not isinstance(data, dict) or set(data) - {"columns", "defaults"}:
        raise UnusableInput(
            "--columns: the file must hold 'columns' and optionally 'defaults' mappings", "columns"
        )
    out = []
    for key in ("columns", "defaults"):
        part = data.get(key) or {}
        if not isinstance(part, dict):
            raise UnusableInput(f"--columns: '{key}' must be a mapping", "columns")
        unknown = sorted(set(part) - set(INPUT_COLUMNS))
        if unknown:
            raise UnusableInput(
                f"--columns: unknown column name(s) {', '.join(unknown)}; known: " + ", ".join(INPUT_COLUMNS),
                "columns",
            )
        out.append({str(k): str(v) for k, v in part.items()})
    return out[0], out[1]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _source_sql(inp: Inputs) -> str:
    files = "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in inp.files) + "]"
    if inp.kind == "csv":
        return f"read_csv({files}, header=true, all_varchar=true, null_padding=true)"
    return f"read_parquet({files})"


def select_list(inp: Inputs, present: list[str]) -> list[tuple[str, str | None, str | None]]:
    """(contract name, the file's column or None, a default value or None) for every input column."""
    out = []
    for name in INPUT_COLUMNS:
        src = inp.columns.get(name, name)
        out.append((name, src if src in present else None, inp.defaults.get(name)))
    if out[0][1] is None:
        want = inp.columns.get("order_id", "order_id")
        raise UnusableInput(
            f"ORDERS: no column {want!r} (order_id is required; map it with --columns)",
            "order_id",
            "missing_column",
        )
    return out


def _fingerprint(inp: Inputs, batch_rows: int, kb_version: str) -> dict[str, Any]:
    return {
        "files": [[str(p), p.stat().st_size, p.stat().st_mtime_ns] for p in inp.files],
        "columns": inp.columns,
        "defaults": inp.defaults,
        "batch_rows": batch_rows,
        "kb_version": kb_version,
    }


def rater() -> Rater:
    core = Scanwise.default()
    return Rater(core, default_measures(), default_reason_codes())


def run_duckdb(
    inp: Inputs,
    out: Path,
    *,
    resume: bool = False,
    batch_rows: int = BATCH_ROWS,
    progress: Progress | None = None,
    memory_limit: str = "256MB",
) -> Result:
    started = time.perf_counter()
    core = Scanwise.default()
    work = out / WORK
    parts = work / "parts"
    fingerprint = _fingerprint(inp, batch_rows, core.kb_version)
    stamp = work / "run.json"
    if resume and stamp.exists():
        if json.loads(stamp.read_text()) != fingerprint:
            raise UnusableInput(
                "--resume: the input, column map or knowledge base changed since the "
                "interrupted run; run again without --resume",
                "resume",
            )
    else:
        shutil.rmtree(work, ignore_errors=True)
    parts.mkdir(parents=True, exist_ok=True)
    con = _connect(work, memory_limit)
    if not _table_ready(con):
        _load(con, inp)
        stamp.write_text(json.dumps(fingerprint))
    rows_in = int(con.execute("SELECT count(*) FROM src").fetchall()[0][0])
    done = _done_rows(parts)
    r = rater()
    query = (
        "SELECT s.rowid + 1 AS row, d.first_row, s.* FROM src s LEFT JOIN dups d ON trim(s.order_id) = d.id "
        "WHERE s.rowid BETWEEN {} AND {} ORDER BY s.rowid"
    )
    start = done
    if progress:
        progress(done, rows_in)
    while start < rows_in:
        end = min(start + batch_rows, rows_in)
        table = con.sql(query.format(int(start), int(end) - 1)).to_arrow_table()
        write_part(parts, start + 1, end, r.rate_batch(table))
        start = end
        if progress:
            progress(start, rows_in)
    con.close()
    return finish(out, parts, rows_in, resumed_rows=done, distinct=r.distinct_ratings, started=started)


def _connect(work: Path, memory_limit: str) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(work / "input.duckdb"))
    con.execute(f"SET memory_limit = '{memory_limit}'")
    con.execute(f"SET temp_directory = '{work / 'tmp'}'")
    con.execute("SET preserve_insertion_order = true")
    con.execute("SET enable_progress_bar = false")  # it writes to stdout; the CLI has its own
    return con


def _table_ready(con: duckdb.DuckDBPyConnection) -> bool:
    names = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    return {"src", "dups", "ready"} <= names


def _load(con: duckdb.DuckDBPyConnection, inp: Inputs) -> None:
    source = _source_sql(inp)
    try:
        present = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()]
        cols = []
        for name, src, default in select_list(inp, present):
            if src is not None and default is not None:
                cols.append(
                    f"coalesce(nullif(trim(CAST({_quote(src)} AS VARCHAR)), ''), "
                    f"'{default.replace(chr(39), chr(39) * 2)}') AS {name}"
                )
            elif src is not None:
                cols.append(f"CAST({_quote(src)} AS VARCHAR) AS {name}")
            elif default is not None:
                cols.append(f"'{default.replace(chr(39), chr(39) * 2)}' AS {name}")
            else:
                cols.append(f"CAST(NULL AS VARCHAR) AS {name}")
        con.execute("DROP TABLE IF EXISTS src; DROP TABLE IF EXISTS dups; DROP TABLE IF EXISTS ready")
        con.execute(f"CREATE TABLE src AS SELECT {', '.join(cols)} FROM {source}")
    except duckdb.Error as exc:
        raise UnusableInput(
            f"ORDERS: cannot be read as {inp.kind.upper()}: {str(exc).splitlines()[0]}",
            "orders",
            "unreadable_input",
        ) from exc
    con.execute(
        "CREATE TABLE dups AS SELECT trim(order_id) AS id, min(rowid) + 1 AS first_row FROM src "
        "WHERE trim(order_id) <> '' GROUP BY 1 HAVING count(*) > 1"
    )
    con.execute("CREATE TABLE ready AS SELECT 1 AS ok")


def _done_rows(parts: Path) -> int:
    """Rows already rated: the parts are consecutive ranges, so the last one's end."""
    ends = sorted(int(p.stem.split("-")[2]) for p in parts.glob("part-*-*.parquet"))
    return ends[-1] if ends else 0


def write_part(parts: Path, first: int, last: int, batch: pa.RecordBatch) -> None:
    """One checkpoint: rows first..last, written under a temporary name and then renamed."""
    final = parts / f"part-{first:012d}-{last:012d}.parquet"
    tmp = final.with_suffix(".tmp")
    pq.write_table(pa.Table.from_batches([batch], schema=PART_SCHEMA), tmp)
    os.replace(tmp, final)


def finish(
    out: Path,
    parts: Path,
    rows_in: int,
    *,
    resumed_rows: int,
    distinct: int,
    started: float,
    aggregate: Callable[[list[Measure]], Callable[[str], list[dict[str, Any]]]] | None = None,
) -> Result:
    """rated.parquet and quarantine.csv in row order from the part files; summary.json; report.html."""
    from scanwise.audit.report import write_report

    core = Scanwise.default()
    measures = default_measures()
    con = duckdb.connect()
    con.execute(f"SET memory_limit = '256MB'; SET temp_directory = '{parts.parent / 'tmp'}'")
    con.execute("SET enable_progress_bar = false")
    glob = str(parts / "*.parquet")
    rated_cols = ", ".join(f.name for f in RATED_SCHEMA)
    reader = con.sql(
        f"SELECT {rated_cols} FROM read_parquet('{glob}') WHERE quarantine_reason IS NULL ORDER BY row"
    ).to_arrow_reader(50_000)
    rated = _write_parquet(out / "rated.parquet", reader)
    quarantined = 0
    with (out / "quarantine.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["row", "order_id", "reason"])
        cur = con.execute(
            f"SELECT row, order_id, quarantine_reason FROM read_parquet('{glob}') "
            "WHERE quarantine_reason IS NOT NULL ORDER BY row"
        )
        while chunk := cur.fetchmany(10_000):
            w.writerows(chunk)
            quarantined += len(chunk)
    reasons = dict(
        con.execute(
            f"SELECT split_part(quarantine_reason, ' (', 1) AS r, count(*) FROM read_parquet('{glob}') "
            "WHERE quarantine_reason IS NOT NULL GROUP BY 1"
        ).fetchall()
    )
    con.execute(f"CREATE VIEW rated AS SELECT * FROM read_parquet('{out / 'rated.parquet'}')")

    def duck_sql(sql: str) -> list[dict[str, Any]]:
        cur = con.execute(sql)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    run_sql = aggregate(measures) if aggregate else duck_sql
    summary = build_summary(
        run_sql,
        measures,
        rows_in=rows_in,
        quarantined=quarantined,
        kb_version=core.kb_version,
        sources=core.kb.sources,
        quarantine_reasons={str(k): int(v) for k, v in reasons.items()},
    )
    if summary["rated"] != rated:
        raise RuntimeError(f"rated.parquet holds {rated} rows but the aggregation counted {summary['rated']}")
    (out / "summary.json").write_text(
        json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    write_report(out / "report.html", summary, measures, core.kb)
    con.close()
    return Result(
        rows_in=rows_in,
        rated=rated,
        quarantined=quarantined,
        resumed_rows=resumed_rows,
        distinct_ratings=distinct,
        seconds=time.perf_counter() - started,
        summary=summary,
    )


def _write_parquet(path: Path, reader: pa.RecordBatchReader) -> int:
    n = 0
    tmp = path.with_suffix(".tmp")
    with pq.ParquetWriter(tmp, RATED_SCHEMA) as w:
        for batch in _batches(reader):
            w.write_batch(batch.cast(RATED_SCHEMA) if batch.schema != RATED_SCHEMA else batch)
            n += batch.num_rows
    os.replace(tmp, path)
    return n


def _batches(reader: pa.RecordBatchReader) -> Iterator[pa.RecordBatch]:
    while True:
        try:
            yield reader.read_next_batch()
        except StopIteration:
            return
