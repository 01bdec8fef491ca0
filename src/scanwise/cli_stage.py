"""``scanwise stage``: AJCC 8th edition breast staging from the command line.

A thin adapter: it reads options or a CSV file, calls the staging core and prints.
The main CLI adds the command with :func:`register`.

Single case::

    scanwise stage --t T1c --n N0 --m M0 --grade 2 --er positive --pr positive \
        --her2 negative [--oncotype 9] [--json]

Batch (one JSON object per line with ``--json``, a table without)::

    scanwise stage --input cases.csv --json
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, TextIO

import typer
from rich.console import Console
from rich.table import Table

from scanwise.domain.staging import StageResult, StagingError, stage
from scanwise.domain.staging.batch import (
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    missing_columns,
    stage_records,
)
from scanwise.domain.staging.engine import marker_summary

HELP = (
    "Stage a breast cancer by the AJCC 8th edition (revised January 2018 tables): anatomic, "
    "clinical prognostic and pathological prognostic stage groups. Give one case with "
    "--t/--n/--m and biomarkers, or many with --input cases.csv."
)


class BatchInputError(Exception):
    """The CSV as a whole cannot be read (missing file, missing columns, broken CSV)."""


def iter_csv_results(stream: TextIO, source: str = "input") -> Iterator[dict[str, object]]:
    """Stage every row of an open CSV stream, in order (the batch code path)."""
    reader = csv.DictReader(stream)
    try:
        header = reader.fieldnames
    except csv.Error as exc:
        raise BatchInputError(f"{source}: not a readable CSV file ({exc})") from exc
    missing = missing_columns(header)
    if missing:
        raise BatchInputError(
            f"{source} is missing required column(s): {', '.join(missing)}. Expected columns: "
            f"{','.join(REQUIRED_COLUMNS)} (optional: {','.join(OPTIONAL_COLUMNS)})"
        )
    try:
        yield from stage_records(reader)
    except csv.Error as exc:
        raise BatchInputError(f"{source}: CSV error at line {reader.line_num}: {exc}") from exc


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _print_json(obj: object) -> None:
    typer.echo(json.dumps(obj, ensure_ascii=False))


def _show_single(console: Console, result: StageResult) -> None:
    table = Table(title="AJCC 8th edition breast staging", show_header=True, title_justify="left")
    table.add_column("Stage group")
    table.add_column("Result", style="bold")
    rows = (
        ("Anatomic", result.anatomic, False),
        ("Clinical prognostic", result.clinical_prognostic, result.basis == "pathological"),
        ("Pathological prognostic", result.pathological_prognostic, result.basis == "clinical"),
    )
    for label, value, not_applicable in rows:
        shown = value or ("not applicable" if not_applicable else "not assigned")
        table.add_row(label, shown if value else f"[dim]{shown}[/dim]")
    console.print(table)
    console.print(result.explain().splitlines()[0], highlight=False, soft_wrap=True)
    for warning in result.warnings:
        console.print(f"[yellow]! {warning}[/yellow]", highlight=False)
    console.print(f"[dim]{result.edition}; tables {result.tables_version}[/dim]", highlight=False)


def _show_batch(console: Console, results: Iterator[dict[str, object]]) -> int:
    """A table of stages; warnings and errors go below it as numbered notes."""
    table = Table(title="AJCC 8th edition breast staging", title_justify="left")
    for column in ("Row", "TNM", "Grade, markers", "Anatomic", "Clinical", "Pathological",
                   "Notes"):
        table.add_column(column)
    notes: list[str] = []
    count = 0
    for item in results:
        count += 1
        row = str(item["row"])
        error = item.get("error")
        if isinstance(error, dict):
            notes.append(f"[red]row {row}: {error['message']}[/red]")
            table.add_row(row, "[red]error[/red]", "", "", "", "", f"[{len(notes)}]")
            continue
        warnings = item.get("warnings")
        refs = []
        for warning in warnings if isinstance(warnings, list) else []:
            notes.append(f"row {row}: {warning}")
            refs.append(f"[{len(notes)}]")
        grade = f"G{item['grade']}" if item.get("grade") else "G?"
        markers = marker_summary(
            _text(item.get("er")), _text(item.get("pr")), _text(item.get("her2"))
        )
        table.add_row(
            row, str(item["tnm"]), f"{grade} {markers}",
            str(item["anatomic"] or "-"), str(item["clinical_prognostic"] or "-"),
            str(item["pathological_prognostic"] or "-"), " ".join(refs),
        )
    console.print(table)
    for number, note in enumerate(notes, start=1):
        console.print(f"[{number}] {note}", highlight=False, markup=note.startswith("[red]"))
    return count


def stage_command(
    t: Annotated[str | None, typer.Option("--t", help="T category: T1c, pT2, ypT0.")] = None,
    n: Annotated[str | None, typer.Option("--n", help="N category: N0, pN1mi, N0(i+).")] = None,
    m: Annotated[str | None, typer.Option("--m", help="M category: M0, cM0(i+), M1.")] = None,
    grade: Annotated[str | None, typer.Option("--grade", help="Grade: 1-3, G1-G3, GX.")] = None,
    er: Annotated[str | None, typer.Option("--er", help="ER: positive/negative/+/-.")] = None,
    pr: Annotated[str | None, typer.Option("--pr", help="PR: positive/negative/+/-.")] = None,
    her2: Annotated[
        str | None, typer.Option("--her2", help="HER2: positive/negative/equivocal/+/-.")
    ] = None,
    oncotype: Annotated[
        int | None, typer.Option("--oncotype", help="Oncotype DX recurrence score (0-100).")
    ] = None,
    input_file: Annotated[
        Path | None,
        typer.Option("--input", help="CSV with columns t,n,m,grade,er,pr,her2[,oncotype]."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    console = Console()
    if input_file is not None:
        if any(v is not None for v in (t, n, m, grade, er, pr, her2, oncotype)):
            typer.echo("Give either --input or the single-case options, not both.", err=True)
            raise typer.Exit(code=2)
        _run_batch(console, input_file, as_json)
        return
    if t is None and n is None and m is None:
        typer.echo("Give --t, --n and --m (and grade/ER/PR/HER2), or --input cases.csv.", err=True)
        raise typer.Exit(code=2)
    try:
        result = stage(t, n, m, grade=grade, er=er, pr=pr, her2=her2, oncotype=oncotype)
    except StagingError as exc:
        if as_json:
            _print_json({"error": exc.to_dict()})
        else:
            typer.echo(f"Cannot stage: {exc}", err=True)
        raise typer.Exit(code=1) from exc
    if as_json:
        _print_json(result.to_dict())
    else:
        _show_single(console, result)


def _run_batch(console: Console, path: Path, as_json: bool) -> None:
    if not path.is_file():
        typer.echo(f"Input file not found: {path}", err=True)
        raise typer.Exit(code=1)
    try:
        with path.open(newline="", encoding="utf-8-sig") as stream:
            results = iter_csv_results(stream, source=str(path))
            if as_json:
                for item in results:
                    _print_json(item)
            else:
                _show_batch(console, results)
    except BatchInputError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(code=1) from exc
    except UnicodeDecodeError as exc:
        typer.echo(f"{path}: not UTF-8 text ({exc})", err=True)
        raise typer.Exit(code=1) from exc


def register(app: typer.Typer) -> None:
    """Add the ``stage`` command to a Typer app (the main ``scanwise`` CLI calls this)."""
    app.command(name="stage", help=HELP)(stage_command)
