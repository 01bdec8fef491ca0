"""Shared clinical-text extractors: the patterns and readers both text readers use.

The scenario reader (a short question) and the record reader (a pathology report, a clinic
note) read the same facts the same way: age, sex, size, TNM, stage, receptors, grade,
histology, surgery, neoadjuvant therapy and history with patterns, and symptoms, findings,
labs and family history from medspaCy mentions. Each reader takes a :class:`Reading`, adds
the facts it finds with the words they came from, and keeps the first value it sets for a
field (patterns are tried strongest first).
"""

from __future__ import annotations

import datetime
import functools
import re
from dataclasses import dataclass, field
from typing import Any

from scanwise.domain.kb import KnowledgeBase
from scanwise.domain.profile import Evidence, her2_from_tests
from scanwise.domain.staging.parsing import PREFIX_PATTERN, without_prefix
from scanwise.nlp.clinical import CUE, Mention
from scanwise.nlp.prefilter import prefiltered
from scanwise.nlp.rules import (
    alternatives,
    denied_just_before,
    felt_words,
    load_rules,
    negated_before,
    person_words,
    result_patterns,
)

ROMAN = {"0": "0", "1": "I", "2": "II", "3": "III", "4": "IV",
          "i": "I", "ii": "II", "iii": "III", "iv": "IV"}



@dataclass
class Reading:
    text: str
    facts: dict[str, Any] = field(default_factory=dict)
    evidence: dict[str, list[Evidence]] = field(default_factory=dict)
    assumptions: list[str] = field(default_factory=list)

    def set(self, key: str, value: Any, start: int, end: int, *, overwrite: bool = False) -> None:
        if key in self.facts and not overwrite:
            return
        self.facts[key] = value
        self.evidence[key] = [Evidence(text=self.text[start:end], start=start, end=end)]

    def cite(self, key: str, start: int, end: int) -> None:
        self.evidence.setdefault(key, []).append(
            Evidence(text=self.text[start:end], start=start, end=end))

    def first(self, key: str, pattern: re.Pattern[str], value: Any,
              group: int | str = 0) -> re.Match[str] | None:
        m = pattern.search(self.text)
        if m:
            self.set(key, value, m.start(group), m.end(group))
        return m


@functools.cache
def rx(pattern: str) -> re.Pattern[str]:
    """Compiled case-insensitively, searching only texts that hold one of its literals; once
    per pattern (a pattern written inside a function is not compiled again on every call)."""
    return prefiltered(re.compile(pattern, re.IGNORECASE))


# --- patterns ------------------------------------------------------------------------------

# The words of the facts read here are data (reading.yaml ``fact_words``), compiled and checked
# on load; the grammar of numbers, sizes, TNM codes, receptors and dates is written below.
_WORDS = load_rules().fact_words
_KINDS = load_rules().fact_kinds

_AGE = [
    rx(r"\b(?P<age>\d{1,3})\s*(?:yo|y/o|y\.o\.|yrs?|years?(?:\s*old)?)\s*(?P<sex>[FM])\b"),
    rx(r"\b(?P<age>\d{1,3})\s*(?:-|\s)?(?:year|yr)s?(?:\s*|-)old\b"),
    rx(r"\b(?P<age>\d{1,3})\s*(?P<sex>[FM])\b"),
    rx(r"\b(?P<age>\d{1,3})\s*(?:yo\b|y/o\b|y\.o\.|yrs? old\b)"),
    rx(r"\b(?:wom[ae]n|m[ae]n|female|male|patient|pt|transfeminine|transmasculine|lady)\s*,?\s*"
        r"(?P<age>\d{2})\s*(?:y|yo|yrs?|y/o)?\s*(?:,|\.|$|\s+(?:on|with|had|has|who|started))"),
    # not "at age 18": the age of an event, not the patient's now
    rx(r"(?<!\bat )\b(?:age|aged)\s*:?\s*(?P<age>\d{1,3})\b"),
    rx(r"\b(?P<age>\d{2})\s*(?:yo\s+)?(?=(?:transfeminine|transmasculine|trans (?:wo)?m[ae]n)\b)"),
    # "M 58," at the start of a sentence (sex before age); not "M0" or a size
    rx(r"(?:^|[.;]\s+)(?P<sex>[FM])\s+(?P<age>\d{2})\b(?=\s*[,.;])"),
    rx(r"\b(?:i'?m|i am|just turned|turned)\s+(?:a\s+)?(?P<age>\d{1,3})\b"),
    # "I'm trans (MTF), 55, been on hormones": the age set off by commas after what the writer is
    rx(r"\b(?:i'?m|i am)\b[^.;?!\d]{1,30}?,\s*(?P<age>\d{2})\s*(?=,|\.|;|$)"),
    # "She's 46, no breast complaints": said of the person the text is about
    rx(r"\b(?:she|he)(?:'s| is)\s+(?P<age>\d{2})\b(?!\s*(?:weeks?|wks?|months?|days?|cm|mm|%|years? ago))"),
]
# Asked on someone's behalf ("what scan does he need?"): the person asked about is the patient,
# and "my husband is 68" is the patient's age.
ASKED_FOR_SOMEONE = _WORDS["asked_for_someone"].compiled()
PROXY_AGE = rx(rf"\bmy (?:{person_words()}) (?:is|who is|,)\s+(?:now\s+)?(?P<age>\d{{1,3}})\b")
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
         "eighty": 80, "ninety": 90}
_UNITS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
          "nine": 9}
