"""The `scanwise` command line: a thin adapter over the domain core.

Every command prints readable output for people and, with ``--json``, the same result
as JSON for machines. Unusable input exits with status 2 and a message naming the problem.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from scanwise import cli_articles, cli_ask, cli_audit, cli_records, cli_serve, cli_stage
from scanwise.domain.kb import KnowledgeBaseError, default_kb

app = typer.Typer(
    name="scanwise",
    help="Evidence-based imaging guidance for breast cancer, from published guidelines.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(highlight=False, soft_wrap=False)
err = Console(stderr=True, highlight=False)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]


def fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code)


def _kb():  # type: ignore[no-untyped-def]
    try:
        return default_kb()
    except KnowledgeBaseError as exc:
        raise fail(f"the knowledge base failed to load: {exc}", 3) from exc


def _read_text(text: str) -> str:
    if text == "-":
        data = sys.stdin.buffer.read()
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise fail("standard input is not UTF-8 text") from exc
    return text


@app.command()
def recommend(
    text: Annotated[str | None, typer.Argument(
        help='The clinical scenario, or "-" to read stdin; optional with --record.')] = None,
    as_json: JsonFlag = False,
    include_retired: Annotated[bool, typer.Option(
        "--include-retired", help="Also match retired guideline topics (for reference only).")] = False,
    record: Annotated[list[Path] | None, typer.Option(
        "--record", help="A patient record (text, PDF or FHIR JSON) whose facts fill the profile; "
                         "repeat for more. The text then gives the question.")] = None,
) -> None:
    """Match a clinical scenario to guideline variants and show every rated study."""
    from scanwise.domain.assess import assess
    from scanwise.nlp.scenario import UnusableText, read_scenario
    from scanwise.render.terminal import print_assessment

    kb = _kb()
    if text is None and not record:
        raise fail('give the clinical scenario as TEXT, or a patient record with --record FILE')
    reading = cli_records.read_files(record, kb) if record else None
    try:
        profile, indication = read_scenario(_read_text(text) if text is not None else "", kb,
                                            known=reading.profile if reading else None)
    except UnusableText as exc:
        raise fail(str(exc)) from exc
    result = assess(profile, indication, kb, include_retired=include_retired)
    if as_json and reading is None:
        sys.stdout.write(result.model_dump_json(indent=2) + "\n")
    elif as_json and reading is not None:
        data = json.loads(result.model_dump_json())
        data["record"] = cli_records.reading_json(reading)
        data["record"]["facts_used"] = [k for k in reading.known_fields
                                        if getattr(profile, k) == getattr(reading.profile, k)]
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    else:
        if reading is not None:
            cli_records.print_reading(reading, out, title="From the patient's records")
        print_assessment(result, out)


@app.command("kb")
def kb_command(as_json: JsonFlag = False) -> None:
    """Show what the knowledge base covers: topics, variants, verified ratings."""
    from scanwise.core import Scanwise
    from scanwise.render.terminal import print_coverage

    _kb()
    data = Scanwise.default().coverage()
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    else:
        print_coverage(data, out)


@app.command("eval")
def eval_command(
    as_json: JsonFlag = False,
    scenarios: Annotated[Path | None, typer.Option(
        help="A scenarios YAML file (default: the bundled regression set).")] = None,
) -> None:
    """Run the regression scenarios and print accuracy."""
    from scanwise.eval.runner import load_scenarios, print_report, run

    kb = _kb()
    try:
        cases = load_scenarios(scenarios)
    except (OSError, ValueError) as exc:
        raise fail(str(exc)) from exc
    report = run(cases, kb)
    if as_json:
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
    else:
        print_report(report, out)


cli_stage.register(app)
cli_ask.register(app)
cli_articles.register(app)
cli_records.register(app)
cli_serve.register(app)
cli_audit.register(app)


def main() -> None:
    app()
