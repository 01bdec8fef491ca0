"""``scanwise stage``: AJCC 8th edition breast staging, one case or a CSV batch.

Single case::

    scanwise stage --t T1c --n N0 --m M0 --grade 2 --er positive --pr positive \\
        --her2 negative [--oncotype 9] [--json]

Batch (one JSON object per line with ``--json``, a table without)::

    scanwise stage --input cases.csv --json
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from scanwise.cli.common import UNUSABLE_INPUT, console, core, fail

HELP = (
    "Stage a breast cancer by the AJCC 8th edition (revised January 2018 tables): anatomic, "
    "clinical prognostic and pathological prognostic stage groups. Give one case with "
    "--t/--n/--m and biomarkers, or many with --input cases.csv."
)


def _print_json(obj: object) -> None:
    typer.echo(json.dumps(obj, ensure_ascii=False))


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
    if input_file is not None:
        if any(v is not None for v in (t, n, m, grade, er, pr, her2, oncotype)):
            raise fail("give either --input or the single-case options, not both")
        _run_batch(input_file, as_json)
        return
    if t is None and n is None and m is None:
        raise fail("give --t, --n and --m (and grade/ER/PR/HER2), or --input cases.csv")
    from scanwise.core import UnusableInput

    app = core()
    try:
        result = app.stage(t, n, m, grade=grade, er=er, pr=pr, her2=her2, oncotype=oncotype)
    except UnusableInput as exc:
        if as_json:  # the error as JSON on standard output, for the machine that asked
            _print_json({"error": exc.to_dict()})
            raise typer.Exit(UNUSABLE_INPUT) from exc
        raise fail(f"cannot stage: {exc}") from exc
    if as_json:
        _print_json(result.to_dict())
    else:
        from scanwise.render.stage import print_stage

        print_stage(console(), result)


def _run_batch(path: Path, as_json: bool) -> None:
    import csv

    if not path.is_file():
        raise fail(f"input file not found: {path}")
    from scanwise.core import UnusableInput

    app = core()
    try:
        with path.open(newline="", encoding="utf-8-sig") as stream:
            reader = csv.DictReader(stream)
            try:
                results = app.stage_rows(reader.fieldnames, reader)
                if as_json:
                    for item in results:
                        _print_json(item)
                else:
                    from scanwise.render.stage import print_stage_batch

                    print_stage_batch(console(), results)
            except csv.Error as exc:
                raise fail(f"{path}: not a readable CSV file (line {reader.line_num}: {exc})") from exc
            except UnusableInput as exc:
                raise fail(f"{path}: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise fail(f"{path}: not UTF-8 text ({exc})") from exc


def register(app: typer.Typer) -> None:
    app.command(name="stage", help=HELP)(stage_command)
