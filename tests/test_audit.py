"""The order audit: known answers order by order, every row accounted for, resume after a
killed run, the report in a real browser, and the measures' data checks."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from scanwise.audit import synth
from scanwise.audit.engine import find_inputs, run_duckdb
from scanwise.audit.measures import load_measures, wilson
from scanwise.domain.kb import KnowledgeBaseError

COLUMNS = [
    "order_id",
    "order_date",
    "patient_id",
    "ordering_service",
    "procedure_code",
    "procedure_system",
    "procedure_name",
    "age",
    "sex",
    "indication",
    "reason_codes",
    "stage",
    "er",
    "her2",
    "phase",
    "symptoms",
]

# (order, what the audit must say about it). Free-text indications are made up.
KNOWN: list[tuple[dict[str, str], dict[str, Any]]] = [
    (
        {
            "order_id": "A1",
            "procedure_code": "78815",
            "procedure_system": "cpt",
            "indication": "58F newly diagnosed stage I ER+/HER2- IDC, no symptoms, PET/CT for staging",
        },
        {
            "topic_id": 310,
            "variant": 2,
            "category": "Usually Not Appropriate",
            "low_value": True,
            "measures": ["early-staging", "usually-not-appropriate"],
        },
    ),
    (
        {
            "order_id": "A2",
            "procedure_code": "78306",
            "procedure_system": "http://www.ama-assn.org/go/cpt",
            "age": "61",
            "sex": "F",
            "stage": "IA",
            "er": "positive",
            "her2": "negative",
            "phase": "new_diagnosis",
            "symptoms": "none",
        },
        {
            "topic_id": 310,
            "variant": 2,
            "category": "Usually Not Appropriate",
            "low_value": True,
            "measures": ["early-staging", "usually-not-appropriate"],
        },
    ),
    (
        {
            "order_id": "A3",
            "procedure_code": "78815",
            "procedure_system": "CPT",
            "reason_codes": "D05.11",
            "phase": "new_diagnosis",
        },
        {"topic_id": None, "low_value": True, "measures": ["early-staging"]},
    ),
    (
        {
            "order_id": "A4",
            "procedure_code": "77066",
            "procedure_system": "cpt",
            "stage": "IIA",
            "phase": "new_diagnosis",
            "er": "positive",
            "her2": "negative",
        },
        {
            "topic_id": 310,
            "variant": 1,
            "category": "Usually Appropriate",
            "low_value": False,
            "measures": [],
        },
    ),
    (
        {
            "order_id": "A5",
            "procedure_code": "78815",
            "procedure_system": "cpt",
            "indication": "newly diagnosed breast cancer, PET/CT for staging",
        },
        {
            "insufficient_information": True,
            "variant": None,
            "low_value": False,
            "measures": [],
            "missing_has": "stage",
        },
    ),
    (
        {
            "order_id": "A6",
            "procedure_code": "71260",
            "procedure_system": "cpt",
            "phase": "surveillance",
            "reason_codes": "Z85.3",
            "symptoms": "none",
        },
        {"low_value": True, "measures": ["survivor-advanced"]},
    ),
    (
        {
            "order_id": "A7",
            "procedure_code": "71260",
            "procedure_system": "cpt",
            "phase": "surveillance",
            "reason_codes": "Z85.3",
            "symptoms": "cough",
        },
        {"low_value": False, "measures": [], "not_in": "survivor-advanced"},
    ),
    (
        {
            "order_id": "A8",
            "procedure_code": "73721",
            "procedure_system": "cpt",
            "indication": "knee pain after a fall",
        },
        {
            "topic_id": None,
            "low_value": False,
            "insufficient_information": False,
            "reason_has": "no breast-cancer imaging criteria",
        },
    ),
    (
        {
            "order_id": "A9",
            "procedure_code": "99999",
            "procedure_system": "cpt",
            "stage": "IA",
            "phase": "new_diagnosis",
        },
        {"low_value": False, "reason_has": "not in the mapping"},
    ),
    (
        {
            "order_id": "A10",
            "procedure_name": "CT chest abdomen pelvis with contrast",
            "stage": "IIA",
            "phase": "new",
            "symptoms": "none",
            "order_date": "2025-03-04",
        },
        {"topic_id": 310, "variant": 2, "category": "Usually Not Appropriate", "low_value": True},
    ),
    (
        {
            "order_id": "A11",
            "procedure_code": "78815",
            "procedure_system": "cpt",
            "indication": "breast cancer survivor, 4 years after lumpectomy, asymptomatic, rising CA 15-3",
        },
        {"low_value": True, "measures": ["survivor-advanced"]},
    ),
    # Quarantined: each with its reason.
    ({"order_id": "", "procedure_code": "78815", "procedure_system": "cpt"}, {"quarantine": "no order id"}),
    (
        {"order_id": "A1", "procedure_code": "77066", "procedure_system": "cpt"},
        {"quarantine": "duplicate order id"},
    ),
    (
        {"order_id": "Q3", "procedure_code": "78815", "procedure_system": "icd9"},
        {"quarantine": "unknown code system"},
    ),
    (
        {"order_id": "Q4", "procedure_code": "77066", "procedure_system": "cpt", "age": "sixty"},
        {"quarantine": "age is not a whole number"},
    ),
    (
        {"order_id": "Q5", "procedure_code": "77066", "procedure_system": "cpt", "order_date": "31/12/2025"},
        {"quarantine": "order_date is not a date"},
    ),
    ({"order_id": "Q6", "procedure_code": "77066"}, {"quarantine": "procedure_code has no procedure_system"}),
    (
        {"order_id": "Q7", "indication": "stage I breast cancer"},
        {"quarantine": "no procedure_code or procedure_name"},
    ),
]


def _write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS)
        w.writeheader()
        for row in rows:
            w.writerow(row)
    return path


@pytest.fixture(scope="module")
def known_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("known")
    orders = _write_csv(d / "orders.csv", [row for row, _ in KNOWN])
    run_duckdb(find_inputs(orders, None), d / "out", batch_rows=7)
    return d / "out"


def test_known_answers_one_by_one(known_run: Path) -> None:
    rated = {r["row"]: r for r in pq.read_table(known_run / "rated.parquet").to_pylist()}
    with (known_run / "quarantine.csv").open(encoding="utf-8") as fh:
        quarantined = {int(r["row"]): r for r in csv.DictReader(fh)}
    assert set(rated).isdisjoint(quarantined)
    for number, (order, want) in enumerate(KNOWN, start=1):
        if "quarantine" in want:
            assert number in quarantined, order
            assert quarantined[number]["reason"].startswith(want["quarantine"]), quarantined[number]
            continue
        got = rated[number]
        assert got["order_id"] == order["order_id"]
        assert got["kb_version"]
        for key in ("topic_id", "variant", "category", "low_value", "insufficient_information"):
            if key in want:
                assert got[key] == want[key], (order["order_id"], key, got)
        if "measures" in want:
            assert sorted(got["measures"]) == sorted(want["measures"]), (order["order_id"], got)
        if "missing_has" in want:
            assert want["missing_has"] in got["missing"], got
            assert got["decision"] is None or json.loads(got["decision"])["branches"]
        if "not_in" in want:
            assert want["not_in"] not in got["denominators"], got
        if "reason_has" in want:
            assert want["reason_has"] in got["reason"], got
        if got["insufficient_information"]:
            assert not got["low_value"] and got["variant"] is None


def test_known_summary_counts_every_row(known_run: Path) -> None:
    s = json.loads((known_run / "summary.json").read_text())
    assert s["rows_in"] == len(KNOWN) == s["rated"] + s["quarantined"]
    assert s["quarantined"] == sum("quarantine" in w for _, w in KNOWN)
    early = next(m for m in s["measures"] if m["id"] == "early-staging")
    assert set(early) >= {"id", "title", "source", "numerator", "denominator", "rate", "ci_low", "ci_high"}
    assert early["ci_low"] <= early["rate"] <= early["ci_high"]
    assert s["by_month"] and s["by_procedure"] and s["by_variant"]


def test_no_free_text_in_outputs(known_run: Path) -> None:
    words = ["lumpectomy", "knee pain", "rising CA 15-3"]
    for name in ("rated.parquet", "quarantine.csv", "summary.json", "report.html"):
        data = (known_run / name).read_bytes()
        assert not any(w.encode() in data for w in words), name


# --- a synthetic year with messy rows ------------------------------------------------------

N = 2400


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("synth")
    orders = d / "orders.csv"
    synth.write(N, 11, orders)
    run_duckdb(find_inputs(orders, None), d / "out", batch_rows=500)
    return orders, d / "out"


def test_synthetic_is_reproducible(tmp_path: Path) -> None:
    synth.write(300, 5, tmp_path / "a.csv")
    synth.write(300, 5, tmp_path / "b.csv")
    synth.write(300, 6, tmp_path / "c.csv")
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert (tmp_path / "a.csv").read_bytes() != (tmp_path / "c.csv").read_bytes()


def test_every_messy_row_accounted_for(synthetic: tuple[Path, Path]) -> None:
    orders, out = synthetic
    s = json.loads((out / "summary.json").read_text())
    assert s["rows_in"] == N == s["rated"] + s["quarantined"]
    rated_rows = pq.read_table(out / "rated.parquet", columns=["row"]).column("row").to_pylist()
    with (out / "quarantine.csv").open(encoding="utf-8") as fh:
        q_rows = [int(r["row"]) for r in csv.DictReader(fh)]
    assert sorted(rated_rows + q_rows) == list(range(1, N + 1))
    with orders.open(encoding="utf-8") as fh:
        expected = [r["synthetic_expected"] for r in csv.DictReader(fh)]
    # The generator's messy rows are exactly the quarantined ones, and its low-value orders
    # exactly the ones the audit finds low value.
    assert sorted(q_rows) == [i for i, e in enumerate(expected, start=1) if e == "quarantine"]
    low = set(
        pq.read_table(out / "rated.parquet", filters=[("low_value", "=", True)], columns=["row"])
        .column("row")
        .to_pylist()
    )
    assert low == {i for i, e in enumerate(expected, start=1) if e == "low_value"}


def test_resume_after_a_killed_run(synthetic: tuple[Path, Path], tmp_path: Path) -> None:
    orders, clean = synthetic
    out = tmp_path / "out"
    cmd = [
        str(Path(sys.executable).parent / "scanwise"),
        "audit",
        str(orders),
        "--out",
        str(out),
        "--batch-rows",
        "200",
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    parts = out / ".audit-work" / "parts"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(parts.glob("part-*.parquet"))) < 3:
        if proc.poll() is not None:
            pytest.fail(
                f"the run ended before it could be interrupted: {proc.communicate()[1].decode()[-500:]}"
            )
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = {p.name: p.stat().st_mtime_ns for p in parts.glob("part-*.parquet")}
    assert 3 <= len(before) < N // 200
    assert not (out / "summary.json").exists()
    done = subprocess.run([*cmd, "--resume"], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-800:]
    assert f"resumed: {len(before) * 200:,} rows were already rated" in done.stdout
    after = {p.name: p.stat().st_mtime_ns for p in parts.glob("part-*.parquet")}
    assert all(after[name] == mtime for name, mtime in before.items())  # not rated again
    assert len(after) == N // 200
    assert (out / "rated.parquet").read_bytes() == (clean / "rated.parquet").read_bytes()
    assert (out / "quarantine.csv").read_bytes() == (clean / "quarantine.csv").read_bytes()
    assert json.loads((out / "summary.json").read_text()) == json.loads((clean / "summary.json").read_text())


def test_report_opens_in_chromium_with_its_charts(browser: Any, synthetic: tuple[Path, Path]) -> None:
    _, out = synthetic
    page = browser.new_page()
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    page.goto((out / "report.html").as_uri())
    assert errors == []
    assert all(u.startswith("file://") for u in requests), requests
    charts = page.locator("svg.chart")
    assert charts.count() == 2
    assert page.locator("svg.chart polyline.series").count() >= 2  # a line per measure over the months
    assert page.locator("svg.chart rect.bar").count() >= 5  # a bar per procedure
    assert charts.first.bounding_box()["height"] > 100
    text = page.inner_text("body")
    for needed in (
        "Beside the published audits",
        "How to read this report",
        "Michigan",
        "28.5%",
        "95% interval",
    ):
        assert needed in text
    page.close()


def test_cli_synth_and_default_run(tmp_path: Path) -> None:
    from scanwise.cli import app

    runner = CliRunner()
    res = runner.invoke(app, ["audit", "synth", "50", "--seed", "2", "--out", str(tmp_path / "o.csv")])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["audit", str(tmp_path / "o.csv"), "--out", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    assert "rows in 50 = rated" in res.output
    res = runner.invoke(app, ["audit", str(tmp_path / "missing.csv"), "--out", str(tmp_path / "x")])
    assert res.exit_code == 2 and "does not exist" in res.output


def test_missing_order_id_column_is_a_clear_error(tmp_path: Path) -> None:
    from scanwise.cli import app

    (tmp_path / "o.csv").write_text("id,procedure_code\n1,78815\n")
    res = CliRunner().invoke(app, ["audit", str(tmp_path / "o.csv"), "--out", str(tmp_path / "out")])
    assert res.exit_code == 2 and "order_id" in res.output
    (tmp_path / "map.yaml").write_text("columns: {order_id: id}\ndefaults: {procedure_system: cpt}\n")
    res = CliRunner().invoke(
        app,
        [
            "audit",
            str(tmp_path / "o.csv"),
            "--out",
            str(tmp_path / "out"),
            "--columns",
            str(tmp_path / "map.yaml"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "rows in 1 = rated 1 + quarantined 0" in res.output


# --- data checks ----------------------------------------------------------------------------


def test_wilson_interval() -> None:
    assert wilson(0, 0) == (None, None)
    lo, hi = wilson(5, 10)
    assert (round(lo, 4), round(hi, 4)) == (0.2366, 0.7634)
    lo, hi = wilson(0, 10)
    assert lo == 0.0 and round(hi, 4) == 0.2775


def test_measures_file_is_checked_on_load(kb: Any, tmp_path: Path) -> None:
    assert [m.id for m in load_measures(kb)] == [
        "early-staging",
        "survivor-advanced",
        "usually-not-appropriate",
    ]
    bad = tmp_path / "measures.yaml"
    bad.write_text(
        "measures:\n- {id: x, title: t, short: s, definition: d, population: {study: [pet_scan]},"
        " numerator: {}, sources: [gp310]}\n"
    )
    with pytest.raises(KnowledgeBaseError, match="unknown study 'pet_scan'"):
        load_measures(kb, bad)
    bad.write_text(
        "measures:\n- {id: x, title: t, short: s, definition: d, population: {}, numerator: {},"
        " sources: [nowhere]}\n"
    )
    with pytest.raises(KnowledgeBaseError, match="unknown source 'nowhere'"):
        load_measures(kb, bad)
    bad.write_text(
        "measures:\n- {id: x, title: t, short: s, definition: d, population: {stage: [I]},"
        " numerator: {}, sources: [gp310]}\n"
    )
    with pytest.raises(KnowledgeBaseError, match="population"):
        load_measures(kb, bad)
