"""Readers for T, N and M categories, grade, receptors and the Oncotype DX score.

The readers are lenient about spelling and strict about meaning. They accept what
pathology reports and registries actually write -- ``pT2``, ``pn1a``, ``ypN0(i+)(sn)``,
``NO`` with a letter O, ``T1mic`` from the 7th edition -- and reduce it to one canonical
AJCC 8th edition category. Anything that is not a breast category raises
:class:`StagingError` naming the field and the value; nothing is guessed.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict

from scanwise.domain.staging.errors import StagingError

Axis = Literal["T", "N", "M"]
#: A receptor status, the one type for ER, PR and HER2 everywhere (the patient profile too).
#: Only HER2 is ever "equivocal" (IHC 2+ before ISH decides); ER and PR read as positive or
#: negative.
Receptor = Literal["positive", "negative", "equivocal"]

#: Prefixes AJCC uses: c clinical, p pathological, y after neoadjuvant therapy,
#: r recurrence. A lone "y" or "r" says when, not how, the category was assigned.
PREFIXES: tuple[str, ...] = ("", "c", "p", "y", "yc", "yp", "r", "rc", "rp")
#: The same prefixes as one regular-expression alternation, longest first: the one prefix
#: grammar every reader of T, N and M categories uses (case is the caller's flag).
PREFIX_PATTERN = "|".join(sorted((p for p in PREFIXES if p), key=lambda p: (-len(p), p)))
_PREFIX_AT_START = re.compile(rf"^(?:{PREFIX_PATTERN})(?=[tnm])", re.IGNORECASE)


def without_prefix(category: str) -> str:
    """A T, N or M category without its c/p/y/r prefix: "ypN1a" -> "N1a"."""
    return _PREFIX_AT_START.sub("", category)


_T_CORES: dict[str, str] = {
    "x": "TX", "0": "T0", "is": "Tis",
    "1mi": "T1mi", "1mic": "T1mi",  # "T1mic" is the 7th edition spelling
    "1": "T1", "1a": "T1a", "1b": "T1b", "1c": "T1c",
    "2": "T2", "3": "T3",
    "4": "T4", "4a": "T4a", "4b": "T4b", "4c": "T4c", "4d": "T4d",
}
_N_CORES: dict[str, str] = {
    "x": "NX", "0": "N0",
    "0i+": "N0(i+)", "0mol+": "N0(mol+)",
    "0i-": "N0", "0mol-": "N0",  # older "negative by IHC/RT-PCR" forms are plain N0
    "1mi": "N1mi", "1mic": "N1mi",
    "1": "N1", "1a": "N1a", "1b": "N1b", "1c": "N1c",
    "2": "N2", "2a": "N2a", "2b": "N2b",
    "3": "N3", "3a": "N3a", "3b": "N3b", "3c": "N3c",
}
# AJCC 8th edition has no MX; reports still print it, so it is read as "unknown".
_M_CORES: dict[str, str] = {"x": "MX", "0": "M0", "0i+": "M0(i+)", "1": "M1"}
_CORES: dict[str, dict[str, str]] = {"T": _T_CORES, "N": _N_CORES, "M": _M_CORES}

# Clinical T category from the largest invasive size (AJCC 8th: T1mi ≤1 mm, T1a ≤5, T1b ≤10,
# T1c ≤20, T2 ≤50, T3 >50). Size alone cannot show chest-wall or skin involvement (T4).
_T_BY_SIZE: tuple[tuple[float, str], ...] = (
    (1.0, "T1mi"), (5.0, "T1a"), (10.0, "T1b"), (20.0, "T1c"), (50.0, "T2"),
)


def t_from_size(size_mm: float) -> str:
    """The T category (without prefix) the largest invasive size alone gives."""
    for limit, category in _T_BY_SIZE:
        if size_mm <= limit:
            return category
    return "T3"


#: Canonical categories per axis, in AJCC order (used by tests and error messages).
T_CATEGORIES: tuple[str, ...] = tuple(dict.fromkeys(_T_CORES.values()))
N_CATEGORIES: tuple[str, ...] = tuple(dict.fromkeys(_N_CORES.values()))
M_CATEGORIES: tuple[str, ...] = tuple(dict.fromkeys(_M_CORES.values()))

# Parenthesised tokens that belong to the category itself rather than being modifiers.
_MERGE_TOKENS = {"i+", "i-", "mol+", "mol-", "mi", "mic"}
_T_SUFFIXES = {"m": "m", "dcis": "DCIS", "paget": "Paget"}
_N_SUFFIXES = {"sn": "sn", "f": "f"}
_NODE_COUNT = re.compile(r"^\d{1,3}(/\d{1,3})?$")  # "pN1a (2/14)": nodes positive/examined

_GROUPS: dict[str, str | None] = {
    "TX": None, "T0": "T0", "Tis": "Tis", "T1mi": "T1", "T1": "T1", "T1a": "T1", "T1b": "T1",
    "T1c": "T1", "T2": "T2", "T3": "T3", "T4": "T4", "T4a": "T4", "T4b": "T4", "T4c": "T4",
    "T4d": "T4",
    "NX": None, "N0": "N0", "N0(i+)": "N0", "N0(mol+)": "N0", "N1mi": "N1mi", "N1": "N1",
    "N1a": "N1", "N1b": "N1", "N1c": "N1", "N2": "N2", "N2a": "N2", "N2b": "N2", "N3": "N3",
    "N3a": "N3", "N3b": "N3", "N3c": "N3",
    "MX": None, "M0": "M0", "M0(i+)": "M0", "M1": "M1",
}

_SHAPE = re.compile(rf"^(?P<prefix>{PREFIX_PATTERN})?(?P<axis>[tnm])(?P<body>.*)$")
_PAREN = re.compile(r"\(([^()]*)\)")
_EXPECTED: dict[str, str] = {
    "T": "TX, T0, Tis, T1mi, T1, T1a-T1c, T2, T3, T4 or T4a-T4d",
    "N": "NX, N0, N0(i+), N0(mol+), N1mi, N1, N1a-N1c, N2, N2a, N2b, N3 or N3a-N3c",
    "M": "M0, M0(i+) or M1",
}


class ParsedCategory(BaseModel):
    """One T, N or M category as read: prefix, canonical category, modifiers.

    ``str()`` gives the AJCC notation back (``ypN0(i+)(sn)``), and reading that text
    again gives an equal object.
    """

    model_config = ConfigDict(frozen=True)

    axis: Axis
    prefix: str  # one of PREFIXES, lower case
    category: str  # canonical, no prefix: "T1c", "N0(i+)", "M0"
    suffixes: tuple[str, ...] = ()  # modifiers: "sn", "f", "m", "DCIS", "2/14", ...

    @property
    def group(self) -> str | None:
        """The row the stage tables use (T1c -> T1, N1a -> N1); None when not assessable."""
        return _GROUPS[self.category]

    @property
    def is_pathological(self) -> bool:
        return self.prefix.endswith("p")

    @property
    def is_clinical(self) -> bool:
        return self.prefix.endswith("c")

    @property
    def is_post_neoadjuvant(self) -> bool:
        return self.prefix.startswith("y")

    def __str__(self) -> str:
        return self.prefix + self.category + "".join(f"({s})" for s in self.suffixes)


def _clean(value: str, field: str) -> str:
    text = value.strip()
    if not text:
        raise StagingError(field, value, "is empty")
    if len(text) > 40:
        raise StagingError(field, value, "is too long to be a TNM category")
    # OCR and typing noise: spaces inside ("pT 2"), square brackets, trailing punctuation.
    text = re.sub(r"\s+", "", text).lower().translate(str.maketrans("[]{}", "()()"))
    return text.rstrip(".,;:")


def _fix_leading_character(body: str) -> str:
    """Undo the usual OCR swaps in the first character: letter O for 0, l or | for 1."""
    if not body or body.startswith("is"):
        return body
    first = {"o": "0", "l": "1", "|": "1", "i": "1"}.get(body[0])
    if first is None:
        return body
    if body[0] == "i" and not re.match(r"^i(mic?|[a-d])?(\(|$)", body):
        return body  # a lone "i" is only a 1 where a T1/N1 form follows
    return first + body[1:]


@lru_cache(maxsize=4096)
def _parse(value: str, axis: Axis, field: str) -> ParsedCategory:
    text = _clean(value, field)
    shape = _SHAPE.match(text)
    if shape:
        prefix, letter, body = shape.group("prefix") or "", shape.group("axis"), shape.group("body")
        if letter.upper() != axis:
            raise StagingError(
                field, value, f"looks like an {letter.upper()} category, not {axis}"
            )
    else:
        prefix, body = "", text  # bare "1c" or "0": the field already says which axis
    body = _fix_leading_character(body)
    tokens = _PAREN.findall(body)
    core = _PAREN.sub("", body)
    if "(" in core or ")" in core:
        raise StagingError(field, value, "has unbalanced brackets")
    suffixes: list[str] = []
    for token in tokens:
        if token in _MERGE_TOKENS:
            core += token
        elif axis == "T" and token in _T_SUFFIXES:
            suffixes.append(_T_SUFFIXES[token])
        elif axis == "T" and token == "lcis":
            raise StagingError(
                field, value, "is LCIS, which the AJCC 8th edition no longer stages as Tis"
            )
        elif axis == "N" and token in _N_SUFFIXES:
            suffixes.append(_N_SUFFIXES[token])
        elif axis == "N" and _NODE_COUNT.match(token):
            suffixes.append(token)
        else:
            raise StagingError(field, value, f"has an unknown modifier '({token})'")
    category = _CORES[axis].get(core)
    if category is None:
        raise StagingError(
            field, value, f"is not an AJCC 8th edition breast {axis} category "
            f"(expected {_EXPECTED[axis]}, optionally with a c, p, yc, yp or r prefix)"
        )
    if axis == "T" and set(suffixes) & {"DCIS", "Paget"} and category != "Tis":
        raise StagingError(field, value, "uses a DCIS/Paget qualifier on an invasive T category")
    return ParsedCategory(
        axis=axis, prefix=prefix, category=category, suffixes=tuple(dict.fromkeys(suffixes))
    )


def _require_text(value: object, field: str) -> str:
    if not isinstance(value, str):
        raise StagingError(field, value, "must be text such as 'T1c', 'pN1a' or 'M0'")
    return value


def parse_t(value: str, field: str = "t") -> ParsedCategory:
    """Read a primary-tumour category: ``T1c``, ``pT2``, ``ypT0``, ``Tis(DCIS)``, ``T2(m)``."""
    return _parse(_require_text(value, field), "T", field)


def parse_n(value: str, field: str = "n") -> ParsedCategory:
    """Read a regional-node category: ``cN1``, ``pN1mi``, ``pN0(i+)(sn)``, ``N3c``."""
    return _parse(_require_text(value, field), "N", field)


def parse_m(value: str, field: str = "m") -> ParsedCategory:
    """Read a distant-metastasis category: ``M0``, ``cM0(i+)``, ``pM1``."""
    return _parse(_require_text(value, field), "M", field)


_UNKNOWN_WORDS = {"", "unknown", "unk", "x", "?", "na", "n/a", "not done", "notdone", "none"}
_ROMAN = {"i": 1, "ii": 2, "iii": 3}


def parse_grade(value: int | str | None, field: str = "grade") -> int | None:
    """Read a Nottingham grade: 1, "2", "G3", "grade II". GX or empty means unknown (None)."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise StagingError(field, value, "must be 1, 2, 3 or G1-G3")
    if isinstance(value, int):
        if value in (1, 2, 3):
            return value
        raise StagingError(field, value, "is not a breast grade (AJCC uses G1, G2, G3 or GX)")
    if not isinstance(value, str):
        raise StagingError(field, value, "must be 1, 2, 3 or G1-G3")
    return _grade_text(value, field)


