"""The reader beside the medspaCy pipeline it is built on, on the same texts, in one run.

    .venv/bin/python benchmarks/bench_reader.py [--rounds 3]

Short texts: every scenario of the bundled sets (scenarios.yaml, holdout*.yaml), one to three
sentences as clinicians and patients write them. For each, side by side:

- the reader (``nlp.scenario.read_scenario``: normalisation, the pattern readers, one pass of
  the pipeline, the mention rules, the models);
- our pipeline alone (sentences from ``nlp.clinical.sentence_starts``, then medspaCy's target
  matcher and ConText with our vocabulary, their token patterns compiled into phrase matchers
  when the pipeline is built: ``nlp.clinical._compile``), the floor the reader cannot go below,
  and each of its parts;
- medspaCy as shipped (``medspacy.load`` with its PyRuSH sentence splitter, target matcher and
  ConText, its own rules): the obvious way, which the reader used until 2026-12-02.

The overhead ratio is the reader's time over our pipeline's. TCGA-length reports (the shared
TCGA-BRCA pathology reports, when present): the record reader, which gives the pipeline its
sentence starts (field labels end a sentence), beside that same pipeline pass alone, and the
scenario reader (``read_profile``) on the report of median length.

Rates are per CPU second of this process (``time.process_time``), so other work on a shared
machine slows them less than wall time would; the best of ``--rounds`` passes is shown.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from measure import cpu_per_item  # benchmarks/measure.py, beside this script

from scanwise.eval.runner import load_scenarios
from scanwise.knowledge.loader import default_kb
from scanwise.nlp.clinical import _with_sentences, pipeline, sentence_starts
from scanwise.nlp.scenario import read_profile, read_scenario
from scanwise.records.text import read_text_document

ROOT = Path(__file__).resolve().parents[1]
SETS = ["scenarios", "holdout", "holdout2", "holdout3", "holdout4", "holdout5"]
TCGA = ROOT.parent / "shared" / "reference" / "tcga_brca" / "reports.jsonl"


def latencies(work: Callable[[Any], object], items: Sequence[Any]) -> list[float]:
    out = []
    for item in items:
        start = time.process_time()
        work(item)
        out.append(time.process_time() - start)
    return sorted(out)


def row(label: str, seconds: float, base: float | None = None) -> None:
    ratio = f"   x{seconds / base:5.2f}" if base else ""
    print(f"  {label:<44} {1 / seconds:8.0f} /s  {seconds * 1e3:7.2f} ms{ratio}")


def bare_medspacy() -> Any:
    """medspaCy as shipped: the same components, its own rules, none of ours."""
    from loguru import logger

    logger.disable("PyRuSH")
    import medspacy

    return medspacy.load(medspacy_enable=["medspacy_pyrush", "medspacy_target_matcher", "medspacy_context"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    kb = default_kb()
    start = time.perf_counter()
    nlp = pipeline(kb)
    print(f"pipeline built once per process: {time.perf_counter() - start:.2f} s")
    for name in ("medspacy_target_matcher", "medspacy_context"):
        component = nlp.get_pipe(name)
        rules = getattr(component, "_TargetMatcher__matcher", None) or \
            getattr(component, "_ConText__matcher", None)
        compiled = getattr(rules, "_MedspacyMatcher__matcher", None)
        if hasattr(compiled, "phrases"):  # (the code before 2026-12-02 has no compiled matchers)
            print(f"  {name}: {len(compiled.phrases)} token patterns read as phrases, "
                  f"{len(compiled.patterns)} left to spaCy's Matcher (run only where they can match)")
    texts = [c.text for s in SETS for c in load_scenarios(ROOT / "src" / "scanwise" / "eval" / f"{s}.yaml")]
    def ours_pass(t: str) -> Any:
        return _with_sentences(nlp, t, sentence_starts(t))

    sentences = [len(list(ours_pass(t).sents)) for t in texts]
    read_scenario(texts[0], kb)
    print(f"\nshort texts: {len(texts)} scenarios, median {statistics.median(map(len, texts)):.0f} chars, "
          f"median {statistics.median(sentences):.0f} sentences (max {max(sentences)})")
    reader = cpu_per_item(lambda t: read_scenario(t, kb), texts, args.rounds)
    ours = cpu_per_item(ours_pass, texts, args.rounds)
    row("reader (read_scenario)", reader, ours)
    row("our pipeline alone (the floor)", ours, ours)
    with nlp.select_pipes(enable=[]):
        docs = [ours_pass(t) for t in texts]
        row("  tokenizer and sentences", cpu_per_item(ours_pass, texts, args.rounds), ours)
    for name, component in nlp.pipeline:
        # Each component on documents that have been through the ones before it, as in nlp().
        ready = list(docs)
        for earlier, proc in nlp.pipeline:
            if earlier == name:
                break
            ready = [proc(d) for d in ready]
        row(f"  {name}", cpu_per_item(lambda d, c=component: c(d.copy()), ready, args.rounds), ours)
    shipped = bare_medspacy()
    row("medspaCy as shipped (PyRuSH, its own rules)", cpu_per_item(shipped, texts, args.rounds), ours)
    print(f"  overhead ratio, reader / our pipeline: {reader / ours:.2f}")

    if not TCGA.exists():
        print(f"\nTCGA reports: {TCGA} not found, skipped")
        return
    rows = [json.loads(line) for line in TCGA.read_text(encoding="utf-8").splitlines() if line.strip()]
    reports = [r["report_text"] for r in rows]
    median = sorted(reports, key=len)[len(reports) // 2]
    print(f"\nTCGA-BRCA pathology reports: {len(reports)}, median {len(median)} chars")
    record = latencies(lambda t: read_text_document(t, "report.txt", kb), reports)
    passes = latencies(lambda t: _with_sentences(nlp, t, sentence_starts(t, at_field_labels=True)), reports)
    for label, lat in (("record reader (read_text_document)", record),
                       ("its pipeline pass alone (sentence starts given)", passes)):
        print(f"  {label:<48} median {statistics.median(lat) * 1e3:6.1f} ms   "
              f"p95 {lat[int(len(lat) * 0.95)] * 1e3:6.1f} ms   max {lat[-1] * 1e3:6.1f} ms")
    print(f"  overhead ratio, record reader / its pipeline pass (medians): "
          f"{statistics.median(record) / statistics.median(passes):.2f}")
    profile = cpu_per_item(lambda t: read_profile(t, kb), [median], args.rounds)
    whole = cpu_per_item(ours_pass, [median], args.rounds)
    print(f"  median report through read_profile (typed-text sentences): {profile * 1e3:6.1f} ms; "
          f"our pipeline alone on it: {whole * 1e3:6.1f} ms")


if __name__ == "__main__":
    main()