_AGE_WORDS = rx(r"\b(?P<tens>twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:[- ](?P<unit>one|two|"
                 r"three|four|five|six|seven|eight|nine))?(?:[- ]years?[- ]old\b|\s*(?:y/o|y\.o\.|yo\b))"
                 # "Woman, thirty-three, ..."
                 r"|\b(?:wom[ae]n|female|male|patient|lady|gentleman)\s*,\s*(?P<tens2>twenty|thirty|forty|fifty|"
                 r"sixty|seventy|eighty|ninety)(?:[- ](?P<unit2>one|two|three|four|five|six|seven|eight|nine))?"
                 r"\s*(?=,)")
_TRANS_FEM = _WORDS["transfeminine"].compiled()
_TRANS_MASC = _WORDS["transmasculine"].compiled()
_TRANSGENDER = _WORDS["transgender"].compiled()
_FEMALE = _WORDS["female"].compiled()
_MALE = _WORDS["male"].compiled()

_SIZE = rx(r"\b(?P<dims>\d+(?:\.\d+)?(?:\s*(?:x|×|by)\s*\d+(?:\.\d+)?)*)(?:\s*|-)"
            r"(?P<unit>cm|mm|centimet(?:er|re)s?|millimet(?:er|re)s?)\b")
_NODE_SIZE_CONTEXT = rx(r"^\s*(?:(?!and\b|or\b|with\b|but\b)[a-z]+\s+){0,3}?(?:lymph\s+)?nodes?\b")  # "2 cm axillary node"

_T = r"T(?:is|x|0|1mi|1a|1b|1c|1|2|3|4a|4b|4c|4d|4)"
_N = r"N(?:x|0\(i\+\)|0\(mol\+\)|0|1mi|1a|1b|1c|1|2a|2b|2|3a|3b|3c|3)(?:\((?:sn|f)\))?"
_M = r"M(?:0\(i\+\)|0|1|x)"
_P = PREFIX_PATTERN  # c, p, y, r and their pairs: staging's one prefix grammar
TNM = rx(rf"\b(?P<tp>{_P})?(?P<t>{_T})\s*,?\s*(?P<np>{_P})?(?P<n>{_N})"
           rf"(?:\s*,?\s*(?P<mp>{_P})?(?P<m>{_M}))?(?![a-z])")
# Alone, "tx" is shorthand for treatment, so TX is read only inside a full TNM string.
T_ALONE = rx(rf"\b(?P<tp>{_P})?(?P<t>T(?:is|0|1mi|1a|1b|1c|1|2|3|4a|4b|4c|4d|4))(?![a-z0-9-])")
N_ALONE = rx(rf"\b(?P<np>{_P})?(?P<n>{_N})(?![a-z0-9])")
M_ALONE = rx(rf"\b(?P<mp>{_P})?(?P<m>{_M})(?![a-z0-9])")

_SUPRACLAVICULAR = _WORDS["supraclavicular_positive"].compiled()
STAGE = rx(r"\bstage\s*(?P<num>iv|iii|ii|i|[0-4])(?P<sub>[abc])?\b")
_METASTATIC = _WORDS["metastatic"].compiled()

_POS = r"(?:\+|positive|pos\b|amplified)"
_NEG = r"(?:-(?![a-z])|−|negative|neg\b|non-?amplified|not amplified)"
_RECEPTOR_WORD = {
    "er": r"(?:er|estrogen[- ]receptors?|oestrogen[- ]receptors?)",
    "pr": r"(?:pr|pgr|progesterone[- ]receptors?)",
    "her2": r"(?:her-?2(?:/neu)?|her2neu|erbb2)",
}
#: A receptor's status written after it ("ER positive", "HER2: neg"), one pattern per receptor.
_RECEPTOR = {key: rx(rf"(?<![a-z])(?P<w>{word})\s*(?:status\s*)?(?:is\s*|was\s*)?"
                     rf"(?:strongly\s*|strong\s*|weakly\s*|weak\s*)?[:\-]?\s*(?P<v>{_POS}|{_NEG})")
             for key, word in _RECEPTOR_WORD.items()}
TRIPLE_NEG = rx(r"\b(triple[- ]neg(?:ative)?\b|tnbc|er\s*/\s*pr\s*/\s*her-?2\s*(?:-|−|negative))")
_HR = rx(rf"\b(?:hr|hormone(?:[- ]receptors?)?)[- ]?\s*(?:{_POS}|{_NEG})")
_ALLRED = rx(r"\b(?P<which>er|pr)\s*:?\s*(?:allred\s*(?:score\s*)?)?(?P<score>[0-8])\s*/\s*8\b")
_ER_PR_JOINT = rx(rf"\b(?:er\s*(?:/|and|&|,)\s*pr|estrogen and progesterone receptors?)\s*[:\-]?\s*(?P<v>{_POS}|{_NEG})")
_HER2_IHC = rx(r"\bher-?2(?:/neu)?\b[^.;]{0,30}?\b(?:ihc\s*)?(?P<score>[0-3]\+|0)(?:\s*(?:by|on)\s*ihc)?")
_HER2_LOW = rx(r"\bher-?2[- ]low\b")
_HER2_EQUIVOCAL = rx(r"\bher-?2(?:/neu)?\b[^.;]{0,20}?\bequivocal\b")
_HER2_ISH = rx(r"\b(?:fish|ish|cish|sish)\b[^.;]{0,25}?\b(?P<v>non-?amplified|not amplified|amplified|negative|positive)")
_PERCENT = rx(r"\b(?P<which>er|pr)\s*:?\s*(?P<pct><\s*1|\d{1,3})\s*%")

_GRADE = [
    rx(r"\b(?:(?:nottingham|sbr|bloom[- ]richardson|histologic|histological)\s*)?grade\s*(?P<g>[123]|iii|ii|i)\b(?!\s*(?:dcis|ductal carcinoma in situ))"),
    rx(r"\bG(?P<g>[123])\b"),
    rx(r"\b(?P<word>low|intermediate|high)[- ]grade\b(?!\s*(?:dcis|ductal carcinoma in situ))"),
]
_GRADE_WORD = {"low": 1, "intermediate": 2, "high": 3}

