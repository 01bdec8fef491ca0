"""The command line's warm reader (scanwise.warm_reader): the same reading as in-process, only
for this user, never for other data or code, and gone when idle."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from scanwise import warm_reader
from scanwise.core import Scanwise, UnusableInput

TEXTS = [
    "45F palpable lump left breast",
    "my mom had breast cancer at 50. I'm 41, should I get an MRI?",
    "new dx stage II L IDC, ER+/PR+/HER2-, asymptomatic. need CT/bone scan for staging?",
]


@pytest.fixture
def runtime(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    # A short folder: a Unix socket's path has a limit of about 100 characters.
    folder = Path(tempfile.mkdtemp(prefix="sw", dir="/tmp"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(folder))
    monkeypatch.delenv("SCANWISE_NO_WARM_READER", raising=False)
    yield folder


@pytest.fixture
def reader(runtime: Path) -> Iterator[warm_reader.WarmReader]:
    core = Scanwise.default()
    warm_reader.start(core.kb_version)
    target = warm_reader.address(core.kb_version)
    assert target is not None
    assert target.parent == runtime / f"scanwise-{os.getuid()}"
    deadline = time.monotonic() + 120
    while not target.exists():
        assert time.monotonic() < deadline, "the background reader did not come up"
        time.sleep(0.1)
    yield warm_reader.WarmReader(core.kb_version)
    assert warm_reader.stop(core.kb_version)
    deadline = time.monotonic() + 30
    while target.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not target.exists(), "the reader removes its socket when it stops"


def test_same_reading_as_in_process(reader: warm_reader.WarmReader) -> None:
    here = Scanwise(Scanwise.default().kb)
    warm = Scanwise(here.kb)
    warm.warm_reader = reader
    for text in TEXTS:
        assert reader.read(text, None) is not None, "the reading came from the background reader"
        assert warm.read_text(text) == here.read_text(text)
    known, _ = here.read_text("62 yo woman, ER positive HER2 negative IDC")
    assert warm.read_text("staging?", known=known) == here.read_text("staging?", known=known)
    assert warm.answer("Do I need a PET scan for stage 1 breast cancer?") == \
        here.answer("Do I need a PET scan for stage 1 breast cancer?")


def test_unusable_text_is_the_same_error(reader: warm_reader.WarmReader) -> None:
    here = Scanwise(Scanwise.default().kb)
    warm = Scanwise(here.kb)
    warm.warm_reader = reader
    for bad in ("   ", "x" * 200_000, "a\x00b"):
        with pytest.raises(UnusableInput) as in_process:
            here.read_text(bad, "--context")
        with pytest.raises(UnusableInput) as through_reader:
            warm.read_text(bad, "--context")
        assert str(through_reader.value) == str(in_process.value)
        assert through_reader.value.field == "--context"


#: What a short command must not load at start-up (the design the start-up figures rest on).
SPACY = {"spacy", "medspacy"}
HEAVY = {"textstat", "pkg_resources"} | SPACY
ANSWERS = {"scanwise.domain.answers"}
MODELS = {"scanwise.knowledge.loader", "scanwise.domain.kb", "pydantic", "yaml"}


def _command(args: list[str], **env: str) -> tuple[str, set[str]]:
    """Run ``scanwise ARGS`` in a fresh process: its standard output and the modules it loaded
    (of those named above, and rich)."""
    watched = sorted(HEAVY | ANSWERS | MODELS | {"rich"})
    script = ("import atexit, json, sys\n"
              f"watched = {watched!r}\n"
              "atexit.register(lambda: sys.stderr.write('LOADED=' + json.dumps("
              "[m for m in watched if m in sys.modules])))\n"
              "from scanwise.cli import main\n"
              f"sys.argv = ['scanwise', *{args!r}]\n"
              "main()\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env={**os.environ, **env}, check=True)
    return done.stdout, set(json.loads(done.stderr.rpartition("LOADED=")[2]))


def test_importing_the_command_line_loads_nothing_heavy() -> None:
    script = ("import sys, scanwise.cli\n"
              "print(sorted(m for m in sys.modules if m.split('.')[0] in "
              "('spacy', 'medspacy', 'textstat', 'pkg_resources', 'rich', 'pydantic', 'yaml') "
              "or m.startswith(('scanwise.domain', 'scanwise.knowledge.loader', 'scanwise.nlp'))))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_kb_reads_the_coverage_from_the_cache_not_the_knowledge_base(tmp_path: Path) -> None:
    env = {"SCANWISE_CACHE_DIR": str(tmp_path), "SCANWISE_NO_CACHE": "0"}
    first, loaded_first = _command(["kb", "--json"], **env)
    again, loaded = _command(["kb", "--json"], **env)
    assert first == again
    assert json.loads(again) == Scanwise.default().coverage()
    assert MODELS - {"pydantic"} <= loaded_first  # the first run computes it from the loaded data
    # pydantic only through Typer's option parsing; never the models, the reader or the answers
    assert not (MODELS - {"pydantic"}) & loaded and not (HEAVY | ANSWERS) & loaded
    uncached, _ = _command(["kb", "--json"], **{**env, "SCANWISE_NO_CACHE": "1"})
    assert uncached == again


@pytest.mark.usefixtures("reader")
def test_command_reads_without_spacy_and_prints_the_same() -> None:
    """The design the start-up figure rests on: with a reader up, a command never imports spaCy,
    and ``ask --json`` none of the answer engine, the readability counter or the knowledge
    base's models either: the background process answers."""
    for args in (["recommend", TEXTS[0], "--json"],
                 ["ask", "What is a PET scan?", "--json"],
                 ["ask", "Do I need a bone scan?", "--context", TEXTS[2], "--include-retired", "--json"],
                 ["ask", "   ", "--json"]):
        try:
            warm, loaded_warm = _command(args)
            cold, loaded_cold = _command(args, SCANWISE_NO_WARM_READER="1")
        except subprocess.CalledProcessError as exc:  # unusable input: the same message, exit 2
            assert exc.returncode == 2
            with pytest.raises(subprocess.CalledProcessError) as again:
                _command(args, SCANWISE_NO_WARM_READER="1")
            assert again.value.returncode == 2
            assert again.value.stderr.split("LOADED=")[0] == exc.stderr.split("LOADED=")[0]
            continue
        assert warm == cold, args
        assert not SPACY & loaded_warm and loaded_cold >= SPACY, args
        assert not {"textstat", "pkg_resources"} & loaded_warm, args  # the reader process grades
        if args[0] == "ask":
            assert not (ANSWERS | MODELS - {"pydantic"}) & loaded_warm, (args, loaded_warm)
            assert loaded_cold >= ANSWERS


