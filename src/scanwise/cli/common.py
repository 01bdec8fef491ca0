"""What every command shares: the one error rule, the core, standard input and record files.

The exit-code rule, for every command:

- 0: done (also when nothing in the knowledge base applies: that is an answer);
- 2: the input cannot be used (empty text, an unreadable file, an unknown stage value, a
  scenarios file that is not valid YAML, a port already in use). The message names it.
- 1: a fault of ours (the bundled knowledge base failed to load, an unexpected error); a
  content pack given with ``--kb-pack`` that fails to load is the user's input (2).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from scanwise.core import Scanwise

UNUSABLE_INPUT = 2
OUR_FAULT = 1

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]
RetiredFlag = Annotated[bool, typer.Option(
    "--include-retired", help="Also match retired guideline topics (for reference only).")]
RecordFiles = Annotated[list[Path] | None, typer.Option(
    "--record", help="A patient record (text, PDF or FHIR JSON) whose facts fill the profile; "
                     "repeat for more.")]


def group(name: str, help: str) -> typer.Typer:
    """A command group (the `scanwise` app itself, `scanwise articles`), all set up alike."""
    return typer.Typer(name=name, help=help, no_args_is_help=True, add_completion=False,
                       pretty_exceptions_enable=False)


def console(*, stderr: bool = False) -> Console:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=False)


def fail(message: str, code: int = UNUSABLE_INPUT) -> typer.Exit:
    """Print ``error: message`` to standard error; raise the returned Exit."""
    from rich.markup import escape

    console(stderr=True).print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
    return typer.Exit(code)


@contextmanager
def core_errors() -> Iterator[None]:
    """The core's errors as exit codes: unusable input and unknown things 2, our faults 1.

    The error classes are imported only when something is raised: the knowledge base's models
    (where ``KnowledgeBaseError`` lives) are not loaded by a command that does not need them."""
    try:
        yield
    except Exception as exc:
        from scanwise.core import NotFound, UnusableInput
        from scanwise.domain.kb import KnowledgeBaseError

        if isinstance(exc, (UnusableInput, NotFound)):
            raise fail(str(exc)) from exc
        if not isinstance(exc, KnowledgeBaseError):
            raise
        from scanwise.knowledge.files import configured_packs

        if configured_packs():  # a content pack the user gave: their input, named by its file
            raise fail(f"the knowledge base with its content packs failed to load: {exc}") from exc
        raise fail(f"the bundled knowledge base failed to load: {exc}", OUR_FAULT) from exc


def core(*, warm_reader: bool = False) -> Scanwise:
    """The process's application core (the knowledge base loads here, once).

    ``warm_reader``: read text through the background reader (:mod:`scanwise.warm_reader`)
    when one is up, and start one for the next command when none is: for the commands a
    person types one at a time (``recommend``, ``ask``), not for batches."""
    from scanwise.core import Scanwise

    with core_errors():
        app = Scanwise.default()
    if warm_reader:
        from scanwise import warm_reader as warm

        if warm.enabled() and app.warm_reader is None:
            app.warm_reader = warm.WarmReader(app.kb_version)
    return app


def warm_answer(question: str, context: str | None, *, include_retired: bool) -> dict[str, Any] | None:
    """``Scanwise.answer_json`` from the warm reader (:mod:`scanwise.warm_reader`), which keeps
    the reader and the answer engine loaded: this process then loads neither, nor the
    knowledge base. None when no warm reader can answer (then answer in-process); one is
    started for the next command. Content packs are never served by it."""
    from scanwise import warm_reader as warm

    if not warm.enabled():
        return None
    from scanwise.knowledge.files import bundled_version, configured_packs

    if configured_packs():
        return None
    try:
        version = bundled_version()
    except Exception:  # noqa: BLE001 (no data files: the in-process path says what is wrong)
        return None
    try:
        return warm.WarmReader(version).answer(question, context, include_retired=include_retired)
    except warm.Refused as exc:  # the core's own message for unusable input
        raise fail(str(exc)) from exc


def read_arg(text: str, what: str = "the text") -> str:
    """An argument as given, or standard input for "-"."""
    if text != "-":
        return text
    try:
        return sys.stdin.buffer.read().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise fail(f"standard input ({what}) is not UTF-8 text") from exc


def read_files(paths: list[Path] | list[str]) -> list[tuple[str, bytes]]:
    """Record files (or "-" for standard input) as (name, bytes) for ``Scanwise.read_records``.

    Only the files are opened here; what they hold is the core's to judge. A file over the
    size limit is not read whole: its first bytes past the limit are enough to refuse it.
    """
    from scanwise.records.model import MAX_BYTES

    sources: list[tuple[str, bytes]] = []
    for path in paths:
        name = str(path)
        if name == "-":
            sources.append(("stdin", sys.stdin.buffer.read(MAX_BYTES + 1)))
            continue
        p = Path(name)
        if p.is_dir():
            raise fail(f"{name} is a folder, not a record file")
        try:
            with p.open("rb") as f:
                sources.append((p.name, f.read(MAX_BYTES + 1)))
        except OSError as exc:
            raise fail(f"cannot read {name}: {exc.strerror or exc}") from exc
    return sources


def print_json(data: Any) -> None:
    """A pydantic model or plain data as indented JSON on standard output."""
    import json

    text = data.model_dump_json(indent=2) if hasattr(data, "model_dump_json") \
        else json.dumps(data, indent=2, ensure_ascii=False)
    sys.stdout.write(text + "\n")