HISTOLOGY = _KINDS.compiled("histology")
_INVASIVE_GENERIC = _WORDS["invasive_generic"].compiled()

_NODE_NEG = _WORDS["node_negative"].compiled()
_NODE_POS = _WORDS["node_positive"].compiled()

_PREGNANT = _WORDS["pregnant"].compiled()
_NOT_PREGNANT = _WORDS["not_pregnant"].compiled()
_LACTATING = _WORDS["lactating"].compiled()
_NOT_LACTATING = _WORDS["not_lactating"].compiled()

SURGERY = _KINDS.compiled("surgery")
PLANNED = rx(r"\b" + _WORDS["planned"].alternation() + r"\s*[(:]?\s*"  # "surgery planned (lumpectomy"
             r"(?:a\s+|an\s+|her\s+|his\s+|the\s+|my\s+|your\s+|their\s+)?(?:planned\s+)?$")
_SOME_SURGERY = _WORDS["some_surgery"].compiled()

# Said unsure of what follows ("I don't remember if they used an implant or my own tissue").
_UNSURE = rx(r"\b" + _WORDS["unsure"].alternation() + r"\b[^.;]{0,50}$")

_RECON = _KINDS.compiled("reconstruction")
# "silicone breast augmentation" reads as "silicone breast breast implants" (reading.yaml wording)
_IMPLANT = rx(r"\b(?P<type>saline|silicone)?\s*(?:breast\s+){0,2}implants?\b")
_TYPED_AUGMENT = rx(r"\b(?P<type>saline|silicone)\s+(?:breast\s+)?(?:augmentation|prosthes[ie]s)\b")
NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20}
_N_ = r"(?:\d+(?:\.\d+)?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty)"


def number(word: str) -> float:
    """'6' -> 6.0, 'six' -> 6.0, 'a' (year) -> 1.0."""
    return float(NUMBER_WORDS.get(word.lower(), 1 if word.lower() in ("a", "an") else word))


_IMPLANT_YEARS = rx(rf"\bimplants?\b[^.;]{{0,40}}?\b(?P<n>{_N_})\s*(?:years?|yrs?)\b|"
                     rf"\b(?:had|got) (?:them|it|my implants?) (?:done|put in|placed|in)\b[^.;,]{{0,20}}?"
                     rf"\b(?P<n3>{_N_})\s*(?:years?|yrs?)\s+ago\b|"
                     rf"\b(?P<n2>{_N_})\s*(?:years?|yrs?)\s*(?:after|since)\s*(?:implant|augmentation)")

# Implants named (someone else's, or the question's), then the patient's own by type.
_MINE_TYPED = rx(r"\b(?:mine|my own|my ones|my implants|ones i have)\s+(?:are|is|were)\s+(?:both\s+)?"
                 r"(?P<type>saline|silicone)\b")
# "implants placed 2014", "silicone augmentation in 2012": the years are counted from the year.
_IMPLANT_SINCE = rx(r"\bimplants?\b[^.;]{0,25}?\b(?:placed|put in|inserted|done|in|since|from)\s+"
                    r"(?:in\s+)?(?P<year>(?:19|20)\d\d)\b")

_HORMONE_WORD = _WORDS["hormones"].alternation()
_HORMONE_YEARS = rx(r"\b" + _HORMONE_WORD + r"\b[^.;]{0,40}?(?:\b(?P<n>" + _N_ + r"|an?)\s*(?:years?|yrs?)|"
                     r"(?<=x)(?P<nx>" + _N_ + r")\s*(?:years?|yrs?|y))\b|"
                     r"\b(?P<n2>" + _N_ + r")\s*(?:years?|yrs?)\s*(?:of|on)\s*(?:hormones?|hormone therapy|"
                     r"o?estrogen|feminizing|gender[- ]affirming)")
# "on estradiol since age 40", "hormones since 2012": the years are counted from the age or year.
_HORMONE_SINCE = rx(r"\b" + _HORMONE_WORD + r"\b[^.;]{0,30}?\bsince\s+(?:(?:the\s+)?age\s+(?P<age>\d{1,2})|"
                    r"(?P<year>(?:19|20)\d\d))\b")
_NO_HORMONES = _WORDS["no_hormones"].compiled()

_RISK = _KINDS.compiled("risk")

DENIED_JUST_BEFORE = denied_just_before()
_FELT = felt_words()
NEGATED_BEFORE = negated_before()  # the denial words are in reading.yaml (context.negated_before)
# Chemotherapy before the operation, and whether it is planned, under way or done: the words are
# reading.yaml ``fact_words`` (neoadjuvant_*); "finished chemo, surgery next month" is one piece
# of both the cue and the done state.
_THEN_SURGERY = _WORDS["chemo_then_surgery"].alternation()
NEOADJ = rx(rf"\b(?:{_WORDS['neoadjuvant_therapy'].alternation()}|{_THEN_SURGERY})\b")
_NEOADJ_PLANNED = _WORDS["neoadjuvant_planned"].compiled()
NEOADJ_DONE = rx(rf"\b{_THEN_SURGERY}|{_WORDS['neoadjuvant_done'].alternation()}")
_NEOADJ_ONGOING = _WORDS["neoadjuvant_ongoing"].compiled()
_CHEMO = _WORDS["chemo"].compiled()
_HISTORY = _WORDS["cancer_history"].compiled()
_SINCE = rx(r"\b(?P<n>\d+(?:\.\d+)?)\s*(?P<unit>years?|yrs?|months?|mos?)\s*(?:after|since|post|out from|"
             r"following|s/p)\b")


