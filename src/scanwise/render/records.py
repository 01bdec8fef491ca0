"""What was read from records, for the terminal and as the `scanwise extract --json` shape."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from scanwise.domain.profile import Evidence

if TYPE_CHECKING:  # the records package brings its readers: not needed to print a reading
    from scanwise.records import RecordReading

_NUMBERS = ("tumor_size_mm", "ki67_percent", "er_percent", "pr_percent", "hormone_use_years",
            "implant_years", "months_since_treatment")


def _plain(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def reading_json(reading: RecordReading) -> dict[str, Any]:
    """The extract JSON contract: profile, evidence, warnings, conflicts (plus sources)."""
    profile = reading.profile.model_dump(mode="json", exclude={"evidence"})
    for key in _NUMBERS:
        profile[key] = _plain(profile.get(key))
    return {
        "profile": profile,
        "evidence": {k: [e.model_dump(exclude_none=True) for e in v] for k, v in reading.evidence.items()},
        "warnings": reading.warnings,
        "conflicts": [c.model_dump(mode="json", exclude_none=True) for c in reading.conflicts],
        "sources": [s.model_dump(exclude_none=True) for s in reading.sources],
        "unread": [e.model_dump(exclude_none=True) for e in reading.unread],
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
    if reading.unread:
        words = ", ".join(f'"{e.text}" ({_where(e)})' for e in reading.unread)
        console.print(f"[bold yellow]Not understood:[/] {escape(words)} — these words were not read as "
                      "any fact; check them")
    if not reading.known_fields:
        console.print("No facts used for imaging guidance were found.")
