"""The `scanwise` command line: a thin adapter over the domain core."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="scanwise",
    help="Evidence-based imaging guidance for breast cancer, from published guidelines.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def main() -> None:
    app()