_OTHER_MODALITY = _WORDS["other_modality"].compiled()
_MAMMO_US = _WORDS["mammo_us"].compiled()
_LAB_ABNORMAL = rx(r"\b" + _WORDS["lab_abnormal"].alternation() + r"\b|↑")
_LAB_NORMAL = _WORDS["lab_normal"].compiled()
_CLAUSE_BREAK = rx(r"[,;.]|\bbut\b|\bwhile\b|\bwith\b")


# --- readers --------------------------------------------------------------------------------

def read_demographics(r: Reading) -> None:
    for pattern in _AGE:
        m = pattern.search(r.text)
        if m and 0 < int(m.group("age")) <= 110:
            r.set("age", int(m.group("age")), m.start(), m.end())
            if "sex" in m.groupdict() and m.group("sex"):
                r.set("sex", "female" if m.group("sex").upper() == "F" else "male", m.start(), m.end())
            break
    if "age" not in r.facts and ASKED_FOR_SOMEONE.search(r.text) and (m := PROXY_AGE.search(r.text)):
        r.set("age", int(m.group("age")), m.start(), m.end())  # "my husband is 68 ... does he need"
    if "age" not in r.facts and (m := _AGE_WORDS.search(r.text)):  # dictated: "sixty-three year old"
        tens, unit = m.group("tens") or m.group("tens2"), m.group("unit") or m.group("unit2")
        age = _TENS[tens.lower()] + _UNITS.get((unit or "").lower(), 0)
        r.set("age", age, m.start(), m.end())
    if m := _TRANS_FEM.search(r.text):
        r.set("gender", "transfeminine", m.start(), m.end())
        r.set("sex", "male", m.start(), m.end(), overwrite=True)
    elif m := _TRANS_MASC.search(r.text):
        r.set("gender", "transmasculine", m.start(), m.end())
        r.set("sex", "female", m.start(), m.end(), overwrite=True)
    elif m := _TRANSGENDER.search(r.text):
        # which way, from the person's own words: "she" is a trans woman, "he" a trans man
        f, mm = _FEMALE.search(r.text, m.end()), _MALE.search(r.text, m.end())
        if (said := f or mm) is not None and not (f and mm):
            woman = f is not None
            r.set("gender", "transfeminine" if woman else "transmasculine", m.start(), m.end())
            r.set("sex", "male" if woman else "female", m.start(), m.end(), overwrite=True)
            r.assumptions.append(f'"{m.group(0)}" with "{said.group(0)}": read as '
                                 + ("a trans woman (transfeminine)" if woman else "a trans man (transmasculine)"))
    if "sex" not in r.facts:
        f, mm = _FEMALE.search(r.text), _MALE.search(r.text)
        if f and not mm:
            r.set("sex", "female", f.start(), f.end())
        elif mm and not f:
            r.set("sex", "male", mm.start(), mm.end())
        elif f and mm:  # both: the earlier word usually describes the patient
            first = f if f.start() < mm.start() else mm
            r.set("sex", "female" if first is f else "male", first.start(), first.end())
    if "sex" not in r.facts and (m := _PREGNANT.search(r.text) or _LACTATING.search(r.text)):
        r.set("sex", "female", m.start(), m.end())
    # Said, and not just after a denial ("haven't been pregnant in years", "never breastfed").
    for fact, denial, stated in (("pregnant", _NOT_PREGNANT, _PREGNANT), ("lactating", _NOT_LACTATING, _LACTATING)):
        if m := denial.search(r.text):
            r.set(fact, False, m.start(), m.end())
        elif m := next((m for m in stated.finditer(r.text)
                        if not NEGATED_BEFORE.search(r.text[max(0, m.start() - 30):m.start()])), None):
            r.set(fact, True, m.start(), m.end())


def read_tumor(r: Reading) -> None:
    text = r.text
    m: re.Match[str] | None
    for m in _SIZE.finditer(text):
        after = text[m.end():m.end() + 60]
        if _NODE_SIZE_CONTEXT.search(after) or re.search(r"(node|lymph)\W*$", text[max(0, m.start() - 25):m.start()],
                                                        re.IGNORECASE):
            continue  # a lymph node's size, not the tumor's
        dims = [float(x) for x in re.findall(r"\d+(?:\.\d+)?", m.group("dims"))]
        size = max(dims) * (10 if m.group("unit").lower().startswith("c") else 1)
        r.set("tumor_size_mm", round(size, 1), m.start(), m.end())
        break
    if m := TNM.search(text):
        _set_tnm(r, m)
    else:
        if (m := T_ALONE.search(text)) and not re.match(r"\s*-?\s*weighted", text[m.end():], re.IGNORECASE):
            r.set("t", (m.group("tp") or "c").lower() + canon(m.group("t")), m.start(), m.end())
        if m := N_ALONE.search(text):
            r.set("n", (m.group("np") or "c").lower() + canon(m.group("n")), m.start(), m.end())
    if "n" not in r.facts and (m := _SUPRACLAVICULAR.search(text)):
        r.set("n", "cN3c", m.start(), m.end())  # AJCC: ipsilateral supraclavicular nodes are N3c
    if "m" not in r.facts and (m := M_ALONE.search(text)):
        r.set("m", (m.group("mp") or "c").lower() + canon(m.group("m")), m.start(), m.end())
    if m := STAGE.search(text):
        roman = ROMAN[m.group("num").lower()]
        sub = (m.group("sub") or "").upper()
        stage = roman + sub if roman not in ("0", "IV") else roman
        if stage in {"0", "I", "IA", "IB", "II", "IIA", "IIB", "III", "IIIA", "IIIB", "IIIC", "IV"}:
            r.set("stage", stage, m.start(), m.end())
    elif m := _METASTATIC.search(text):
        r.set("stage", "IV", m.start(), m.end())
    for pattern in _GRADE:
        if m := pattern.search(text):
            g = m.groupdict().get("g")
            value = _GRADE_WORD[m.group("word").lower()] if m.groupdict().get("word") else \
                int(_ROMAN_INT.get(g.lower(), g))  # type: ignore[union-attr,arg-type]
            r.set("grade", value, m.start(), m.end())
            break
    invasive_found = False
    for name, pattern in HISTOLOGY:
        if m := pattern.search(text):
            if name == "dcis" and invasive_found:
                continue  # DCIS alongside an invasive cancer: the invasive type decides
            r.set("histology", name, m.start(), m.end())
            invasive_found = name != "dcis"
            if invasive_found:
                break
    if "histology" not in r.facts and (m := _INVASIVE_GENERIC.search(text)):
        r.cite("invasive", m.start(), m.end())
    read_receptors(r)


