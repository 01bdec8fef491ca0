"""Measure the record reader on the 146 TCGA-BRCA pathology reports in the shared reference.

Usage: .venv/bin/python tools/eval_tcga.py [--json] [--misses] [PATH/TO/reports.jsonl]

Scoring follows the reference's SOURCES.md: a receptor label comes from the registry, not
necessarily from this report, so ER, PR, HER2 (IHC status) and HER2 ISH are scored only on
reports whose text mentions that test (``text_mentions_heuristic``). Within those, a report
where the reader finds no value counts as a miss. Histology is scored on every report, with
cBioPortal's names mapped to scanwise's (ductal, lobular, mixed, other). A second figure,
"precision", counts only the reports where the reader gave a value. T (main category, T1-T4)
is scored on reports whose text has a pTNM string, for information.

The registry is not the text: a registry label may come from another biopsy, and "mentions the
test" includes "ER/PR taken" or "results to follow". So ER, PR, HER2 (IHC) and HER2 ISH are also
scored against what each report's text states, hand-annotated from the text alone, without the
reader or the registry (``tests/fixtures/tcga/text_labels.yaml``; each label quotes its words).
There, a report whose text states two different results counts as read correctly only when the
reader reports the conflict, and reports whose text states no result measure how often the
reader answers anyway.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT.parent / "shared" / "reference" / "tcga_brca" / "reports.jsonl"
TEXT_LABELS = ROOT / "tests" / "fixtures" / "tcga" / "text_labels.yaml"
TEXT_FIELDS = ("er", "pr", "her2", "her2_ish")
STATED = {"positive", "negative", "equivocal", "amplified", "not amplified"}
# the conflict fields that stand for one annotated field
_CONFLICT_FIELDS = {"er": {"er"}, "pr": {"pr"}, "her2": {"her2", "her2_ihc"}, "her2_ish": {"her2_ish"}}

_HISTOLOGY = {
    "Breast Invasive Ductal Carcinoma": "ductal",
    "Breast Invasive Lobular Carcinoma": "lobular",
    "Breast Mixed Ductal and Lobular Carcinoma": "mixed",
}
_IHC_STATUS = {"0": "negative", "1+": "negative", "2+": "equivocal", "3+": "positive"}
FIELDS = ("histology", "er", "pr", "her2", "her2_ish", "t")


def expected(row: dict[str, Any], field: str) -> str | None:
    """The registry label in scanwise's words, or None where this report is not scored."""
    labels, said = row["labels"], row["text_mentions_heuristic"]
    if field == "histology":
        return _HISTOLOGY.get(labels["histology"], "other")
    if field in ("er", "pr"):
        value = labels[field]
        return value.lower() if said[field] and value in ("Positive", "Negative") else None
    if field == "her2":
        value = labels["her2_ihc"]
        ok = value in ("Positive", "Negative", "Equivocal")
        return value.lower() if said["her2"] and ok else None
    if field == "t":  # main category only: the registry mixes editions and detail ("T1" vs "T1c")
        return labels["path_t"][:2] if said["tnm_string"] and labels["path_t"] else None
    value = labels["her2_fish"]
    if not said["her2_ish"] or value not in ("Positive", "Negative"):
        return None
    return "amplified" if value == "Positive" else "not amplified"


def predicted(profile: Any, field: str) -> str | None:
    if field == "her2":  # the registry's HER2 label is the IHC result, not the final status
        if profile.her2_ihc:
            return _IHC_STATUS[profile.her2_ihc]
        return profile.her2 if profile.her2_ish is None else None
    if field == "t":
        return re.sub(r"^(?:yp|yc|c|p|r)", "", profile.t)[:2] if profile.t else None
    value = getattr(profile, field)
    return str(value) if value is not None else None


def load_text_labels(path: Path = TEXT_LABELS) -> dict[str, dict[str, Any]]:
    import yaml

    entries = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {e["report"]: e for e in entries}


