"""Read FHIR R4 JSON (a Bundle or single resources; mCODE and US Core) into facts.

Each resource is validated into its FHIR R4B model of ``fhir.resources`` first, so a
malformed resource is refused with its position, id and field named; the typed models are
then read (no raw JSON past validation). The resources that carry imaging-relevant facts:

- Condition (mCODE PrimaryCancerCondition): histology from the code, the histology-morphology
  extension or their words; laterality from the body site and its laterality qualifier.
- Observation (mCODE TumorMarkerTest and US Core): ER (LOINC 16112-5, 85337-4), PR (16113-3,
  85339-0), HER2 (48676-1, 85319-2 by IHC, 85318-4 by ISH), Ki-67; TNM categories and stage
  group (LOINC and SNOMED codes of mCODE); tumor size; histologic grade. Marker values are put
  in words ("ER: Positive") and read by the same extractors as text records; TNM categories
  are read by the staging parser (``domain/staging/parsing.py``), from the value's words or,
  where those fail, its coding's code.
- Patient: sex and age. Procedure: the breast surgery. DiagnosticReport and DocumentReference:
  their text (conclusion, attached text or PDF) is read as a text record.

Every fact's evidence names the resource it came from ("Observation/er-1").
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from scanwise.domain.profile import Evidence, her2_from_tests
from scanwise.domain.staging import StagingError, parse_m, parse_n, parse_t
from scanwise.domain.staging.parsing import PREFIX_PATTERN
from scanwise.nlp import pathology as path
from scanwise.nlp.extract import HISTOLOGY, SURGERY
from scanwise.records.model import (
    MAX_JSON_DEPTH,
    MAX_RESOURCES,
    DocumentFacts,
    FieldValue,
    RecordError,
)

if TYPE_CHECKING:  # the models are imported when a file is read, not when this module is
    from fhir.resources.R4B.attachment import Attachment
    from fhir.resources.R4B.codeableconcept import CodeableConcept
    from fhir.resources.R4B.coding import Coding
    from fhir.resources.R4B.condition import Condition
    from fhir.resources.R4B.observation import Observation, ObservationComponent
    from fhir.resources.R4B.patient import Patient
    from fhir.resources.R4B.procedure import Procedure
    from fhir.resources.R4B.quantity import Quantity
    from fhir.resources.R4B.resource import Resource

_LOINC_MARKER = {
    "16112-5": "ER", "85337-4": "ER", "40556-3": "ER",
    "16113-3": "PR", "85339-0": "PR", "40557-1": "PR",
    "48676-1": "HER2", "85319-2": "HER2 by IHC", "18474-7": "HER2 by IHC", "85318-4": "HER2 by FISH",
    "72383-3": "HER2 by IHC", "48675-3": "HER2 by FISH", "49683-2": "HER2 by FISH",
}
# TNM and stage-group observation codes of mCODE (checked against its STU3/STU4 value sets
# mcode-observation-codes-*-vs and mcode-tnm-*-staging-type-vs): LOINC clinical / pathology / other,
# SNOMED CT clinical / pathological / unspecified. "" as prefix: the staging type is not coded, so
# only a prefix written in the value (pT2, ycN0) is used.
_TNM_CODES = {
    "21905-5": ("t", "c"), "21906-3": ("n", "c"), "21907-1": ("m", "c"), "21908-9": ("stage", "c"),
    "21899-0": ("t", "p"), "21900-6": ("n", "p"), "21901-4": ("m", "p"), "21902-2": ("stage", "p"),
    "21911-3": ("t", ""), "21912-1": ("n", ""), "21913-9": ("m", ""), "21914-7": ("stage", ""),
    "399504009": ("t", "c"), "399534004": ("n", "c"), "399387003": ("m", "c"), "399537006": ("stage", "c"),
    "384625004": ("t", "p"), "371494008": ("n", "p"), "371497001": ("m", "p"), "399588009": ("stage", "p"),
    "78873005": ("t", ""), "277206009": ("n", ""), "277208005": ("m", ""), "399390009": ("stage", ""),
}
# The category inside a value's words: "pT2", "T1c", "cN1mi", "N0(i+)", "American Joint Committee on
# Cancer pN0 (qualifier value)" (mCODE's SNOMED CT display).
_CATEGORY_IN_WORDS = {
    key: re.compile(rf"(?<![A-Za-z])(?:{PREFIX_PATTERN})?{letter}(?:is|[0-4X])[a-d]?(?:mi)?"
                    r"(?:\s?\((?:sn|i[+-]|mol[+-]|f)\))*", re.IGNORECASE)
    for key, letter in (("t", "T"), ("n", "N"), ("m", "M"))
}
_PARSERS = {"t": parse_t, "n": parse_n, "m": parse_m}
_SIZE_CODES = {"21889-1", "33728-7"}
_GRADE_CODES = {"44648-4", "33732-9", "371469007"}
_KI67 = re.compile(r"\bki-?67\b|\bmib-?1\b", re.IGNORECASE)
_ICDO_MORPHOLOGY = {"8500/3": "ductal", "8520/3": "lobular", "8522/3": "mixed", "8500/2": "dcis",
                    "8480/3": "other", "8211/3": "other", "8510/3": "other", "8575/3": "other"}
_LATERALITY_SNOMED = {"7771000": "left", "24028007": "right", "51440002": "bilateral"}
_LATERALITY_EXT = "laterality"
_HISTOLOGY_EXT = "histology-morphology-behavior"
_CANCER_CONDITION = re.compile(r"carcinoma|cancer|malignan|neoplasm|dcis|tumou?r", re.IGNORECASE)


def observation_codes() -> list[tuple[str, str]]:
    """(system, code) of every Observation code read here: markers, TNM and stage, size, grade.

    For services that ask an EHR for just these (the CDS Hooks prefetch): a code with a hyphen
    is LOINC, one without is SNOMED CT.
    """
    codes = [*_LOINC_MARKER, *_TNM_CODES, *sorted(_SIZE_CODES), *sorted(_GRADE_CODES)]
    return [("http://loinc.org" if "-" in c else "http://snomed.info/sct", c) for c in codes]

def _codings(concept: CodeableConcept | None) -> list[Coding]:
    return list(concept.coding or []) if concept is not None else []


def _words(concept: CodeableConcept | None) -> str:
    """A CodeableConcept in words: its text, else its codings' displays, else codes."""
    if concept is None:
        return ""
    if concept.text:
        return str(concept.text)
    parts = [str(c.display or c.code or "") for c in _codings(concept)]
    return "; ".join(p for p in parts if p)