_ROMAN_INT = {"i": "1", "ii": "2", "iii": "3"}


def canon(category: str) -> str:
    """'t1C' -> 'T1c', 'n0(I+)' -> 'N0(i+)', 'tis' -> 'Tis', 'mx' -> 'MX'."""
    head, rest = category[0].upper(), category[1:].lower()
    return head + ("X" if rest == "x" else rest)


def _set_tnm(r: Reading, m: re.Match[str]) -> None:
    # A prefix written once ("cT3N1", "pT1cN0") applies to the whole string.
    prefix = (m.group("tp") or "c").lower()
    r.set("t", prefix + canon(m.group("t")), m.start("t") - len(m.group("tp") or ""), m.end("t"))
    r.set("n", (m.group("np") or prefix).lower() + canon(m.group("n")), m.start("n"), m.end("n"))
    if m.group("m"):
        r.set("m", (m.group("mp") or "c").lower() + canon(m.group("m")), m.start("m"), m.end("m"))


def _receptor_value(word: str) -> str:
    w = word.lower().strip()
    if w in ("+", "++", "+++", "positive", "pos", "amplified"):
        return "positive"
    return "negative"


def read_receptors(r: Reading) -> None:
    text = r.text
    if m := TRIPLE_NEG.search(text):
        for key in ("er", "pr", "her2"):
            r.set(key, "negative", m.start(), m.end())
    if m := _ER_PR_JOINT.search(text):
        value = _receptor_value(m.group("v"))
        r.set("er", value, m.start(), m.end())
        r.set("pr", value, m.start(), m.end())
    for key, pattern in _RECEPTOR.items():
        if m := pattern.search(text):
            r.set(key, _receptor_value(m.group("v")), m.start(), m.end())
    for m in _ALLRED.finditer(text):  # Allred score out of 8: 3 or more is positive
        r.set(m.group("which").lower(), "positive" if int(m.group("score")) >= 3 else "negative",
              m.start(), m.end())
    for m in _PERCENT.finditer(text):
        pct = m.group("pct").replace(" ", "")
        r.set(m.group("which").lower(), "negative" if pct.startswith("<") or int(pct) < 1 else "positive",
              m.start(), m.end())
    if (m := _HR.search(text)) and "er" not in r.facts:
        r.set("er", _receptor_value(re.sub(r"^.*?(\+|positive|pos|negative|neg|-|−)\s*$", r"\1",
                                          m.group(0), flags=re.IGNORECASE)), m.start(), m.end())
        r.assumptions.append(f'"{m.group(0)}" read as the ER result (hormone-receptor status)')
    if m := _HER2_IHC.search(text):
        score = m.group("score")
        score = "0" if score in ("0", "0+") else score
        r.set("her2_ihc", score, m.start("score"), m.end("score"))
    if m := _HER2_ISH.search(text):
        v = m.group("v").lower()
        r.set("her2_ish", "amplified" if v in ("amplified", "positive") else "not amplified",
              m.start(), m.end())
    if "her2" not in r.facts:
        if m := _HER2_EQUIVOCAL.search(text):
            r.set("her2", "equivocal", m.start(), m.end())
        elif m := _HER2_LOW.search(text):
            r.set("her2", "negative", m.start(), m.end())
    # HER2 status from the test results where the text gives no status in words.
    if "her2" not in r.facts or r.facts["her2"] == "equivocal":
        ish, ihc = r.facts.get("her2_ish"), r.facts.get("her2_ihc")
        status, note = her2_from_tests(ihc, ish)
        if status:
            ev = r.evidence["her2_ish" if ish else "her2_ihc"][0]
            r.set("her2", status, ev.start or 0, ev.end or 0, overwrite=True)
        elif note:
            r.assumptions.append(note)


