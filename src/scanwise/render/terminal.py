"""Readable terminal output (rich) for assessments and knowledge-base coverage."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from scanwise.domain.assess import Assessment, Match
from scanwise.domain.kb import CATEGORY_ORDER

_STYLE = {
    "Usually Appropriate": "bold green",
    "May Be Appropriate": "yellow",
    "May Be Appropriate (Disagreement)": "yellow",
    "Usually Not Appropriate": "red",
}


def _facts(a: Assessment) -> str:
    p = a.profile
    bits: list[str] = []
    if p.age is not None or p.population:
        bits.append(" ".join(x for x in (f"{p.age}-year-old" if p.age else "", p.population or "") if x))
    for label, value in (("pregnant", p.pregnant), ("breastfeeding", p.lactating)):
        if value:
            bits.append(label)
    if p.histology:
        bits.append({"dcis": "DCIS"}.get(p.histology, p.histology))
    if p.tumor_size_mm is not None:
        bits.append(f"{p.tumor_size_mm:g} mm")
    if p.grade:
        bits.append(f"grade {p.grade}")
    receptors = " ".join(f"{k.upper()}{'+' if v == 'positive' else '−' if v == 'negative' else ' ' + v}"
                         for k, v in (("er", p.er), ("pr", p.pr), ("her2", p.her2)) if v)
    if receptors:
        bits.append(receptors)
    tnm = " ".join(x for x in (p.t, p.n, p.m) if x)
    if tnm:
        bits.append(tnm)
    if a.stage.groups:
        bits.append(f"stage {' / '.join(a.stage.groups)} ({a.stage.basis})")
    if p.nodal_status:
        bits.append(f"nodes clinically {p.nodal_status}")
    for name, stated in (("surgery", p.surgery), ("reconstruction", p.reconstruction),
                         ("implants", p.implant), ("neoadjuvant", p.neoadjuvant), ("risk", p.risk)):
        if stated:
            bits.append(f"{name}: {stated.replace('_', ' ')}")
    if p.symptoms or p.findings:
        bits.append("has: " + ", ".join(c.replace("_", " ") for c in p.symptoms + p.findings))
    if p.denied_symptoms:
        bits.append("denies: " + ", ".join(c.replace("_", " ") for c in p.denied_symptoms))
    if p.labs:
        bits.append("labs: " + ", ".join(f"{k.upper()} {v}" for k, v in p.labs.items()))
    if p.family_history:
        bits.append("family history: " + "; ".join(p.family_history))
    return " · ".join(bits) or "nothing specific"


def _procedure_table(m: Match) -> Table:
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    table.add_column("Category")
    table.add_column("Study")
    table.add_column("Radiation (adult RRL)")
    table.add_column("Rating", justify="right")
    last = None
    for p in m.procedures:
        category = p.category if p.category != last else ""
        last = p.category
        known = p.rrl is not None or p.rrl_msv
        dose = f"{p.rrl_symbols} {p.rrl_msv or ''}".strip() if known else "not in data"
        name = escape(p.name) + ("  ← asked" if p.asked else "")
        table.add_row(f"[{_STYLE[p.category]}]{escape(category)}[/]", name, escape(dose),
                      str(p.rating) if p.rating else "–")
    return table


def print_assessment(a: Assessment, out: Console) -> None:
    out.print(f"[dim]scanwise · knowledge base {a.kb_version}[/]")
    if not a.indication.in_scope:
        out.print(f"[bold]Out of scope.[/] {escape(a.statement)}")
        return
    out.print(f"[bold]Patient:[/] {escape(_facts(a))}")
    ind = a.indication
    asked = ", ".join(c.replace("_", " ") for c in ind.asked_procedures)
    out.print("[bold]Question:[/] " + " · ".join(x for x in (
        (ind.phase or "situation unknown").replace("_", " "),
        f"purpose {ind.purpose}" if ind.purpose else "purpose not stated",
        f"asks about {asked}" if asked else "") if x))
    for note in ind.assumptions:
        out.print(f"[dim]  assumed: {escape(note)}[/]")
    if not a.matches:
        out.print()
        out.print(escape(a.statement))
    if a.ambiguity:
        out.print(f"\n[yellow]{escape(a.ambiguity)}[/]")
    for i, m in enumerate(a.matches):
        out.print()
        head = "Best fit" if i == 0 else f"Also fits ({i + 1})"
        year = f", {m.year}" if m.year else ""
        out.print(f"[bold]{head}: ACR topic {m.topic_id} — {escape(m.topic)}{year}, variant "
                  f"{m.variant}[/]" + ("  [magenta](retired topic)[/]" if m.status != "current" else ""))
        out.print(f"  {escape(m.label or 'label not in the bundled data')}")
        out.print("  [green]why:[/] " + escape("; ".join(m.why)))
        if m.unknown:
            out.print("  [yellow]not known:[/] " + escape("; ".join(m.unknown)))
        if m.procedures and i == 0:
            out.print(_procedure_table(m))
        elif m.procedures:
            best = [p.name for p in m.procedures if CATEGORY_ORDER[p.category] == 0]
            out.print("  usually appropriate: " + escape(", ".join(best) or "none"))
        if m.ratings_note:
            out.print(f"  [yellow]{escape(m.ratings_note)}[/]")
        if m.unrated_procedures:
            out.print("  listed without a rating in the bundled data: "
                      + escape(", ".join(m.unrated_procedures)))
        if i == 0:
            out.print(f"  [dim]source: {escape(m.citation)} {escape(' '.join(m.source_urls[:1]))}[/]")
    for u in a.uncovered_topics:
        out.print(f"\n[bold]Also relevant:[/] {escape(u.note)} {escape(' '.join(u.source_urls[:1]))}")
    if a.red_flags:
        out.print("\n[bold red]Red flags[/]")
        for f in a.red_flags:
            why = ", ".join(t.label + (f' ("{t.evidence}")' if t.evidence else "") for t in f.triggered_by)
            out.print(f"  [red]•[/] [bold]{escape(f.title)}[/] — {escape(why)}")
            out.print(f"    {escape(f.advice)}")
            out.print(f"    [dim]sources: {escape(', '.join(f.sources))} (confidence: {f.confidence})[/]")
    if a.missing:
        out.print("\n[bold]What would refine this[/]")
        for item in a.missing:
            decides = ", ".join(f"{d.topic_id}/{d.variant}" for d in item.decides)
            out.print(f"  • {escape(item.question)}" + (f" [dim](decides {decides})[/]" if decides else ""))
    for note in a.notes:
        out.print(f"\n[yellow]Note:[/] {escape(note)}")
    out.print("\n[dim]Guidance from published guidelines, not medical advice: the treating team "
              "decides.[/]")


def print_coverage(data: dict[str, Any], out: Console) -> None:
    """The summary line and one row per topic; fits 80 columns (long titles wrap, retired
    topics are marked in the title)."""
    out.print(f"[bold]scanwise knowledge base[/] {data['kb_version']}: {data['topics']} current ACR "
              f"topics, {data['variants']} variants, {data['variants_with_verified_ratings']} with "
              f"verified ratings ({data['variants_with_complete_tables']} complete tables); "
              f"{data['retired_topics']} retired topics kept for reference.")
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    table.add_column("Topic", justify="right", no_wrap=True)
    table.add_column("Title", ratio=1, overflow="fold")
    for col in ("Var.", "Verif.", "Compl.", "Rated"):
        table.add_column(col, justify="right", no_wrap=True)
    for t in data["by_topic"]:
        title = escape(t["title"]) + ("" if t["status"] == "current" else f" [dim]({t['status']})[/]")
        table.add_row(str(t["topic_id"]), title, str(t["variants"]),
                      str(t["variants_with_verified_ratings"]), str(t["variants_with_complete_tables"]),
                      str(t["rated_procedures"]))
    out.print(table)
    out.print("[dim]Var.: variants · Verif.: variants with verified ratings · Compl.: variants "
              "with complete rating tables · Rated: rated study rows[/]")
