"""Every surface this issue owns shows other guidelines' statements with their sources where
the ACR ratings are missing, and none of them states or implies an ACR rating for those."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from scanwise.cli import app
from scanwise.core import Scanwise
from scanwise.render.articles import render_html, render_markdown
from scanwise.web import WebSettings, create_app

NO_FILE = {"file": ("", b"", "application/octet-stream")}
QUESTIONS = {
    "310 V4": "ER-positive HER2-negative invasive ductal carcinoma, clinical stage IIIA, "
              "staging for distant disease",
    "310 V5": "HER2-positive breast cancer stage IIB, CT or PET for staging?",
    "310 V6": "surveillance after lumpectomy and radiation for breast cancer 3 years ago, no symptoms",
    "recurrence": "breast cancer treated 4 years ago, now bone pain and rising tumour markers, "
                  "suspected recurrence",
    "DCIS": "newly diagnosed DCIS, what imaging?",
    "screening": "52-year-old woman, average risk, screening mammogram?",
}
RATING_WORDS = re.compile(r"Usually Appropriate|May Be Appropriate|Usually Not Appropriate", re.I)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    db = tmp_path_factory.mktemp("web") / "scanwise.sqlite"
    # Loopback host and a same-site origin, as the page itself sends its forms.
    with TestClient(create_app(WebSettings(db=str(db))), base_url="http://localhost",
                    headers={"origin": "http://localhost"}) as c:
        yield c


def _statement_section(text: str) -> str:
    i = text.find("What other guidelines say")
    assert i >= 0, "no 'What other guidelines say' section"
    return text[i:]


@pytest.mark.parametrize("name", QUESTIONS)
def test_recommend_terminal_shows_statements_not_ratings(name: str) -> None:
    result = CliRunner().invoke(app, ["recommend", QUESTIONS[name]], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    part = _statement_section(result.output)
    assert "not ACR ratings" in part or "these are not" in part
    assert "http" in part  # each statement with its source address
    if name != "screening":  # 179 V1 has one verified ACR row; the others have none
        assert "ACR rating: unknown" in part
        assert not RATING_WORDS.search(result.output)


@pytest.mark.parametrize("name", QUESTIONS)
def test_recommend_json_gains_statements_per_match(name: str) -> None:
    result = CliRunner().invoke(app, ["recommend", QUESTIONS[name], "--json"])
    data = json.loads(result.output)
    carriers = data["matches"] + data["uncovered_topics"]
    found = [s for c in carriers for s in c.get("statements", [])]
    assert found
    keys = {"id", "publisher", "document", "year", "currency", "verification", "direction",
            "procedures", "text", "url"}
    assert all(keys <= set(s) for s in found)
    for m in data["matches"]:
        if not m["ratings_verified"]:
            assert m["procedures"] == []


def test_old_and_secondary_are_marked_in_the_terminal() -> None:
    out = CliRunner().invoke(app, ["recommend", QUESTIONS["310 V6"]], env={"COLUMNS": "200"}).output
    assert "older guidance" in out and "secondary source" in out


def test_disagreement_is_shown_both_ways_in_the_terminal() -> None:
    out = CliRunner().invoke(app, ["recommend", QUESTIONS["310 V5"]], env={"COLUMNS": "300"}).output
    line = next(x for x in out.splitlines() if "differ on FDG-PET/CT" in x)
    assert "ECIBC" in line.split("against")[1] and "NCCN" in line.split("against")[0]


@pytest.mark.parametrize("name", QUESTIONS)
def test_clinician_page_shows_statements(client: TestClient, name: str) -> None:
    page = client.post("/clinician", data={"scenario": QUESTIONS[name]}, files=NO_FILE)
    assert page.status_code == 200
    part = _statement_section(page.text)
    assert 'class="gl-statement"' in part and "<a href=\"http" in part
    if name != "screening":
        assert "ACR rating: <strong>unknown</strong>" in part
        assert not RATING_WORDS.search(page.text.split("Radiation levels")[0])


@pytest.mark.parametrize(("topic", "variant"), [(310, 4), (310, 5), (310, 6), (310, 8), (310, 11)])
def test_articles_show_statements_and_no_rating(topic: int, variant: int) -> None:
    a = Scanwise.default().article(topic, variant)
    assert a.coverage == "statements" and not a.table and a.statements
    for text in (render_markdown(a), render_html(a)):
        part = _statement_section(text)
        assert "none of them is an ACR rating" in part
        assert not RATING_WORDS.search(text)


def test_articles_index_badges() -> None:
    from scanwise.render.articles import site_files

    core = Scanwise.default()
    site = site_files(core.kb, core.articles())
    index = site["index.html"]
    assert "badge-acr" in index and "badge-statements" in index and "badge-none" in index
    entries = json.loads(site["search-index.json"])
    assert {e["coverage"] for e in entries} == {"acr", "statements", "none"}
