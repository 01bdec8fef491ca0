"""A literal prefilter for the reader's regular expressions: skip a search that cannot match.

Python's ``re`` tries a pattern such as ``\\b(history of|hx of|s/p ...)`` at every position of
the text; the reader runs about a hundred of them over every text, which was half of a short
text's reading and most of a report's. Every match of most of them contains one of a few
literal strings ("history of", "hx", "s/p", ...). Those are worked out once from the pattern's
parse tree, when it is compiled; a search first looks for them in the lower-cased text (a
substring search in C) and, when none is there, returns what the search would have: nothing.
When one is there, the pattern's own search runs as before, so every match is the same.

Only what certainly holds is used: literals of the parts of the pattern a match must go
through (never those inside a lookaround, an optional or a repeat that may be skipped); every
alternative of a branch must have one; and only for ASCII text and ASCII literals, where
lower-casing both is exactly what ``re.IGNORECASE`` compares (elsewhere case folding has
exceptions, such as the Kelvin sign, so the pattern runs unfiltered). A pattern with no such
literals is left as compiled.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from re import _constants as C  # type: ignore[attr-defined]
from re import _parser as P  # type: ignore[attr-defined]
from typing import Any, cast

#: The last text looked at and its lower-case form (or None when not ASCII): each pattern of a
#: reading searches the same text, which is lower-cased once.
_last: tuple[str, str | None] = ("", "")


def _lowered(text: str) -> str | None:
    global _last
    last = _last
    if last[0] is text:
        return last[1]
    low = text.lower() if text.isascii() else None
    _last = (text, low)
    return low


def _best(options: list[frozenset[str]]) -> frozenset[str] | None:
    """Of several literal sets each of which a match must contain one of, the most selective:
    the longest shortest literal, then the fewest."""
    if not options:
        return None
    return max(options, key=lambda s: (min(map(len, s)), -len(s)))


def _required(items: Any) -> frozenset[str] | None:
    """Literal strings (lower case) one of which every match of this parsed sequence contains;
    None when there is no such set to rely on."""
    options: list[frozenset[str]] = []
    run: list[str] = []

    def close() -> None:
        if run:
            options.append(frozenset({"".join(run).lower()}))
            run.clear()

    for op, av in items:
        if op is C.LITERAL:
            run.append(chr(av))
            continue
        close()
        if op is C.SUBPATTERN:
            sub = _required(av[3])
        elif op is C.ATOMIC_GROUP:
            sub = _required(av)
        elif op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
            low, _high, pattern = av
            sub = _required(pattern) if low >= 1 else None
        elif op is C.BRANCH:
            alts = [_required(alt) for alt in av[1]]
            sub = None if any(a is None for a in alts) else frozenset().union(*cast(list[frozenset[str]], alts))
        else:
            # zero-width assertions (\b, ^, lookarounds) and classes, any character, back
            # references: they require no literal of their own
            sub = None
        if sub:
            options.append(sub)
    close()
    usable = [o for o in options if all(s and s.isascii() for s in o)]
    return _best(usable)


#: Patterns parsed for their literals in this process: each once, when compiled, never while reading.
parses = 0


def literals(pattern: re.Pattern[str]) -> frozenset[str] | None:
    """What a match of ``pattern`` must contain one of (lower case), or None."""
    global parses
    parses += 1
    if not isinstance(pattern.pattern, str):
        return None
    try:
        parsed = P.parse(pattern.pattern, pattern.flags)
    except Exception:  # noqa: BLE001  (a pattern this parser reads differently is left alone)
        return None
    return _required(parsed)


class Prefiltered:
    """A compiled pattern whose ``search`` and ``finditer`` first look for its literals; every
    other attribute is the pattern's own."""

    __slots__ = ("_pattern", "_literals")

    def __init__(self, pattern: re.Pattern[str], found: frozenset[str]) -> None:
        self._pattern = pattern
        self._literals = tuple(sorted(found, key=len))

    def _absent(self, text: str, pos: int, endpos: int) -> bool:
        if not isinstance(text, str):
            return False
        low = _lowered(text)
        if low is None:
            return False
        # plain loops, not all(...): a generator per search cost as much as the searches saved
        if pos <= 0 and endpos >= len(low):
            for lit in self._literals:  # noqa: SIM110
                if lit in low:
                    return False
            return True
        # a match lies within [pos, endpos), and so does the literal it contains
        start = max(pos, 0)
        for lit in self._literals:  # noqa: SIM110
            if low.find(lit, start, endpos) >= 0:
                return False
        return True

    def search(self, text: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        if self._absent(text, pos, endpos):
            return None
        return self._pattern.search(text, pos, endpos)

    def finditer(self, text: str, pos: int = 0, endpos: int = sys.maxsize) -> Iterator[re.Match[str]]:
        if self._absent(text, pos, endpos):
            return iter(())
        return self._pattern.finditer(text, pos, endpos)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pattern, name)

    def __repr__(self) -> str:
        return f"Prefiltered({self._pattern!r})"


def prefiltered(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """``pattern``, searching only texts that hold one of its literals (itself if it has none)."""
    found = literals(pattern)
    if not found:
        return pattern
    return cast(re.Pattern[str], Prefiltered(pattern, found))
