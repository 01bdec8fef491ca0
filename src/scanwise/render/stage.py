"""AJCC staging results in the terminal: one case, or a batch as a table with numbered notes."""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import Console
from rich.table import Table

from scanwise.domain.staging import StageResult
from scanwise.domain.staging.engine import marker_summary


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def print_stage(console: Console, result: StageResult) -> None:
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


def print_stage_batch(console: Console, results: Iterable[dict[str, object]]) -> int:
    """A table of stages; warnings and errors go below it as numbered notes. Returns the rows."""
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
