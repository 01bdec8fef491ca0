"""Readable terminal output (rich) for assessments (knowledge-base coverage: render/coverage.py,
re-exported here)."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from scanwise.domain.assess import Assessment, Match, StatementRef
from scanwise.domain.kb import CATEGORY_ORDER
from scanwise.domain.statements import disagreements, statement_line
from scanwise.render.coverage import print_coverage as print_coverage

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


def dose_words(symbols: str, msv: str | None) -> str:
    """The radiation level as shown: symbols and dose once each ("varies", not "varies Varies")."""
    parts = [x for x in (symbols.strip(), (msv or "").strip()) if x]
    if len(parts) == 2 and parts[0].lower() == parts[1].lower():
        parts = parts[:1]
    return " ".join(parts)


def _procedure_table(m: Match) -> Table:
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    table.add_column("Category")
    table.add_column("Study")
    table.add_column("Radiation (adult RRL)")
    rated = any(p.rating for p in m.procedures)  # no numeric ratings: no empty column
    if rated:
        table.add_column("Rating", justify="right")
    last = None
    for p in m.procedures:
        category = p.category if p.category != last else ""
        last = p.category
        known = p.rrl is not None or p.rrl_msv
        dose = dose_words(p.rrl_symbols, p.rrl_msv) if known else "not in data"
        name = escape(p.name) + ("  ← asked" if p.asked else "")
        row = [f"[{_STYLE[p.category]}]{escape(category)}[/]", name, escape(dose)]
        table.add_row(*row, *([str(p.rating) if p.rating else "–"] if rated else []))
    return table


def _print_decision(a: Assessment, out: Console) -> None:
    """The branch: what it depends on, the question that decides it, each branch's studies."""
    d = a.decision
    if d is None:
        return
    out.print(f"\n[bold yellow]Depends on {escape(d.depends_on)}.[/] {escape(d.question)}")
    for b in d.branches:
        m = next((x for x in a.matches if (x.topic_id, x.variant) == (b.topic_id, b.variant)), None)
        out.print(f"  [bold]If {escape(b.if_)}:[/] ACR topic {b.topic_id}, variant {b.variant}"
                  + (f" — {escape(b.label)}" if b.label else ""))
        if m is not None and m.procedures:
            best = [p.name for p in m.procedures if CATEGORY_ORDER[p.category] == 0]
            out.print("    usually appropriate: " + escape(", ".join(best) or "none"))
        elif m is not None:
            out.print("    ratings not in the bundled data")


def print_assessment(a: Assessment, out: Console) -> None:
    out.print(f"[dim]scanwise · knowledge base {a.kb_version}[/]")
    if not a.indication.in_scope:
        out.print(f"[bold]Out of scope.[/] {escape(a.statement)}")
        return
    out.print(f"[bold]Patient:[/] {escape(_facts(a))}")
    ind = a.indication
    # The studies as the text named them, not their codes.
    asked = ", ".join(dict.fromkeys(e.text for e in ind.evidence.get("asked_procedures", []))) or \
        ", ".join(c.replace("_", " ") for c in ind.asked_procedures)
    out.print("[bold]Question:[/] " + " · ".join(x for x in (
        (ind.phase or "situation unknown").replace("_", " "),
        f"purpose {ind.purpose}" if ind.purpose else "purpose not stated",
        f"asks about {asked}" if asked else "") if x))
    for note in ind.assumptions:
        out.print(f"[dim]  assumed: {escape(note)}[/]")
    if a.unread:
        words = ", ".join(f'"{u.text}"' for u in a.unread)
        out.print(f"[bold yellow]Not understood:[/] {escape(words)} — these words were not read "
                  "as any fact; check them: they may change the answer")
    if not a.matches:
        out.print()
        out.print(escape(a.statement))
        if a.abstention is not None and a.abstention.nearest:
            out.print("[bold]Nearest scenarios (not chosen):[/] " + escape("; ".join(
                f"topic {n.topic_id} variant {n.variant}" + (f" — {n.label}" if n.label else "")
                for n in a.abstention.nearest)))
    if a.decision is not None:
        _print_decision(a, out)
    elif a.ambiguity:
        out.print(f"\n[yellow]{escape(a.ambiguity)}[/]")
    branches = [(b.topic_id, b.variant, b.if_) for b in a.decision.branches] if a.decision else []
    for i, m in enumerate(a.matches):
        out.print()
        branch = next((f for t, v, f in branches if (t, v) == (m.topic_id, m.variant)), None)
        head = f"If {branch}" if branch else "Best fit" if i == 0 and not branches else f"Also fits ({i + 1})"
        year = f", {m.year}" if m.year else ""
        out.print(f"[bold]{head}: ACR topic {m.topic_id} — {escape(m.topic)}{year}, variant "
                  f"{m.variant}[/]" + ("  [magenta](retired topic)[/]" if m.status != "current" else ""))
        out.print(f"  {escape(m.label or 'label not in the bundled data')}")
        out.print("  [green]why:[/] " + escape("; ".join(m.why)))
        if m.unknown:
            out.print("  [yellow]not known:[/] " + escape("; ".join(m.unknown)))
        if m.procedures and (i == 0 or branch):
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
    print_other_guidance(a, out)
    out.print("\n[dim]Guidance from published guidelines, not medical advice: the treating team "
              "decides.[/]")


def _statement_lines(refs: list[StatementRef], shown: set[str], out: Console) -> None:
    for d in disagreements(refs):
        out.print(f"  [yellow]{escape(d.sentence())}[/]")
    for r in refs:
        if r.id in shown:
            out.print(f"  • {escape(statement_line(r))}: as above ({r.id})")
            continue
        shown.add(r.id)
        about = f" [{', '.join(r.procedures)}]" if r.procedures else ""
        out.print(f"  • [bold]{escape(statement_line(r))}[/]{escape(about)}: {escape(r.text)}")
        out.print(f"    [dim]{escape(r.document)}{' ' + escape(r.url) if r.url else ''}[/]")


def print_other_guidance(a: Assessment, out: Console) -> None:
    """Which content pack supplied a table, and what other guidelines say: never ACR ratings."""
    for m in a.matches:
        if m.pack:
            out.print(f"\n[magenta]ACR topic {m.topic_id} variant {m.variant}: table from content "
                      f"pack {escape(m.pack)}, not the bundled data.[/]")
    shown: set[str] = set()
    for m in a.matches:
        if not m.statements:
            continue
        rated = "ACR ratings above are the ACR's; these are not" if m.ratings_verified else \
            "ACR rating: unknown (no ACR table in the bundled data); these are not ACR ratings"
        out.print(f"\n[bold]What other guidelines say[/] — ACR topic {m.topic_id} variant {m.variant} "
                  f"[dim]({rated})[/]")
        _statement_lines(m.statements, shown, out)
    for u in a.uncovered_topics:
        if u.statements:
            out.print(f"\n[bold]What other guidelines say[/] — ACR topic {u.topic_id} ({escape(u.title)}) "
                      "[dim](ACR rating: unknown, its variants are not in the bundled data; these are "
                      "not ACR ratings)[/]")
            _statement_lines(u.statements, shown, out)
