"""``scanwise extract``: read patients' records and show each fact with where it came from.

    scanwise extract FILE... [--json]        ("-" reads standard input)

Text, text-based PDF and FHIR R4 JSON (Bundle or single resources, mCODE profiles) are read
into one profile. Each fact shows the words it came from and their character position (or
the FHIR resource), then the warnings (what was added up, inferred or replaced) and the
conflicts (statements that disagree; those facts stay unknown). Bad files exit with status 2
and a message naming the file and the problem. Record text is processed in memory only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from scanwise.cli.common import JsonFlag, console, core, core_errors, print_json, read_files

HELP = (
    "Read patient records (pathology report as text, a text PDF from the patient portal, a "
    "clinic note, or a FHIR R4 / mCODE JSON bundle) into the facts that matter for imaging, "
    'each with the words it came from. "-" reads standard input. Limit: 5 MB per file.'
)


def extract_command(
    files: Annotated[list[Path], typer.Argument(
        help='Record files (text, PDF, FHIR JSON); "-" reads stdin.')],
    as_json: JsonFlag = False,
) -> None:
    """Read patient records into the facts that matter for imaging, with their evidence."""
    app = core()
    with core_errors():
        reading = app.read_records(read_files(files))
    from scanwise.render.records import print_reading, reading_json

    if as_json:
        print_json(reading_json(reading))
    else:
        print_reading(reading, console())


def register(app: typer.Typer) -> None:
    app.command("extract", help=HELP)(extract_command)