def _codes(concept: CodeableConcept | None) -> set[str]:
    return {str(c.code) for c in _codings(concept) if c.code}


_DATE_FIELDS = ("effectiveDateTime", "issued", "recordedDate", "onsetDateTime", "performedDateTime", "date")
_PERIOD_FIELDS = ("effectivePeriod", "performedPeriod")


def _date(res: Resource) -> dt.date | None:
    """The resource's own date: the first of its date fields that is set (a partial date such
    as "2024" gives none), else the start of its period."""
    for key in _DATE_FIELDS:
        value = getattr(res, key, None)
        if value is not None:
            return _as_date(value)
    for key in _PERIOD_FIELDS:
        period = getattr(res, key, None)
        if period is not None and period.start is not None:
            return _as_date(period.start)
    return None


def _as_date(value: dt.date | str) -> dt.date | None:
    """A FHIR date, dateTime or instant as the date it names (in its own time zone)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:  # a partial date ("2024", "2024-03") stays a string in fhir.resources: no day, no date
        return dt.date.fromisoformat(value[:10]) if len(value) >= 10 else None
    except ValueError:
        return None


def _value_words(res: Observation | ObservationComponent) -> str | None:
    """An Observation's (or component's) value in words: the coded value's words, the text,
    the quantity with its unit, a ratio, else the interpretation."""
    if res.valueCodeableConcept is not None:
        return _words(res.valueCodeableConcept)
    if res.valueString is not None:
        return str(res.valueString)
    if res.valueBoolean is not None:
        return "positive" if res.valueBoolean else "negative"
    if res.valueQuantity is not None:
        q = res.valueQuantity
        unit = q.unit or q.code or ""
        return f"{q.value} {unit}".strip()
    if res.valueInteger is not None:
        return str(res.valueInteger)
    if res.valueRatio is not None:
        r = res.valueRatio
        n = r.numerator.value if r.numerator is not None else None
        d = r.denominator.value if r.denominator is not None else None
        return f"ratio {float(n) / float(d):.2f}" if n is not None and d else None
    if res.interpretation:
        return "; ".join(_words(i) for i in res.interpretation)
    return None


class _Resource:
    """One validated resource being read: its facts, each citing it by type and id."""

    def __init__(self, res: Resource, file_name: str) -> None:
        self.res = res
        self.ref = f"{res.get_resource_type()}/{res.id or '?'}"
        self.name = f"{file_name}#{self.ref}"
        self.facts = DocumentFacts(name=self.name, kind="fhir", date=_date(res))

    def set(self, field: str, value: Any, words: str, note: str | None = None) -> None:
        ev = Evidence(text=words, source=self.name)
        self.facts.facts[field] = FieldValue(value, [ev], self.facts.date, note)

    def read_phrase(self, phrase: str, words: str) -> None:
        """Put a coded fact in words and read it with the text extractors; cite the resource's words."""
        phrase = words if words.startswith(phrase) else phrase
        cands = (path.receptors(phrase) + path.grades(phrase) + path.ki67(phrase) + path.sizes(phrase))
        for c in cands:
            field = "her2" if c.field == "her2_status" else c.field
            if field not in self.facts.facts:
                self.set(field, c.value, words, c.note)
        ihc = self.facts.facts.get("her2_ihc")
        ish = self.facts.facts.get("her2_ish")
        if (ihc or ish) and "her2" not in self.facts.facts:
            value, note = her2_from_tests(ihc.value if ihc else None, ish.value if ish else None)
            if value is not None:
                self.set("her2", value, words, note)
            elif note:
                self.facts.warnings.append(f"{self.name}: {note}")


