"""Text helpers for answers: the reading grade, and defining medical words on first use."""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from pathlib import Path

from scanwise.domain.facts import FACTS_DIR, Fact
from scanwise.domain.kb import KnowledgeBaseError
from scanwise.knowledge.loader import load_yaml, top_level_list

#: Kept beside the fact files (a subfolder, so the fact loader does not read it as facts).
GLOSSARY_FILE = FACTS_DIR / "words" / "glossary.yaml"


def reading_grade(texts: list[str]) -> float:
    """Flesch-Kincaid grade of the text as one passage (textstat 0.7.4 works offline)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # textstat imports pkg_resources, which warns
        import textstat
    passage = "\n".join(t if t.rstrip().endswith((".", "?", "!", ":")) else t + "." for t in texts if t)
    if not passage.strip():
        return 0.0
    return round(float(textstat.flesch_kincaid_grade(passage)), 1)


@dataclass(frozen=True)
class GlossaryTerm:
    fact: str
    pattern: re.Pattern[str]
    defined_by: frozenset[str]


_glossaries: dict[Path, list[GlossaryTerm]] = {}


def glossary(facts: dict[str, Fact], path: Path = GLOSSARY_FILE) -> list[GlossaryTerm]:
    """The words to define, each with its definition fact; checked against the fact base."""
    if path not in _glossaries:
        terms = []
        for i, item in enumerate(top_level_list(load_yaml(path), path, "terms")):
            words = item.get("words") or []
            if not isinstance(words, list) or not words or not item.get("fact"):
                raise KnowledgeBaseError(f"{path.name}: terms[{i}] needs a fact and a list of words")
            # An all-capitals word (ER, CT) is matched as written, others in any case.
            parts = [re.escape(w) if w.upper() == w else f"(?i:{re.escape(w)})"
                     for w in sorted(words, key=len, reverse=True)]
            pattern = re.compile(r"(?<![\w/-])(?:" + "|".join(parts) + r")(?![\w/-])")
            terms.append(GlossaryTerm(item["fact"], pattern, frozenset(item.get("defined_by") or [])))
        _glossaries[path] = terms
    terms = _glossaries[path]
    for term in terms:
        for fid in {term.fact} | term.defined_by:
            if fid not in facts:
                raise KnowledgeBaseError(f"{path.name}: unknown fact id {fid!r}")
    return terms


_SENTENCE_END = re.compile(r"(?<=[.?!])\s+(?=[A-Z0-9\"(])")


def split_sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(text.strip()) if s]


class Definer:
    """Adds a short definition after the first sentence that uses a medical word.

    A word counts as defined once its definition, or a fact that explains it, has been
    shown anywhere earlier in the answer.
    """

    def __init__(self, facts: dict[str, Fact], terms: list[GlossaryTerm]) -> None:
        self.facts = facts
        self.terms = terms
        self.shown: set[str] = set()
        self.per_paragraph = 2  # more definitions than this crowd a paragraph; later ones wait

    def define(self, text: str, cites: list[str]) -> tuple[str, list[str]]:
        self.shown.update(cites)
        sentences = split_sentences(text)
        added: list[str] = []
        out: list[str] = []
        for sentence in sentences:
            out.append(sentence)
            for term in self.terms:
                if term.fact in self.shown or term.defined_by & self.shown:
                    continue
                if len(added) < self.per_paragraph and term.pattern.search(sentence):
                    self.shown.add(term.fact)
                    out.append(self.facts[term.fact].text)
                    added.append(term.fact)
        return " ".join(out), cites + [f for f in added if f not in cites]
