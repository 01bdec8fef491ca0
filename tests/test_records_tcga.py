"""The record reader on the 146 real, OCR-noisy TCGA-BRCA pathology reports (when present).

The figures are those `tools/eval_tcga.py` prints and the README reports, rounded down; a
change to the extractors that loses accuracy on real reports fails here. Skipped where the
shared reference data is not beside the checkout.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REPORTS = ROOT.parent / "shared" / "reference" / "tcga_brca" / "reports.jsonl"
# Accuracy reached (share of scored reports read correctly; a report where the reader finds
# nothing counts as wrong), rounded down.
FLOOR = {"histology": 0.95, "er": 0.83, "pr": 0.82, "her2": 0.73, "her2_ish": 0.81, "t": 0.83}
# Where the reader gives a value, how often it is right.
PRECISION_FLOOR = {"histology": 0.95, "er": 0.94, "pr": 0.97, "her2": 0.91, "her2_ish": 0.97, "t": 0.93}


@pytest.fixture(scope="module")
def report() -> dict[str, object]:
    if not REPORTS.exists():
        pytest.skip("the shared TCGA reference data is not present")
    spec = importlib.util.spec_from_file_location("eval_tcga", ROOT / "tools" / "eval_tcga.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rows = [json.loads(line) for line in REPORTS.read_text(encoding="utf-8").splitlines() if line.strip()]
    return module.evaluate(rows)  # type: ignore[no-any-return]


@pytest.mark.parametrize("field", sorted(FLOOR))
def test_tcga_accuracy_does_not_fall(report: dict[str, dict[str, dict[str, float]]], field: str) -> None:
    s = report["fields"][field]
    assert s["accuracy"] >= FLOOR[field], s
    assert s["precision"] >= PRECISION_FLOOR[field], s
