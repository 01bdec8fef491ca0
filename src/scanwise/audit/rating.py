"""Rate imaging orders: one function both engines run over Arrow batches.

:func:`Rater.rate_batch` takes a batch of input rows (every column as text, plus ``row``, the
row's 1-based number in the input, and ``first_row``, the first row carrying the same order id)
and returns one output row per input row: either rated, or with ``quarantine_reason`` set.
Orders repeat heavily (the same study for the same kind of patient), so the rating of each
distinct set of rating inputs is worked out once per process and reused.

Everything clinical comes from the application core (``Scanwise.read_text`` for the
indication, ``Scanwise.assess`` for the guideline match) and from the knowledge base (the
order-code mapping, the ACR tables, the measures). Free-text indications are read in memory
only: no message, reason or log line here ever carries their words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING, Any, get_args

import pyarrow as pa

from scanwise.audit.measures import Measure, OrderFacts, ReasonCode, counted
from scanwise.core import Scanwise, UnusableInput
from scanwise.domain.kb import OrderCode, phrase_regex
from scanwise.domain.profile import (
    STAGE_GROUPS,
    STAGE_SUBGROUPS,
    Evidence,
    Indication,
    PatientProfile,
    Phase,
)

PHASES: tuple[str, ...] = get_args(Phase)

if TYPE_CHECKING:
    from scanwise.domain.assess import Assessment, Match

#: Input columns, by their contract names (``--columns`` maps a file's own names onto these).
INPUT_COLUMNS: tuple[str, ...] = (
    "order_id",
    "order_date",
    "patient_id",
    "ordering_service",
    "procedure_code",
    "procedure_system",
    "procedure_name",
    "age",
    "sex",
    "indication",
    "reason_codes",
    "stage",
    "t",
    "n",
    "m",
    "grade",
    "er",
    "pr",
    "her2",
    "phase",
    "symptoms",
)
#: Columns that name or place an order but do not decide its rating.
_ORDER_ONLY = frozenset({"order_id", "order_date", "patient_id", "ordering_service"})
#: The columns that decide a rating; rows equal on these are rated once.
RATING_INPUTS: tuple[str, ...] = tuple(c for c in INPUT_COLUMNS if c not in _ORDER_ONLY)

RATED_SCHEMA = pa.schema(
    [
        ("row", pa.int64()),
        ("order_id", pa.string()),
        ("order_date", pa.string()),
        ("month", pa.string()),
        ("patient_id", pa.string()),
        ("ordering_service", pa.string()),
        ("procedure", pa.string()),
        ("procedure_code", pa.string()),
        ("study", pa.string()),
        ("body_part", pa.string()),
        ("topic_id", pa.int32()),
        ("variant", pa.int32()),
        ("decision", pa.string()),
        ("category", pa.string()),
        ("low_value", pa.bool_()),
        ("measures", pa.list_(pa.string())),
        ("denominators", pa.list_(pa.string())),
        ("reason", pa.string()),
        ("insufficient_information", pa.bool_()),
        ("missing", pa.list_(pa.string())),
        ("red_flags", pa.list_(pa.string())),
        ("unused", pa.list_(pa.string())),
        ("kb_version", pa.string()),
    ]
)
#: What a batch comes back as: the rated columns plus the reason a row is quarantined.
PART_SCHEMA = RATED_SCHEMA.append(pa.field("quarantine_reason", pa.string()))

SYSTEMS: dict[str, str] = {
    "cpt": "http://www.ama-assn.org/go/cpt",
    "http://www.ama-assn.org/go/cpt": "http://www.ama-assn.org/go/cpt",
    "loinc": "http://loinc.org",
    "http://loinc.org": "http://loinc.org",
    "snomed": "http://snomed.info/sct",
    "snomedct": "http://snomed.info/sct",
    "sct": "http://snomed.info/sct",
    "http://snomed.info/sct": "http://snomed.info/sct",
}
_SEX = {
    "f": "female",
    "female": "female",
    "w": "female",
    "woman": "female",
    "m": "male",
    "male": "male",
    "man": "male",
}
_RECEPTOR = {
    "positive": "positive",
    "pos": "positive",
    "+": "positive",
    "negative": "negative",
    "neg": "negative",
    "-": "negative",
    "equivocal": "equivocal",
}
_PHASE_WORDS: dict[str, str] = {
    **{str(p): str(p) for p in PHASES},
    "new": "new_diagnosis",
    "newly_diagnosed": "new_diagnosis",
    "staging": "new_diagnosis",
    "workup": "diagnostic_workup",
    "diagnostic": "diagnostic_workup",
    "follow_up": "surveillance",
    "followup": "surveillance",
    "survivorship": "surveillance",
    "recurrence": "suspected_recurrence",
}
_NONE_WORDS = {"none", "no", "asymptomatic", "no symptoms"}
_AGE = re.compile(r"^\s*(\d{1,3})(?:\.0+)?\s*$")
_DATE = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})(?:[ T][0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?)?\s*$")


class Quarantine(Exception):
    """A row that cannot be rated, with the reason (never the row's free text)."""


@dataclass
class Rating:
    """The part of an order's result that depends only on its rating inputs."""

    procedure: str | None = None
    study: str | None = None
    body_part: str | None = None
    topic_id: int | None = None
    variant: int | None = None
    decision: str | None = None
    category: str | None = None
    low_value: bool = False
    measures: list[str] = field(default_factory=list)
    denominators: list[str] = field(default_factory=list)
    reason: str = ""
    insufficient: bool = False
    missing: list[str] = field(default_factory=list)
    red_flags: list[str] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)
    quarantine: str | None = None


