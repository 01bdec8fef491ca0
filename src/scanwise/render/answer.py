"""A patient answer in the terminal: sections, each paragraph followed by its source numbers."""

from __future__ import annotations

from collections.abc import Mapping

from rich.console import Console
from rich.markup import escape

from scanwise.domain.answers import Answer
from scanwise.domain.facts import Fact


def print_answer(result: Answer, console: Console, facts: Mapping[str, Fact]) -> None:
    """Readable output: sections, each paragraph followed by the numbers of its sources."""

    def refs(fact_ids: list[str]) -> str:
        nums = result.source_numbers(fact_ids, facts)
        return f" [dim]\\[{', '.join(map(str, nums))}][/dim]" if nums else ""

    console.print(f"[bold]{escape(result.title)}[/bold]")
    console.print(f"[dim]{escape(result.disclaimer)}[/dim]\n")
    for note in result.assumptions:
        console.print(f"[yellow]assumed:[/yellow] {escape(note)}")
    for section in result.sections:
        if section.kind == "sources":
            continue
        console.print(f"\n[bold cyan]{escape(section.heading)}[/bold cyan]")
        if section.note:
            console.print(f"[italic]{escape(section.note)}[/italic]")
        for text, cites in zip(section.paragraphs, section.paragraph_citations, strict=True):
            console.print(escape(text) + refs(cites))
        for text, cites in zip(section.bullets, section.bullet_citations, strict=True):
            console.print(" • " + escape(text) + refs(cites))
        for ref in section.guideline_refs:
            rated = "" if ref.ratings_in_data else " (ratings not in scanwise's data)"
            console.print(f"[dim]  guideline: ACR topic {ref.topic_id}, scenario {ref.variant}{rated}[/dim]")
    if result.sources:
        console.print("\n[bold cyan]Sources[/bold cyan]")
        for src in result.sources:
            year = f", {src.year}" if src.year else ""
            console.print(f"[dim]\\[{src.number}][/dim] {escape(src.title)}. {escape(src.publisher)}{year}."
                          + (f" [dim]{escape(src.url)}[/dim]" if src.url else ""))
    console.print(f"\n[dim]Reading grade {result.reading_grade:g} (Flesch-Kincaid) · knowledge base "
                  f"{result.kb_version}[/dim]")


