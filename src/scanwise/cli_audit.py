"""`scanwise audit`: rate a file of imaging orders for low-value imaging.

``scanwise audit ORDERS --out DIR`` runs the audit (``run`` is the default subcommand, so
``scanwise audit run ORDERS --out DIR`` is the same); ``scanwise audit synth N --seed S --out
FILE`` writes synthetic orders to try it on. Unusable input exits 2 with a message naming it.
"""

from __future__ import annotations

import json
import sys
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from scanwise.cli.common import fail

if TYPE_CHECKING:
    from rich.console import Console


@cache
def err() -> Console:
    """Standard error's console (progress), made on first use: rich is not imported for other
    commands."""
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


@cache
def out() -> Console:
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True)


class _DefaultRun(TyperGroup):
    """A group whose first word, when it names no subcommand, is the ORDERS of ``run``."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


audit_app = typer.Typer(
    cls=_DefaultRun,
    help="Rate a year of imaging orders against the guidelines: low-value imaging rates and a report. "
    "`scanwise audit ORDERS --out DIR` is short for `scanwise audit run ORDERS --out DIR`.",
    no_args_is_help=True,
    add_completion=False,
)



@audit_app.command("run")
def run(
    orders: Annotated[Path, typer.Argument(help="Orders as CSV or Parquet: a file or a folder of parts.")],
    out_dir: Annotated[
        Path,
        typer.Option("--out", help="Folder for rated.parquet, quarantine.csv, summary.json and report.html."),
    ],
    engine: Annotated[str, typer.Option(help="duckdb (embedded, default) or spark.")] = "duckdb",
    spark_master: Annotated[
        str | None,
        typer.Option("--spark-master", help="Spark master URL (default: local mode on this machine)."),
    ] = None,
    columns: Annotated[
        Path | None,
        typer.Option(
            "--columns",
            help="YAML mapping contract column names to the file's own (columns:) and "
            "values for every row (defaults:).",
        ),
    ] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue an interrupted run in DIR.")] = False,
    batch_rows: Annotated[int, typer.Option("--batch-rows", hidden=True, min=1)] = 20_000,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Rate every order; print rows in = rated + quarantined and the measures."""
    from scanwise.audit.engine import find_inputs, run_duckdb
    from scanwise.core import UnusableInput

    if engine not in ("duckdb", "spark"):
        raise fail(f"--engine: {engine!r} is not duckdb or spark")
    if spark_master and engine != "spark":
        raise fail("--spark-master needs --engine spark")
    if resume and engine == "spark":
        raise fail("--resume works with the DuckDB engine; Spark re-runs failed tasks itself")
    try:
        inputs = find_inputs(orders, columns)
        out_dir.mkdir(parents=True, exist_ok=True)
        with _progress() as (update, stop):
            if engine == "spark":
                from scanwise.audit.spark import SparkMissing, run_spark

                try:
                    stop()
                    result = run_spark(inputs, out_dir, master=spark_master)
                except SparkMissing as exc:
                    raise fail(str(exc)) from exc
            else:
                result = run_duckdb(inputs, out_dir, resume=resume, batch_rows=batch_rows, progress=update)
    except UnusableInput as exc:
        raise fail(exc.message) from exc
    s = result.summary
    if as_json:
        sys.stdout.write(json.dumps(s, indent=2, ensure_ascii=False) + "\n")
        return
    if result.resumed_rows:
        out().print(f"resumed: {result.resumed_rows:,} rows were already rated and were not rated again")
    out().print(f"rows in {s['rows_in']:,} = rated {s['rated']:,} + quarantined {s['quarantined']:,}")
    rate = result.rows_in / result.seconds if result.seconds else 0
    distinct = f"{result.distinct_ratings:,} distinct rating inputs; " if result.distinct_ratings else ""
    out().print(f"{distinct}{result.seconds:.1f} s ({rate:,.0f} rows/s); engine {engine}")
    for m in s["measures"]:
        shown = (
            "–"
            if m["rate"] is None
            else f"{100 * m['rate']:.1f}% (95% CI {100 * m['ci_low']:.1f}–{100 * m['ci_high']:.1f})"
        )
        out().print(f"  {m['id']}: {m['numerator']:,} of {m['denominator']:,} = {shown}")
    out().print(f"insufficient information: {s['totals']['insufficient_information']:,} orders")
    out().print(f"outputs in {out_dir}: rated.parquet, quarantine.csv, summary.json, report.html")


class _progress:
    """A rich progress bar on standard error for long runs (hidden for short ones)."""

    def __enter__(self) -> tuple[Any, Any]:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.bar = Progress(
            TextColumn("rating orders"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=err(),
            transient=True,
            disable=not err().is_terminal,
        )
        self.task = None
        self.bar.start()

        def update(done: int, total: int) -> None:
            if self.task is None:
                self.task = self.bar.add_task("rate", total=total)
            self.bar.update(self.task, completed=done)

        return update, self.bar.stop

    def __exit__(self, *exc: object) -> None:
        self.bar.stop()


@audit_app.command("synth")
def synth(
    n: Annotated[int, typer.Argument(help="How many orders to write.", min=1)],
    out_file: Annotated[Path, typer.Option("--out", help="A .csv or .parquet file to write.")],
    seed: Annotated[int, typer.Option(help="Random seed: the same N and seed give the same file.")] = 1,
) -> None:
    """Write N synthetic orders (made up, seeded, reproducible) to try the audit on."""
    from scanwise.audit.synth import write

    if out_file.suffix.lower() not in (".csv", ".parquet"):
        raise fail("--out: the file name must end in .csv or .parquet")
    counts = write(n, seed, out_file)
    out().print(
        f"wrote {n:,} synthetic orders to {out_file} (seed {seed}): "
        + ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items()))
    )


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
