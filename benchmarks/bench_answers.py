"""Patient answers per second and latency (p50/p95), with and without a patient context.

Prints numbers; it is not a test. The first call of each kind (building the term lexicon,
the BM25 index and, for free-text context, the medspaCy pipeline) is timed apart.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import yaml

from scanwise.domain.answers import answer
from scanwise.knowledge.loader import default_kb, load_facts
from scanwise.nlp.question import read_question
from scanwise.nlp.scenario import read_scenario

QUESTIONS = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "questions_answers.yaml"
ROUNDS = 5


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


def main() -> None:
    kb = default_kb()
    facts = load_facts(kb)
    cases = yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))["questions"]
    questions = [c["q"] for c in cases]
    start = time.perf_counter()
    answer(questions[0], kb, facts, read=read_question)
    print(f"first answer (builds lexicon and indexes): {1000 * (time.perf_counter() - start):.0f} ms")
    answer("Does a biopsy hurt?", kb, facts, read=read_question)  # builds the BM25 index
    latencies: list[float] = []
    grades: list[float] = []
    t0 = time.perf_counter()
    for _ in range(ROUNDS):
        for q in questions:
            s = time.perf_counter()
            a = answer(q, kb, facts, read=read_question)
            latencies.append(time.perf_counter() - s)
            grades.append(a.reading_grade)
    total = time.perf_counter() - t0
    p50, p95 = 1000 * statistics.median(latencies), 1000 * _percentile(latencies, 95)
    print(f"question only: {len(latencies)} answers in {total:.2f} s = {len(latencies) / total:.1f} "
          f"answers/s; latency p50 {p50:.1f} ms, p95 {p95:.1f} ms")
    context = ("58-year-old woman, 1.8 cm grade 2 IDC, ER+ HER2-, clinical stage I, just diagnosed, "
               "no symptoms")
    read_scenario(context, kb)  # builds the medspaCy pipeline
    with_context: list[float] = []
    for q in questions[:20]:
        s = time.perf_counter()
        profile, indication = read_scenario(context, kb)
        answer(q, kb, facts, read=read_question, profile=profile, indication=indication)
        with_context.append(time.perf_counter() - s)
    p50, p95 = 1000 * statistics.median(with_context), 1000 * _percentile(with_context, 95)
    print(f"with free-text context (read + assess + compose): p50 {p50:.1f} ms, p95 {p95:.1f} ms")
    per_question = grades[: len(questions)]
    print(f"reading grade over {len(per_question)} questions: median {statistics.median(per_question):.1f}, "
          f"max {max(per_question):.1f}")


if __name__ == "__main__":
    main()
