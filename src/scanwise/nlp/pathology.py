"""Extractors for whole records: every statement of a fact, not only the first.

A pathology report or clinic note states the same fact more than once (diagnosis line,
synoptic summary, addendum, clinical history), in words the short-question reader never
meets ("ESTROGEN RECEPTOR. NEGATIVE.", "negative for ER and PR", "Nottingham score 9 of 9",
"Four (out of fourteen) lymph nodes"). These functions return every statement they find as a
:class:`Candidate` with a rank (how directly the fact is stated), so the record reader can
choose, and can report two statements that disagree instead of keeping whichever came first.

They build on the shared patterns in :mod:`scanwise.nlp.extract` (TNM, stage, histology,
surgery) and run on text cleaned by :mod:`scanwise.nlp.normalize`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from scanwise.nlp.extract import HISTOLOGY, M_ALONE, N_ALONE, ROMAN, STAGE, T_ALONE, TNM, canon, rx
from scanwise.nlp.rules import not_stated_before

#: How directly a statement gives a fact.
LABELLED = 3  # a result field: "ER: positive", "Histologic type: lobular"
STATED = 2  # said in a diagnosis sentence
WEAK = 1  # history, gross description, frozen section, or an indirect wording


@dataclass(frozen=True)
class Candidate:
    field: str
    value: Any
    start: int  # span in the cleaned text
    end: int
    rank: int
    note: str | None = None  # said to the reader when this statement is used


# --- sections ------------------------------------------------------------------------------

_HEADING = rx(r"(?P<h>clinical (?:history|information|data|diagnosis(?: and history)?)|history|"
              r"pre-?operative diagnosis|gross (?:description|examination)|macroscopic description|"
              r"intra-?operative (?:consult(?:ation)?|diagnosis)|frozen section(?: diagnosis)?|"
              r"final (?:pathologic(?:al)? )?diagnosis|diagnosis|synoptic|addend(?:um|a)|comment|"
              r"microscopic (?:description|examination)|summary|specimens?|procedure)\s*:")
_DOWNGRADED = ("clinical", "history", "pre", "gross", "macroscopic", "intra", "frozen")


def section_starts(text: str) -> list[tuple[int, bool]]:
    """(position, downgraded) for each heading: history, gross and frozen-section text rank lower."""
    out = [(0, False)]
    for m in _HEADING.finditer(text):
        out.append((m.start(), m.group("h").lower().startswith(_DOWNGRADED)))
    return out


def rank_at(sections: list[tuple[int, bool]], pos: int, rank: int) -> int:
    downgraded = False
    for start, down in sections:
        if start > pos:
            break
        downgraded = down
    return max(WEAK, rank - 1) if downgraded else rank


# --- receptors -----------------------------------------------------------------------------

_ER_W = r"(?:\ber\b(?![- ]?2\b|[- ]2[- ]neu)(?:-ica)?|\bo?estro\w{0,4}\.?[- ]?receptors?(?:\s*\((?:er|ihc)\))?)"
_PR_W = r"(?:\bpg?r\b(?:-ica)?|\bprogest\w{0,6}\.?[- ]?receptors?(?:\s*\((?:pg?r|ihc)\))?)"
_HER2_W = (r"(?:\bher[- ]?2(?:[- /]?neu)?(?:\s*\((?:her2|ihc|herceptest)\))?|\bc-?e[rx]b-?[b8]-?2\b|\berbb2\b|"
           r"\bher2neu\b|\ber-2-neu\b)")
_MARKERS = {"er": rx(_ER_W), "pr": rx(_PR_W), "her2": rx(_HER2_W)}
_ANY_MARKER = rx(rf"{_ER_W}|{_PR_W}|{_HER2_W}|\bki-?67\b|\bmib-?1\b|\be-?cadherin\b|\bck\s?\d|\bp63\b|\bfish\b")
_JOINT_ER_PR = rx(r"\b(?:er\s*(?:/|and|&|,)\s*pr|o?estrogen\s*(?:/|and|&)\s*progesterone(?:[- ]receptors?)?)\b"
                  r"(?:\s*\((?:er\s*/\s*pr|er\s*and\s*pr)\))?")
# "ER+", "PR -", "HER2-/": a sign right after the word, not a dash before a written result ("ER - Positive").
_SHORT_SIGN = re.compile(r"^(?:\s?(?P<p>\+)|(?P<m>-|−))(?=[\s/,;).]|$)"
                         r"(?!\.?\s*(?:[-:(]|positive|negative|pos\b|neg\b|\d|weak|strong|low|high|equivocal))",
                         re.IGNORECASE)
_VALUE = rx(
    r"(?P<pending>\bpending\b|\bordered\b|not available|\bn/a\b|to follow|will be|not requested|not performed|in progress|"
    r"\brequested\b|\btaken\b|see (?:comment|addendum|note)|reported (?:in|as) an? addendum|repeated)"
    r"|(?P<control>\bcontrols?\b)"
    r"|(?P<neg>\bnegative\b|\bneg\b|\bnot (?:found|detected|identified|present|seen)\b|"
    r"\bno (?:staining|expression|reactivity|immunoreactivity)\b)"
    r"|(?P<eq>\bequivocal\b|\bindeterminate\b|\bborderline\b|\bweakly positive\b)"
    r"|(?P<pos>\bpositive\b|\bpos\b|\bpostive\b)"
    r"|(?P<pct>(?P<cmp><|>|≥|less than|greater than|more than|over|under|up to)?\s*(?P<num>\d{1,3}(?:\.\d+)?)"
    r"\s*(?:-\s*(?P<num2>\d{1,3})\s*)?%)"
    r"|(?P<score>\b[0-3]\s?\+(?!\s*\d)|(?:score|intensity|ihc)(?:\s+of)?\s*[:=]?\s*(?P<sc>[0-3])\b\+?|"
    r"\(\s*(?P<sc0>0)\s*\)|(?::|(?<=negative))\s*(?P<sc1>0)\b(?![.,]\d|\s*%))"
)
_PRECEDING_VALUE = rx(r"(?P<v>positive|negative|indeterminate|equivocal)\s+for\s+(?:the\s+)?(?P<list>(?:"
                      rf"{_ER_W}|{_PR_W}|{_HER2_W}|hormone receptors|\band\b|,|/|\s|both)+)")
_NONE_FOUND = rx(rf"\bno\s+(?P<w>{_ER_W}|{_PR_W})\s*\.?\s*(?:were\s+|was\s+)?(?:found|detected|identified|present)")
_GUIDANCE = rx(r"\b(?:guidelines?|established|considered|defined as|criteria|cut-?off|levels?\s*:|"
                r"reference range|scoring|if\b|are (?:reported|scored|interpreted))")
_HER2_RESULTS_BLOCK = rx(r"\bher-?2 results\b[^%]{0,160}?\bintensity\s*:\s*(?P<s>[0-3])\s*\+?")
_BY_ISH = rx(r"\s*\(?\s*(?:by|on|per)\s+(?:fish|ish|cish|sish)\b")
_REFERENCE_RANGE = re.compile(r"\s*(?:<=?|>=?|≤|≥|=)\s*\d")
_BOTH = rx(r"\bboth\s+(?:are\s+)?(?:interpr\w*|considered|reported|scored)\s+as\.?\s*(?P<v>positive|negative)")
_PCT_BEFORE = rx(rf"(?P<cmp><|>|less than|greater than|over)?\s*\b(?P<num>\d{{1,3}})\s*%\s+of\s+(?:the\s+)?"
                 rf"(?:invasive\s+|neoplastic\s+)?(?:tumou?r\s+|carcinoma\s+)?(?:cells|nuclei)\b[^.;%]{{0,70}}?"
                 rf"\b(?:for|of)\s+(?P<w>{_ER_W}|{_PR_W})")
_ISH_CONTEXT = rx(r"\b(?:fish|ish|cish|sish|in situ hybridi[sz]ation|amplif\w*)\b")


# After a period, these still belong to the same result ("RECEPTOR. NEGATIVE.", "HER2. AB8 (. Negative",
# "HER2/neu. - Performed on another specimen: Results: Negative").
_CONTINUES = re.compile(r"(positive|negative|pos\b|neg\b|\d|weakly|strongly|low\b|high\b|focal|equivocal|"
                        r"not\b|no\b|as\b|is\b|are\b|-\s*performed|results?\b|[a-z]{0,4}\d{1,4}\s*\(|"
                        r"overexpression|score\b|\(\s*[0-3]\s*\+|\(\s*\d{1,3}\s*%)")


def _window(text: str, start: int, own: str, span: int = 90) -> str:
    """What follows a marker word, up to the next other marker or the end of the statement."""
    w = text[start:start + span]
    for m in _ANY_MARKER.finditer(w):
        if m.start() > 0 and not _MARKERS[own].fullmatch(m.group(0)):
            w = w[:m.start()]
            break
    # a period ends the statement unless the result follows it at once ("RECEPTOR. NEGATIVE.")
    for m in re.finditer(r"[.;]\s+", w):
        follow = w[m.end():m.end() + 20].lower()
        if not _CONTINUES.match(follow):
            w = w[:m.start()]
            break
    return w


def _percent_status(cmp: str | None, num: float) -> str | None:
    cmp = (cmp or "").strip().lower()
    if cmp in ("<", "less than", "under", "up to"):
        return "negative" if num <= 1 else None  # "<10%" does not say which side of 1%
    return "positive" if num >= 1 else "negative"


def _receptor_reading(text: str, key: str, start: int, end: int) -> Iterator[Candidate]:
    """Value statements that follow one ER / PR / HER2 word."""
    after = text[end:]
    if m := _SHORT_SIGN.match(after):
        value = "positive" if m.group("p") else "negative"
        yield Candidate(key, value, start, end + m.end(), 2)
        return
    w = _window(text, end, key, 120)
    first = _VALUE.search(w)
    # ISH when the test is named before the result ("HER2 (FISH): not amplified", "FISH: HER2 ...")
    # or right after it ("HER2: Negative by FISH"); a later "(CISH: ...)" is a second result.
    ish = bool(_ISH_CONTEXT.search(w[:first.start()] if first else w)) or \
        bool(_ISH_CONTEXT.search(text[max(0, start - 25):start])) or \
        bool(key == "her2" and first and _BY_ISH.match(text, end + first.end()))
    status_done = score_done = False
    for v in _VALUE.finditer(w):
        kind = v.lastgroup if v.lastgroup not in ("cmp", "num", "num2", "sc", "sc0", "sc1") else None
        groups = {k for k, x in v.groupdict().items() if x is not None}
        kind = next(k for k in ("pending", "control", "neg", "eq", "pos", "pct", "score") if k in groups)
        s, e = start, end + v.end()
        if kind in ("pending", "control"):
            return  # a test still to come, or the result of a control, is not the patient's result
        if kind in ("neg", "pos", "eq") and _REFERENCE_RANGE.match(w, v.end()):
            return  # "Negative < 6.5. Positive >= 6.5": the lab's reference range, not a result
        if kind in ("neg", "pos", "eq") and re.match(r"[^.;]{0,25}\bcontrols?\b", w[v.end():], re.IGNORECASE):
            return  # "Negative and positive controls ..."
        sentence_start = max(text.rfind(". ", 0, start), text.rfind("; ", 0, start)) + 1
        if _GUIDANCE.search(text[sentence_start:end + v.end()]):
            return  # how results are graded in general, not this patient's result
        if key == "her2":
            if kind == "pct" and not score_done and not ish and not v.group("cmp") and not v.group("num2") \
                    and float(v.group("num")) == 0:
                # no tumour cells stained at all is IHC 0 on every ASCO/CAP scale ("HER2. 0.0%")
                yield Candidate("her2_ihc", "0", s, e, STATED)
                score_done = True
            elif kind == "score" and not score_done and not ish:
                sc = v.group("sc") or v.group("sc0") or v.group("sc1") or v.group(0).replace(" ", "")[0]
                yield Candidate("her2_ihc", "0" if sc == "0" else f"{sc}+", s, e, LABELLED)
                score_done = True
            elif kind in ("neg", "pos", "eq") and not status_done:
                if re.search(r"\d\s*%\s*$", w[:v.start()]):
                    continue  # "15% positive cells": a share of stained cells, not a HER2 status
                if ish:
                    if kind != "eq":
                        yield Candidate("her2_ish", "amplified" if kind == "pos" else "not amplified",
                                        s, e, LABELLED)
                else:
                    value = {"neg": "negative", "pos": "positive", "eq": "equivocal"}[kind]
                    yield Candidate("her2_status", value, s, e, LABELLED)
                status_done = True
            continue
        if status_done:
            if kind == "pct" and not v.group("cmp") and not v.group("num2"):  # "Positive, 95% of cells"
                yield Candidate(f"{key}_percent", float(v.group("num")), s, e, LABELLED)
            break
        if kind in ("neg", "pos", "eq"):
            value = {"neg": "negative", "pos": "positive", "eq": "positive"}[kind]
            yield Candidate(key, value, s, e, LABELLED)
            status_done = True
        elif kind == "pct":
            num = float(v.group("num2") or v.group("num"))
            status = _percent_status(v.group("cmp"), float(v.group("num")))
            if v.group("num2") and float(v.group("num")) < 1:
                status = None  # "0-10%" spans both sides of 1%
            if not v.group("cmp") and not v.group("num2"):
                yield Candidate(f"{key}_percent", num, s, e, LABELLED)
            if status:
                yield Candidate(key, status, s, e, LABELLED)
                status_done = True
        elif kind == "score":
            sc = v.group("sc") or v.group("sc0") or v.group("sc1") or v.group(0).replace(" ", "")[0]
            if sc != "0":  # any staining intensity reported for ER/PR is a positive result
                yield Candidate(key, "positive", s, e, STATED)
                status_done = True


def receptors(text: str) -> list[Candidate]:
    """ER, PR, HER2 status, HER2 IHC score, ISH result and ratio, ER/PR percentages."""
    out: list[Candidate] = []
    taken: list[tuple[int, int]] = []
    for m in _PRECEDING_VALUE.finditer(text):  # "negative for ER and PR, and positive for HER2"
        v = m.group("v").lower()
        for key, pattern in _MARKERS.items():
            for item in pattern.finditer(m.group("list")):
                s, e = m.start(), m.start("list") + item.end()
                if key == "her2":
                    ish = bool(_ISH_CONTEXT.search(text[e:e + 20]))
                    if ish and v in ("positive", "negative"):
                        out.append(Candidate("her2_ish", "amplified" if v == "positive" else "not amplified",
                                             s, e + 20, STATED))
                    else:
                        status = "equivocal" if v in ("indeterminate", "equivocal") else v
                        out.append(Candidate("her2_status", status, s, e, STATED))
                elif v in ("positive", "negative"):
                    out.append(Candidate(key, v, s, e, STATED))
                taken.append((m.start("list") + item.start(), m.start("list") + item.end()))
        taken.append((m.start(), m.end()))
    for m in _BOTH.finditer(text):  # "... estrogen and progesterone receptors ... both are interpreted as negative"
        joint = list(_JOINT_ER_PR.finditer(text, max(0, m.start() - 400), m.start()))
        if joint:
            for key in ("er", "pr"):
                out.append(Candidate(key, m.group("v").lower(), joint[-1].start(), m.end(), STATED))
            taken.append((joint[-1].start(), joint[-1].end()))
    for m in _PCT_BEFORE.finditer(text):  # "65% of tumor cells show ... staining for estrogen receptors"
        key = "er" if _MARKERS["er"].fullmatch(m.group("w")) else "pr"
        status = _percent_status(m.group("cmp"), float(m.group("num")))
        if status:
            out.append(Candidate(key, status, m.start(), m.end(), STATED))
            out.append(Candidate(f"{key}_percent", float(m.group("num")), m.start(), m.end(), STATED))
        taken.append((m.start("w"), m.end("w")))
    for m in _NONE_FOUND.finditer(text):  # "No estrogen receptors found"
        key = "er" if _MARKERS["er"].fullmatch(m.group("w")) else "pr"
        out.append(Candidate(key, "negative", m.start(), m.end(), STATED))
        taken.append((m.start("w"), m.end("w")))
    for m in _JOINT_ER_PR.finditer(text):  # "ER/PR: positive", "(ER/PR) ARE POSITIVE"
        if any(a <= m.start() < b for a, b in taken):
            continue
        w = _window(text, m.end(), "pr", 40)
        v = _VALUE.search(w)
        if v and re.search(r"\bfor\b", w[:v.start()]):
            v = None  # "ER and PR and negative for HER2": the value belongs to what follows
        if v and v.group("pos") or v and v.group("neg"):
            value = "positive" if v.group("pos") else "negative"
            for key in ("er", "pr"):
                out.append(Candidate(key, value, m.start(), m.end() + v.end(), STATED))
        taken.append((m.start(), m.end()))
    for key, pattern in _MARKERS.items():
        for m in pattern.finditer(text):
            if any(a <= m.start() < b for a, b in taken):
                continue
            out.extend(_receptor_reading(text, key, m.start(), m.end()))
    for m in _HER2_RESULTS_BLOCK.finditer(text):  # "BREAST HER-2 RESULTS. ... Intensity: 2+"
        out.append(Candidate("her2_ihc", "0" if m.group("s") == "0" else f"{m.group('s')}+", m.start(),
                             m.end(), LABELLED))
    out.extend(_ish_statements(text))
    return out


_SENTENCE = re.compile(r"(?:[^.;]|\.(?=\d))*(?:\.|;|$)")
_BOILERPLATE = rx(r"\b(controls?|levels?\s*:|considered|defined as|established|criteria|if\b|will be|pending|ordered|recommend\w*|"
                  r"submitted for|correlation|therefore submitted|performed on cases|reference range|"
                  r"to be performed|is being|request)")
_ISH_RESULT = rx(r"(?P<neg>not amplified|non-?amplified|no amplification|without amplification|"
                 r"negative for (?:gene )?amplification|amplification (?:is |was )?not (?:detected|demonstrated|seen|observed))"
                 r"|(?P<pos>\bamplified\b|amplification (?:is |was )?(?:detected|demonstrated|present|observed)|"
                 r"positive for (?:gene )?amplification)")
_ISH_WORD = rx(r"\b(?:fish|ish|cish|sish|in situ hybridi[sz]ation)\b")
_RATIO = rx(r"\bratio\b(?:[^.;%\d]{0,45}?\b(?:is|=|:|of|was))?\s*(?P<r>\d{1,2}(?:\.\d{1,2})?)\b(?!\s*(?:or|%))")


def _ish_statements(text: str) -> Iterator[Candidate]:
    for s in _SENTENCE.finditer(text):
        sentence = s.group(0)
        if not _ISH_WORD.search(sentence) and "amplif" not in sentence.lower():
            continue
        if _BOILERPLATE.search(sentence):
            continue
        if m := _ISH_RESULT.search(sentence):
            value = "not amplified" if m.group("neg") else "amplified"
            yield Candidate("her2_ish", value, s.start() + m.start(), s.start() + m.end(), STATED)
        if (m := _RATIO.search(sentence)) and re.search(r"her|cep|d17", sentence, re.IGNORECASE):
            yield Candidate("her2_ish_ratio", float(m.group("r")), s.start() + m.start(), s.start() + m.end(),
                            STATED)


# --- grade ---------------------------------------------------------------------------------

_GRADE_NUM = {"1": 1, "2": 2, "3": 3, "i": 1, "ii": 2, "iii": 3}
_DCIS_BEFORE = rx(r"(?:dcis|in situ|intraductal|nuclear|nucleus)\W*(?:\w+\W+){0,2}$")
_GRADE_LABEL = rx(r"\b(?P<label>nottingham|sbr|elston|bloom[- ]richardson|modified bloom[- ]richardson|"
                  r"histologic(?:al)?|overall|combined|total)?\s*(?:\([^)]{0,30}\)\s*)?(?:histologic\s*)?"
                  r"grade\s*(?:\([^)]{0,30}\)\s*)?[:=]?\s*(?P<g>iii|ii|i|[123])\b(?:\s*(?:of|/)\s*(?:3|iii)\b)?")
_G_SHORT = re.compile(r"(?<![A-Za-z])[Gg](?P<g>[123])(?![0-9])(?:\s*\((?P<s>[3-9])/9\))?")
_DIFFERENTIATED = rx(r"\b(?P<w>well|moderately|poorly)[- ]differentiated\b")
_SCORE_SUM = rx(r"\b(?P<a>[123])\s*\+\s*(?P<b>[123])\s*\+\s*(?P<c>[123])\s*=\s*(?P<t>[3-9])\b")
_SCORE_TOTAL = rx(r"\b(?:nottingham|sbr|bloom[- ]richardson|total|combined|histologic)\s*(?:score|points)"
                  r"[^0-9.;]{0,25}?(?P<t>[3-9])\s*(?:(?:of|/)\s*9|points)?\b")
_WORD_GRADE = rx(r"\b(?P<w>low|intermediate|high)[- ]grade\b")


def _grade_from_score(total: int) -> int:
    return 1 if total <= 5 else 2 if total <= 7 else 3


def grades(text: str) -> list[Candidate]:
    """Nottingham (histologic) grade of the invasive cancer; DCIS nuclear grade is not it."""
    out: list[Candidate] = []
    for m in _GRADE_LABEL.finditer(text):
        if _DCIS_BEFORE.search(text[max(0, m.start() - 30):m.start() + (len(m.group(0)) - len(m.group(0).lstrip()))]):
            continue
        if re.match(r"\s*(?:dcis|ductal carcinoma in situ|in situ)", text[m.end():], re.IGNORECASE):
            continue
        label = m.group("label")
        out.append(Candidate("grade", _GRADE_NUM[m.group("g").lower()], m.start(), m.end(),
                             LABELLED if label else STATED))
    for m in _G_SHORT.finditer(text):
        out.append(Candidate("grade", int(m.group("g")), m.start(), m.end(), STATED))
    for m in _SCORE_SUM.finditer(text):
        total = int(m.group("t"))
        parts = int(m.group("a")) + int(m.group("b")) + int(m.group("c"))
        if parts == total:
            out.append(Candidate("grade", _grade_from_score(total), m.start(), m.end(), LABELLED,
                                 f"grade {_grade_from_score(total)} from the Nottingham score {total}"))
    for m in _SCORE_TOTAL.finditer(text):
        total = int(m.group("t"))
        out.append(Candidate("grade", _grade_from_score(total), m.start(), m.end(), STATED,
                             f"grade {_grade_from_score(total)} from the Nottingham score {total}"))
    for m in _DIFFERENTIATED.finditer(text):
        value = {"well": 1, "moderately": 2, "poorly": 3}[m.group("w").lower()]
        out.append(Candidate("grade", value, m.start(), m.end(), STATED))
    for m in _WORD_GRADE.finditer(text):
        before = text[max(0, m.start() - 40):m.start()]
        after = text[m.end():m.end() + 40]
        if re.search(r"dcis|in situ|intraductal|nuclear|pin\b|dysplasia", before + after, re.IGNORECASE):
            continue
        out.append(Candidate("grade", {"low": 1, "intermediate": 2, "high": 3}[m.group("w").lower()],
                             m.start(), m.end(), WEAK))
    return out


# --- tumor size ----------------------------------------------------------------------------

_DIMS = r"(?P<dims>\d{1,3}(?:\.\d+)?(?:\s*(?:x|×|by)\s*\d{1,3}(?:\.\d+)?){0,2})\s*(?P<unit>cm|mm)\b"
_SIZE_LABEL = rx(r"\b(?:(?:invasive|infiltrating|residual)\s+)?(?:tumou?r|carcinoma|cancer)?\s*size\b"
                 r"(?:\s+of\s+(?:the\s+)?(?:invasive|largest|residual)[a-z ]{0,30}?)?"
                 r"(?:\s*\((?:greatest|largest|maximum)[a-z ]{0,20}\))?[^0-9;]{0,40}?" + _DIMS)
_SIZE_GREATEST = rx(r"\b(?:greatest|largest|maximum|maximal)\s+(?:dimension|diameter|extent)s?"
                    r"(?:\s+of\s+(?:the\s+)?(?:invasive|largest|residual)[a-z ]{0,30}?)?"
                    r"(?:\s+(?:over|greater than|>)\s*\d+(?:\.\d+)?\s*(?:cm|mm))?\s*[:=]?\s*" + _DIMS)
_NOT_TUMOR_BEFORE = rx(r"\b(?:specimen|skin|ellipse|nodes?|margin|fragment)\b\W*"
                       r"(?:\w+\W+){0,2}$")
_SIZE_IN_DIAGNOSIS = rx(r"\b(?:invasive|infiltrating|residual)\s+(?:ductal\s+|lobular\s+|mammary\s+|mixed\s+)?"
                        r"(?:and\s+lobular\s+)?carcinoma\b[^.;]{0,50}?" + _DIMS)
_SIZE_GROSS = rx(r"\b(?:tumou?r|mass|lesion|nodule|carcinoma)\b[^.;]{0,30}?\b(?:measur\w+|is|of|spanning)\b"
                 r"[^.;0-9]{0,15}" + _DIMS)
_NOT_TUMOR = rx(r"\b(margin|away|from the|distance|within|separated|close to|biopsy(?! site)|"
                r"node|specimen|skin|ellipse|fragment|core|tissue|bed|"
                r"cavity|dcis|in situ|intraductal|metasta\w*|nipple|areola|fat|biopsy site|clip|cyst|"
                r"incision|scar|slices?)\b")


def _size_mm(m: re.Match[str]) -> float:
    dims = [float(x) for x in re.findall(r"\d+(?:\.\d+)?", m.group("dims"))]
    return round(max(dims) * (10 if m.group("unit").lower() == "cm" else 1), 1)


def sizes(text: str) -> list[Candidate]:
    """Largest invasive dimension, in mm. Specimen, margin, node and tumor-bed sizes are not it."""
    out: list[Candidate] = []
    for pattern, rank in ((_SIZE_LABEL, LABELLED), (_SIZE_GREATEST, LABELLED), (_SIZE_IN_DIAGNOSIS, STATED),
                          (_SIZE_GROSS, WEAK)):
        for m in pattern.finditer(text):
            lead = text[m.start():m.start("dims")]
            if _NOT_TUMOR.search(lead) or re.match(r"\s*(?:away|from|to the|in situ)", text[m.end():]):
                continue
            if pattern is _SIZE_LABEL and re.search(r"\b(dcis|in situ|node|metasta|bed)\b",
                                                   text[max(0, m.start() - 30):m.start()], re.IGNORECASE):
                continue
            if pattern in (_SIZE_GREATEST, _SIZE_LABEL) and \
                    _NOT_TUMOR_BEFORE.search(text[max(0, m.start() - 30):m.start()]):
                continue  # "SPECIMEN SIZE. Greatest dimensions: 10.5 x 9.5 cm"
            out.append(Candidate("tumor_size_mm", _size_mm(m), m.start(), m.end(), rank))
    return out


# --- histology -----------------------------------------------------------------------------

_CARCINOMA = r"(?:adeno)?carcino\w*"
_INVASIVE = r"(?:invasive|infiltra\w*|inflitra\w*)"
_EXTRA_HISTOLOGY = [
    ("mixed", rx(r"\b(?:histologic(?:al)?|tumou?r)\s+type\s*:?\s*(?:mixed\s+)?(?:infiltrating |invasive )?"
                 r"duct(?:al)?\s+(?:and|&|/)\s+lobular\b")),
    ("lobular", rx(r"\b(?:histologic(?:al)?|tumou?r)\s+type\s*:?\s*(?:infiltrating |invasive )?lobular\b"
                   r"(?!\s+(?:carcinoma\s+)?in situ)")),
    ("ductal", rx(r"\b(?:histologic(?:al)?|tumou?r)\s+type\s*:?\s*(?:infiltrating |invasive )?duct(?:al)?\b"
                  r"(?!\s+(?:carcinoma\s+)?in situ)")),
    ("mixed", rx(rf"\b(?:{_INVASIVE}\s+)?(?:mammary\s+)?(?:{_CARCINOMA},?\s+with\s+(?:mixed\s+)?ductal\s+and\s+lobular"
                 rf"\s+features|ductal\s*(?:-|/|and|&)\s*lobular\s+{_CARCINOMA}|"
                 rf"mixed\s+(?:[a-z0-9]+\s+){{0,4}}?(?:ductal|lobular)\s+(?:and|&|/)\s+(?:[a-z0-9]+\s+){{0,4}}?(?:lobular|ductal)|"
                 rf"mammary\s+{_CARCINOMA},?\s+(?:mixed|with mixed)[^.;]{{0,20}}(?:ductal|lobular))")),
    ("lobular", rx(rf"\b{_INVASIVE}\s+(?:mammary\s+)?{_CARCINOMA},?\s+(?:(?:classic(?:al)?\s+)?lobular\s+type|"
                   rf"with\s+lobular\s+features)|\bcarcinoma\s+lobulare\s+invasivum|\b{_INVASIVE}\s+(?:[a-z]+\s+){{0,2}}?"
                   rf"lobular\s+{_CARCINOMA}|\b8520/3\b")),
    ("ductal", rx(rf"\b{_INVASIVE}\s+(?:mammary\s+)?{_CARCINOMA},?\s+(?:of\s+)?(?:no special type|nst|ductal type)|"
                  rf"\b{_INVASIVE}\s+(?:mammary\s+)?{_CARCINOMA}\s+with\s+ductal\s+features|"
                  rf"\bcarcinoma\s+ductale\s+invasivum|\bductal\s+breast\s+{_CARCINOMA}|\bductal\s+adenocarcinoma|"
                  rf"\b{_INVASIVE}\s+(?:[a-z]+\s+){{0,2}}?duct(?:al)?\s+{_CARCINOMA}(?!\s+in situ)|\b8500/3\b")),
    ("dcis", rx(r"\bcarcinoma\s+ductale\s+in\s+situ\b|\b8500/2\b")),
    ("other", rx(r"\b((?:invasive |infiltrating )?(?:mucinous|colloid|tubular|medullary|metaplastic|micropapillary|"
                 r"(?:solid |encapsulated )?papillary|cribriform|apocrine|adenoid cystic|secretory)"
                 r"(?: adeno)?carcinoma)\b")),
]
_TYPE_LABEL = rx(r"\b(?:(?:histologic(?:al)?|tumou?r|invasive tumou?r|carcinoma)\s+type\s*:?|"
                 r"histopathological diagnosis\s*:|histological description\s*:|who classification\.?)\s*$")
_NEGATED_TYPE = not_stated_before()  # reading.yaml: context.negated_before and context.uncertain


def histologies(text: str) -> list[Candidate]:
    """Histologic type: ductal (incl. no special type), lobular, mixed, DCIS, other."""
    out: list[Candidate] = []
    seen: list[tuple[int, int]] = []
    for name, pattern in _EXTRA_HISTOLOGY + list(HISTOLOGY):
        for m in pattern.finditer(text):
            if any(a <= m.start() < b or a < m.end() <= b for a, b in seen):
                continue
            before = text[max(0, m.start() - 40):m.start()]
            if _NEGATED_TYPE.search(before):
                continue
            if name == "lobular" and re.match(r"\s*(?:in situ|neoplasia)", text[m.end():], re.IGNORECASE):
                continue
            if name == "other" and re.search(r"ductal|lobular", text[m.end():m.end() + 40], re.IGNORECASE) \
                    and re.search(r"with|features", m.group(0) + text[m.end():m.end() + 15], re.IGNORECASE):
                continue
            labelled = _TYPE_LABEL.search(text[max(0, m.start() - 30):m.start()]) or \
                re.match(r"(?i)(?:histologic|tumou?r)", m.group(0))
            rank = LABELLED if labelled else STATED
            if re.fullmatch(r"8\d\d\d/\d", m.group(0)):
                rank = WEAK  # a bare ICD-O code is checked against the words, not above them
            if name == "ductal" and re.fullmatch(r"(?i)nst|idc", m.group(0)) and rank != LABELLED:
                rank = STATED
            seen.append((m.start(), m.end()))
            out.append(Candidate("histology", name, m.start(), m.end(), rank))
    return out


# --- laterality ----------------------------------------------------------------------------

_SIDE_LABEL = rx(r"\blaterality\s*:?\s*(?P<s>left|right|bilateral)\b")
_SIDE_BREAST = rx(r"\b(?P<s>left|right|lt|rt)\.?\s+(?:\w+\s+){0,2}?breast\b|\bbreast\s*,\s*(?P<s2>left|right)\b|"
                  r"\b(?P<s3>left|right)[- ]sided\s+breast\b")
_CANCER_WORD = rx(r"carcinoma|cancer|malignan|dcis|tumou?r|idc|ilc|neoplasm")
_NO_CANCER = rx(r"\bno (?:evidence of )?(?:residual )?(?:invasive )?(?:carcinoma|malignancy|tumou?r)|"
                r"\bbenign\b|negative for (?:carcinoma|malignancy)|fibrocystic|no significant")


def lateralities(text: str) -> list[Candidate]:
    out: list[Candidate] = []
    for m in _SIDE_LABEL.finditer(text):
        out.append(Candidate("laterality", m.group("s").lower(), m.start(), m.end(), LABELLED))
    for m in _SIDE_BREAST.finditer(text):
        side = (m.group("s") or m.group("s2") or m.group("s3")).lower()
        side = {"lt": "left", "rt": "right"}.get(side, side)
        sentence_end = text.find(". ", m.end())
        after = text[m.end(): sentence_end if sentence_end >= 0 else len(text)][:160]
        if _NO_CANCER.search(after):
            continue
        rank = STATED if _CANCER_WORD.search(after) or _CANCER_WORD.search(text[max(0, m.start() - 40):m.start()]) \
            else WEAK
        out.append(Candidate("laterality", side, m.start(), m.end(), rank))
    return out


# --- lymph nodes ---------------------------------------------------------------------------

_NUMBER_WORDS = {"no": 0, "none": 0, "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
                 "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
                 "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
                 "nineteen": 19, "twenty": 20, "thirty": 30}
_NUM = r"(?:\d{1,2}|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + r")"
_NODES_POS_LABEL = rx(rf"\b(?:number of |no\.? of |#\s*)?(?:positive|involved|metastatic)\s+(?:lymph\s+)?nodes?"
                      rf"(?:\s+\(?(?:with|containing) metasta\w*\)?)?\s*[:=]\s*(?P<n>{_NUM})\b")
_EXAMINED = r"(?:examined|sampled|identified|removed|recovered|retrieved)(?:\s*\([^)]{0,40}\))?"
_NODES_EXAM_LABEL = rx(rf"\b(?:total\s+)?(?:number|no\.?|#)\s+of\s+(?:lymph\s+)?nodes\s+{_EXAMINED}\s*[:=]\s*"
                       rf"(?P<n>{_NUM})\b|"
                       rf"\btotal (?:number )?(?:of lymph nodes )?{_EXAMINED}\s*[:=]\s*(?P<n2>{_NUM})\b|"
                       rf"(?<!sentinel )(?<!sentinel lymph )\b(?:lymph\s+)?nodes\s+{_EXAMINED}\s*[:=]\s*(?P<n3>{_NUM})\b")
# CAP: "Number of lymph nodes with macrometastasis: 5", "... with micrometastasis: 2" (both positive)
_NODES_METASTASIS = rx(rf"\bnumber\s+of\s+(?:lymph\s+)?nodes\s+with\s+(?P<kind>macro|micro)-?metasta\w*\s*[:=]\s*"
                       rf"(?P<n>{_NUM})\b")
_NODES_OF = rx(rf"\b(?P<p>{_NUM})\s*(?:\((?:out )?of\s+(?P<e1>{_NUM})\)|(?:out\s+)?of\s+(?P<e2>{_NUM})|/\s*(?P<e3>\d{{1,2}}))"
               rf"\s+(?:\w+\s+){{0,2}}?(?:lymph\s+)?nodes?\b(?:\s+(?:are|is|were|was)?\s*(?P<v>positive|involved|"
               rf"with metasta\w*|negative|free|benign|uninvolved))?")
_NODES_OF_AFTER = rx(rf"\b(?:lymph\s+)?nodes?\s*:?\s*(?P<p>{_NUM})\s*(?:/|of|out of)\s*(?P<e>{_NUM})\s*"
                     rf"(?P<v>positive|involved|negative)?")
_NODES_FRACTION = rx(r"\((?P<p>\d{1,2})\s*/\s*(?P<e>\d{1,2})\)")
_NODE_CONTEXT = rx(r"\b(?:lymph|nodes?|sentinel|axilla\w*)\b")
_NEGATIVE_NODES = rx(rf"\b(?:no (?:carcinoma|tumou?r|metasta\w*)[^.;]{{0,20}}\b(?:in\s+)?(?P<e>{_NUM})\s+"
                     rf"(?:\w+\s+)?(?:lymph\s+)?nodes?|(?P<e2>{_NUM})\s+(?:\w+\s+)?(?:lymph\s+)?nodes?\s*"
                     rf"(?:are |is )?(?:negative|benign|free of (?:tumou?r|carcinoma)|without (?:tumou?r|carcinoma)))")


def _overlaps(spans: list[tuple[int, int]], start: int, end: int, slack: int = 0) -> bool:
    return any(start < b + slack and a - slack < end for a, b in spans)


def _n(word: str) -> int:
    w = word.lower()
    return _NUMBER_WORDS[w] if w in _NUMBER_WORDS else int(w)


def nodes(text: str) -> list[Candidate]:
    """Regional lymph nodes: how many are positive and how many were examined."""
    out: list[Candidate] = []
    for m in _NODES_POS_LABEL.finditer(text):
        out.append(Candidate("nodes_positive", _n(m.group("n")), m.start(), m.end(), LABELLED))
    for m in _NODES_EXAM_LABEL.finditer(text):
        n = m.group("n") or m.group("n2") or m.group("n3")
        out.append(Candidate("nodes_examined", _n(n), m.start(), m.end(), LABELLED))
    for m in _NODES_METASTASIS.finditer(text):
        out.append(Candidate(f"nodes_{m.group('kind').lower()}", _n(m.group("n")), m.start(), m.end(), LABELLED))
    spans: list[tuple[int, int]] = []
    for m in _NODES_OF.finditer(text):
        e = m.group("e1") or m.group("e2") or m.group("e3")
        p, total = _n(m.group("p")), _n(e)
        if p > total:
            continue
        v = (m.group("v") or "").lower()
        positive = 0 if v in ("negative", "free", "benign", "uninvolved") else p
        out.append(Candidate("node_group", (positive, total), m.start(), m.end(), STATED))
        spans.append((m.start(), m.end()))
    for m in _NODES_OF_AFTER.finditer(text):
        if _overlaps(spans, m.start(), m.end()):
            continue
        p, total = _n(m.group("p")), _n(m.group("e"))
        if p <= total:
            positive = 0 if (m.group("v") or "").lower() == "negative" else p
            out.append(Candidate("node_group", (positive, total), m.start(), m.end(), STATED))
            spans.append((m.start(), m.end()))
    for m in _NODES_FRACTION.finditer(text):
        if _overlaps(spans, m.start(), m.end(), slack=4):  # "two of fourteen lymph nodes (2/14)"
            continue
        if not _NODE_CONTEXT.search(text[max(0, m.start() - 80):m.start()]):
            continue
        p, total = int(m.group("p")), int(m.group("e"))
        if p <= total:
            out.append(Candidate("node_group", (p, total), m.start(), m.end(), STATED))
            spans.append((m.start(), m.end()))
    for m in _NEGATIVE_NODES.finditer(text):
        if _overlaps(spans, m.start(), m.end(), slack=4):
            continue
        total = _n(m.group("e") or m.group("e2"))
        if total > 0:
            out.append(Candidate("node_group", (0, total), m.start(), m.end(), WEAK))
    return out


# --- Ki-67, TNM, stage ---------------------------------------------------------------------

_KI67 = rx(r"\b(?:ki-?67|mib-?1)\b(?:\s*\((?:mib-?1|ki-?67)\))?[^.;%]{0,40}?(?P<cmp><|>|less than|greater than)?\s*"
           r"(?P<a>\d{1,3}(?:\.\d+)?)\s*(?:(?:-|–|to)\s*(?P<b>\d{1,3}(?:\.\d+)?)\s*)?%")


def ki67(text: str) -> list[Candidate]:
    out = []
    for m in _KI67.finditer(text):
        a = float(m.group("a"))
        b = float(m.group("b")) if m.group("b") else None
        if a > 100 or (b is not None and b > 100):
            continue
        note = f"Ki-67 is given as a range ({m.group('a')}-{m.group('b')}%): the upper value is used" if b \
            else (f"Ki-67 is given as {m.group('cmp')} {m.group('a')}%" if m.group("cmp") else None)
        out.append(Candidate("ki67_percent", b if b is not None else a, m.start(), m.end(), LABELLED, note))
    return out


_STAGE_LABEL = rx(r"\b(?:pathologic(?:al)?|clinical|ajcc|tnm|anatomic|prognostic)?\s*stage\b[^.;]{0,25}$")


def tnm(text: str, default_prefix: str) -> list[Candidate]:
    """T, N and M categories with prefix (c, p, yp) and suffixes ((sn), (i+), mi)."""
    out: list[Candidate] = []
    spans: list[tuple[int, int]] = []
    for m in TNM.finditer(text):
        rank = LABELLED if _STAGE_LABEL.search(text[max(0, m.start() - 40):m.start()]) else STATED
        prefix = (m.group("tp") or default_prefix).lower()
        out.append(Candidate("t", prefix + canon(m.group("t")), m.start(), m.end("t"), rank))
        out.append(Candidate("n", (m.group("np") or prefix).lower() + canon(m.group("n")),
                             m.start("n") - len(m.group("np") or ""), m.end("n"), rank))
        if m.group("m"):
            mp = (m.group("mp") or "").lower()
            out.append(Candidate("m", mp + canon(m.group("m")), m.start("m") - len(mp), m.end("m"), rank))
        spans.append((m.start(), m.end()))
    for pattern, key, group in ((T_ALONE, "t", "tp"), (N_ALONE, "n", "np"), (M_ALONE, "m", "mp")):
        for m in pattern.finditer(text):
            if any(a <= m.start() < b for a, b in spans):
                continue
            written = m.group(group)
            if key == "m" and not written and not _STAGE_LABEL.search(text[max(0, m.start() - 40):m.start()]) \
                    and not re.search(r"[pc]?[TN]\w*\s*$", text[max(0, m.start() - 12):m.start()]):
                continue  # a bare "M1" is too often something else
            if key in ("t", "n") and not written and not _STAGE_LABEL.search(text[max(0, m.start() - 40):m.start()]):
                continue
            prefix = (written or ("" if key == "m" else default_prefix)).lower()
            category = m.group(key)
            out.append(Candidate(key, prefix + canon(category), m.start(), m.end(), STATED))
    return out


def stages(text: str) -> list[Candidate]:
    out = []
    for m in STAGE.finditer(text):
        roman = ROMAN[m.group("num").lower()]
        sub = (m.group("sub") or "").upper()
        stage = roman + sub if roman not in ("0", "IV") else roman
        if stage in {"0", "I", "IA", "IB", "II", "IIA", "IIB", "III", "IIIA", "IIIB", "IIIC", "IV"}:
            out.append(Candidate("stage", stage, m.start(), m.end(), STATED))
    return out
