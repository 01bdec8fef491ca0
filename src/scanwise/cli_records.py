"""``scanwise extract``: read patients' records and show each fact with where it came from.

    scanwise extract FILE... [--json]        ("-" reads standard input)

Text, text-based PDF and FHIR R4 JSON (Bundle or single resources, mCODE profiles) are read
into one profile. Each fact shows the words it came from and their character position (or
the FHIR resource), then the warnings (what was added up, inferred or replaced) and the
conflicts (statements that disagree; those facts stay unknown). Bad files exit with status 2
and a message naming the file and the problem. Record text is processed in memory only.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

if TYPE_CHECKING:
    from scanwise.domain.kb import KnowledgeBase
    from scanwise.domain.profile import Evidence
    from scanwise.records import RecordReading

HELP = (
    "Read patient records (pathology report as text, a text PDF from the patient portal, a "
    "clinic note, or a FHIR R4 / mCODE JSON bundle) into the facts that matter for imaging, "
    'each with the words it came from. "-" reads standard input. Limit: 5 MB per file.'
)
_NUMBERS = ("tumor_size_mm", "ki67_percent", "er_percent", "pr_percent", "hormone_use_years",
            "implant_years", "months_since_treatment")


def _fail(message: str, code: int = 2) -> typer.Exit:
    Console(stderr=True, highlight=False).print(f"[bold red]error:[/] {escape(message)}")
    return typer.Exit(code)


def read_files(paths: list[Path] | list[str], kb: KnowledgeBase | None = None) -> RecordReading:
    """Read record files (or "-" for standard input); unreadable input exits with status 2."""
    from scanwise.records import MAX_BYTES, RecordError, read_records

    sources: list[tuple[str, bytes]] = []
    for path in paths:
        name = str(path)
        if name == "-":
            sources.append(("stdin", sys.stdin.buffer.read(MAX_BYTES + 1)))
            continue
        p = Path(name)
        try:
            if p.is_dir():
                raise _fail(f"{name} is a folder, not a record file")
            if p.stat().st_size > MAX_BYTES:
                raise _fail(f"{name}: {p.stat().st_size / 1024 / 1024:.1f} MB; the limit is "
                            f"{MAX_BYTES // 1024 // 1024} MB per file")
            sources.append((p.name, p.read_bytes()))
        except OSError as exc:
            raise _fail(f"cannot read {name}: {exc.strerror or exc}") from exc
    try:
        return read_records(sources, kb)
    except RecordError as exc:
        raise _fail(str(exc)) from exc


def _plain(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _evidence_json(ev: Evidence) -> dict[str, Any]:
    return ev.model_dump(exclude_none=True)


def reading_json(reading: RecordReading) -> dict[str, Any]:
    """The extract JSON contract: profile, evidence, warnings, conflicts (plus sources)."""
    profile = reading.profile.model_dump(mode="json", exclude={"evidence"})
    for key in _NUMBERS:
        profile[key] = _plain(profile.get(key))
    return {
        "profile": profile,
        "evidence": {k: [_evidence_json(e) for e in v] for k, v in reading.evidence.items()},
        "warnings": reading.warnings,
        "conflicts": [c.model_dump(mode="json", exclude_none=True) for c in reading.conflicts],
        "sources": [s.model_dump(exclude_none=True) for s in reading.sources],
    }


def _where(ev: Evidence) -> str:
    """"Observation/er-1" for FHIR (the file is listed above the table); file, page, characters for text."""
    if ev.start is None:
        return ev.source.split("#", 1)[-1]
    page = f" p.{ev.page}" if ev.page else ""
    return f"{ev.source}{page} @{ev.start}-{ev.end}"


def _quote(ev: Evidence) -> str:
    text = " ".join(ev.text.split())
    return text if len(text) <= 70 else text[:67] + "..."


def print_reading(reading: RecordReading, console: Console,
                  title: str = "Facts read from the records") -> None:
    data = reading_json(reading)["profile"]
    for src in reading.sources:
        detail = (f"{src.pages} pages" if src.pages else f"{src.resources} resources" if src.resources
                  else f"{src.chars:,} characters" if src.chars else "")
        dated = f", dated {src.date}" if src.date else ""
        console.print(f"[dim]read {escape(src.name)} ({src.kind}, {detail}{dated})[/]")
    table = Table(title=title, title_justify="left", show_header=True)
    table.add_column("Fact")
    table.add_column("Value", style="bold")
    table.add_column("From the record")
    table.add_column("Where", style="dim")
    for key, value in data.items():
        if value in (None, [], {}):
            continue
        shown = ", ".join(str(v) for v in value) if isinstance(value, list) else \
            ", ".join(f"{k} {v}" for k, v in value.items()) if isinstance(value, dict) else str(value)
        evs = reading.evidence.get(key) or [e for k, v in reading.evidence.items()
                                            if k.startswith(f"{key}:") for e in v[:1]]
        first = evs[0] if evs else None
        table.add_row(key.replace("_", " "), escape(shown), escape(_quote(first)) if first else "",
                      escape(_where(first)) if first else "")
    console.print(table)
    for c in reading.conflicts:
        parts = "; ".join(f'{v.value} ("{_quote(v.evidence[0])}", {_where(v.evidence[0])})' if v.evidence
                          else str(v.value) for v in c.values)
        console.print(f"[bold yellow]conflict[/] {escape(c.field)}: {escape(parts)} — {escape(c.note)}")
    for w in reading.warnings:
        console.print(f"[yellow]note[/] {escape(w)}")
    if not reading.known_fields:
        console.print("No facts used for imaging guidance were found.")


def extract_command(
    files: Annotated[list[Path], typer.Argument(
        help='Record files (text, PDF, FHIR JSON); "-" reads stdin.')],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
) -> None:
    """Read patient records into the facts that matter for imaging, with their evidence."""
    reading = read_files(files)
    if as_json:
        sys.stdout.write(json.dumps(reading_json(reading), indent=2, ensure_ascii=False) + "\n")
    else:
        print_reading(reading, Console(highlight=False, soft_wrap=False))


def register(app: typer.Typer) -> None:
    app.command("extract", help=HELP)(extract_command)
