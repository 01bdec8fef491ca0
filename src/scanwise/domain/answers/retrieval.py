"""Lexical search over the fact base (BM25), for questions no fixed intent covers."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from scanwise.domain.facts import Fact

#: Fact kinds that are not answers in themselves (questions to ask, word definitions).
_NOT_ANSWERS = ("question",)


@dataclass(frozen=True)
class _Index:
    ids: list[str]
    retriever: Any


_indexes: dict[tuple[str, ...], _Index] = {}


def _document(fact: Fact) -> str:
    # The subject and id carry the test's name ("bone_scan.prep"), which the text may not repeat.
    return " ".join([fact.text, fact.subject.replace("_", " "), fact.id.replace(".", " ").replace("_", " ")])


def _index(facts: dict[str, Fact]) -> _Index:
    key = tuple(facts)
    if key not in _indexes:
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs each index build at DEBUG
        ids = [fid for fid, f in facts.items() if f.kind not in _NOT_ANSWERS and f.subject != "glossary"]
        tokens = bm25s.tokenize([_document(facts[i]) for i in ids], stopwords="en", show_progress=False)
        retriever = bm25s.BM25()
        retriever.index(tokens, show_progress=False)
        _indexes[key] = _Index(ids, retriever)
    return _indexes[key]


def search(query: str, facts: dict[str, Fact], k: int = 5) -> list[tuple[str, float]]:
    """The k facts that best match the query, best first, with their BM25 scores (> 0 only)."""
    import bm25s

    index = _index(facts)
    words = bm25s.tokenize([query], stopwords="en", return_ids=False, show_progress=False)
    if not words or not words[0]:
        return []
    docs, scores = index.retriever.retrieve(words, k=min(k, len(index.ids)), show_progress=False)
    return [(index.ids[int(d)], float(s)) for d, s in zip(docs[0], scores[0], strict=True) if s > 0]
