"""Misspelt clinical words read as the word meant ("implents", "lumpectomey", "mamogram").

A list of misspellings never ends, so the reader corrects by distance instead: a word it does
not know, that is not an English word either, is read as the one word of the knowledge base's
own wording (vocabulary, reading rules, the ACR variant labels) within one edit (two for long
words). A word with two equally close candidates, or none, is left as written, and an English
word is never changed ("pumps" stays pumps, not lumps). SymSpell (symspellpy) does the lookup;
its bundled English frequency list says which words are English.
"""

from __future__ import annotations

import functools
import importlib.resources
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from symspellpy import SymSpell, Verbosity

from scanwise.knowledge.loader import DATA_DIR, load_yaml

# Where the knowledge base writes the words the reader knows.
_WORD_SOURCES = ("vocabulary.yaml", "reading.yaml", "fields.yaml", "acr/*.yaml", "staging/*.yaml")
# Sections of regular expressions: a word cut by regex syntax ("metastas[ie]s", "recurren\\w*",
# "tumou?r") is a piece, not a word.
_REGEX_SECTIONS = ("situation",)
_REGEX_WORD = re.compile(r"(?<![\\\w\]\)?*+}])[a-z]{4,}(?![\w\[\\?*+{]|\((?!\?[!=<]))")
_WORD = re.compile(r"[a-z]{4,}")
# Shorter words are too close to too many others ("lump", "pump", "bump") to correct safely.
SHORTEST = 5
# From this length a word may be two edits away from the one it means ("reconstrcution").
TWO_EDITS_FROM = 9
_ENGLISH = "frequency_dictionary_en_82_765.txt"


def _strings(data: Any, regex: bool = False) -> Iterator[tuple[str, bool]]:
    """Every string in a YAML document, and whether it is a regular expression."""
    if isinstance(data, str):
        yield data, regex
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from _strings(value, regex or key in _REGEX_SECTIONS)
    elif isinstance(data, list):
        for value in data:
            yield from _strings(value, regex)


def known_words(data_dir: Path = DATA_DIR) -> frozenset[str]:
    """Every word of four letters or more in the knowledge base's wording, lower-cased."""
    words: set[str] = set()
    for pattern in _WORD_SOURCES:
        for path in sorted(data_dir.glob(pattern)):
            for text, regex in _strings(load_yaml(path)):
                words.update((_REGEX_WORD if regex else _WORD).findall(text.lower()))
    return frozenset(words)


@functools.lru_cache(maxsize=1)
def _english() -> frozenset[str]:
    # Loaded only when a word has a candidate correction: most texts never need it.
    listing = importlib.resources.files("symspellpy").joinpath(_ENGLISH).read_text(encoding="utf-8")
    return frozenset(line.split(maxsplit=1)[0] for line in listing.splitlines() if line)


class Speller:
    def __init__(self, words: frozenset[str]) -> None:
        self.words = words
        self._index = SymSpell(max_dictionary_edit_distance=2, prefix_length=7)
        for word in words:
            self._index.create_dictionary_entry(word, 1)

    @functools.lru_cache(maxsize=65_536)  # noqa: B019 - one speller per process, kept for good
    def correct(self, word: str) -> str | None:
        """The knowledge-base word a misspelt word means, or None to leave it as written."""
        lower = word.lower()
        if len(lower) < SHORTEST or lower in self.words:
            return None
        edits = 2 if len(lower) >= TWO_EDITS_FROM else 1
        found = self._index.lookup(lower, Verbosity.CLOSEST, max_edit_distance=edits)
        if len(found) != 1 or lower in _english():
            return None
        meant: str = found[0].term
        return meant.capitalize() if word[:1].isupper() else meant


@functools.lru_cache(maxsize=4)
def speller(data_dir: Path = DATA_DIR) -> Speller:
    return Speller(known_words(data_dir))
