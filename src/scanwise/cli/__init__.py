"""The `scanwise` command line: one module per command, each a thin adapter over the core.

Every command parses its arguments, calls the application core (:mod:`scanwise.core`) and
prints with a renderer from :mod:`scanwise.render`; ``--json`` prints the same result for
machines. Exit codes follow one rule (see :mod:`scanwise.cli.common`): 2 for input that cannot
be used, 1 for a fault of ours.

A command is a module with ``register(app)``. To add one, put the module's dotted name in
:data:`COMMANDS`. Modules import only Typer at the top and the rest inside the command, so
``scanwise --help`` does not load the knowledge base, the reader or the web app.
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path
from typing import Annotated

import typer

from scanwise.cli.common import group

#: The modules that add commands, in the order ``--help`` lists them.
COMMANDS: tuple[str, ...] = (
    "scanwise.cli.recommend",
    "scanwise.cli.extract",
    "scanwise.cli.ask",
    "scanwise.cli.stage",
    "scanwise.cli.kb",
    "scanwise.cli.eval",
    "scanwise.cli.articles",
    "scanwise.cli.serve",
    # Commands of other packages plug in the same way: a module with register(app).
    "scanwise.cli_review",
    "scanwise.cli_cds",
    "scanwise.cli_audit",
)

app = group("scanwise", "Evidence-based imaging guidance for breast cancer, from published guidelines.")


@app.callback()
def options(
    kb_pack: Annotated[list[Path] | None, typer.Option(
        "--kb-pack", metavar="DIR",
        help="A licensed content pack (folder with pack.yaml and acr/topic-<id>.yaml) that adds or "
             "replaces topics; repeat for more. Packs in $SCANWISE_KB_PACKS (':'-separated) load "
             "first.")] = None,
) -> None:
    """Evidence-based imaging guidance for breast cancer, from published guidelines."""
    from scanwise.knowledge.files import use_packs

    use_packs(kb_pack or [])

for _name in COMMANDS:
    import_module(_name).register(app)


def main() -> None:
    app()