def _clean(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


class Rater:
    """Rates orders with one application core; build one per process (or Spark task)."""

    def __init__(
        self,
        core: Scanwise,
        measures: Sequence[Measure],
        reason_codes: Sequence[ReasonCode],
        cache_size: int = 200_000,
    ) -> None:
        self.core = core
        self.kb = core.kb
        self.measures = list(measures)
        self.reason_codes = sorted(reason_codes, key=lambda c: -len(c.prefix))
        self._rate = lru_cache(maxsize=cache_size)(self._rate_uncached)
        self._cache_size = cache_size
        self._readings: dict[tuple[Any, ...], tuple[PatientProfile, Indication]] = {}
        self._verdicts: dict[tuple[Any, ...], Rating] = {}
        self._age_ranges = [
            c.age
            for t in self.kb.topics
            for c in (t.applies_when, *t.conditions.values())
            if c.age is not None
        ]
        self._month = lru_cache(maxsize=100_000)(_parse_date)
        self._name_patterns = [
            (t, re.compile(rx))
            for t in self.kb.vocabulary
            if t.kind == "procedure"
            for rx in (phrase_regex(p) for p in t.patterns)
        ]

    @property
    def distinct_ratings(self) -> int:
        return self._rate.cache_info().currsize

    # --- one batch ----------------------------------------------------------------------

    def rate_batch(self, batch: pa.RecordBatch | pa.Table) -> pa.RecordBatch:
        cols = {
            name: batch.column(name).to_pylist() if name in batch.schema.names else [None] * batch.num_rows
            for name in (*INPUT_COLUMNS, "row", "first_row")
        }
        out: dict[str, list[Any]] = {f.name: [] for f in PART_SCHEMA}
        kb_version = self.core.kb_version
        for i in range(batch.num_rows):
            row = int(cols["row"][i] or 0)
            order_id = _clean(cols["order_id"][i])
            key = tuple(_clean(cols[c][i]) for c in RATING_INPUTS)
            quarantine: str | None = None
            day = month = None
            if order_id is None:
                quarantine = "no order id"
            elif (first := cols["first_row"][i]) is not None and int(first) != row:
                quarantine = f"duplicate order id (first seen in row {int(first)})"
            else:
                try:
                    day, month = self._month(_clean(cols["order_date"][i]))
                except Quarantine as exc:
                    quarantine = str(exc)
            r = self._rate(key) if quarantine is None else Rating()
            quarantine = quarantine or r.quarantine
            out["row"].append(row)
            out["order_id"].append(order_id)
            out["order_date"].append(day)
            out["month"].append(month)
            out["patient_id"].append(_clean(cols["patient_id"][i]))
            out["ordering_service"].append(_clean(cols["ordering_service"][i]))
            out["procedure"].append(r.procedure)
            out["procedure_code"].append(_clean(cols["procedure_code"][i]))
            out["study"].append(r.study)
            out["body_part"].append(r.body_part)
            out["topic_id"].append(r.topic_id)
            out["variant"].append(r.variant)
            out["decision"].append(r.decision)
            out["category"].append(r.category)
            out["low_value"].append(r.low_value)
            out["measures"].append(r.measures)
            out["denominators"].append(r.denominators)
            out["reason"].append(quarantine if quarantine else r.reason)
            out["insufficient_information"].append(r.insufficient)
            out["missing"].append(r.missing)
            out["red_flags"].append(r.red_flags)
            out["unused"].append(r.unused)
            out["kb_version"].append(kb_version)
            out["quarantine_reason"].append(quarantine)
        return pa.RecordBatch.from_pydict(out, schema=PART_SCHEMA)

    # --- one distinct set of rating inputs ----------------------------------------------

    def _rate_uncached(self, key: tuple[str | None, ...]) -> Rating:
        values = dict(zip(RATING_INPUTS, key, strict=True))
        try:
            return self._rate_values(values)
        except Quarantine as exc:
            return Rating(quarantine=str(exc))

    def _rate_values(self, v: dict[str, str | None]) -> Rating:
        r = Rating()
        order = self._order(v, r)
        facts, phase = self._facts(v, r)
        profile, indication = self._read(v["indication"], facts)
        updates: dict[str, Any] = {}
        if indication.phase is None and phase is not None:
            updates["phase"] = phase
        term = self.kb.terms.get(r.study) if r.study else None
        if indication.purpose is None and term is not None and term.purpose is not None:
            updates["purpose"] = term.purpose
        if r.study and r.study not in indication.asked_procedures:
            updates["asked_procedures"] = [*indication.asked_procedures, r.study]
        if updates:
            indication = indication.model_copy(update=updates)
        if order is not None and not order.procedures and order.study is None:
            if not r.reason:
                r.reason = (
                    f"no breast-cancer imaging criteria for {order.body_part} imaging in the knowledge base"
                )
            return r
        # The engine reads the age only through the knowledge base's age ranges, so ages on the
        # same side of every range share one verdict.
        age_band = None if profile.age is None else tuple(rg.contains(profile.age) for rg in self._age_ranges)
        key = (
            profile.model_dump_json(exclude={"evidence", "age"}),
            age_band,
            indication.model_dump_json(exclude={"text", "evidence", "assumptions"}),
            order.system == "name" if order else None,
            tuple(order.procedures) if order else (),
            r.study,
        )
        verdict = self._verdict(key, profile, indication, order, r.study)
        for name in (
            "topic_id",
            "variant",
            "decision",
            "category",
            "insufficient",
            "missing",
            "red_flags",
            "measures",
            "denominators",
            "low_value",
        ):
            setattr(r, name, getattr(verdict, name))
        r.reason = verdict.reason
        return r

    def _read(self, text: str | None, facts: dict[str, Any]) -> tuple[PatientProfile, Indication]:
        """The profile and question from the indication and the structured facts.

        The reading is cached on the text and every structured fact except the age, which
        varies most; the age column then fills the age when the text gives none (where the
        two disagree the age is left unknown, as the core does for records).
        """
        age = facts.get("age")
        rest = {k: val for k, val in facts.items() if k != "age"}
        key = (text, repr(sorted(rest.items())))
        found = self._readings.get(key)
        if found is None:
            known = _known(rest)
            if text:
                try:
                    found = self.core.read_text(text, "indication", known=known)
                except UnusableInput as exc:
                    raise Quarantine(f"indication: {exc.code.replace('_', ' ')}") from None
            else:  # structured facts only: the order itself is the question
                found = (known, Indication(text=""))
            if len(self._readings) >= self._cache_size:
                self._readings.clear()
            self._readings[key] = found
        profile, indication = found
        if age is not None and profile.age != age:
            ev = {**profile.evidence, "age": [Evidence(text="age column", source="order")]}
            profile = profile.model_copy(update={"age": age if profile.age is None else None, "evidence": ev})
        return profile, indication

    def _verdict(
        self,
        key: tuple[Any, ...],
        profile: PatientProfile,
        indication: Indication,
        order: OrderCode | None,
        study: str | None,
    ) -> Rating:
        """The guideline match, category and measures for one set of facts (cached on them)."""
        found = self._verdicts.get(key)
        if found is not None:
            return found
        r = Rating(study=study)
        assessment = self.core.assess(profile, indication)
        self._judge(assessment, order, r)
        facts = OrderFacts(
            phase=indication.phase,
            stages=_stages(assessment, profile),
            asymptomatic=bool(profile.asymptomatic),
            symptoms_present=bool(profile.symptoms or profile.findings),
            red_flags=[f.id for f in assessment.red_flags],
            study=study,
            category=r.category,
            insufficient=r.insufficient,
        )
        r.red_flags = facts.red_flags
        for m in self.measures:
            den, num = counted(m, facts)
            if den:
                r.denominators.append(m.id)
            if num:
                r.measures.append(m.id)
        r.low_value = bool(r.measures)
        if r.low_value:
            titles = "; ".join(m.short for m in self.measures if m.id in r.measures)
            r.reason = f"low value ({titles}): {r.reason}"
        if len(self._verdicts) >= self._cache_size:
            self._verdicts.clear()
        self._verdicts[key] = r
        return r

    def _order(self, v: dict[str, str | None], r: Rating) -> OrderCode | None:
        code, system, name = v["procedure_code"], v["procedure_system"], v["procedure_name"]
        if code is not None:
            if system is None:
                raise Quarantine("procedure_code has no procedure_system")
            uri = SYSTEMS.get(system.lower())
            if uri is None:
                raise Quarantine("unknown code system (use cpt, loinc, snomed or their URIs)")
            order = self.kb.order_code(uri, code)
            if order is not None:
                r.procedure, r.study, r.body_part = order.display, order.study, order.body_part
                return order
            if name is None:
                r.procedure = f"{system} {code}"
                r.reason = "order code not in the mapping (knowledge/orders/procedure-codes.yaml)"
                return OrderCode(
                    system=uri,
                    code=code,
                    display=r.procedure,
                    study=None,
                    procedures=[],
                    body_part="unknown",
                    source="ama-cpt",
                )
        if name is None:
            raise Quarantine("no procedure_code or procedure_name")
        lowered = name.lower()
        r.procedure = name
        for term, pattern in self._name_patterns:
            if pattern.search(lowered):
                r.study = term.code
                return OrderCode(
                    system="name",
                    code=name,
                    display=name,
                    study=term.code,
                    procedures=list(term.procedure_names),
                    body_part="unknown",
                    source="ama-cpt",
                )
        r.reason = "procedure name not recognised as a study in the vocabulary"
        return OrderCode(
            system="name",
            code=name,
            display=name,
            study=None,
            procedures=[],
            body_part="unknown",
            source="ama-cpt",
        )

    def _facts(self, v: dict[str, str | None], r: Rating) -> tuple[dict[str, Any], str | None]:
        facts: dict[str, Any] = {}
        phase: str | None = None
        if v["age"] is not None:
            m = _AGE.match(v["age"])
            if m is None or int(m.group(1)) > 120:
                raise Quarantine("age is not a whole number of years from 0 to 120")
            facts["age"] = int(m.group(1))
        if v["sex"] is not None:
            sex = _SEX.get(v["sex"].lower())
            if sex is None:
                raise Quarantine("sex is not female or male")
            facts["sex"] = sex
        if v["stage"] is not None:
            s = re.sub(r"(?i)^stage\s*", "", v["stage"]).upper()
            if s not in STAGE_GROUPS and s not in STAGE_SUBGROUPS:
                raise Quarantine("stage is not a stage group (0, I, IA ... IV)")
            facts["stage"] = s
        for col in ("er", "pr", "her2"):
            if (given := v[col]) is not None:
                val = _RECEPTOR.get(given.lower())
                if val is None:
                    raise Quarantine(f"{col} is not positive, negative or equivocal")
                facts[col] = val
        if v["grade"] is not None:
            if v["grade"].removeprefix("G").removeprefix("g") not in ("1", "2", "3"):
                raise Quarantine("grade is not 1, 2 or 3")
            facts["grade"] = int(v["grade"][-1])
        tnm = {k: v[k] for k in ("t", "n", "m") if v[k] is not None}
        if tnm:
            try:
                self.core.stage(v["t"], v["n"], v["m"])
            except UnusableInput as exc:
                if exc.field in ("t", "n", "m"):
                    raise Quarantine(f"{exc.field} is not an AJCC category") from None
            facts.update(tnm)
        if v["phase"] is not None:
            phase = _PHASE_WORDS.get(re.sub(r"[\s-]+", "_", v["phase"].strip().lower()))
            if phase is None:
                raise Quarantine("phase is not one of " + ", ".join(PHASES))
        if v["symptoms"] is not None:
            symptoms: list[str] = []
            for token in (t.strip() for t in v["symptoms"].split(";")):
                if not token:
                    continue
                if token.lower() in _NONE_WORDS:
                    facts["asymptomatic"] = True
                    continue
                term = self.kb.terms.get(token) or next(
                    (
                        t
                        for t in self.kb.vocabulary
                        if t.kind in ("symptom", "finding") and t.label.lower() == token.lower()
                    ),
                    None,
                )
                if term is None or term.kind not in ("symptom", "finding", "lab"):
                    r.unused.append(f"symptom {token!r} is not in the vocabulary")
                elif term.kind == "lab":
                    facts.setdefault("labs", {})[term.code] = "abnormal"
                else:
                    symptoms.append(term.code)
            if symptoms:
                facts["symptoms"] = symptoms
                facts.pop("asymptomatic", None)
        if v["reason_codes"] is not None:
            for code in (c.strip() for c in v["reason_codes"].split(";")):
                if not code:
                    continue
                flat = code.replace(".", "").upper()
                rc = next((c for c in self.reason_codes if flat.startswith(c.prefix.upper())), None)
                if rc is None:
                    r.unused.append(f"reason code {code} is not in the mapping")
                    continue
                for k, val in rc.sets.items():
                    facts.setdefault(k, val)
                if rc.phase and phase is None:
                    phase = rc.phase
        try:
            _known(facts)
        except ValueError as exc:  # a value the profile's own checks refuse
            raise Quarantine(f"unusable structured facts ({type(exc).__name__})") from None
        return facts, phase

    def _judge(self, a: Assessment, order: OrderCode | None, r: Rating) -> None:
        """Variant, category and reason for the ordered study, or why it cannot be said."""
        from scanwise.domain.assess import COMPETING_MARGIN

        if not a.indication.in_scope:
            r.reason = "outside what the knowledge base covers"
            return
        if a.decision is not None:
            r.insufficient = True
            r.decision = a.decision.model_dump_json(by_alias=True)
            r.missing = [
                a.decision.depends_on,
                *(m.field for m in a.missing if m.field != a.decision.depends_on),
            ]
            r.reason = f"insufficient information: depends on {a.decision.depends_on}"
            return
        if not a.matches:
            r.missing = [m.field for m in a.missing]
            r.insufficient = bool(r.missing)
            r.reason = (
                "insufficient information: " + ", ".join(r.missing)
                if r.missing
                else "no variant in the bundled ACR data fits this situation"
            )
            return
        best = a.matches[0]
        competing = [m for m in a.matches if best.score - m.score < COMPETING_MARGIN]
        verdicts = {self._category(m, order) for m in competing}
        if len(verdicts) > 1:
            r.insufficient = True
            r.missing = [m.field for m in a.missing]
            r.reason = (
                "insufficient information: the best-fitting variants ("
                + ", ".join(f"{m.topic_id}/{m.variant}" for m in competing)
                + ") rate this study differently"
            )
            return
        if any(
            m.field == "stage"
            and any((d.topic_id, d.variant) == (best.topic_id, best.variant) for d in m.decides)
            for m in a.missing
        ):  # the best fit is a stage range the order does not give
            r.insufficient = True
            r.missing = ["stage", *(m.field for m in a.missing if m.field != "stage")]
            r.reason = (
                f"insufficient information: ACR topic {best.topic_id} variant {best.variant} "
                "fits only for a stage the order does not give"
            )
            return
        r.topic_id, r.variant = best.topic_id, best.variant
        r.category = self._category(best, order)
        if not best.ratings_verified:
            r.reason = f"ACR topic {best.topic_id} variant {best.variant}: ratings not in the bundled data"
        elif r.category is None:
            r.reason = f"ACR topic {best.topic_id} variant {best.variant} does not rate this study"
        else:
            r.reason = f"ACR topic {best.topic_id} variant {best.variant}: {r.category}"

    @staticmethod
    def _category(m: Match, order: OrderCode | None) -> str | None:
        if order is None or not m.ratings_verified:
            return None
        by_name = {p.name: p.category for p in m.procedures}
        if order.system == "name":  # a study named in words: the vocabulary's name fragments
            for frag in order.procedures:
                found = [p.category for p in m.procedures if frag.lower() in p.name.lower()]
                if found and len(set(found)) == 1:
                    return found[0]
            return None
        return next((by_name[n] for n in order.procedures if n in by_name), None)


def _known(facts: dict[str, Any]) -> PatientProfile:
    """Structured facts as a profile, each citing the order's columns as its evidence."""
    evidence = {
        k: [Evidence(text=f"{k} column", source="order")] for k in facts if k not in ("symptoms", "labs")
    }
    evidence.update(
        {
            f"symptoms:{c}": [Evidence(text="symptoms column", source="order")]
            for c in facts.get("symptoms", [])
        }
    )
    return PatientProfile(**facts, evidence=evidence)


def _stages(a: Assessment, profile: PatientProfile) -> list[str]:
    if a.stage.groups:
        return list(a.stage.groups)
    if profile.histology == "dcis":
        return ["0"]  # DCIS alone is Tis, stage 0
    return []


def _parse_date(text: str | None) -> tuple[str | None, str | None]:
    if text is None:
        return None, None
    m = _DATE.match(text)
    if m is None:
        raise Quarantine("order_date is not a date (YYYY-MM-DD)")
    try:
        d = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        raise Quarantine("order_date is not a real calendar date") from None
    return d.isoformat(), d.isoformat()[:7]
