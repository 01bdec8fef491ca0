"""Answer a question set and print each answer's size, reading grade and sources (issue 13).

    .venv/bin/python tools/answer_sizes.py QUESTIONS.yaml [--with-context] [--full OUT.md]

Prints one line per question (intent, topic, words, grade, short-answer words), then the
median and longest word counts, the median grade, and how many cited sources fall outside
the allowlist in knowledge/answers/source-hosts.yaml (the goal is 0). ``--full`` writes every
answer in full, for a reviewer to judge each against its must / must-not notes.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import yaml

from scanwise.domain.answers import answer
from scanwise.domain.answers.sources import allowed_host
from scanwise.knowledge.loader import default_kb, load_facts
from scanwise.nlp.question import read_question


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("questions", type=Path)
    ap.add_argument("--full", type=Path)
    ap.add_argument("--with-context", action="store_true", help="read each item's context as --context does")
    args = ap.parse_args()
    kb = default_kb()
    facts = load_facts(kb)
    items = yaml.safe_load(args.questions.read_text())["questions"]
    words, grades, bad, out = [], [], 0, []
    for i, item in enumerate(items):
        profile = indication = None
        if args.with_context and item.get("context"):
            from scanwise.nlp.scenario import read_scenario

            profile, indication = read_scenario(item["context"], kb)
        a = answer(item["q"], kb, facts, read=read_question, profile=profile, indication=indication)
        n = a.word_count()
        words.append(n)
        grades.append(a.reading_grade)
        bad += sum(1 for s in a.sources if allowed_host(s.url, kb.answers.hosts) is None)
        qid = item.get("id", f"q{i + 1}")
        print(f"{qid:34} {a.intent:12} {str(a.understood.topic):26} {n:4}w grade {a.reading_grade:4} "
              f"short {len(a.short_answer.split()):3}w")
        out.append(f"## {qid}\n\n**Q:** {item['q']}\n\n**{a.title}** ({a.intent}, {n} words)\n\n"
                   f"**Short answer:** {a.short_answer}\n")
        for s in a.sections:
            if s.kind == "sources":
                out.append("**Sources:** " + "; ".join(s.bullets) + "\n")
                continue
            out.append(f"### {s.heading}\n" + (f"_{s.note}_\n" if s.note else "")
                       + "\n".join(s.paragraphs) + "\n" + "\n".join(f"- {b}" for b in s.bullets))
            if s.table:
                out.append("\n".join(" | ".join(r) for r in [s.table.columns, *s.table.rows]))
    print(f"\n{len(items)} answers: median {statistics.median(words):.0f} words, longest {max(words)}, "
          f"median grade {statistics.median(grades):.1f}, non-authoritative sources cited: {bad}")
    if args.full:
        args.full.write_text("\n\n".join(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