def read_history(r: Reading) -> None:
    text = r.text
    m: re.Match[str] | None
    for name, pattern in SURGERY:
        for m in pattern.finditer(text):
            if PLANNED.search(text[max(0, m.start() - 40):m.start()]):
                continue  # planned surgery is not surgical history
            if NEGATED_BEFORE.search(text[max(0, m.start() - 30):m.start()]):
                continue  # "no top surgery", "never had a mastectomy": denied, not history
            r.set("surgery", name, m.start(), m.end())
            break
        if "surgery" in r.facts:
            break
    if "surgery" not in r.facts:
        # An operation whose kind is not said: evidence that surgery was done, kind unknown.
        for m in _SOME_SURGERY.finditer(text):
            before = text[max(0, m.start() - 40):m.start()]
            if not PLANNED.search(before) and not NEGATED_BEFORE.search(before):
                r.cite("surgery", m.start(), m.end())
                break
    for name, pattern in _RECON:
        if m := pattern.search(text):
            if _UNSURE.search(text[max(0, m.start() - 60):m.start()]):
                r.cite("reconstruction", m.start(), m.end())  # "not sure if an implant or my own tissue"
            else:
                r.set("reconstruction", name, m.start(), m.end())
            break
    if "reconstruction" not in r.facts and re.search(r"\bmastectom", text, re.IGNORECASE) and \
            (m := re.search(r"\b(reconstruct\w*)", text, re.IGNORECASE)) and \
            not re.search(r"\bno\s+$", text[max(0, m.start() - 5):m.start()], re.IGNORECASE):
        if NEGATED_BEFORE.search(text[max(0, m.start() - 30):m.start()]):
            r.set("reconstruction", "none", m.start(), m.end())  # "did not have reconstruction"
        else:
            r.cite("reconstruction", m.start(), m.end())  # reconstructed, type not stated
    for m in _IMPLANT.finditer(text):
        if r.facts.get("reconstruction") == "implant":
            break  # the implants are the reconstruction, not cosmetic implants
        if NEGATED_BEFORE.search(text[max(0, m.start() - 30):m.start()]):
            continue  # "no implants"
        if m.group("type"):
            r.set("implant", m.group("type").lower(), m.start(), m.end())
        else:
            r.cite("implant", m.start(), m.end())  # implants, type not stated
        break
    if "implant" not in r.facts and (m := _TYPED_AUGMENT.search(text)) and \
            not NEGATED_BEFORE.search(text[max(0, m.start() - 30):m.start()]):
        r.set("implant", m.group("type").lower(), m.start(), m.end())  # "silicone augmentation 2012"
    if r.facts.get("implant") is None and re.search(r"\bimplants?\b", text, re.IGNORECASE) and \
            (m := _MINE_TYPED.search(text)):
        r.set("implant", m.group("type").lower(), m.start(), m.end())  # "Mine are saline"
    if m := _IMPLANT_YEARS.search(text):
        r.set("implant_years", number(m.group("n") or m.group("n2") or m.group("n3")), m.start(), m.end())
    elif (m := _IMPLANT_SINCE.search(text)) and int(m.group("year")) <= datetime.date.today().year:
        this_year = datetime.date.today().year
        years = this_year - int(m.group("year"))
        r.assumptions.append(f'implants placed in {m.group("year")}: read as {years} years since '
                             f"(counted to {this_year})")
        r.set("implant_years", float(years), m.start("year"), m.end("year"))
    if m := _NO_HORMONES.search(text):
        r.set("hormone_use_years", 0.0, m.start(), m.end())
    elif m := _HORMONE_YEARS.search(text):
        r.set("hormone_use_years", number(m.group("n") or m.group("nx") or m.group("n2")), m.start(), m.end())
    elif (m := _HORMONE_SINCE.search(text)) and (m.group("year") or r.facts.get("age")):
        if m.group("year"):
            this_year = datetime.date.today().year
            years = this_year - int(m.group("year"))
            r.assumptions.append(f'"{m.group(0)}" read as {years} years of hormone use (counted to {this_year})')
        else:
            years = int(r.facts["age"]) - int(m.group("age"))
        if years >= 0:
            r.set("hormone_use_years", float(years), m.start(), m.end())
    for name, pattern in _RISK:
        hit = next((m for m in pattern.finditer(text)
                    if not NEGATED_BEFORE.search(text[max(0, m.start() - 30):m.start()])), None)
        if hit:
            r.set("risk", name, hit.start(), hit.end())
            break
    if (m := NEOADJ.search(text)) and DENIED_JUST_BEFORE.search(text, max(0, m.start() - 30), m.start()):
        m = None  # "surgery first, no chemo first": denied, not neoadjuvant
    if m:
        state = None
        for value, pattern in (("ongoing", _NEOADJ_ONGOING), ("completed", NEOADJ_DONE),
                               ("planned", _NEOADJ_PLANNED)):
            if sm := pattern.search(text):
                state = value
                r.set("neoadjuvant", value, sm.start(), sm.end())
                break
        if state is None:
            r.cite("neoadjuvant_mention", m.start(), m.end())
    elif (chemo := _CHEMO.search(text)) and (now := _NEOADJ_ONGOING.search(text)) and "surgery" not in r.facts \
            and any(k in r.facts for k in ("tumor_size_mm", "t", "histology")):
        # Chemotherapy going on while the tumour is still there ("halfway through chemo for a
        # 4 cm breast tumor") is given before the operation: neoadjuvant, said as an assumption.
        r.set("neoadjuvant", "ongoing", now.start(), now.end())
        r.cite("neoadjuvant_mention", chemo.start(), chemo.end())
        r.assumptions.append(f'"{chemo.group(0)}" is going on with the tumour still in place and no '
                             "operation said: read as chemotherapy before surgery (neoadjuvant)")
    if m := _HISTORY.search(text):
        r.set("cancer_history", True, m.start(), m.end())
    if m := _SINCE.search(text):
        n = float(m.group("n"))
        months = n * 12 if m.group("unit").lower().startswith(("y",)) else n
        r.set("months_since_treatment", months, m.start(), m.end())


def clause_state(text: str, mention: Mention) -> str | None:
    """A lab's state from the nearest cue word in the same clause ("normal LFTs and ALP")."""
    left = text[mention.sentence_start:mention.start]
    right = text[mention.end:mention.sentence_end]
    breaks_left = list(_CLAUSE_BREAK.finditer(left))
    left = left[breaks_left[-1].end():] if breaks_left else left
    first_break = _CLAUSE_BREAK.search(right)
    right = right[:first_break.start()] if first_break else right
    cues: list[tuple[int, str]] = []
    for pattern, state in ((_LAB_ABNORMAL, "abnormal"), (_LAB_NORMAL, "normal")):
        cues += [(len(left) - m.end(), state) for m in pattern.finditer(left)]
        cues += [(m.start(), state) for m in pattern.finditer(right)]
    if not cues:
        return None
    state = min(cues)[1]
    if mention.negated and state == "abnormal":
        return "normal"  # "no elevated ALP"
    return state


