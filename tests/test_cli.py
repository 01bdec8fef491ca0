"""The command line as a user runs it: contracts of --json output and exit codes."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from scanwise.cli import app

runner = CliRunner()
SEED = ("58-year-old woman, 1.8 cm grade 2 IDC, no palpable nodes, normal LFTs and ALP, clinical "
        "stage I. Is PET/CT needed for distant staging?")


def test_recommend_json_keeps_the_contract() -> None:
    result = runner.invoke(app, ["recommend", SEED, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"kb_version", "profile", "indication", "matches", "red_flags", "missing"} <= set(data)
    best = data["matches"][0]
    assert {"source", "topic_id", "topic", "variant", "label", "why", "ratings_verified",
            "procedures"} <= set(best)
    assert (best["source"], best["topic_id"], best["variant"]) == ("ACR", 310, 2)
    proc = best["procedures"][0]
    assert {"name", "category", "rrl", "rating", "verification", "source"} <= set(proc)
    assert proc["category"] in {"Usually Appropriate", "May Be Appropriate",
                                "May Be Appropriate (Disagreement)", "Usually Not Appropriate"}


def test_recommend_readable_output_shows_table_reasons_and_source() -> None:
    result = runner.invoke(app, ["recommend", SEED])
    assert result.exit_code == 0
    out = " ".join(result.stdout.split())
    for words in ("Best fit: ACR topic 310", "Usually Not Appropriate", "FDG-PET/CT", "why:",
                  "source:", "not medical advice"):
        assert words in out


def test_nothing_applies_exits_zero_with_no_matches() -> None:
    result = runner.invoke(app, ["recommend", "Lung adenocarcinoma staging - PET/CT?", "--json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["matches"] == []
    assert data["indication"]["in_scope"] is False


def test_empty_text_is_an_error_with_a_clear_message() -> None:
    result = runner.invoke(app, ["recommend", "   "])
    assert result.exit_code == 2
    assert "empty" in result.stderr


def test_recommend_reads_stdin() -> None:
    result = runner.invoke(app, ["recommend", "-", "--json"], input=SEED)
    assert result.exit_code == 0
    assert json.loads(result.stdout)["matches"][0]["variant"] == 2


def test_stdin_that_is_not_text_is_refused() -> None:
    result = runner.invoke(app, ["recommend", "-"], input=b"\xff\xfe\x00junk")
    assert result.exit_code == 2
    assert "UTF-8" in result.stderr


def test_kb_coverage() -> None:
    result = runner.invoke(app, ["kb", "--json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["topics"] == 15 and data["retired_topics"] == 2
    assert data["variants"] == 85
    assert 0 < data["variants_with_verified_ratings"] < data["variants"]
    readable = runner.invoke(app, ["kb"])
    assert "verified ratings" in readable.stdout


def test_eval_prints_accuracy() -> None:
    result = runner.invoke(app, ["eval", "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["top1_accuracy"] >= 0.98
