"""``scanwise ask``: a plain-language, sourced answer to a patient's imaging question.

    scanwise ask "QUESTION" [--context TEXT | --record FILE ...] [--json]

``--context`` is the patient's situation in free text ("stage I, ER+ HER2-, just
diagnosed"); ``--record`` reads their records (pathology or imaging reports) through
``scanwise.records``. Either one personalises the answer through the assessment engine.
Record text is processed in memory and never logged.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from scanwise.render.answer import print_answer

if TYPE_CHECKING:
    from scanwise.domain.profile import Indication, PatientProfile

HELP = (
    "Answer a question about imaging for breast cancer in plain language, with sources. Add "
    "--context (free text) or --record (a report file) to tailor the answer to a situation."
)


def _fail(message: str, code: int = 2) -> typer.Exit:
    Console(stderr=True, highlight=False).print(f"[bold red]error:[/] {escape(message)}")
    return typer.Exit(code)


def _read_arg(text: str, what: str) -> str:
    if text != "-":
        return text
    try:
        return sys.stdin.buffer.read().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _fail(f"standard input ({what}) is not UTF-8 text") from exc


def _from_records(paths: list[Path]) -> PatientProfile:
    try:
        from scanwise.records import read_records  # type: ignore[import-not-found,unused-ignore]
    except ImportError as exc:
        raise _fail("--record needs the record reader (scanwise.records), which this installation "
                    "does not have; describe the situation with --context instead") from exc
    sources: list[tuple[str, bytes]] = []
    for path in paths:
        try:
            sources.append((path.name, path.read_bytes()))
        except OSError as exc:
            raise _fail(f"cannot read record file {path}: {exc.strerror or exc}") from exc
    try:
        reading = read_records(sources)
    except ValueError as exc:
        raise _fail(f"the records could not be read: {exc}") from exc
    profile: PatientProfile = reading.profile
    return profile


def ask_command(
    question: Annotated[str, typer.Argument(help='The question, or "-" to read standard input.')],
    context: Annotated[str | None, typer.Option(
        "--context", help='The patient\'s situation in free text, e.g. "stage I, ER+ HER2-, just diagnosed".')
    ] = None,
    record: Annotated[list[Path] | None, typer.Option(
        "--record", help="A record file (pathology or imaging report); repeat for more.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
) -> None:
    """Answer a question about breast-cancer imaging in plain language, with sources."""
    from scanwise.core import Scanwise
    from scanwise.domain.answers import UnusableQuestion, answer
    from scanwise.domain.kb import KnowledgeBaseError

    if context is not None and record:
        raise _fail("give --context or --record, not both")
    if question == "-" and context == "-":
        raise _fail("only one of QUESTION and --context can be read from standard input")
    try:
        core = Scanwise.default()  # knowledge and fact base from the on-disk cache when current
        kb, facts = core.kb, core.facts
    except KnowledgeBaseError as exc:
        raise _fail(f"the knowledge base failed to load: {exc}", 3) from exc
    text = _read_arg(question, "the question")
    profile: PatientProfile | None = None
    indication: Indication | None = None
    if context is not None:
        from scanwise.nlp.scenario import UnusableText, read_scenario

        try:
            profile, indication = read_scenario(_read_arg(context, "the context"), kb)
        except UnusableText as exc:
            raise _fail(f"--context: {exc}") from exc
    elif record:
        profile = _from_records(record)
    try:
        result = answer(text, kb, facts, profile=profile, indication=indication)
    except UnusableQuestion as exc:
        raise _fail(str(exc)) from exc
    if as_json:
        sys.stdout.write(result.model_dump_json(indent=2) + "\n")
    else:
        print_answer(result, Console(highlight=False))


def register(app: typer.Typer) -> None:
    app.command("ask", help=HELP)(ask_command)
