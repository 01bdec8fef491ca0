"""Terminal output of a patient answer: the short answer first, then its sections.

Each paragraph ends with the numbers of its sources; tables print side by side; sources are
listed by publisher and title, grouped, with the link dimmed behind the title.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.table import Table

if TYPE_CHECKING:
    from collections.abc import Mapping

    from scanwise.domain.answers import Answer
    from scanwise.domain.facts import Fact


def print_answer(result: Answer, console: Console, facts: Mapping[str, Fact]) -> None:
    """Readable output: short answer, sections, each paragraph followed by its source numbers.

    ``facts`` is the fact base the answer cites (the core's ``facts``, loaded once)."""

    def refs(fact_ids: list[str]) -> str:
        nums = result.source_numbers(fact_ids, facts)
        return f" [dim]\\[{', '.join(map(str, nums))}][/dim]" if nums else ""

    console.print(f"[bold]{escape(result.title)}[/bold]")
    if result.short_answer:
        console.print(f"\n[bold green]Short answer:[/bold green] {escape(result.short_answer)}"
                      + refs(result.short_citations))
    console.print(f"\n[dim]{escape(result.disclaimer)}[/dim]")
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
        if section.table is not None:
            table = Table(*section.table.columns, caption=section.table.caption, show_lines=True)
            for row in section.table.rows:
                table.add_row(*(escape(c) for c in row))
            console.print(table)
        for text, cites in zip(section.bullets, section.bullet_citations, strict=True):
            console.print(" • " + escape(text) + refs(cites))
        for ref in section.guideline_refs:
            rated = "" if ref.ratings_in_data else " (ratings not in scanwise's data)"
            console.print(f"[dim]  guideline: ACR topic {ref.topic_id}, scenario {ref.variant}{rated}[/dim]")
    if result.sources:
        console.print("\n[bold cyan]Sources[/bold cyan]")
        by_number = {s.number: s for s in result.sources}
        for group in result.source_groups:
            console.print(f"[bold]{escape(group.publisher)}[/bold]")
            for n in group.numbers:
                src = by_number[n]
                year = f" ({src.year})" if src.year else ""
                link = f" [dim]{escape(src.url)}[/dim]" if src.url else ""
                console.print(f"  [dim]\\[{n}][/dim] {escape(src.title)}{year}{link}")
    console.print(f"\n[dim]Reading grade {result.reading_grade:g} (Flesch-Kincaid) · "
                  f"{result.word_count()} words · knowledge base {result.kb_version}[/dim]")