@lru_cache(maxsize=1024)  # batch files repeat a handful of spellings
def _grade_text(value: str, field: str) -> int | None:
    text = re.sub(r"\s+", "", value).lower()
    text = text.removeprefix("grade").removeprefix("g").removeprefix(":")
    if text in _UNKNOWN_WORDS:
        return None
    if text in ("1", "2", "3"):
        return int(text)
    if text in _ROMAN:
        return _ROMAN[text]
    raise StagingError(field, value, "is not a breast grade (AJCC uses G1, G2, G3 or GX)")


_POSITIVE = {"positive", "pos", "+", "+ve"}
_NEGATIVE = {"negative", "neg", "-", "-ve"}
_HER2_POSITIVE = _POSITIVE | {"3+", "amplified"}
_HER2_NEGATIVE = _NEGATIVE | {"0", "1+", "0-1+", "low", "notamplified", "non-amplified"}
_HER2_EQUIVOCAL = {"equivocal", "equiv", "2+"}


def _require_marker(value: object, field: str) -> str:
    if not isinstance(value, str):
        raise StagingError(field, value, "must be text such as 'positive', 'negative', '+' or '-'")
    return value


def _marker_text(value: str) -> str:
    # Reports use typographic minus and dash signs; treat them as "-".
    return re.sub(r"\s+", "", value).lower().replace("\u2212", "-").replace("\u2013", "-")


