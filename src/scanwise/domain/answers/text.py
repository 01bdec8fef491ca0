"""Text helpers for answers: the reading grade, and defining medical words on first use."""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

from scanwise.domain.answer_data import GlossaryEntry
from scanwise.domain.facts import Fact
from scanwise.domain.kb import KnowledgeBaseError

#: Kept beside the fact files (facts/words/, a subfolder, so it is not read as facts).
GLOSSARY_FILE_NAME = "glossary.yaml"


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


_glossaries: dict[tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...], list[GlossaryTerm]] = {}


def glossary(facts: dict[str, Fact], entries: Sequence[GlossaryEntry]) -> list[GlossaryTerm]:
    """The words to define (``KnowledgeBase.answers.glossary``), each with its definition
    fact and its words compiled once; checked against the fact base."""
    key = tuple((e.fact, tuple(e.words), tuple(e.defined_by)) for e in entries)
    if key not in _glossaries:
        terms = []
        for item in entries:
            # An all-capitals word (ER, CT) is matched as written, others in any case.
            parts = [re.escape(w) if w.upper() == w else f"(?i:{re.escape(w)})"
                     for w in sorted(item.words, key=len, reverse=True)]
            pattern = re.compile(r"(?<![\w/-])(?:" + "|".join(parts) + r")(?![\w/-])")
            terms.append(GlossaryTerm(item.fact, pattern, frozenset(item.defined_by)))
        _glossaries[key] = terms
    terms = _glossaries[key]
    for term in terms:
        for fid in {term.fact} | term.defined_by:
            if fid not in facts:
                raise KnowledgeBaseError(f"{GLOSSARY_FILE_NAME}: unknown fact id {fid!r}")
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