ASYMPTOMATIC = _WORDS["asymptomatic"].compiled()


_LAB_VALUE = rx(r"^\s*(?:level\s*|of\s*|was\s*|is\s*|at\s*|:\s*|=\s*)*(?P<v>\d+(?:\.\d+)?)")
_RISING = rx(r"(?:\b(?:went|rose|increased|climbed|risen|up)\s+from\s+|^\s*(?:rising\s*|:\s*)?)"
             r"(?P<a>\d+(?:\.\d+)?)\s*(?:to|->|→|>)\s*(?:\d+(?:\.\d+)?\s*(?:->|→|>)\s*)*(?P<b>\d+(?:\.\d+)?)")


def _value_state(r: Reading, limits: dict[str, float], mention: Mention) -> str | None:
    """A lab written as a number: above the usual adult upper limit, or rising, is abnormal."""
    after = r.text[mention.end:mention.sentence_end]
    if (m := _RISING.search(after[:60])) and float(m.group("b")) > float(m.group("a")):
        r.assumptions.append(f'{mention.text} read as rising ("{m.group(0)}")')
        return "abnormal"
    limit = limits.get(mention.text.lower())
    if limit is None or not (m := _LAB_VALUE.match(after)):
        return None
    value = float(m.group("v"))
    state = "abnormal" if value > limit else "normal"
    r.assumptions.append(f"{mention.text} {m.group('v')} read as {state}: the usual adult upper limit is "
                         f"about {limit:g}, but laboratories differ; a stated result wins")
    return state


@functools.lru_cache(maxsize=1)
def _relative_word() -> re.Pattern[str]:
    return re.compile(rf"\b({alternatives({*load_rules().context.relatives, 'family'})})\b", re.IGNORECASE)


def read_mentions(r: Reading, kb: KnowledgeBase, found: list[Mention]) -> dict[str, Any]:
    terms = kb.terms
    symptoms: list[str] = []
    denied: list[str] = []
    findings: list[str] = []
    labs: dict[str, str] = {}
    asked: list[str] = []
    family: list[str] = []
    done = _studies_done(r, kb, found)
    for mt in found:
        term = terms.get(mt.code)
        if mt.start in done:
            continue  # a study already done, with its result: not one asked about
        if mt.code.startswith("cancer:"):
            if mt.family and not mt.negated and not mt.other_person:
                who = _relative_word().search(r.text, mt.sentence_start, mt.sentence_end)
                if who is not None and who.group(1).lower() == "family":  # "family history (my mother ...)"
                    who = next((w for w in _relative_word().finditer(r.text, mt.sentence_start, mt.sentence_end)
                                if w.group(1).lower() != "family"), who)
                relative = who.group(1).lower() if who else "relative"
                entry = f"{relative}: {mt.text}"
                if entry not in family:
                    family.append(entry)
                    r.cite("family_history", mt.start, mt.end)
                if relative in load_rules().context.first_degree and mt.organ in ("breast", "ovary"):
                    r.set("first_degree_relative", True, mt.start, mt.end)
            continue
        if term is None:
            continue
        if term.kind == "procedure":
            if mt.code not in asked:
                asked.append(mt.code)
                r.cite("asked_procedures", mt.start, mt.end)
            continue
        if term.kind == "lab":
            state = clause_state(r.text, mt) or _value_state(r, term.abnormal_above, mt)
            if state and mt.code not in labs:
                labs[mt.code] = state
                r.cite(f"labs:{mt.code}", mt.start, mt.end)
            continue
        if mt.status == "other":
            continue
        target = findings if term.kind == "finding" else symptoms
        if mt.status == "denied" or (mt.historical and term.kind == "symptom"):
            if mt.status == "denied" and mt.code not in denied:
                denied.append(mt.code)
                r.cite(f"denied:{mt.code}", mt.start, mt.end)
            continue
        if mt.code not in target:
            target.append(mt.code)
            r.cite(f"{'findings' if term.kind == 'finding' else 'symptoms'}:{mt.code}", mt.start, mt.end)
        # felt: an examination word shortly before the finding or among its own words
        if term.felt_as and term.felt_as not in symptoms and \
                (felt := _FELT.search(r.text, max(mt.sentence_start, mt.start - 30), mt.end)):
            symptoms.append(term.felt_as)  # felt on examination: a sign as well as a finding
            r.cite(f"symptoms:{term.felt_as}", felt.start(), mt.end)
    for code, start, end in (g for got in done.values() for g in got):
        if code not in findings:
            findings.append(code)
            r.cite(f"findings:{code}", start, end)
    for m in result_patterns()[2].finditer(r.text):
        n = m.group("n")
        category = "imaging_indeterminate" if n == "0" else f"birads_{n}" if n in "12345" else None
        if category and category not in findings:  # "BR 4", "category 4b": an assessment already made
            findings.append(category)
            r.cite(f"findings:{category}", m.start(), m.end())
    if "suspicious_axillary_node" in findings:
        mt = next((m for m in found if m.code == "suspicious_axillary_node"), None) or \
            next(m for m in found if any(c == "suspicious_axillary_node" for c, _, _ in
                                         done.get(m.start, []) + done.get(-1 - m.start, [])))
        # The sentence splitter can miss a full stop before a number ("thickening. 57 year old"):
        # the study that showed the node is looked for between full stops.
        start = max(mt.sentence_start, r.text.rfind(". ", 0, mt.start) + 1)
        stop = r.text.find(". ", mt.end)
        sentence = r.text[start:mt.sentence_end if stop < 0 else min(stop, mt.sentence_end)]
        if _OTHER_MODALITY.search(sentence) and not _MAMMO_US.search(sentence):
            findings[findings.index("suspicious_axillary_node")] = "suspicious_axillary_node_other_imaging"
            r.evidence["findings:suspicious_axillary_node_other_imaging"] = \
                r.evidence.pop("findings:suspicious_axillary_node")
    return {"symptoms": symptoms, "denied_symptoms": [d for d in denied if d not in symptoms],
            "findings": findings, "labs": labs, "asked": asked, "family_history": family}


