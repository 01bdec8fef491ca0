"""The rough edges a newcomer hit, each pinned: one clear line and the right status.

Command line: unusable input exits 2 with one ``error:`` line and no traceback. Web: the
413 names the limit as people say it, a validator's words come without pydantic's prefix, a
body that is not JSON gets 415, HEAD on a page answers like GET without the body.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from rich.console import Console
from typer.testing import CliRunner

from scanwise.cli import app as cli_app
from scanwise.core import Scanwise
from scanwise.render.terminal import print_coverage
from scanwise.web import WebSettings, create_app

runner = CliRunner()


def one_error_line(result: object) -> str:
    out = result.stderr  # type: ignore[attr-defined]
    assert "Traceback" not in out and "Traceback" not in result.stdout  # type: ignore[attr-defined]
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), out
    return lines[0]


# --- command line -------------------------------------------------------------------------

def test_eval_with_a_missing_file_names_it(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    result = runner.invoke(cli_app, ["eval", "--scenarios", str(missing)])
    assert result.exit_code == 2
    assert str(missing) in one_error_line(result) and "no such file" in result.stderr


@pytest.mark.parametrize(("text", "says"), [
    ("scenarios: [\n  - id: a\n    text: [unclosed\n", "not valid YAML at line"),
    ("just a string\n", "expected a top-level list named 'scenarios'"),
    ("scenarios:\n  - id: a\n", "field text: Field required"),
])
def test_eval_with_a_bad_file_says_what_is_wrong(tmp_path: Path, text: str, says: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    result = runner.invoke(cli_app, ["eval", "--scenarios", str(path)])
    assert result.exit_code == 2
    assert says in one_error_line(result)


def test_stage_with_an_unreadable_value_exits_2() -> None:
    result = runner.invoke(cli_app, ["stage", "--t", "T9", "--n", "N0", "--m", "M0"])
    assert result.exit_code == 2
    assert "t: 'T9'" in one_error_line(result)


def test_serve_on_a_port_in_use_says_so_before_the_address(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = runner.invoke(cli_app, ["serve", "--port", str(port), "--db", str(tmp_path / "x.db")])
    assert result.exit_code == 2
    line = one_error_line(result)
    assert f"port {port}" in line and "already in use" in line
    assert "open http" not in result.output
    assert not (tmp_path / "x.db").exists()  # refused before the database was opened


@pytest.mark.parametrize("command", [
    ["recommend", "61F, cT3N1 ER+/HER2- IDC, staging?"],
    ["ask", "Do I need a PET scan?", "--context", "stage I, ER+ HER2-, just diagnosed"],
])
def test_include_retired_is_offered_where_topics_are_matched(command: list[str]) -> None:
    plain = runner.invoke(cli_app, [*command, "--json"])
    retired = runner.invoke(cli_app, [*command, "--json", "--include-retired"])
    assert plain.exit_code == 0 and retired.exit_code == 0, retired.output
    assert json.loads(retired.stdout)["kb_version"] == json.loads(plain.stdout)["kb_version"]


def test_ask_offers_follow_up_questions_in_text_and_json() -> None:
    question = "What is a bone scan?"
    data = json.loads(runner.invoke(cli_app, ["ask", question, "--json"]).stdout)
    assert data["follow_ups"] and all(q.endswith("?") for q in data["follow_ups"])
    shown = runner.invoke(cli_app, ["ask", question], env={"COLUMNS": "200"})
    assert "You could also ask" in shown.stdout and data["follow_ups"][0] in shown.stdout


def test_kb_coverage_table_fits_80_columns() -> None:
    console = Console(width=80, record=True, highlight=False)
    data = Scanwise.default().coverage()
    print_coverage(data, console)
    lines = console.export_text().splitlines()
    assert max(len(line) for line in lines) <= 80
    titled = [line for line in lines if line.strip()[:3].isdigit()]
    assert len(titled) == len(data["by_topic"])  # one row per topic, titles wrap beneath
    for t, line in zip(data["by_topic"], titled, strict=True):  # each row starts its title
        assert line.split()[0] == str(t["topic_id"]) and t["title"].split()[0] in line


# --- web ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    app = create_app(WebSettings(db=str(tmp_path_factory.mktemp("edges") / "x.db")))
    # A loopback Host and a same-site Origin, as a browser on this machine sends them.
    with TestClient(app, base_url="http://localhost", headers={"origin": "http://localhost"}) as c:
        yield c


def test_413_names_the_limit_in_plain_words(client: TestClient) -> None:
    big = b"x" * (5 * 1024 * 1024 + 100 * 1024)
    response = client.post("/api/recommend", content=big, headers={"content-type": "application/json"})
    assert response.status_code == 413
    message = response.json()["error"]["message"]
    assert "the 5 MB limit" in message and "5.0" not in message


def test_empty_recommend_body_has_no_pydantic_prefix(client: TestClient) -> None:
    response = client.post("/api/recommend", json={})
    assert response.status_code == 422
    message = response.json()["error"]["message"]
    assert message.startswith("give either `text` or `profile`"), message
    assert "Value error" not in response.text


def test_a_body_that_is_not_json_is_415(client: TestClient) -> None:
    response = client.post("/api/recommend", content=b"58F stage I, staging?",
                           headers={"content-type": "text/plain"})
    assert response.status_code == 415, response.text
    assert response.json()["error"]["code"] == "unsupported_media_type"
    assert client.get("/healthz").status_code == 200


@pytest.mark.parametrize("path", ["/", "/clinician", "/articles/310/2", "/docs"])
def test_head_on_a_page_answers_like_get_without_body(client: TestClient, path: str) -> None:
    got = client.get(path)
    head = client.head(path)
    assert head.status_code == got.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]
