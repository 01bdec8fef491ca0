"""``scanwise eval``: the regression (or a held-out) scenario set through reader and engine."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from scanwise.cli.common import JsonFlag, console, core, fail, print_json


def eval_command(
    as_json: JsonFlag = False,
    scenarios: Annotated[Path | None, typer.Option(
        help="A scenarios YAML file (default: the bundled regression set).")] = None,
) -> None:
    """Run the regression scenarios and print accuracy."""
    from scanwise.eval.runner import ScenarioFileError, load_scenarios, run

    try:
        cases = load_scenarios(scenarios)
    except ScenarioFileError as exc:
        raise fail(str(exc)) from exc
    report = run(cases, core())
    if as_json:
        print_json(report)
    else:
        from scanwise.render.eval import print_report

        print_report(report, console())


def register(app: typer.Typer) -> None:
    app.command("eval")(eval_command)