#: How far after a study its result may stand ("the ultrasound I had last week showed ...").
_RESULT_REACH = 80


def _studies_done(r: Reading, kb: KnowledgeBase, found: list[Mention]) -> dict[int, list[tuple[str, int, int]]]:
    """Studies already done, each with the findings its result is read as (reading.yaml
    ``imaging_results``): a study the patient had, followed in its sentence (before the next
    study) by a result word. Keyed by the study mention's start; each finding's evidence spans
    the study and its result ("US didn't show anything", "dx mammo read as indeterminate"). A
    lymph node said to look abnormal after the study is a suspicious axillary node on it. A
    study from before the problem ("my last mammogram, a year ago, was fine") is not read."""
    result, meaning, _, nodes, node_abnormal, earlier, done_before = result_patterns()
    text = r.text
    # A study named, or a result the vocabulary read whole ("screening mammogram was normal"):
    # after either, a lymph node said to look abnormal is a finding of that study.
    studies = [mt for mt in found if (t := kb.terms.get(mt.code)) is not None and mt.status == "present"
               and (t.kind == "procedure" or mt.code in set(meaning.values()))]
    out: dict[int, list[tuple[str, int, int]]] = {}
    for i, mt in enumerate(studies):
        later = [o.start for o in studies[i + 1:] if o.start >= mt.end]
        stop = min([mt.sentence_end, mt.end + _RESULT_REACH, *later])
        got: list[tuple[str, int, int]] = []
        is_study = kb.terms[mt.code].kind == "procedure"
        if is_study and (m := result.search(text, mt.end, stop)) is not None:
            clause = text[mt.sentence_start:m.end()]
            if earlier.search(clause):
                continue  # screening from before the problem, not its work-up
            code = meaning[m.group(0).lower()]
            node = nodes.search(text, mt.end, min(mt.sentence_end, m.end() + 40))
            if node is None:
                got.append((code, mt.start, m.end()))
            elif code != "birads_1":  # "normal lymph nodes": nothing found
                got.append(("suspicious_axillary_node", mt.start, max(m.end(), node.end())))
        if not any(c == "suspicious_axillary_node" for c, _, _ in got):
            end = min([mt.sentence_end, *(o for o in later if o > mt.end)])
            for node in nodes.finditer(text, mt.end, end):
                near = node_abnormal.search(text, max(mt.end, node.start() - 30), min(end, node.end() + 30))
                if near is not None:
                    got.append(("suspicious_axillary_node", mt.start, max(node.end(), near.end())))
                    break
        if not is_study:
            if got:  # the finding itself is read as a mention; the node is added beside it
                out[-1 - mt.start] = got
            continue
        if got:
            out[mt.start] = got
        elif done_before.search(text, max(mt.sentence_start, mt.start - 30), mt.start):
            out[mt.start] = []  # "2.8 cm on dx mammo": a study done, no result to read
    return out


def nodal_status(r: Reading, symptoms: list[str]) -> None:
    n = r.facts.get("n")
    if n:
        category = without_prefix(n)
        if category.startswith("N0"):
            ev = r.evidence["n"][0]
            r.set("nodal_status", "negative", ev.start or 0, ev.end or 0)
        elif category[:2] in ("N1", "N2", "N3"):
            ev = r.evidence["n"][0]
            r.set("nodal_status", "positive", ev.start or 0, ev.end or 0)
    if "nodal_status" not in r.facts:
        if m := _NODE_POS.search(r.text):
            r.set("nodal_status", "positive", m.start(), m.end())
        elif m := _NODE_NEG.search(r.text):
            r.set("nodal_status", "negative", m.start(), m.end())
    if "nodal_status" not in r.facts and "axillary_lump" in symptoms:
        ev = r.evidence["symptoms:axillary_lump"][0]
        r.set("nodal_status", "positive", ev.start or 0, ev.end or 0)


_JUST_BEFORE = rx(r"(?:[\s,]+|\s*-\s*)(?:[a-z-]+[\s,]+){0,2}?(?:and\s+|or\s+)?")


def unread_cues(r: Reading, found: list[Mention], covered: list[tuple[int, int]] | None = None) -> list[Evidence]:
    """Cue words said of the patient that no fact read covers: the reader did not understand
    them. ``covered`` adds spans other extractors read (a record's own fields). One rule for
    scenario and record text."""
    read = [(e.start or 0, e.end or 0) for evs in r.evidence.values() for e in evs]
    read += [(mt.start, mt.end) for mt in found if not mt.code.startswith(CUE)] + list(covered or [])
    out = []
    for mt in found:
        if not mt.code.startswith(CUE) or mt.status != "present":
            continue
        if any(s < mt.end and mt.start < e for s, e in read):
            continue
        # An adjective listed before a fact read ("firm, painless mass") describes that fact.
        if any(o.start >= mt.end and _JUST_BEFORE.fullmatch(r.text[mt.end:o.start])
               for o in found if not o.code.startswith(CUE)):
            continue
        out.append(Evidence(text=mt.text, start=mt.start, end=mt.end))
    return out
