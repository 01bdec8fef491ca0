"""One template root that a deployment overrides with its own folder, template by template."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from scanwise.cli import app as cli_app
from scanwise.templating import BUNDLED, TemplateFolderError, loader
from scanwise.web import WebSettings, create_app

MARK = "Imaging questions? Call the breast clinic on 555 0100."
STYLE = "/* the clinic's own article styles */\nbody { font-family: serif; }\n"
runner = CliRunner()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An operator's folder changing one page template and one static file of the article site."""
    root = tmp_path_factory.mktemp("clinic-templates")
    layout = (BUNDLED / "layout.html.j2").read_text(encoding="utf-8")
    assert layout.count("<footer") == 1
    (root / "layout.html.j2").write_text(layout.replace("<footer", f"<p>{MARK}</p>\n<footer"),
                                         encoding="utf-8")
    (root / "static").mkdir()
    (root / "static" / "style.css").write_text(STYLE, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def client(folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    db = tmp_path_factory.mktemp("override") / "override.db"
    settings = WebSettings(db=str(db), processes=1, templates=folder)
    with TestClient(create_app(settings), base_url="http://localhost") as c:
        yield c


def test_the_override_wins_and_the_rest_stays_bundled(client: TestClient) -> None:
    for path in ("/", "/clinician", "/docs"):
        page = client.get(path)
        assert page.status_code == 200
        assert MARK in page.text, path
    assert "<label for=\"question\">" in client.get("/").text  # patient.html.j2: still bundled
    style = client.get("/articles/style.css")
    assert style.status_code == 200 and style.text == STYLE
    assert client.get("/articles/search.js").text == (BUNDLED / "static" / "search.js").read_text(
        encoding="utf-8")


def test_without_an_override_the_bundled_templates_serve() -> None:
    source, _, _ = loader().get_source(None, "layout.html.j2")  # type: ignore[arg-type]
    assert MARK not in source
    assert "<footer" in source


def test_a_missing_folder_is_refused_by_name(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder"
    with pytest.raises(TemplateFolderError, match="no-such-folder does not exist"):
        create_app(WebSettings(db=str(tmp_path / "x.db"), templates=missing))
    a_file = tmp_path / "layout.html.j2"
    a_file.write_text("x", encoding="utf-8")
    with pytest.raises(TemplateFolderError, match="is not a folder"):
        create_app(WebSettings(db=str(tmp_path / "x.db"), templates=a_file))


@pytest.mark.parametrize("command", [["serve", "--port", "1"], ["articles", "build", "SITE"]])
def test_the_cli_exits_2_for_a_missing_templates_folder(tmp_path: Path, command: list[str]) -> None:
    missing = tmp_path / "no-such-folder"
    args = [str(tmp_path / "site") if a == "SITE" else a for a in command]
    result = runner.invoke(cli_app, [*args, "--templates", str(missing)])
    assert result.exit_code == 2, result.output
    assert f"--templates: templates folder {missing} does not exist" in " ".join(result.output.split())
    assert not (tmp_path / "site").exists()
