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


@pytest.mark.usefixtures("reader")
def test_command_reads_without_spacy_and_prints_the_same() -> None:
    """The design the start-up figure rests on: with a reader up, a command never imports spaCy."""
    script = ("import atexit, sys\n"
              "atexit.register(lambda: sys.stderr.write(f'SPACY={\"spacy\" in sys.modules}'))\n"
              "from scanwise.cli import main\n"
              f"sys.argv = ['scanwise', 'recommend', {TEXTS[0]!r}, '--json']\n"
              "main()\n")
    warm = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=os.environ.copy(), check=True)
    cold = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env={**os.environ, "SCANWISE_NO_WARM_READER": "1"}, check=True)
    assert "SPACY=False" in warm.stderr
    assert "SPACY=True" in cold.stderr
    assert json.loads(warm.stdout) == json.loads(cold.stdout)


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
    proc = subprocess.Popen([sys.executable, "-m", "scanwise.warm_reader", str(target)])
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
