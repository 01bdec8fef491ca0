"""Record reading speed and memory: documents per second and peak memory for text, PDF and FHIR.

    .venv/bin/python benchmarks/bench_records.py [--seconds 3]

Text: the synthetic CAP synoptic report and, when the shared reference is present, the TCGA
pathology reports (longer, OCR-noisy). PDF: a two-page text PDF written with fpdf2. FHIR: the
synthetic mCODE bundle. The first call builds the medspaCy pipeline; that one-off cost is
printed apart and not counted. Peak memory is what Python allocated while reading (tracemalloc)
(a separate pass, since tracing slows reading) and the process's maximum resident size.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from scanwise.knowledge.loader import default_kb
from scanwise.records import read_records

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "records"
TCGA = ROOT.parent / "shared" / "reference" / "tcga_brca" / "reports.jsonl"


def _pdf() -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=10)
    lines = (FIXTURES / "cap_synoptic.txt").read_text(encoding="utf-8").splitlines()
    for chunk in (lines[: len(lines) // 2], lines[len(lines) // 2:]):
        pdf.add_page()
        for line in chunk:
            pdf.cell(0, 6, line.encode("latin-1", "replace").decode("latin-1"), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _measure(name: str, docs: list[tuple[str, bytes]], seconds: float, read: Callable[..., object]) -> None:
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds or n < len(docs):
        read([docs[n % len(docs)]])
        n += 1
    elapsed = time.perf_counter() - start
    tracemalloc.start()  # a separate pass: tracing slows reading down several times
    for doc in docs[:20]:
        read([doc])
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    size = sum(len(d) for _, d in docs) / len(docs)
    print(f"{name:<22} {n:>6} docs  {n / elapsed:>8.1f} docs/s  {1000 * elapsed / n:>7.1f} ms/doc  "
          f"avg {size / 1024:>6.1f} KiB  peak Python memory {peak / 1024:>8.0f} KiB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=3.0, help="time per kind of document")
    args = ap.parse_args()
    kb = default_kb()

    def read(sources: list[tuple[str, bytes]]) -> object:
        return read_records(sources, kb)

    start = time.perf_counter()
    read([("warm.txt", b"Left breast invasive ductal carcinoma, ER positive.")])
    print(f"pipeline start-up (once per process): {time.perf_counter() - start:.2f} s")
    _measure("text (synoptic)", [("cap_synoptic.txt", (FIXTURES / "cap_synoptic.txt").read_bytes())],
             args.seconds, read)
    if TCGA.exists():
        rows = [json.loads(line) for line in TCGA.read_text(encoding="utf-8").splitlines() if line.strip()]
        _measure("text (TCGA OCR)", [(r["report_id"][:12] + ".txt", r["report_text"].encode()) for r in rows],
                 args.seconds, read)
    _measure("pdf (2 pages)", [("report.pdf", _pdf())], args.seconds, read)
    _measure("fhir (mCODE bundle)", [("bundle.json", (FIXTURES / "mcode_bundle.json").read_bytes())],
             args.seconds, read)
    print(f"process max resident memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
