"""`scanwise extract` and `scanwise recommend --record` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from scanwise.cli import app

FIXTURES = Path(__file__).parent / "fixtures" / "records"
runner = CliRunner()


def test_extract_json_contract() -> None:
    result = runner.invoke(app, ["extract", str(FIXTURES / "cap_synoptic.txt"), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) >= {"profile", "evidence", "warnings", "conflicts"}
    p = data["profile"]
    assert p["laterality"] == "left" and p["histology"] == "ductal"
    assert p["tumor_size_mm"] == 18 and isinstance(p["tumor_size_mm"], int)
    assert (p["grade"], p["er"], p["pr"], p["her2"], p["her2_ihc"], p["her2_ish"]) == (
        2, "positive", "positive", "negative", "1+", None)
    assert (p["ki67_percent"], p["t"], p["n"], p["m"], p["stage"]) == (15, "pT1c", "pN0(sn)", None, None)
    assert (p["nodes_positive"], p["nodes_examined"]) == (0, 2)
    assert isinstance(p["symptoms"], list) and isinstance(p["denied_symptoms"], list)
    ev = data["evidence"]["er"][0]
    assert {"text", "start", "end", "source"} <= set(ev)
    original = (FIXTURES / "cap_synoptic.txt").read_text(encoding="utf-8")
    assert original[ev["start"]:ev["end"]] == ev["text"]


def test_extract_reads_stdin() -> None:
    result = runner.invoke(app, ["extract", "-", "--json"],
                           input="Left breast IDC, grade 3. ER: Negative. PR: Negative. HER2: 3+.")
    assert result.exit_code == 0, result.output
    p = json.loads(result.stdout)["profile"]
    assert (p["er"], p["pr"], p["her2"], p["her2_ihc"], p["grade"]) == (
        "negative", "negative", "positive", "3+", 3)


def test_extract_merges_files_and_reports_conflicts() -> None:
    result = runner.invoke(app, ["extract", str(FIXTURES / "biopsy_2023.txt"),
                                 str(FIXTURES / "undated_er_negative.txt"), "--json"])
    data = json.loads(result.stdout)
    assert data["profile"]["er"] is None
    (conflict,) = [c for c in data["conflicts"] if c["field"] == "er"]
    assert sorted(v["value"] for v in conflict["values"]) == ["negative", "positive"]


def test_extract_human_output_names_facts_and_sources() -> None:
    result = runner.invoke(app, ["extract", str(FIXTURES / "mcode_bundle.json")])
    assert result.exit_code == 0, result.output
    assert "Observation/er-1" in result.stdout
    assert "ductal" in result.stdout


def test_extract_bad_file_exits_2(tmp_path: Path) -> None:
    junk = tmp_path / "junk.json"
    junk.write_text('{"no": "resourceType"}')
    result = runner.invoke(app, ["extract", str(junk)])
    assert result.exit_code == 2
    assert "junk.json" in result.stderr and "resourceType" in result.stderr
    missing = runner.invoke(app, ["extract", str(tmp_path / "nope.txt")])
    assert missing.exit_code == 2


def test_recommend_with_record_fills_the_profile() -> None:
    result = runner.invoke(app, ["recommend", "Is PET/CT needed for distant staging?",
                                 "--record", str(FIXTURES / "cap_synoptic.txt"), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["profile"]["histology"] == "ductal" and data["profile"]["er"] == "positive"
    assert data["profile"]["evidence"]["er"][0]["source"] == "cap_synoptic.txt"
    assert "er" in data["record"]["facts_used"]
    assert (data["indication"]["phase"], data["indication"]["purpose"]) == ("new_diagnosis", "distant")
    top = data["matches"][0]
    assert (top["topic_id"], top["variant"]) == (310, 2)  # new diagnosis, early stage, distant staging


def test_recommend_record_without_text_and_human_output() -> None:
    result = runner.invoke(app, ["recommend", "--record", str(FIXTURES / "clinic_note.txt")])
    assert result.exit_code == 0, result.output
    assert "From the patient's records" in result.stdout


def test_recommend_text_disagreeing_with_record_is_said() -> None:
    result = runner.invoke(app, ["recommend", "ER negative. Staging imaging?",
                                 "--record", str(FIXTURES / "cap_synoptic.txt"), "--json"])
    data = json.loads(result.stdout)
    assert data["profile"]["er"] is None
    assert any("the records say positive" in a for a in data["indication"]["assumptions"])


def test_recommend_needs_text_or_record() -> None:
    result = runner.invoke(app, ["recommend"])
    assert result.exit_code == 2