def _observation(r: _Resource, res: Observation) -> None:
    codes, name = _codes(res.code), _words(res.code)
    value = _value_words(res)
    if value is None and not res.component:
        r.facts.warnings.append(f"{r.name}: no value, ignored")
        return
    marker = next((_LOINC_MARKER[c] for c in codes if c in _LOINC_MARKER), None)
    tnm = next((_TNM_CODES[c] for c in codes if c in _TNM_CODES), None)
    if marker:
        r.read_phrase(f"{marker}: {value}", f"{name}: {value}")
    elif tnm:
        _tnm_value(r, tnm, value or "", _codes(res.valueCodeableConcept))
    elif codes & _SIZE_CODES or re.search(r"\bsize\b", name, re.IGNORECASE):
        sizes = [res.valueQuantity] + [c.valueQuantity for c in res.component or []]
        mm = [x for x in (_mm(q) for q in sizes if q is not None) if x is not None]
        if mm:
            r.set("tumor_size_mm", max(mm), f"{name}: {value or ''}".strip(": "))
    elif codes & _GRADE_CODES or re.search(r"\bgrade\b", name, re.IGNORECASE):
        v = value or ""
        phrase = f"histologic grade {v}" if re.fullmatch(r"\s*(?:grade\s*)?[123I]+\s*", v, re.I) else v
        grades = path.grades(phrase.replace("Grade", "grade")) or path.grades(f"histologic grade {v}")
        if grades:
            r.set("grade", grades[0].value, f"{name}: {v}")
    elif _KI67.search(name):
        q = res.valueQuantity
        if q is not None and q.value is not None and 0 <= q.value <= 100:
            r.set("ki67_percent", float(q.value), f"{name}: {value}")
    elif re.search(r"estrogen|progesterone|her-?2|erbb2", name, re.IGNORECASE):
        r.read_phrase(f"{name}: {value}", f"{name}: {value}")  # a marker coded otherwise, named in words
    else:
        return
    for comp in res.component or []:
        ccodes = _codes(comp.code)
        if ccodes & set(_LOINC_MARKER):
            marker = next(_LOINC_MARKER[c] for c in ccodes if c in _LOINC_MARKER)
            value = _value_words(comp)
            r.read_phrase(f"{marker}: {value}", f"{_words(comp.code)}: {value}")


