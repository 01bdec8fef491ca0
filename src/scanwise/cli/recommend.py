"""``scanwise recommend``: a clinical scenario (typed, from records, or both) to guidance."""

from __future__ import annotations

from typing import Annotated

import typer

from scanwise.cli import common
from scanwise.cli.common import JsonFlag, RecordFiles, RetiredFlag


def recommend(
    text: Annotated[str | None, typer.Argument(
        help='The clinical scenario, or "-" to read stdin; optional with --record.')] = None,
    as_json: JsonFlag = False,
    include_retired: RetiredFlag = False,
    record: RecordFiles = None,
) -> None:
    """Match a clinical scenario to guideline variants and show every rated study."""
    if text is None and not record:
        raise common.fail("give the clinical scenario as TEXT, or a patient record with --record FILE")
    app = common.core(warm_reader=True)
    typed = common.read_arg(text, "the scenario") if text is not None else ""
    with common.core_errors():
        inputs = app.read_inputs(typed, common.read_files(record) if record else None)
        result = app.assess_inputs(inputs, include_retired=include_retired)
    if as_json and inputs.reading is None:
        common.print_json(result)
        return
    from scanwise.render.records import print_reading, reading_json
    from scanwise.render.terminal import print_assessment

    if as_json and inputs.reading is not None:
        data = result.model_dump(mode="json")
        data["record"] = reading_json(inputs.reading)
        data["record"]["facts_used"] = inputs.facts_used
        common.print_json(data)
    else:
        out = common.console()
        if inputs.reading is not None:
            print_reading(inputs.reading, out, title="From the patient's records")
        print_assessment(result, out)


def register(app: typer.Typer) -> None:
    app.command("recommend")(recommend)