@pytest.mark.usefixtures("runtime")
def test_no_reader_means_in_process() -> None:
    core = Scanwise(Scanwise.default().kb)
    core.warm_reader = warm_reader.WarmReader("no-such-version")
    assert core.warm_reader.read(TEXTS[0], None) is None
    assert core.read_text(TEXTS[0]) == Scanwise(core.kb).read_text(TEXTS[0])


@pytest.mark.usefixtures("runtime")
def test_other_data_or_code_gets_another_address() -> None:
    kb_version = Scanwise.default().kb_version
    assert warm_reader.address(kb_version) == warm_reader.address(kb_version)
    assert warm_reader.address(kb_version) != warm_reader.address(kb_version + "+pack@1")


def test_a_folder_others_can_enter_is_not_used(runtime: Path) -> None:
    folder = runtime / f"scanwise-{os.getuid()}"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    assert warm_reader.runtime_dir() is None
    assert warm_reader.WarmReader("any").read(TEXTS[0], None) is None


@pytest.mark.usefixtures("runtime")
def test_reader_leaves_when_idle(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCANWISE_WARM_READER_IDLE", "1")
    kb_version = Scanwise.default().kb_version
    target = warm_reader.address(kb_version)
    assert target is not None
    proc = subprocess.Popen([sys.executable, "-m", "scanwise.warm_server", str(target)])
    try:
        assert proc.wait(timeout=120) == 0
    finally:
        proc.kill()
    assert not target.exists()


def test_disabled_by_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCANWISE_NO_WARM_READER", "1")
    assert not warm_reader.enabled()
    from scanwise.cli import common

    assert common.core(warm_reader=True).warm_reader is None