def _mm(q: Quantity) -> float | None:
    unit = str(q.code or q.unit or "").lower()
    if q.value is None:
        return None
    return {"mm": float(q.value), "cm": float(q.value) * 10}.get(unit)


def _tnm_value(r: _Resource, tnm: tuple[str, str], value: str, value_codes: set[str]) -> None:
    field, prefix = tnm
    if field == "stage":
        found = path.stages(_stage_phrase(value))
        if found:
            r.set("stage", found[0].value, value)
        return
    # The category as coded ("pT2", "N0(i+)") or inside a display's words, read by the staging
    # parser; the prefix from the observation code where the value has none. The value's words
    # come first (they say what the sender meant); a coding's own code is read where they fail.
    hit = _CATEGORY_IN_WORDS[field].search(value)
    tokens = [hit.group(0) if hit else (value.strip().split() or [""])[0]]
    tokens += sorted(c for c in value_codes if _CATEGORY_IN_WORDS[field].fullmatch(c))
    parsed = None
    for token in tokens:
        try:
            parsed = _PARSERS[field](token, field)
            break
        except StagingError:
            continue
    if parsed is None:
        r.facts.warnings.append(f"{r.name}: the {field.upper()} category '{value}' was not understood")
        return
    if not parsed.prefix and prefix:
        parsed = parsed.model_copy(update={"prefix": prefix})
    r.set(field, str(parsed), value)


def _stage_phrase(value: str) -> str:
    """'IIA' or 'Stage IIA' as 'stage IIA', for the stage extractor."""
    return "stage " + re.sub(r"(?i)^\s*stage\s*", "", value)


def _extension_concept(element: Condition | CodeableConcept, marker: str) -> CodeableConcept | None:
    for ext in element.extension or []:
        if marker in str(ext.url or ""):
            concept: CodeableConcept | None = ext.valueCodeableConcept
            return concept
    return None


def _condition(r: _Resource, res: Condition) -> None:
    words = _words(res.code)
    morphology = _extension_concept(res, _HISTOLOGY_EXT)
    if not _CANCER_CONDITION.search(words + " " + _words(morphology)):
        return
    codes = _codes(morphology) | _codes(res.code)
    hist = next((_ICDO_MORPHOLOGY[c] for c in codes if c in _ICDO_MORPHOLOGY), None)
    source_words = _words(morphology) or words
    if hist is None:
        for c in path.histologies(_words(morphology) + ". " + words):
            hist = c.value
            break
    if hist is None:
        for name, pattern in HISTOLOGY:
            if pattern.search(source_words):
                hist = name
                break
    if hist:
        r.set("histology", hist, f"Condition: {source_words}")
    for site in res.bodySite or []:
        lat = _extension_concept(site, _LATERALITY_EXT)
        side = next((_LATERALITY_SNOMED[c] for c in _codes(lat) if c in _LATERALITY_SNOMED), None)
        site_words = _words(site)
        if side is None:
            for word in ("bilateral", "left", "right"):
                if re.search(rf"\b{word}\b", f"{_words(lat)} {site_words}", re.IGNORECASE):
                    side = word
                    break
        if side:
            r.set("laterality", side, f"body site: {site_words} {_words(lat)}".strip())
            break
    for stage in res.stage or []:
        summary = _words(stage.summary)
        if found := path.stages(_stage_phrase(summary)):
            r.set("stage", found[0].value, f"stage: {summary}")