def evaluate(rows: Iterable[dict[str, Any]], text_labels: dict[str, dict[str, Any]] | None = None
             ) -> dict[str, Any]:
    from scanwise.knowledge.loader import default_kb
    from scanwise.records import read_records

    kb = default_kb()
    scores: dict[str, dict[str, int]] = {f: {"scored": 0, "correct": 0, "answered": 0, "answered_correct": 0}
                                         for f in FIELDS}
    text_scores: dict[str, dict[str, int]] = {
        f: {"scored": 0, "correct": 0, "conflicts": 0, "conflicts_found": 0, "not_stated": 0,
            "answered_anyway": 0, "unclear": 0} for f in TEXT_FIELDS}
    misses: list[dict[str, Any]] = []
    text_misses: list[dict[str, Any]] = []
    conflicts = 0
    for row in rows:
        report_id = row["report_id"][:12]
        reading = read_records([(report_id + ".txt", row["report_text"].encode())], kb)
        conflicts += bool(reading.conflicts)
        conflict_fields = {c.field for c in reading.conflicts}
        for field in FIELDS:
            want = expected(row, field)
            if want is None:
                continue
            got = predicted(reading.profile, field)
            s = scores[field]
            s["scored"] += 1
            s["correct"] += got == want
            if got is not None:
                s["answered"] += 1
                s["answered_correct"] += got == want
            if got != want:
                misses.append({"report": report_id, "field": field, "expected": want, "got": got,
                               "conflict": sorted(conflict_fields)})
        if text_labels is None or report_id not in text_labels:
            continue
        for field in TEXT_FIELDS:
            label = text_labels[report_id][field]["value"]
            got = predicted(reading.profile, field)
            t = text_scores[field]
            found_conflict = bool(conflict_fields & _CONFLICT_FIELDS[field])
            if label in STATED:
                t["scored"] += 1
                ok = got == label
            elif label == "conflict":
                t["scored"] += 1
                t["conflicts"] += 1
                ok = found_conflict and got is None
                t["conflicts_found"] += ok
            elif label == "not stated":  # not scored for accuracy; an answer here is a miss
                t["not_stated"] += 1
                t["answered_anyway"] += got is not None
                ok = got is None
            else:  # "unclear": the text gives a result no rule can classify; not scored
                t["unclear"] += 1
                continue
            if label != "not stated":
                t["correct"] += ok
            if not ok:
                text_misses.append({"report": report_id, "field": field, "text_states": label, "got": got,
                                    "conflict": sorted(conflict_fields)})
    out: dict[str, Any] = {
        "fields": {f: {**s, "accuracy": round(s["correct"] / s["scored"], 4) if s["scored"] else None,
                       "precision": round(s["answered_correct"] / s["answered"], 4) if s["answered"]
                       else None}
                   for f, s in scores.items()},
        "reports_with_conflicts": conflicts,
        "misses": misses,
    }
    if text_labels is not None:
        out["text_stated"] = {
            f: {**t, "accuracy": round(t["correct"] / t["scored"], 4) if t["scored"] else None}
            for f, t in text_scores.items()}
        out["text_misses"] = text_misses
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path", nargs="?", type=Path, default=DEFAULT)
    ap.add_argument("--json", action="store_true", help="print JSON")
    ap.add_argument("--misses", action="store_true", help="list every miss")
    args = ap.parse_args(argv)
    if not args.path.exists():
        print(f"error: {args.path} not found (the shared reference data)", file=sys.stderr)
        return 2
    rows = [json.loads(line) for line in args.path.read_text(encoding="utf-8").splitlines() if line.strip()]
    report = evaluate(rows, load_text_labels() if TEXT_LABELS.exists() else None)
    if args.json:
        shown = report if args.misses else {k: v for k, v in report.items() if not k.endswith("misses")}
        print(json.dumps(shown, indent=2))
        return 0
    print(f"TCGA-BRCA pathology reports: {len(rows)}")
    print(f"{'field':<10} {'scored':>6} {'correct':>8} {'accuracy':>9} {'answered':>9} {'precision':>10}")
    for field, s in report["fields"].items():
        acc = f"{s['accuracy']:.1%}" if s["accuracy"] is not None else "-"
        prec = f"{s['precision']:.1%}" if s["precision"] is not None else "-"
        print(f"{field:<10} {s['scored']:>6} {s['correct']:>8} {acc:>9} {s['answered']:>9} {prec:>10}")
    print(f"reports with a conflict reported: {report['reports_with_conflicts']}")
    if args.misses:
        for m in report["misses"]:
            print(f"  {m['report']} {m['field']}: expected {m['expected']}, got {m['got']}"
                  + (f" (conflict: {', '.join(m['conflict'])})" if m["conflict"] else ""))
    if "text_stated" in report:
        print("\nAgainst what each report's text states (hand-annotated):")
        print(f"{'field':<10} {'stated':>6} {'correct':>8} {'accuracy':>9} {'conflicts found':>16} "
              f"{'not stated':>11} {'answered anyway':>16} {'unclear':>8}")
        for field, t in report["text_stated"].items():
            acc = f"{t['accuracy']:.1%}" if t["accuracy"] is not None else "-"
            print(f"{field:<10} {t['scored']:>6} {t['correct']:>8} {acc:>9} "
                  f"{str(t['conflicts_found']) + '/' + str(t['conflicts']):>16} {t['not_stated']:>11} "
                  f"{t['answered_anyway']:>16} {t['unclear']:>8}")
        if args.misses:
            for m in report["text_misses"]:
                print(f"  {m['report']} {m['field']}: text states {m['text_states']}, got {m['got']}"
                      + (f" (conflict: {', '.join(m['conflict'])})" if m["conflict"] else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
