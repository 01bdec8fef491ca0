"""The knowledge base's coverage on the terminal (``scanwise kb``), from the plain data of
``Scanwise.coverage()``: rich only, none of the domain's models, so that ``kb`` (which reads
the coverage from the knowledge cache) loads no models at all."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table


def print_coverage(data: dict[str, Any], out: Console) -> None:
    """The summary line and one row per topic; fits 80 columns (long titles wrap, retired
    topics are marked in the title)."""
    out.print(f"[bold]scanwise knowledge base[/] {data['kb_version']}: {data['topics']} current ACR "
              f"topics, {data['variants']} variants, {data['variants_with_verified_ratings']} with "
              f"verified ratings ({data['variants_with_complete_tables']} complete tables), "
              f"{data['variants_with_statements_only']} with other guidelines' statements only, "
              f"{data['variants_with_nothing']} with nothing; {data['guideline_statements']} statements "
              f"from other guideline bodies; {data['retired_topics']} retired topics kept for reference.")
    for p in data.get("packs", []):
        out.print(f"[magenta]content pack {escape(p['name'])} {escape(p['version'])}[/] from "
                  f"{escape(p['publisher'])} ({escape(p['license'])})")
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    table.add_column("Topic", justify="right", no_wrap=True)
    table.add_column("Title", ratio=1, overflow="fold")
    table.add_column("Var.", justify="right", no_wrap=True)
    for col in ("ACR", "Others", "None"):
        table.add_column(col, max_width=10, overflow="fold")
    for col in ("Compl.", "Rated"):
        table.add_column(col, justify="right", no_wrap=True)

    def numbers(items: list[int]) -> str:
        """Variant numbers, runs shortened: V1-4, V7."""
        runs: list[list[int]] = []
        for n in sorted(items):
            if runs and n == runs[-1][-1] + 1:
                runs[-1].append(n)
            else:
                runs.append([n])
        return ", ".join(f"V{r[0]}" if len(r) == 1 else f"V{r[0]}-{r[-1]}" for r in runs) or "–"

    for t in data["by_topic"]:
        if not t["variants"]:
            # variants not in the data: statements can only be on the topic as a whole
            acr, only, none = "–", (f"{t['topic_statements']} (topic)" if t["topic_statements"]
                                    else "–"), "no data"
        else:
            acr, only, none = (numbers(t["with_acr_ratings"]), numbers(t["with_statements_only"]),
                               numbers(t["with_nothing"]))
        title = escape(t["title"]) + ("" if t["status"] == "current" else f" [dim]({t['status']})[/]")
        if t["pack"]:
            replaces = f", replaces {t['replaces']}" if t["replaces"] else ""
            title += escape(f" [pack {t['pack']}{replaces}]")
        table.add_row(str(t["topic_id"]), title, str(t["variants"]), acr, only, none,
                      str(t["variants_with_complete_tables"]), str(t["rated_procedures"]))
    out.print(table)
    out.print("[dim]Var.: variants · ACR: variants with ACR ratings · Others: variants with only "
              "other guidelines' statements · None: variants with neither · Compl.: variants with "
              "complete rating tables · Rated: rated study rows[/]")