def _patient(r: _Resource, res: Patient) -> None:
    if res.gender in ("female", "male"):
        r.set("sex", res.gender, f"Patient.gender: {res.gender}")
    born = res.birthDate  # a date, or the year (and month) as written when that is all there is
    if born is None:
        return
    written = born.isoformat() if isinstance(born, dt.date) else str(born)
    try:
        b = born if isinstance(born, dt.date) else dt.date(int(written[:4]), 7, 1)
    except ValueError:
        return
    today = dt.date.today()
    age = today.year - b.year - ((today.month, today.day) < (b.month, b.day))
    if 0 <= age <= 120:
        r.set("age", age, f"Patient.birthDate: {written}", "age is counted to today from the birth date")


def _procedure(r: _Resource, res: Procedure) -> None:
    words = _words(res.code)
    if res.status not in (None, "completed"):
        return  # planned or stopped surgery is not surgical history
    for name, pattern in SURGERY:
        if pattern.search(words):
            r.set("surgery", name, f"Procedure: {words}")
            break


def _attached_text(res: Resource, r: _Resource) -> list[tuple[str, bytes]]:
    """Text or PDF attached to a DiagnosticReport (presentedForm, conclusion) or a
    DocumentReference (content), as (name, bytes) for the file readers (the base64 of each
    attachment was decoded when the resource was validated, and checked by _check_base64)."""
    out: list[tuple[str, bytes]] = []
    attachments: list[Attachment] = list(getattr(res, "presentedForm", None) or [])
    attachments += [c.attachment for c in getattr(res, "content", None) or [] if c.attachment is not None]
    for i, att in enumerate(attachments):
        if not att.data:
            continue
        kind = ".pdf" if "pdf" in str(att.contentType or "") else ".txt"
        out.append((f"{r.name}/attachment-{i + 1}{kind}", bytes(att.data)))
    conclusion = getattr(res, "conclusion", None)
    if conclusion:
        out.append((f"{r.name}/conclusion.txt", str(conclusion).encode("utf-8")))
    return out


_READERS: dict[str, Callable[[_Resource, Any], None]] = {
    "Observation": _observation, "Condition": _condition, "Patient": _patient, "Procedure": _procedure}
_TEXT_CARRIERS = ("DiagnosticReport", "DocumentReference")


def _validate(obj: dict[str, Any], where: str) -> Resource:
    """The resource as its fhir.resources R4B model; a RecordError names the field at fault."""
    from fhir.resources.R4B import get_fhir_model_class
    from pydantic import ValidationError

    rtype = obj.get("resourceType")
    try:
        model = get_fhir_model_class(str(rtype))
    except (ValueError, KeyError) as exc:
        raise RecordError(f"{where}: '{rtype}' is not a FHIR R4 resource type") from exc
    try:
        resource = cast("Resource", model.model_validate(obj))  # every R4B resource model is one
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(x) for x in first["loc"]) or "(resource)"
        raise RecordError(f"{where}: invalid FHIR {rtype}: field {loc}: {first['msg']}") from exc
    return resource


def _check_base64(obj: dict[str, Any], name: str) -> None:
    """Refuse an attachment whose base64 is not strictly valid. fhir.resources decodes it
    leniently (characters outside the alphabet are dropped, so '!!!' is empty data), which
    would let a damaged report pass as one without text."""
    if obj.get("resourceType") not in _TEXT_CARRIERS:
        return
    attachments = list(obj.get("presentedForm") or [])
    attachments += [c["attachment"] for c in obj.get("content") or []
                    if isinstance(c, dict) and c.get("attachment")]
    for i, att in enumerate(attachments):
        data = att.get("data") if isinstance(att, dict) else None
        if not data:
            continue
        try:
            base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise RecordError(f"{name}: attachment {i + 1} is not valid base64 ({exc})") from exc


_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_BRACKET = re.compile(rb"[\[\]{}]")


def _check_depth(data: bytes, file_name: str) -> None:
    """Refuse JSON nested deeper than MAX_JSON_DEPTH before parsing it (strings skipped)."""
    depth = 0
    for m in _BRACKET.finditer(_STRING.sub(b'""', data)):
        depth += 1 if m.group() in (b"[", b"{") else -1
        if depth > MAX_JSON_DEPTH:
            raise RecordError(f"{file_name}: JSON nested more than {MAX_JSON_DEPTH} levels deep; "
                              "a FHIR record is far shallower")


