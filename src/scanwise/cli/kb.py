"""``scanwise kb``: what the knowledge base covers."""

from __future__ import annotations

import typer

from scanwise.cli.common import JsonFlag, console, core, print_json


def kb(as_json: JsonFlag = False) -> None:
    """Show what the knowledge base covers: topics, variants, verified ratings."""
    data = core().coverage()
    if as_json:
        print_json(data)
    else:
        from scanwise.render.terminal import print_coverage

        print_coverage(data, console())


def register(app: typer.Typer) -> None:
    app.command("kb")(kb)