def parse_receptor(value: str | None, field: str) -> Receptor | None:
    """Read ER or PR status: positive/negative/pos/neg/+/- in any case; empty is unknown."""
    if value is None:
        return None
    return _receptor_text(_require_marker(value, field), field)


@lru_cache(maxsize=1024)
def _receptor_text(value: str, field: str) -> Receptor | None:
    text = _marker_text(value)
    if text in _POSITIVE:
        return "positive"
    if text in _NEGATIVE:
        return "negative"
    if text in _UNKNOWN_WORDS:
        return None
    raise StagingError(field, value, "is not a receptor status (use positive, negative, + or -)")


def parse_her2(value: str | None, field: str = "her2") -> Receptor | None:
    """Read HER2 status, including IHC scores (0/1+ negative, 2+ equivocal, 3+ positive)."""
    if value is None:
        return None
    return _her2_text(_require_marker(value, field), field)


@lru_cache(maxsize=1024)
def _her2_text(value: str, field: str) -> Receptor | None:
    text = _marker_text(value)
    if text in _HER2_POSITIVE:
        return "positive"
    if text in _HER2_NEGATIVE:
        return "negative"
    if text in _HER2_EQUIVOCAL:
        return "equivocal"
    if text in _UNKNOWN_WORDS:
        return None
    raise StagingError(
        field, value, "is not a HER2 status (use positive, negative, equivocal, + or -)"
    )


def parse_oncotype(value: int | str | None, field: str = "oncotype") -> int | None:
    """Read an Oncotype DX recurrence score, a whole number from 0 to 100."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise StagingError(field, value, "must be a whole number from 0 to 100")
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if not re.fullmatch(r"\d{1,3}", text):
            raise StagingError(field, value, "must be a whole number from 0 to 100")
        value = int(text)
    if not isinstance(value, int) or not 0 <= value <= 100:
        raise StagingError(field, value, "must be a whole number from 0 to 100")
    return value
