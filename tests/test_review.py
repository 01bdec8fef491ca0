"""Clinical review: sign-offs stored as data, pages that say who reviewed and when (or plainly
that nobody has), and reviews that go stale when the knowledge behind them changes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from scanwise.cli import app
from scanwise.core import Scanwise
from scanwise.knowledge.loader import DATA_DIR, load
from scanwise.knowledge.reviews import REVIEWS_ENV, load_reviews
from scanwise.render.articles import render_html, render_markdown


def test_the_bundled_data_claims_no_review() -> None:
    assert load_reviews(DATA_DIR / "reviews") == []
    article = Scanwise.default().article(310, 5)
    assert article.review.state == "unreviewed"
    assert "Not yet reviewed by a clinician." in render_html(article)
    assert "Not yet reviewed by a clinician." in render_markdown(article)


def test_sign_off_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(REVIEWS_ENV, str(tmp_path / "reviews"))
    runner = CliRunner()
    signed = runner.invoke(app, ["review", "sign", "310", "5", "--reviewer", "Dr Test Reviewer",
                                 "--role", "Breast radiologist", "--date", "2026-11-30"])
    assert signed.exit_code == 0, signed.output
    stored = yaml.safe_load((tmp_path / "reviews" / "sign-offs.yaml").read_text(encoding="utf-8"))
    record = stored["reviews"][0]
    assert record["reviewer"] == "Dr Test Reviewer"
    assert record["kb_version"] == Scanwise.default().kb_version

    listed = json.loads(runner.invoke(app, ["review", "--json"]).output)
    assert listed["counts"]["reviewed"] == 1 and listed["counts"]["unreviewed"] == len(listed["items"])
    assert all(i["key"] != "310/5" for i in listed["items"])  # only what still needs review
    page = render_html(Scanwise.default().article(310, 5))
    assert "Reviewed by Dr Test Reviewer (Breast radiologist) on 2026-11-30" in page

    # The knowledge behind the article changes: the review is stale, and the page says so.
    data_dir = tmp_path / "knowledge"
    shutil.copytree(DATA_DIR, data_dir, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    path = data_dir / "statements" / "guideline-statements.yaml"
    statements = yaml.safe_load(path.read_text(encoding="utf-8"))
    gs016 = next(s for s in statements["statements"] if s["id"] == "GS016")
    gs016["text"] += " (reworded)"
    path.write_text(yaml.safe_dump(statements, sort_keys=False), encoding="utf-8")
    changed = Scanwise(load(data_dir))
    state = next(i for i in changed.review_status() if i["key"] == "310/5")
    assert state["state"] == "stale" and state["reviewer"] == "Dr Test Reviewer"
    assert "out of date" in render_html(changed.article(310, 5))
    # An article whose knowledge did not change keeps its review.
    runner.invoke(app, ["review", "sign", "153", "1", "--reviewer", "Dr Test Reviewer",
                        "--role", "Radiologist"])
    assert changed.article(153, 1).review.state == "reviewed"


@pytest.mark.parametrize(("args", "message"), [
    (["310", "99", "--reviewer", "Dr X", "--role", "Radiologist"],
     "no article for ACR topic 310 variant 99"),
    (["310", "5", "--reviewer", " ", "--role", "Radiologist"], "--reviewer"),
    (["310", "5", "--reviewer", "Dr X", "--role", "Radiologist", "--date", "yesterday"], "--date"),
])
def test_bad_sign_offs_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str],
                                   message: str) -> None:
    monkeypatch.setenv(REVIEWS_ENV, str(tmp_path / "reviews"))
    result = CliRunner().invoke(app, ["review", "sign", *args])
    assert result.exit_code == 2 and message in result.output
    assert not (tmp_path / "reviews" / "sign-offs.yaml").exists()


def test_a_broken_review_file_names_entry_and_field(tmp_path: Path) -> None:
    from scanwise.domain.kb import KnowledgeBaseError

    (tmp_path / "sign-offs.yaml").write_text(
        "reviews:\n- key: 310/5\n  reviewer: Dr X\n  role: Radiologist\n  date: 2026-01-01\n  kb_version: x\n"
        "  fingerprint: nothex\n", encoding="utf-8")
    with pytest.raises(KnowledgeBaseError,
                       match=r"sign-offs.yaml: entry reviews\[0\] \(310/5\), field fingerprint"):
        load_reviews(tmp_path)
