"""Text helpers for answers: the reading grade, and defining medical words on first use."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from scanwise.domain.answer_data import GlossaryEntry
from scanwise.domain.facts import Fact
from scanwise.domain.kb import KnowledgeBaseError

#: Kept beside the fact files (facts/words/, a subfolder, so it is not read as facts).
GLOSSARY_FILE_NAME = "glossary.yaml"


def reading_grade(texts: list[str]) -> float:
    """Flesch-Kincaid grade of the text as one passage: the figure textstat 0.7.4 gives
    (``textstat.flesch_kincaid_grade``, checked against it in the tests), computed here."""
    passage = "\n".join(t if t.rstrip().endswith((".", "?", "!", ":")) else t + "." for t in texts if t)
    if not passage.strip():
        return 0.0
    return round(float(flesch_kincaid_grade(passage)), 1)


# The grade is counted as textstat 0.7.4 counts it (English, its defaults: punctuation and
# apostrophes removed, outputs rounded half away from zero), with the same syllable counter
# (pyphen's en_US patterns). Not imported from textstat because importing it imports
# pkg_resources, a tenth of a second of every `scanwise ask`, for a function it does not use.
_NOT_WORD = re.compile(r"[^\w\s]")
_SENTENCE = re.compile(r"\b[^.!?]+[.!?]*")
_hyphenator: list[Any] = []


def _rounded(number: float, points: int) -> float:
    p = float(10 ** points)  # as textstat: an int power of ten, the same value as a float
    return float(math.floor((number * p) + math.copysign(0.5, number))) / p


def _word_count(text: str) -> int:
    return len(_NOT_WORD.sub("", text).split())


def _syllable_count(text: str) -> int:
    if not _hyphenator:
        from pyphen import Pyphen

        _hyphenator.append(Pyphen(lang="en_US"))
    positions = _hyphenator[0].positions
    return sum(len(positions(word)) + 1 for word in _NOT_WORD.sub("", text.lower()).split())


def flesch_kincaid_grade(text: str) -> float:
    """0.39 × words per sentence + 11.8 × syllables per word − 15.59, each average rounded
    to one decimal first; sentences of two words or fewer are not counted as sentences."""
    sentences = _SENTENCE.findall(text)
    counted = max(1, len(sentences) - sum(_word_count(s) <= 2 for s in sentences))
    words = _word_count(text)
    sentence_length = _rounded(float(words / counted), 1)
    syllables_per_word = _rounded(float(_syllable_count(text)) / float(words), 1) if words else 0.0
    grade = float(0.39 * sentence_length) + float(11.8 * syllables_per_word) - 15.59
    return _rounded(grade, 1)


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
