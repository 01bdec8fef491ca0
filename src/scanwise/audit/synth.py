"""Synthetic imaging orders to try the audit on (``scanwise audit synth N --seed S --out FILE``).

SYNTHETIC DATA: every row is made up by a seeded random generator; no patient, clinician or
order is real. The same N and seed always give the same file. The mix follows the situations
the measures are about: newly diagnosed early and late breast cancer, survivors with and
without symptoms (some with a raised tumour marker only), screening, imaging of other body parts,
orders whose stage is not given, and about 1% messy rows (no id, a repeated id, an unknown code
system, an unreadable age or date). Indications come as structured columns, as free text, or
both. The column ``synthetic_expected`` says what the generator meant each row to be
(low_value, not_low_value, insufficient or quarantine); the audit ignores it.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from scanwise.audit.rating import INPUT_COLUMNS

COLUMNS = (*INPUT_COLUMNS, "synthetic_expected")
CPT = "cpt"
STAGING = {"78815": "PET/CT", "71260": "CT chest", "74177": "CT abdomen and pelvis", "78306": "bone scan"}
BREAST = {"77066": "diagnostic mammogram", "77049": "breast MRI", "76641": "breast ultrasound"}
OTHER = [
    ("73721", "knee MRI", "knee pain after a fall", "Orthopaedics"),
    ("72148", "lumbar spine MRI", "low back pain for six weeks", "Primary Care"),
    ("77080", "bone density scan", "on an aromatase inhibitor, bone density check", "Medical Oncology"),
]
SERVICES = ["Medical Oncology", "Surgical Oncology", "Breast Surgery", "Radiation Oncology"]
EARLY = [
    ("0", "Tis", "DCIS"),
    ("IA", "T1c", "IDC"),
    ("IA", "T1b", "ILC"),
    ("IIA", "T2", "IDC"),
    ("IIA", "T1c", "IDC"),
]
LATE = [("IIB", "T3", "IDC"), ("IIIA", "T3", "IDC"), ("IIIB", "T4b", "IDC"), ("IIIC", "T2", "ILC")]
RECEPTORS = [
    ("positive", "negative", "ER+/HER2-"),
    ("negative", "positive", "ER-/HER2+"),
    ("negative", "negative", "triple-negative"),
]
YEAR = date(2025, 1, 1)


def _early_share(day: int) -> float:
    """Staging scans for early cancer fall from 25% to 12% over the year (a quality drive)."""
    return 0.25 - 0.13 * day / 364


def _orders(rng: random.Random, n: int) -> Iterator[dict[str, Any]]:
    made = 0
    patient = 0
    while made < n:
        patient += 1
        pid = f"P{patient:07d}"
        age = rng.randint(32, 86)
        day = rng.randrange(365)
        kind = rng.choices(
            [
                "early",
                "early_flag",
                "late",
                "survivor",
                "survivor_symptoms",
                "survivor_marker",
                "screening",
                "other",
                "unknown_stage",
            ],
            weights=[30, 4, 10, 20, 6, 3, 12, 10, 5],
        )[0]
        for row in _patient_orders(rng, kind, age, day):
            row["patient_id"] = pid
            row["order_date"] = (YEAR + timedelta(days=min(364, day + rng.randrange(20)))).isoformat()
            yield row
            made += 1
            if made >= n:
                return


def _style(rng: random.Random) -> str:
    return rng.choices(["structured", "text", "both"], weights=[40, 40, 20])[0]


def _patient_orders(rng: random.Random, kind: str, age: int, day: int) -> list[dict[str, Any]]:
    service = rng.choice(SERVICES)
    base: dict[str, Any] = {"sex": "F", "age": str(age), "procedure_system": CPT, "ordering_service": service}
    out: list[dict[str, Any]] = []
    if kind in ("early", "early_flag", "late", "unknown_stage"):
        stage, t, hist = rng.choice(EARLY if kind in ("early", "early_flag") else LATE)
        er, her2, rec = rng.choice(RECEPTORS)
        style = _style(rng)
        flag = kind == "early_flag"
        scan = rng.random() < (_early_share(day) if kind == "early" else 0.7)
        codes = [rng.choice(list(BREAST))] + ([rng.choice(list(STAGING))] if scan or flag else [])
        if flag:
            codes[-1] = "78306"
        for code in codes:
            row = dict(base, procedure_code=code)
            staging = code in STAGING
            study = STAGING.get(code) or BREAST[code]
            if kind == "unknown_stage":
                row.update(
                    indication=f"newly diagnosed breast cancer, {study} for staging", reason_codes="C50.911"
                )
                expect = "insufficient" if staging else "not_low_value"
            elif style == "structured" or (hist == "DCIS" and style != "text"):
                row.update(
                    stage=stage,
                    er=er if hist != "DCIS" else None,
                    her2=her2 if hist != "DCIS" else None,
                    phase="new_diagnosis",
                    symptoms="bone_pain" if flag else "none",
                    reason_codes="D05.11" if hist == "DCIS" else "C50.911",
                )
                expect = "low_value" if staging and kind == "early" else "not_low_value"
            else:
                who = f"{age}F " if rng.random() < 0.15 else ""  # most order reasons leave age to its column
                words = (
                    f"{who}newly diagnosed stage {stage} {rec} {hist}, "
                    + ("new bone pain in the back, " if flag else "no symptoms, ")
                    + (f"{study} for staging" if staging else f"{study} for extent in the breast")
                )
                if hist == "DCIS":
                    words = (
                        f"{who}newly diagnosed DCIS, "
                        + ("new bone pain in the back, " if flag else "no symptoms, ")
                        + (f"{study} for staging" if staging else f"{study} for extent in the breast")
                    )
                row.update(indication=words)
                if style == "both":
                    row.update(stage=stage, phase="new_diagnosis")
                expect = "low_value" if staging and kind == "early" else "not_low_value"
            row["synthetic_expected"] = expect
            out.append(row)
    elif kind.startswith("survivor"):
        years = rng.randint(1, 9)
        scan = kind != "survivor" or rng.random() < 0.15
        code = rng.choice(list(STAGING)) if scan else "77066"
        if kind == "survivor_marker":
            code = "78815"
        row = dict(base, procedure_code=code)
        study = STAGING.get(code) or BREAST.get(code, "imaging")
        if kind == "survivor_symptoms":
            symptom, words = rng.choice(
                [("bone_pain", "new bone pain in the hip"), ("cough", "persistent cough")]
            )
            if _style(rng) == "structured":
                row.update(phase="surveillance", symptoms=symptom, reason_codes="Z85.3")
            else:
                row.update(
                    indication=f"history of breast cancer treated {years} years ago, now {words}, {study}"
                )
            expect = "not_low_value"
        elif kind == "survivor_marker":
            row.update(
                indication=f"breast cancer survivor, {years} years after lumpectomy, asymptomatic, "
                f"rising CA 15-3, {study}"
            )
            expect = "low_value"
        else:
            if _style(rng) == "structured":
                row.update(phase="surveillance", symptoms="none", reason_codes="Z85.3")
            else:
                row.update(
                    indication=f"breast cancer survivor, {years} years after treatment, asymptomatic, "
                    f"routine follow-up {study}"
                )
            expect = "low_value" if scan else "not_low_value"
        row["synthetic_expected"] = expect
        out.append(row)
    elif kind == "screening":
        out.append(
            dict(
                base,
                procedure_code="77067",
                ordering_service="Primary Care",
                indication=f"{age}-year-old woman, average risk, screening mammogram",
                synthetic_expected="not_low_value",
            )
        )
    else:
        code, _name, words, svc = rng.choice(OTHER)
        out.append(
            dict(
                base,
                procedure_code=code,
                ordering_service=svc,
                indication=words,
                synthetic_expected="not_low_value",
            )
        )
    return out


def _mess(rng: random.Random, row: dict[str, Any], previous: dict[str, Any] | None) -> dict[str, Any]:
    """About 1 row in 100 is made messy in one of the ways a real extract is."""
    if rng.random() >= 0.01:
        return row
    how = rng.choice(["no_id", "duplicate", "system", "age", "date"])
    row = dict(row, synthetic_expected="quarantine")
    if how == "no_id":
        row["order_id"] = ""
    elif how == "duplicate" and previous is not None:
        row["order_id"] = previous["order_id"]
    elif how == "system":
        row["procedure_system"] = "icd9proc"
    elif how == "age":
        row["age"] = "sixty"
    else:
        row["order_date"] = rng.choice(["31/12/2025", "2025-02-30", "last tuesday"])
    if how == "duplicate" and previous is None:
        row["order_id"] = ""
    return row


def rows(n: int, seed: int) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    previous: dict[str, Any] | None = None
    for i, row in enumerate(_orders(rng, n), start=1):
        row["order_id"] = f"ORD{seed:04d}-{i:08d}"
        row = _mess(rng, row, previous)
        previous = row
        yield {c: row.get(c) for c in COLUMNS}


def write(n: int, seed: int, out: Path) -> dict[str, int]:
    """Write N orders to a .csv or .parquet file; returns how many of each kind were meant."""
    counts: dict[str, int] = {}
    if out.suffix.lower() == ".parquet":
        schema = pa.schema([(c, pa.string()) for c in COLUMNS])
        with pq.ParquetWriter(out, schema) as w:
            chunk: list[dict[str, Any]] = []
            for row in rows(n, seed):
                counts[row["synthetic_expected"]] = counts.get(row["synthetic_expected"], 0) + 1
                chunk.append(row)
                if len(chunk) == 50_000:
                    w.write_table(pa.Table.from_pylist(chunk, schema=schema))
                    chunk = []
            if chunk:
                w.write_table(pa.Table.from_pylist(chunk, schema=schema))
        return counts
    with out.open("w", newline="", encoding="utf-8") as fh:
        w2 = csv.DictWriter(fh, fieldnames=list(COLUMNS))
        w2.writeheader()
        for row in rows(n, seed):
            counts[row["synthetic_expected"]] = counts.get(row["synthetic_expected"], 0) + 1
            w2.writerow(row)
    return counts
