"""Clean OCR and portal-export noise out of record text, keeping a map back to the original.

Scanned pathology reports come back from OCR with line breaks turned into ". ", words run
together ("lymphnode", "SBRgrade"), the letter O for the digit 0 in TNM strings ("pT2NOMX"),
page headers repeated mid-sentence and common misspellings ("Postive"). The extractors read
the cleaned text; every character of it knows where it stood in the original, so evidence
always quotes the words exactly as the person's record has them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from scanwise.nlp.prefilter import prefiltered


@dataclass(frozen=True)
class CleanText:
    text: str
    origin: tuple[int, ...]  # origin[i]: index in the original of text[i]; one extra entry at the end

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span of text[start:end]."""
        if end <= start:
            return self.origin[start], self.origin[start]
        return self.origin[start], self.origin[end - 1] + 1


def _rx(pattern: str) -> re.Pattern[str]:
    return prefiltered(re.compile(pattern, re.IGNORECASE))


class _Builder:
    def __init__(self, text: str) -> None:
        self.text = text  # "".join(self.chars), kept
        self.chars = list(text)
        self.origin = list(range(len(text)))

    def sub(self, pattern: re.Pattern[str], repl: str | Callable[[re.Match[str]], str]) -> None:
        # A replacement with no group reference is the same for every match, and is not parsed
        # again for each (``Match.expand`` parses its template on every call).
        literal = isinstance(repl, str) and "\\" not in repl
        found = list(pattern.finditer(self.text))
        if not found:
            return  # nothing to replace: the characters and their origins stay as they are
        chars: list[str] = []
        origin: list[int] = []
        last = 0
        for m in found:
            chars += self.chars[last:m.start()]
            origin += self.origin[last:m.start()]
            new = repl(m) if callable(repl) else repl if literal else m.expand(repl)
            width = m.end() - m.start()
            chars += list(new)
            if width == 0:
                anchor = self.origin[m.start()] if m.start() < len(self.origin) else len(self.origin)
                origin += [anchor] * len(new)
            else:
                # spread the replacement over the replaced characters, first to first, last to last
                origin += [self.origin[m.start() + (i * width) // max(len(new), 1)] for i in range(len(new) - 1)]
                origin += [self.origin[m.end() - 1]] if new else []
            last = m.end()
        chars += self.chars[last:]
        origin += self.origin[last:]
        self.chars, self.origin = chars, origin
        self.text = "".join(chars)


# OCR and export artefacts, each fixed by one substitution, in this order.
_JOINED_WORDS = _rx(r"\b(sbr|nuclear|histologic|nottingham|overall|lymph|estrogen|progesterone|"
                    r"invasive|infiltrating|ductal|lobular)(grade|nodes?|receptors?|carcinoma|ductal|lobular)\b")
_COMMA_DIGIT = re.compile(r"(?<=[A-Za-z]),(?=\d)")
_LINE_JOIN = re.compile(r"(?<=[a-z0-9,;(])\. +(?=[a-z])")
_IN_SITU = _rx(r"\bin[- ]?situ\b")
_TNM_O = _rx(r"(?<![a-z])((?:y?p|y?c)?T(?:is|[0-4][a-d]?|x)(?:\s*\((?:m|\d+)\))?\s*,?\s*(?:y?p|y?c)?)N[O0]"
             r"(?=\b|[(\s,]|M)")
_N_O = _rx(r"\b(y?p|c)N[Oo](?=\b|\()")
_M_O = _rx(r"(?<=[0-9a-d)\s])(y?p|c)?M[Oo]\b")
_N_L = re.compile(r"(?<=[0-9a-dx)\s])((?:y?p|c)?)N[lI]([abc])?(?=[\s,M(]|$)")
_T_L = re.compile(r"\b(y?p|c)?T[lI]([abc])?(?=[\s,N(]|$)")
_TYPOS = {
    "postive": "positive", "positve": "positive", "posititve": "positive", "positiive": "positive",
    "negatve": "negative", "negtive": "negative", "nagative": "negative", "negaitve": "negative",
    "carcinonma": "carcinoma", "carcinorna": "carcinoma", "carclnoma": "carcinoma",
    "infiltraing": "infiltrating", "lnfiltrating": "infiltrating", "lobuiar": "lobular",
    "duct al": "ductal", "bioom": "bloom", "recepter": "receptor", "reoeptor": "receptor",
}
_TYPO = _rx(r"\b(" + "|".join(re.escape(k) for k in _TYPOS) + r")\b")
_SPACES = re.compile(r"[ \t\r\f\v]+")
_SEGMENT = re.compile(r"[^.\n]+(?:\.|\n|$)")
_FIELD_WORDS = _rx(r"carcinoma|receptor|her|\ber\b|\bpr\b|grade|node|positive|negative|\bcm\b|\bmm\b|%|"
                   r"stage|\bp?t\d|\bn\d|left|right|tumou?r|lobular|ductal|ki-?67|fish|mastectomy|lumpectomy")
_PAGE_MARK = _rx(r"\bpage\s*\d+\s*(?:of|or)\s*\d+\b|\b(?:working draft|this report continues[^.]*|"
                 r"continued on next page)\b")


def _repeated_lines(text: str) -> re.Pattern[str] | None:
    """Short segments repeated three times or more without clinical words: headers, footers."""
    counts = Counter(s.strip().lower() for s in _SEGMENT.findall(text))
    repeated = [s.rstrip(".") for s, n in counts.items()
                if n >= 3 and 6 <= len(s) <= 60 and not _FIELD_WORDS.search(s)]
    if not repeated:
        return None
    return _rx(r"(?<![a-z])(?:" + "|".join(re.escape(s) for s in sorted(repeated, key=len, reverse=True))
               + r")\.?(?![a-z])")


def clean(text: str) -> CleanText:
    """OCR-noise-tolerant text for the extractors, with each character's original position."""
    b = _Builder(text)
    if rep := _repeated_lines(text):
        b.sub(rep, " ")
    b.sub(_PAGE_MARK, " ")
    b.sub(_TYPO, lambda m: _TYPOS[m.group(1).lower()])
    b.sub(_JOINED_WORDS, r"\1 \2")
    b.sub(_COMMA_DIGIT, ", ")
    b.sub(_IN_SITU, "in situ")
    b.sub(_LINE_JOIN, " ")
    b.sub(_TNM_O, r"\1N0")
    b.sub(_N_O, r"\1N0")
    b.sub(_M_O, lambda m: (m.group(1) or "") + "M0")
    b.sub(_N_L, lambda m: m.group(1) + "N1" + (m.group(2) or ""))
    b.sub(_T_L, lambda m: (m.group(1) or "") + "T1" + (m.group(2) or ""))
    b.sub(_SPACES, " ")
    origin = b.origin + [len(text)]
    return CleanText(b.text, tuple(origin))
