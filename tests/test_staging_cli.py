"""``scanwise stage``: single case and CSV batch, readable and JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from scanwise.cli.stage import register

SINGLE = ["stage", "--t", "T1c", "--n", "N0", "--m", "M0", "--grade", "2", "--er", "positive",
          "--pr", "positive", "--her2", "negative"]


@pytest.fixture()
def app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:  # a group, so "stage" is a subcommand as in the real CLI
        pass

    register(app)
    return app


@pytest.fixture()
def runner() -> CliRunner:
    return CliRunner()


def _lines(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def test_single_json_contract(app: typer.Typer, runner: CliRunner) -> None:
    result = runner.invoke(app, [*SINGLE, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert {k: data[k] for k in ("anatomic", "clinical_prognostic", "pathological_prognostic",
                                 "warnings")} == {
        "anatomic": "IA", "clinical_prognostic": "IA", "pathological_prognostic": "IA",
        "warnings": [],
    }


def test_single_json_with_oncotype(app: typer.Typer, runner: CliRunner) -> None:
    args = ["stage", "--t", "pT2", "--n", "pN0", "--m", "M0", "--grade", "G2", "--er", "+",
            "--pr", "-", "--her2", "-", "--oncotype", "9", "--json"]
    data = json.loads(runner.invoke(app, args).output)
    assert data["anatomic"] == "IIA"
    assert data["pathological_prognostic"] == "IA"
    assert data["clinical_prognostic"] is None
    assert data["oncotype_applied"] is True


def test_single_readable_output_explains(app: typer.Typer, runner: CliRunner) -> None:
    result = runner.invoke(app, SINGLE, env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert "Pathological prognostic" in result.output
    assert ("T1c N0 M0, G2, ER+ PR+ HER2\u2212: anatomic IA, clinical prognostic IA, "
            "pathological prognostic IA") in result.output


def test_single_readable_shows_warnings(app: typer.Typer, runner: CliRunner) -> None:
    result = runner.invoke(app, ["stage", "--t", "T2", "--n", "N1", "--m", "M0"],
                           env={"COLUMNS": "300"})
    assert result.exit_code == 0
    assert "IIB" in result.output
    assert "grade, ER, PR and HER2 are missing" in result.output


def test_single_malformed_value(app: typer.Typer, runner: CliRunner) -> None:
    result = runner.invoke(app, ["stage", "--t", "T9", "--n", "N0", "--m", "M0", "--json"])
    assert result.exit_code == 2
    assert json.loads(result.output)["error"]["field"] == "t"
    plain = runner.invoke(app, ["stage", "--t", "T1", "--n", "N0", "--m", "M0", "--er", "maybe"])
    assert plain.exit_code == 2
    assert "er: 'maybe'" in plain.output


def test_no_arguments_is_a_usage_error(app: typer.Typer, runner: CliRunner) -> None:
    result = runner.invoke(app, ["stage"])
    assert result.exit_code == 2
    assert "--input" in result.output


CSV = """t,n,m,grade,er,pr,her2,oncotype
T1c,N1mi,M0,G2,+,+,-,
pT2,pN0,cM0,2,positive,negative,negative,9
T9,N0,M0,2,+,+,-,
T2,N1,M0,,,,,
ypT1,ypN1a,M0,3,-,-,+,
Tis,N0,M0,,,,,
"""


def test_batch_json_one_line_per_row_in_order(
    app: typer.Typer, runner: CliRunner, tmp_path: Path
) -> None:
    path = tmp_path / "cases.csv"
    path.write_text(CSV)
    result = runner.invoke(app, ["stage", "--input", str(path), "--json"])
    assert result.exit_code == 0, result.output
    rows = _lines(result.output)
    assert [r["row"] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert (rows[0]["anatomic"], rows[0]["clinical_prognostic"]) == ("IB", "IA")
    assert rows[1]["pathological_prognostic"] == "IA" and rows[1]["oncotype_applied"]
    assert rows[2] == {"row": 3, "error": {"field": "t", "value": "T9",
                                           "message": rows[2]["error"]["message"]}}
    assert "T9" in rows[2]["error"]["message"]
    assert rows[3]["anatomic"] == "IIB" and rows[3]["clinical_prognostic"] is None
    assert any("grade" in w for w in rows[3]["warnings"])
    assert rows[4]["basis"] == "post-neoadjuvant"
    assert rows[5]["anatomic"] == "0"


def test_batch_without_oncotype_column_and_odd_headers(
    app: typer.Typer, runner: CliRunner, tmp_path: Path
) -> None:
    path = tmp_path / "cases.csv"
    path.write_text("\ufeffT, N ,M,Grade,ER,PR,HER2\nT3,N2,M0,1,-,-,+\n", encoding="utf-8")
    rows = _lines(runner.invoke(app, ["stage", "--input", str(path), "--json"]).output)
    assert rows[0]["clinical_prognostic"] == "IIIA"


def test_batch_readable_table(app: typer.Typer, runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "cases.csv"
    path.write_text(CSV)
    result = runner.invoke(app, ["stage", "--input", str(path)], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert "Pathological" in result.output
    assert "row 3: t: 'T9'" in result.output
    assert "IIB" in result.output


def test_batch_missing_file(app: typer.Typer, runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["stage", "--input", str(tmp_path / "nope.csv"), "--json"])
    assert result.exit_code == 2
    assert "not found" in result.output


def test_batch_missing_column(app: typer.Typer, runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "cases.csv"
    path.write_text("t,n,m,grade,er\nT1,N0,M0,1,+\n")
    result = runner.invoke(app, ["stage", "--input", str(path), "--json"])
    assert result.exit_code == 2
    assert "missing required column(s): pr, her2" in result.output


def test_batch_empty_file(app: typer.Typer, runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "cases.csv"
    path.write_text("")
    result = runner.invoke(app, ["stage", "--input", str(path)])
    assert result.exit_code == 2
    assert "missing required column" in result.output


def test_batch_and_single_options_together(
    app: typer.Typer, runner: CliRunner, tmp_path: Path
) -> None:
    path = tmp_path / "cases.csv"
    path.write_text(CSV)
    result = runner.invoke(app, ["stage", "--input", str(path), "--t", "T1"])
    assert result.exit_code == 2
