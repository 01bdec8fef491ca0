"""`scanwise review`: clinical review of the articles, as a publisher of medical content does.

    scanwise review [--json] [--all]           what is unreviewed or stale (knowledge changed since)
    scanwise review sign 310 5 --reviewer "Dr A. Name" --role "Breast radiologist" [--date D]

Sign-offs are stored as data in knowledge/reviews/sign-offs.yaml (or $SCANWISE_REVIEWS_DIR),
versioned with the knowledge in the repository. Only a real review should ever be signed.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from functools import cache
from typing import TYPE_CHECKING, Annotated

import typer

from scanwise.cli import common

if TYPE_CHECKING:
    from rich.console import Console

review_app = typer.Typer(
    name="review",
    help="Clinical review: list unreviewed or stale articles, and record a clinician's sign-off.",
    invoke_without_command=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@cache
def out() -> Console:
    """Standard output's console, made on first use: rich is not imported for other commands."""
    from rich.console import Console

    return Console(highlight=False, soft_wrap=False)


@review_app.callback()
def review_list(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
    show_all: Annotated[bool, typer.Option("--all", help="Also list the reviewed articles.")] = False,
) -> None:
    """List the articles that are unreviewed or stale (the knowledge behind them changed)."""
    if ctx.invoked_subcommand is not None:
        return
    core = common.core()
    rows = core.review_status()
    counts = {s: sum(r["state"] == s for r in rows) for s in ("reviewed", "stale", "unreviewed")}
    shown = [r for r in rows if show_all or r["state"] != "reviewed"]
    if as_json:
        sys.stdout.write(json.dumps({"kb_version": core.kb_version, "counts": counts, "items": shown},
                                    indent=2, ensure_ascii=False) + "\n")
        return
    from rich.markup import escape
    from rich.table import Table

    out().print(f"[dim]scanwise · knowledge base {core.kb_version}[/]")
    out().print(f"[bold]{len(rows)} articles[/]: {counts['reviewed']} reviewed, {counts['stale']} stale "
                f"(knowledge changed since the sign-off), {counts['unreviewed']} not yet reviewed by a "
                "clinician.")
    table = Table(show_header=True, header_style="bold", box=None)
    for col in ("Article", "State", "Last sign-off", "Title"):
        table.add_column(col)
    for r in shown:
        last = (f"{r['reviewer']} ({r['role']}), {r['date']}, kb {r['kb_version']}"
                if r["reviewer"] else "–")
        style = {"stale": "yellow", "unreviewed": "red", "reviewed": "green"}[r["state"]]
        table.add_row(r["key"], f"[{style}]{r['state']}[/]", escape(last), escape(r["title"]))
    out().print(table)


@review_app.command("sign")
def review_sign(
    topic: Annotated[int, typer.Argument(help="ACR topic id, e.g. 310.")],
    variant: Annotated[int, typer.Argument(help="Variant number, e.g. 5.")],
    reviewer: Annotated[str, typer.Option("--reviewer", help="The clinician's name.")],
    role: Annotated[str, typer.Option("--role", help="Their role, e.g. 'Breast radiologist'.")],
    on: Annotated[str | None, typer.Option("--date", help="Review date, YYYY-MM-DD (default today).")] = None,
) -> None:
    """Record a clinician's sign-off on one article, against the knowledge as it is now."""
    from rich.markup import escape

    from scanwise.core import NotFound, UnusableInput
    from scanwise.domain.kb import KnowledgeBaseError
    from scanwise.knowledge.reviews import reviews_dir

    try:
        when = dt.date.fromisoformat(on) if on else None
    except ValueError as exc:
        raise common.fail(f"--date: {on!r} is not a date (YYYY-MM-DD)") from exc
    core = common.core()
    try:
        record = core.sign_review(topic, variant, reviewer=reviewer, role=role, on=when)
    except NotFound as exc:
        raise common.fail(str(exc)) from exc
    except UnusableInput as exc:
        raise common.fail(f"--{exc.field}: {exc.message.split(': ', 1)[-1]}") from exc
    except KnowledgeBaseError as exc:
        raise common.fail(str(exc), common.OUR_FAULT) from exc
    out().print(f"Recorded: article {record.key} reviewed by {escape(record.reviewer)} "
                f"({escape(record.role)}) on {record.date}, knowledge base {record.kb_version}, in "
                f"{reviews_dir() / 'sign-offs.yaml'}.")


def register(app: typer.Typer) -> None:
    app.add_typer(review_app, name="review")
