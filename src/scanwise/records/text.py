"""Read one document's text (a pasted report, a PDF's text layer, a note) into facts.

The text is cleaned of OCR noise first (:mod:`scanwise.nlp.normalize`); then every statement
of each fact is collected (:mod:`scanwise.nlp.pathology`), the most direct statements win,
and two direct statements that disagree are kept as a conflict. What the shared readers in
:mod:`scanwise.nlp.extract` know (demographics, history, surgery, neoadjuvant therapy,
"ER+/HER2-" shorthand, triple negative) and the medspaCy mentions (symptoms present and
denied, family history) fill in the rest, exactly as for a typed question.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
from collections import defaultdict
from typing import Any

from scanwise.domain.kb import KnowledgeBase
from scanwise.domain.profile import Evidence, her2_from_tests
from scanwise.nlp import pathology as path
from scanwise.nlp.clinical import mentions, sentence_starts
from scanwise.nlp.extract import (
    ASYMPTOMATIC,
    Reading,
    read_demographics,
    read_history,
    read_mentions,
    read_tumor,
    unread_cues,
)
from scanwise.nlp.normalize import CleanText, clean
from scanwise.nlp.rules import expand
from scanwise.records.model import Conflict, ConflictValue, DocumentFacts, FieldValue

# Facts the shared short-text readers may give when the record extractors found none.
_FALLBACK_FIELDS = ("age", "sex", "gender", "pregnant", "lactating", "risk", "er", "pr", "her2", "her2_ihc",
                    "her2_ish", "stage", "nodal_status", "surgery", "reconstruction", "implant",
                    "neoadjuvant", "cancer_history", "asymptomatic", "months_since_treatment")
_PATHOLOGY_REPORT = re.compile(r"\b(pathologic|specimens?|final diagnosis|surgical pathology|synoptic|"
                               r"gross description)\b", re.IGNORECASE)
_NEOADJ_EFFECT = re.compile(r"\b(post[- ]?neoadjuvant|treatment[- ]effect|therapy[- ]related changes|"
                            r"residual cancer burden|after neoadjuvant|following neoadjuvant)\b",
                            re.IGNORECASE)
_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                                        "nov", "dec"), start=1)}
_DATE_LABEL = re.compile(r"\b(?:date of (?:procedure|collection|service|surgery|biopsy|report|visit)|"
                         r"(?:collection|procedure|collected|service|report|visit|signed out|signed|received|"
                         r"accessioned|specimen) date|collected|signed out|date)\s*:?\s*", re.IGNORECASE)
_DATE = re.compile(r"(?P<iso>(?P<y>(?:19|20)\d\d)-(?P<m>\d{1,2})-(?P<d>\d{1,2}))|"
                   r"(?P<us>(?P<m2>\d{1,2})/(?P<d2>\d{1,2})/(?P<y2>(?:19|20)\d\d))|"
                   r"(?P<long>(?P<mon>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+(?P<d3>\d{1,2}),?"
                   r"\s+(?P<y3>(?:19|20)\d\d))|"
                   r"(?P<eu>(?P<d4>\d{1,2})\s+(?P<mon4>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+"
                   r"(?P<y4>(?:19|20)\d\d))", re.IGNORECASE)


def parse_date(m: re.Match[str]) -> dt.date | None:
    try:
        if m.group("iso"):
            return dt.date(int(m.group("y")), int(m.group("m")), int(m.group("d")))
        if m.group("us"):
            return dt.date(int(m.group("y2")), int(m.group("m2")), int(m.group("d2")))
        if m.group("long"):
            return dt.date(int(m.group("y3")), _MONTHS[m.group("mon").lower()[:3]], int(m.group("d3")))
        return dt.date(int(m.group("y4")), _MONTHS[m.group("mon4").lower()[:3]], int(m.group("d4")))
    except ValueError:
        return None


def document_date(text: str) -> dt.date | None:
    """The date the record gives for itself: a labelled date first, else none (never a guess)."""
    for label in _DATE_LABEL.finditer(text):
        if (m := _DATE.match(text, label.end())) and (d := parse_date(m)):
            return d
    return None


class _Doc:
    """Turns cleaned-text spans into evidence that quotes the original."""

    def __init__(self, raw: str, cleaned: CleanText, name: str, page_starts: list[int] | None) -> None:
        self.raw, self.cleaned, self.name, self.page_starts = raw, cleaned, name, page_starts
        # The shared readers read the cleaned text with shorthand expanded (reading.yaml).
        self.expanded = expand(cleaned.text)

    def evidence(self, start: int, end: int) -> Evidence:
        a, b = self.cleaned.span(start, end)
        page = bisect.bisect_right(self.page_starts, a) if self.page_starts else None
        return Evidence(text=self.raw[a:b], start=a, end=b, source=self.name, page=page)

    def reading_evidence(self, ev: Evidence) -> Evidence:
        """Evidence from the shared readers (expanded text) as the original characters."""
        return self.evidence(*self.expanded.span(ev.start or 0, ev.end or 0))


def _resolve(field: str, cands: list[path.Candidate], doc: _Doc, date: dt.date | None,
             out: DocumentFacts) -> None:
    if field == "histology" and any(c.value != "dcis" for c in cands):
        # DCIS beside an invasive cancer: the invasive type decides
        cands = [c for c in cands if c.value != "dcis"]
    top = max(c.rank for c in cands)
    best = [c for c in cands if c.rank == top]
    values: dict[Any, list[path.Candidate]] = defaultdict(list)
    for c in best:
        values[c.value].append(c)
    if len(values) > 1 and field == "tumor_size_mm":
        largest = max(values)
        ev = [doc.evidence(c.start, c.end) for c in values[largest][:3]]
        note = "more than one invasive size is given: the largest is used"
        out.facts[field] = FieldValue(largest, ev, date, note)
        return
    if len(values) > 1 and field == "laterality" and set(values) == {"left", "right"}:
        ev = [doc.evidence(c.start, c.end) for v in values.values() for c in v[:1]]
        out.facts[field] = FieldValue("bilateral", ev, date, "cancer is described in both breasts")
        return
    main_types = {"ductal", "lobular", "mixed"}
    if len(values) > 1 and field == "histology" and "other" in values and set(values) & main_types:
        del values["other"]  # a special-type pattern within a ductal or lobular cancer: the main type decides
    if len(values) > 1 and field == "histology" and "mixed" in values and set(values) <= main_types:
        values = {"mixed": values["mixed"]}  # a mixed cancer is described by its parts too
    if len(values) > 1 and field == "histology" and set(values) == {"ductal", "lobular"}:
        ev = [doc.evidence(c.start, c.end) for v in values.values() for c in v[:1]]
        out.facts[field] = FieldValue("mixed", ev, date, "both ductal and lobular carcinoma are described")
        return
    if len(values) == 1:
        value, group = next(iter(values.items()))
        stated_note = next((c.note for c in group if c.note), None)
        out.facts[field] = FieldValue(value, [doc.evidence(c.start, c.end) for c in group[:3]], date,
                                      stated_note)
        return
    out.conflicts.append(Conflict(
        field=field,
        values=[ConflictValue(value=v, evidence=[doc.evidence(c.start, c.end) for c in group[:3]],
                              date=date.isoformat() if date else None) for v, group in values.items()],
        note=f"{doc.name} gives more than one {field.replace('_', ' ')}; it is left unknown until checked",
    ))


def _nodes(cands: list[path.Candidate], doc: _Doc, date: dt.date | None, out: DocumentFacts) -> None:
    groups = [c for c in cands if c.field == "node_group"]
    for key in ("nodes_positive", "nodes_examined"):
        labelled = [c for c in cands if c.field == key]
        if labelled:
            _resolve(key, labelled, doc, date, out)
    spread = [c for c in cands if c.field in ("nodes_macro", "nodes_micro")]
    if spread and "nodes_positive" not in out.facts:
        total = sum({c.field: c.value for c in spread}.values())
        out.facts["nodes_positive"] = FieldValue(total, [doc.evidence(c.start, c.end) for c in spread], date,
                                                 "positive nodes: macro- and micrometastases added up")
    positive, examined = out.facts.get("nodes_positive"), out.facts.get("nodes_examined")
    if positive and examined and positive.value > examined.value:
        del out.facts["nodes_positive"], out.facts["nodes_examined"]
        out.warnings.append(f"{doc.name}: more positive lymph nodes ({positive.value}) than examined "
                            f"({examined.value}); both left unknown")
        return
    if not groups or ("nodes_positive" in out.facts and "nodes_examined" in out.facts):
        return
    top = max(c.rank for c in groups)
    groups = [c for c in groups if c.rank == top]
    totals = [c.value[1] for c in groups]
    biggest = max(groups, key=lambda c: c.value[1])
    if len(groups) == 1 or biggest.value[1] * 2 == sum(totals):
        chosen, note = [biggest], None  # one count, or a summary line that adds up the others
    else:
        chosen = groups
        note = f"node counts added up over {len(groups)} node groups in the report"
    positive = sum(c.value[0] for c in chosen)
    examined = sum(c.value[1] for c in chosen)
    ev = [doc.evidence(c.start, c.end) for c in chosen[:6]]
    out.facts.setdefault("nodes_positive", FieldValue(positive, ev, date, note))
    out.facts.setdefault("nodes_examined", FieldValue(examined, ev, date, note))


def _her2(out: DocumentFacts, date: dt.date | None) -> None:
    status = out.facts.pop("her2_status", None)
    ihc, ish = out.facts.get("her2_ihc"), out.facts.get("her2_ish")
    if ihc or ish:
        value, note = her2_from_tests(ihc.value if ihc else None, ish.value if ish else None)
        evidence = [*(ihc.evidence if ihc else []), *(ish.evidence if ish else [])]
        if value is not None:
            out.facts["her2"] = FieldValue(value, evidence, date, note)
        elif note:
            out.warnings.append(f"{out.name}: {note}")
    elif status is not None:
        out.facts["her2"] = status
    else:
        for c in list(out.conflicts):
            if c.field == "her2_status":
                out.conflicts[out.conflicts.index(c)] = c.model_copy(update={"field": "her2"})
    out.conflicts = [c for c in out.conflicts if c.field != "her2_status"]


def read_text_document(raw: str, name: str, kb: KnowledgeBase, kind: str = "text",
                       page_starts: list[int] | None = None) -> DocumentFacts:
    """Facts from one document's text, with evidence quoting the original characters."""
    cleaned = clean(raw)
    text = cleaned.text
    doc = _Doc(raw, cleaned, name, page_starts)
    date = document_date(text)
    out = DocumentFacts(name=name, kind=kind, date=date)
    sections = path.section_starts(text)
    prefix = "p" if _PATHOLOGY_REPORT.search(text) else "c"
    cands = (path.receptors(text) + path.grades(text) + path.sizes(text) + path.histologies(text)
             + path.lateralities(text) + path.ki67(text) + path.tnm(text, prefix) + path.stages(text))
    cands = [path.Candidate(c.field, c.value, c.start, c.end, path.rank_at(sections, c.start, c.rank), c.note)
             for c in cands]
    by_field: dict[str, list[path.Candidate]] = defaultdict(list)
    for c in cands:
        by_field[c.field].append(c)
    for field, group in by_field.items():
        _resolve(field, group, doc, date, out)
    node_cands = [path.Candidate(c.field, c.value, c.start, c.end, path.rank_at(sections, c.start, c.rank))
                  for c in path.nodes(text)]
    _nodes(node_cands, doc, date, out)
    _her2(out, date)

    # The shared readers: what a question would give, used where the record extractors are silent.
    words = doc.expanded.text
    r = Reading(words)
    read_demographics(r)
    read_tumor(r)
    read_history(r)
    r.first("asymptomatic", ASYMPTOMATIC, True)
    found = mentions(words, kb, sentence_starts(words, at_field_labels=True))
    heard = read_mentions(r, kb, found)
    taken = set(out.facts) | {c.field for c in out.conflicts}
    if "histology" in out.facts:
        taken.add("risk")  # a screening risk category means nothing once a cancer is described
    for key in _FALLBACK_FIELDS:
        if key in r.facts and key not in taken and r.evidence.get(key):
            ev = [doc.reading_evidence(e) for e in r.evidence[key][:2]]
            out.facts[key] = FieldValue(r.facts[key], ev, date)
    if prefix == "p" and "age" in out.facts and \
            not re.search(r"\bage\b|year|\byo\b|y/o", out.facts["age"].evidence[0].text, re.IGNORECASE):
        del out.facts["age"]  # "8 F" in a report is a slide label, not an age
    t_or_n = " ".join(str(out.facts[k].value) for k in ("t", "n") if k in out.facts)
    if "yp" in t_or_n:
        ev = [e for k in ("t", "n") if k in out.facts for e in out.facts[k].evidence[:1]]
        out.facts["neoadjuvant"] = FieldValue("completed", ev, date,
                                              "the yp prefix means staging after neoadjuvant therapy")
    elif "neoadjuvant" not in out.facts and (m := _NEOADJ_EFFECT.search(text)):
        out.facts["neoadjuvant"] = FieldValue("completed", [doc.evidence(m.start(), m.end())], date)
    for key in ("symptoms", "denied_symptoms", "findings"):
        cite = {"symptoms": "symptoms", "denied_symptoms": "denied", "findings": "findings"}[key]
        out.lists[key] = [(code, doc.reading_evidence(r.evidence[f"{cite}:{code}"][0]))
                          for code in heard[key] if r.evidence.get(f"{cite}:{code}")]
    family_ev = r.evidence.get("family_history", [])
    out.lists["family_history"] = [(entry, doc.reading_evidence(family_ev[i]))
                                   for i, entry in enumerate(heard["family_history"]) if i < len(family_ev)]
    for code, state in heard["labs"].items():
        if lab_ev := r.evidence.get(f"labs:{code}"):
            out.labs[code] = (state, doc.reading_evidence(lab_ev[0]))
    # Clinical-looking words no fact covers, as in a question: shown, never dropped.
    read_spans = [(e.start or 0, e.end or 0) for fv in out.facts.values() for e in fv.evidence]
    read_spans += [(e.start or 0, e.end or 0) for items in out.lists.values() for _, e in items]
    for cue in unread_cues(r, found):
        where = doc.reading_evidence(cue)
        if not any(s < (where.end or 0) and (where.start or 0) < e for s, e in read_spans):
            out.unread.append(where)
    for fv in out.facts.values():
        if fv.note and f"{name}: {fv.note}" not in out.warnings:
            out.warnings.append(f"{name}: {fv.note}")
    return out
