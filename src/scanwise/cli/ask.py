"""``scanwise ask``: a plain-language, sourced answer to a patient's imaging question.

    scanwise ask "QUESTION" [--context TEXT | --record FILE ...] [--include-retired] [--json]

``--context`` is the patient's situation in free text ("stage I, ER+ HER2-, just
diagnosed"); ``--record`` reads their records (pathology or imaging reports). Either one
personalises the answer through the assessment engine. Record text is processed in memory
and never logged.
"""

from __future__ import annotations

from typing import Annotated

import typer

from scanwise.cli import common
from scanwise.cli.common import JsonFlag, RecordFiles, RetiredFlag

HELP = (
    "Answer a question about imaging for breast cancer in plain language, with sources. Add "
    "--context (free text) or --record (a report file) to tailor the answer to a situation."
)


def ask_command(
    question: Annotated[str, typer.Argument(help='The question, or "-" to read standard input.')],
    context: Annotated[str | None, typer.Option(
        "--context", help='The patient\'s situation in free text, e.g. "stage I, ER+ HER2-, just diagnosed".')
    ] = None,
    record: RecordFiles = None,
    include_retired: RetiredFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """Answer a question about breast-cancer imaging in plain language, with sources."""
    if context is not None and record:
        raise common.fail("give --context or --record, not both")
    if question == "-" and context == "-":
        raise common.fail("only one of QUESTION and --context can be read from standard input")
    text = common.read_arg(question, "the question")
    if as_json and not record:
        said = common.read_arg(context, "the context") if context is not None else None
        data = common.warm_answer(text, said, include_retired=include_retired)
        if data is None:
            app = common.core(warm_reader=True)
            with common.core_errors():
                data = app.answer_json(text, context=said, context_field="--context",
                                       include_retired=include_retired)
        common.print_json(data)
        return
    app = common.core(warm_reader=True)
    with common.core_errors():
        if context is not None:
            profile, indication = app.read_text(common.read_arg(context, "the context"), "--context")
        elif record:
            profile, indication = app.read_records(common.read_files(record)).profile, None
        else:
            profile, indication = None, None
        result = app.answer(text, profile=profile, indication=indication,
                            include_retired=include_retired)
    follow_ups = app.follow_ups(result)
    if as_json:
        data = result.model_dump(mode="json")
        data["follow_ups"] = follow_ups
        common.print_json(data)
    else:
        from scanwise.render.answer import print_answer

        out = common.console()
        print_answer(result, out, app.facts)
        if follow_ups:
            from rich.markup import escape

            out.print("\n[bold cyan]You could also ask[/bold cyan]")
            for q in follow_ups:
                out.print(f" • {escape(q)}")


def register(app: typer.Typer) -> None:
    app.command("ask", help=HELP)(ask_command)
