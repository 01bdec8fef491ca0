"""The record reader on the 146 real, OCR-noisy TCGA-BRCA pathology reports (when present).

The figures are those `tools/eval_tcga.py` prints and the README reports, rounded down; a
change to the extractors that loses accuracy on real reports fails here. Two yardsticks: the
registry labels (which may come from another biopsy than the report), and what each report's
text states, hand-annotated in `fixtures/tcga/text_labels.yaml`. Skipped where the shared
reference data is not beside the checkout.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest
from reference_data import REASON, REFERENCE

ROOT = Path(__file__).resolve().parents[1]
REPORTS = REFERENCE / "tcga_brca" / "reports.jsonl"
# Accuracy reached (share of scored reports read correctly; a report where the reader finds
# nothing counts as wrong), rounded down.
FLOOR = {"histology": 0.95, "er": 0.83, "pr": 0.83, "her2": 0.76, "her2_ish": 0.81, "t": 0.83}
# Where the reader gives a value, how often it is right.
PRECISION_FLOOR = {"histology": 0.95, "er": 0.94, "pr": 0.97, "her2": 0.91, "her2_ish": 0.97, "t": 0.93}
# Against what the text states: share of stated results read correctly (a stated conflict counts
# only when the reader reports it), rounded down.
TEXT_FLOOR = {"er": 0.97, "pr": 0.98, "her2": 0.95, "her2_ish": 1.0}
TEXT_VALUES = {"positive", "negative", "equivocal", "amplified", "not amplified", "conflict", "not stated",
               "unclear"}


@pytest.fixture(scope="module")
def eval_tcga() -> ModuleType:
    spec = importlib.util.spec_from_file_location("eval_tcga", ROOT / "tools" / "eval_tcga.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def rows() -> list[dict[str, object]]:
    if not REPORTS.exists():
        pytest.skip(REASON)
    return [json.loads(line) for line in REPORTS.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def report(eval_tcga: ModuleType, rows: list[dict[str, object]]) -> dict[str, object]:
    return eval_tcga.evaluate(rows, eval_tcga.load_text_labels())  # type: ignore[no-any-return]


def test_text_labels_cover_every_report_and_quote_it(eval_tcga: ModuleType,
                                                     rows: list[dict[str, str]]) -> None:
    labels = eval_tcga.load_text_labels()
    texts = {row["report_id"][:12]: row["report_text"] for row in rows}
    assert set(labels) == set(texts)
    for report_id, entry in labels.items():
        for field in eval_tcga.TEXT_FIELDS:
            label = entry[field]
            assert label["value"] in TEXT_VALUES, (report_id, field)
            if label["value"] != "not stated":
                assert label["quotes"], (report_id, field)
            for quote in label["quotes"]:
                assert quote in texts[report_id], (report_id, field, quote)


@pytest.mark.parametrize("field", sorted(FLOOR))
def test_tcga_accuracy_does_not_fall(report: dict[str, dict[str, dict[str, float]]], field: str) -> None:
    s = report["fields"][field]
    assert s["accuracy"] >= FLOOR[field], s
    assert s["precision"] >= PRECISION_FLOOR[field], s


@pytest.mark.parametrize("field", sorted(TEXT_FLOOR))
def test_tcga_reads_what_the_text_states(report: dict[str, dict[str, dict[str, float]]], field: str) -> None:
    t = report["text_stated"][field]
    assert t["accuracy"] >= TEXT_FLOOR[field], t
    assert t["answered_anyway"] == 0, t  # a report that states no result gets none from the reader
