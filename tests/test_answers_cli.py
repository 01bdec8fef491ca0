"""`scanwise ask`: JSON contract, readable output, errors, and offline reading grades."""

from __future__ import annotations

import json
import subprocess
import sys

from typer.testing import CliRunner

from scanwise.cli import app

runner = CliRunner()


def test_ask_json_contract() -> None:
    result = runner.invoke(app, ["ask", "how much radiation is a PET scan", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["intent"] == "radiation" and data["personalized"] is False
    assert isinstance(data["reading_grade"], float) and data["disclaimer"]
    for section in data["sections"]:
        assert set(section) >= {"heading", "paragraphs", "bullets", "citations"}


def test_ask_readable_output_shows_sources_and_notice() -> None:
    result = runner.invoke(app, ["ask", "What is a cat scan?"])
    assert result.exit_code == 0, result.output
    assert "How it works" in result.stdout and "Sources" in result.stdout
    assert "not medical advice" in result.stdout and "Reading grade" in result.stdout


def test_ask_with_context_is_personalised() -> None:
    result = runner.invoke(app, ["ask", "Do I need a PET scan?", "--json", "--context",
                                 "stage I IDC, ER+ HER2-, just diagnosed, no symptoms"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["personalized"] is True
    refs = [r for s in data["sections"] for r in s["guideline_refs"]]
    assert refs and refs[0]["topic_id"] == 310 and refs[0]["variant"] == 2


def test_ask_reads_the_question_from_stdin() -> None:
    result = runner.invoke(app, ["ask", "-", "--json"], input="PET vs CT")
    assert result.exit_code == 0 and json.loads(result.stdout)["intent"] == "compare"


def test_ask_errors_name_the_problem(tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(app, ["ask", "   "])
    assert result.exit_code == 2 and "question is empty" in result.output
    result = runner.invoke(app, ["ask", "PET vs CT", "--context", ""])
    assert result.exit_code == 2 and "--context" in result.output
    result = runner.invoke(app, ["ask", "PET vs CT", "--context", "x", "--record", str(tmp_path / "r.txt")])
    assert result.exit_code == 2 and "not both" in result.output


def test_ask_record_file_that_does_not_exist(tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(app, ["ask", "Do I need a PET scan?", "--record", str(tmp_path / "missing.txt")])
    assert result.exit_code == 2
    assert "missing.txt" in result.output or "scanwise.records" in result.output


def test_out_of_scope_exits_zero_with_an_honest_answer() -> None:
    result = runner.invoke(app, ["ask", "What is the best treatment for lung cancer?", "--json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["intent"] == "out_of_scope" and data["sources"] == []


_OFFLINE = """
import socket
def refuse(*args, **kwargs):
    raise OSError("network used")
socket.socket.connect = refuse
socket.create_connection = refuse
from scanwise.domain.answers.text import reading_grade
from scanwise.domain.answers.retrieval import search
from scanwise.knowledge.loader import load_facts
from scanwise.knowledge.loader import default_kb
print(reading_grade(["A CT scan uses X-rays. A computer builds the pictures into slices."]))
print(search("does the tracer sting", load_facts(default_kb()))[0][0])
"""


def test_reading_grade_and_search_work_offline() -> None:
    out = subprocess.run([sys.executable, "-c", _OFFLINE], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    grade, top = out.stdout.split()
    assert 0 < float(grade) < 12 and top