def parse_fhir(data: bytes, file_name: str) -> list[Resource]:
    """The resources in a FHIR JSON file, each validated into its fhir.resources R4B model
    (a Bundle's entries one by one, so an error names the entry); a RecordError names what is
    wrong.

    Nesting depth is checked before parsing and the number of resources while walking them,
    so a hostile file is refused before it costs much."""
    _check_depth(data, file_name)
    try:
        obj = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise RecordError(f"{file_name}: JSON must be UTF-8 text") from exc
    except json.JSONDecodeError as exc:
        raise RecordError(f"{file_name}: not valid JSON (line {exc.lineno}, column {exc.colno}: "
                          f"{exc.msg})") from exc
    except RecursionError as exc:  # the pre-check makes this unlikely; never a 500
        raise RecordError(f"{file_name}: JSON nested too deeply") from exc
    items = obj if isinstance(obj, list) else [obj]
    resources: list[Resource] = []

    def add(res: Resource) -> None:
        if len(resources) >= MAX_RESOURCES:
            raise RecordError(f"{file_name}: more than {MAX_RESOURCES:,} FHIR resources; the limit is "
                              f"{MAX_RESOURCES:,} per file")
        resources.append(res)

    for i, item in enumerate(items):
        where = f"{file_name} item {i + 1}" if isinstance(obj, list) else file_name
        if not isinstance(item, dict) or "resourceType" not in item:
            raise RecordError(f"{where}: JSON without a FHIR 'resourceType'; scanwise reads FHIR R4 "
                              "resources and Bundles")
        if item["resourceType"] == "Bundle":
            entries = item.get("entry") or []
            if not isinstance(entries, list):
                raise RecordError(f"{where}: Bundle 'entry' must be a list of entries, not "
                                  f"{type(entries).__name__}")
            _validate({k: v for k, v in item.items() if k != "entry"}, where)
            for j, entry in enumerate(entries):
                res = entry.get("resource") if isinstance(entry, dict) else None
                if not isinstance(res, dict):
                    raise RecordError(f"{where}: Bundle entry {j + 1} has no resource")
                ref = f"{res.get('resourceType')}/{res.get('id', '?')}"
                add(_validate(res, f"{where}: Bundle entry {j + 1} ({ref})"))
                _check_base64(res, f"{file_name}#{ref}")
        else:
            add(_validate(item, where))
            _check_base64(item, f"{file_name}#{item['resourceType']}/{item.get('id', '?')}")
    return resources


def read_fhir(data: bytes, file_name: str,
              read_attached: Callable[[str, bytes], list[DocumentFacts]]) -> tuple[list[DocumentFacts], int]:
    """Facts per resource (each dated by the resource itself), and how many resources were read.

    Text a resource carries (a DiagnosticReport's presentedForm, a DocumentReference) is read
    by ``read_attached`` (name, bytes), the reader that decides what a file holds."""
    resources = parse_fhir(data, file_name)
    docs: list[DocumentFacts] = []
    ignored: dict[str, int] = {}
    for res in resources:
        rtype = res.get_resource_type()
        r = _Resource(res, file_name)
        if rtype in _READERS:
            _READERS[rtype](r, res)
            r.facts.warnings += [f"{r.name}: {fv.note}" for fv in r.facts.facts.values() if fv.note]
            if r.facts.facts or r.facts.warnings:
                docs.append(r.facts)
        elif rtype in _TEXT_CARRIERS:
            for name, raw in _attached_text(res, r):
                for doc in read_attached(name, raw):
                    doc.date = doc.date or r.facts.date
                    for fv in doc.facts.values():
                        fv.date = fv.date or r.facts.date
                    docs.append(doc)
        else:
            ignored[rtype] = ignored.get(rtype, 0) + 1
    if ignored and docs:
        docs[0].warnings.append(f"{file_name}: not used for imaging guidance: "
                                + ", ".join(f"{n} {t}" for t, n in sorted(ignored.items())))
    return docs, len(resources)
