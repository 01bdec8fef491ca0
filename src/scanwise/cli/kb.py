"""``scanwise kb``: what the knowledge base covers."""

from __future__ import annotations

import typer

from scanwise.cli.common import JsonFlag, console, core_errors, print_json


def kb(as_json: JsonFlag = False) -> None:
    """Show what the knowledge base covers: topics, variants, verified ratings."""
    from scanwise.core import Scanwise

    with core_errors():  # from the knowledge cache: the knowledge base itself is not loaded
        data = Scanwise.default_coverage()
    if as_json:
        print_json(data)
    else:
        from scanwise.render.coverage import print_coverage

        print_coverage(data, console())


def register(app: typer.Typer) -> None:
    app.command("kb")(kb)
