"""Who a guideline variant applies to, written as data, and how to check it.

A variant's ``applies_when`` is a set of named constraints. Checking them against a
patient and a question gives, for each constraint, one of three answers: it **held**
(with the reason, quoting the words it rests on), it **failed**, or it is **unknown**
because a fact is missing. Unknown is never treated as held or failed: it is reported
as what would decide the answer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from math import inf
from operator import attrgetter
from typing import Any, Literal, NamedTuple, get_args

from pydantic import BaseModel, ConfigDict, model_validator

from scanwise.domain.profile import (
    INVASIVE,
    Gender,
    Histology,
    ImplantType,
    Indication,
    NeoadjuvantState,
    NodalStatus,
    PatientProfile,
    Phase,
    Population,
    Purpose,
    Reconstruction,
    Risk,
    StageGroup,
    Subtype,
    Surgery,
)

Status = Literal["held", "failed", "unknown"]

#: Constraints that list what must be absent: a longer list admits fewer patients.
_EXCLUSIONS = ("none_present", "surgery_none")


class Range(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    gt: float | None = None
    ge: float | None = None
    lt: float | None = None
    le: float | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> Range:
        if self.gt is None and self.ge is None and self.lt is None and self.le is None:
            raise ValueError("a range needs at least one of gt, ge, lt, le")
        return self

    def contains(self, value: float) -> bool:
        return not (
            (self.gt is not None and value <= self.gt)
            or (self.ge is not None and value < self.ge)
            or (self.lt is not None and value >= self.lt)
            or (self.le is not None and value > self.le)
        )

    def within(self, other: Range) -> bool:
        """Every value this range admits, the other admits too."""
        def low(r: Range) -> tuple[float, bool]:  # (bound, whether the bound itself is out)
            return max((r.ge, False) if r.ge is not None else (-inf, False),
                       (r.gt, True) if r.gt is not None else (-inf, False))

        def high(r: Range) -> tuple[float, bool]:
            return min((r.le, False) if r.le is not None else (inf, False),
                       (r.lt, True) if r.lt is not None else (inf, False), key=lambda b: (b[0], not b[1]))

        (lo, lo_out), (olo, olo_out) = low(self), low(other)
        (hi, hi_out), (ohi, ohi_out) = high(self), high(other)
        starts_inside = lo > olo or (lo == olo and (lo_out or not olo_out))
        ends_inside = hi < ohi or (hi == ohi and (hi_out or not ohi_out))
        return starts_inside and ends_inside

    def describe(self, unit: str = "") -> str:
        parts = []
        for op, bound in (("over", self.gt), ("at least", self.ge), ("under", self.lt),
                          ("at most", self.le)):
            if bound is not None:
                parts.append(f"{op} {bound:g}{unit}")
        return " and ".join(parts)


class Conditions(BaseModel):
    """Constraints a patient and question must meet. Absent means no constraint."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    phase: list[Phase] | None = None
    purpose: list[Purpose] | None = None
    stage: list[StageGroup] | None = None  # clinical stage groups covered
    subtype: list[Subtype] | None = None
    histology: list[Histology] | None = None
    invasive: bool | None = None
    population: list[Population] | None = None
    age: Range | None = None
    pregnant: bool | None = None
    lactating: bool | None = None
    symptoms_any: list[str] | None = None  # at least one of these present
    findings_any: list[str] | None = None  # at least one of these findings present
    # None of these symptoms or findings present. For "initial imaging" variants: a finding
    # from earlier imaging means the patient is past that step. Not mentioned counts as absent.
    none_present: list[str] | None = None
    asymptomatic: bool | None = None  # no symptom or sign of disease present
    surgery: list[Surgery] | None = None
    # None of these operations. Not mentioned counts as not done, as with none_present.
    surgery_none: list[Surgery] | None = None
    reconstruction: list[Reconstruction] | None = None
    implant: list[ImplantType] | None = None
    implant_years: Range | None = None
    cancer_history: bool | None = None
    risk: list[Risk] | None = None
    nodal_status: list[NodalStatus] | None = None
    tumor_size_mm: Range | None = None
    hormone_use_years: Range | None = None
    neoadjuvant: list[NeoadjuvantState] | None = None

    def at_least_as_narrow_as(self, other: Conditions) -> bool:
        """Whether every patient and question these conditions admit, the other's admit too:
        each of the other's constraints is here, the same or tighter. Two variants that both
        fit, neither narrower than the other, overlap: the labels alone do not choose."""
        for name in type(other).model_fields:
            theirs, mine = getattr(other, name), getattr(self, name)
            if theirs is None:
                continue
            if mine is None:
                return False
            if name in _EXCLUSIONS:  # ruling out more is narrower
                if not set(theirs) <= set(mine):
                    return False
            elif isinstance(theirs, Range):
                if not mine.within(theirs):
                    return False
            elif name == "purpose":
                if not all(_purpose_satisfies(value, frozenset(theirs)) for value in mine):
                    return False
            elif isinstance(theirs, list):
                if not set(mine) <= set(theirs):
                    return False
            elif mine != theirs:
                return False
        return True

    def codes(self) -> set[str]:
        """Vocabulary codes this set of conditions refers to."""
        return (set(self.symptoms_any or []) | set(self.findings_any or [])
                | set(self.none_present or []))

    def merged(self, other: Conditions) -> Conditions:
        """Topic-wide conditions combined with a variant's own (the variant's win)."""
        data = self.model_dump(exclude_none=True)
        data.update(other.model_dump(exclude_none=True))
        return Conditions.model_validate(data)


#: How a check's reason is worded: from the situation, what the constraint was compiled into,
#: and what the check found. Called only when the reason is read (for the variants shown).
Words = Callable[["Situation", Any, Any], str]


class Check(NamedTuple):
    """One constraint checked: held, failed or unknown, with its weight and its reason.

    The reason is worded when it is read, not when the check is made: most variants checked
    are dropped, and only the reasons of those shown are ever read.
    """

    field: str
    status: Status
    weight: float
    words: Words
    situation: Situation
    spec: Any
    found: Any

    @property
    def reason(self) -> str:
        return self.words(self.situation, self.spec, self.found)


@dataclass
class Situation:
    """The patient and the question, plus the clinical stage worked out for them."""

    profile: PatientProfile
    indication: Indication
    #: Candidate clinical stage groups: the stated stage, or the anatomic and clinical
    #: prognostic groups computed from T/N/M (they can differ).
    stages: list[StageGroup] = field(default_factory=list)
    stage_basis: str = ""
    labels: Callable[[str], str] = str  # vocabulary code -> readable label
    #: Clinical-looking words the reader could not place: while any is left, "no symptom
    #: mentioned" is not evidence that there is none.
    unread: list[str] = field(default_factory=list)
    #: General codes and the specific ones they may stand for (vocabulary ``narrower``).
    narrower: dict[str, list[str]] = field(default_factory=dict)
    #: Findings and the sign each is when felt (vocabulary ``felt_as``): a lump in the armpit
    #: is felt adenopathy, so it meets a scenario of axillary adenopathy.
    felt_as: dict[str, str] = field(default_factory=dict)

    # What is worked out from the profile, once per situation (every variant asks the same).
    subtype: Subtype | None = field(init=False)
    population: Population | None = field(init=False)
    invasive: bool | None = field(init=False)
    #: Codes present: symptoms, findings and abnormal labs (``PatientProfile.present``).
    present: frozenset[str] = field(init=False)
    #: The general codes present, each with the specific ones it may stand for.
    present_general: list[tuple[str, frozenset[str]]] = field(init=False)

    def __post_init__(self) -> None:
        p = self.profile
        self.subtype = p.subtype
        self.population = p.population
        self.invasive = None if p.histology is None else p.histology in INVASIVE
        self.present = frozenset([*p.symptoms, *p.findings,
                                  *(c for c, s in p.labs.items() if s == "abnormal")])
        self.present_general = [(c, frozenset(specific)) for c, specific in self.narrower.items()
                                if c in self.present]


# How much a satisfied condition says about fit. Phase and purpose define a scenario;
# the rest refine it. A condition that holds only because nothing contradicts it ("not
# pregnant" when pregnancy is not mentioned) counts for nothing.
WEIGHTS: dict[str, float] = {"phase": 3.0, "purpose": 2.0, "stage": 2.0, "subtype": 2.0}


def _words(values: Sequence[str]) -> str:
    shown = [v.replace("_", " ") for v in values]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " or " + shown[-1]


def _quote(profile: PatientProfile | Indication, key: str) -> str:
    ev = profile.evidence.get(key)
    return f' ("{ev[0].text}")' if ev else ""


def _fixed(_sit: Situation, _spec: Any, text: str) -> str:
    """A reason that is the same whatever the patient."""
    return text


#: What a check returns: the status, the weight when it differs from the constraint's usual
#: one (None: the usual one), how to word the reason, and what the wording needs (the
#: compiled constraint it is worded from, and what the check found).
_Result = tuple[Status, float | None, Words, Any, Any]


@dataclass(frozen=True, slots=True)
class _Choice:
    """One of a list of values, worded once: the label, the values allowed and their words;
    ``value`` reads the fact, ``quotes`` the evidence keys that may quote it (first found)."""

    label: str
    allowed: frozenset[str]
    needs: str  # the allowed values in words
    value: Callable[[Situation], str | None]
    quotes: tuple[str, ...] = ()
    on_indication: bool = False  # the fact and its evidence are the question's
    words: dict[str, str] | None = None

    @classmethod
    def of(cls, name: str, allowed: Sequence[str], value: Callable[[Situation], str | None],
           quotes: tuple[str, ...] = (), *, on_indication: bool = False,
           words: dict[str, str] | None = None) -> _Choice:
        def say(v: str) -> str:
            return (words or {}).get(v, v.replace("_", " "))
        return cls(name.replace("_", " "), frozenset(allowed), _words([say(v) for v in allowed]),
                   value, quotes, on_indication, words)

    def say(self, value: str) -> str:
        return (self.words or {}).get(value, value.replace("_", " "))

    def quote(self, sit: Situation) -> str:
        holder = sit.indication if self.on_indication else sit.profile
        for key in self.quotes:
            if quote := _quote(holder, key):
                return quote
        return ""


def _choice(sit: Situation, spec: _Choice) -> _Result:
    value = spec.value(sit)
    if value is None:
        return "unknown", None, _choice_unknown, spec, None
    if value in spec.allowed:
        return "held", None, _choice_held, spec, value
    return "failed", None, _choice_failed, spec, value


def _choice_unknown(_sit: Situation, spec: _Choice, _value: None) -> str:
    return f"{spec.label} not known (needs {spec.needs})"


def _choice_held(sit: Situation, spec: _Choice, value: str) -> str:
    return f"{spec.label}: {spec.say(value)}{spec.quote(sit)}"


def _choice_failed(sit: Situation, spec: _Choice, value: str) -> str:
    return f"{spec.label} is {spec.say(value)}{spec.quote(sit)}, not {spec.needs}"


def _reconstruction(sit: Situation, spec: _Choice) -> _Result:
    """A reconstruction said to be done, of a kind not said ("mastectomy with recon"), is not
    "no reconstruction": only its kind is unknown."""
    result = _choice(sit, spec)
    if result[0] == "unknown" and spec.allowed == {"none"} and spec.quote(sit):
        return "failed", None, _reconstruction_said, spec, None
    return result


def _reconstruction_said(sit: Situation, spec: _Choice, _value: None) -> str:
    return f"a reconstruction is mentioned{spec.quote(sit)}, so not {spec.needs}"


@dataclass(frozen=True, slots=True)
class _Flag:
    """A yes/no fact: its name, the answer wanted, how to read it and the evidence key."""

    name: str
    wanted: bool
    value: Callable[[Situation], bool | None]
    quote: str  # evidence key
    # Facts that are always stated when they apply (a pregnancy, implants): unsaid is no,
    # and a "no" taken from silence counts for nothing.
    absent_if_unsaid: bool = False


def _flag(sit: Situation, spec: _Flag) -> _Result:
    value = spec.value(sit)
    if value is None and spec.absent_if_unsaid:
        return ("held" if not spec.wanted else "failed"), 0.0, _flag_unsaid, spec, None
    if value is None:
        return "unknown", None, _flag_unknown, spec, None
    return ("held" if value == spec.wanted else "failed"), None, _flag_said, spec, value


def _stated_flag(sit: Situation, spec: _Flag) -> _Result:
    """A fact that is stated when it holds (a past breast cancer): wanted and unsaid fails,
    "not mentioned" is not evidence of it."""
    if spec.wanted and spec.value(sit) is None:
        return "failed", None, _flag_unmentioned, spec, None
    return _flag(sit, spec)


def _flag_unmentioned(_sit: Situation, spec: _Flag, _value: None) -> str:
    return f"no {spec.name} mentioned"


_ABOVE_AVERAGE = frozenset({"intermediate", "high"})


def _risk(sit: Situation, spec: _Choice) -> _Result:
    """The stated risk decides. Unstated, a first-degree relative's breast or ovarian cancer
    says the risk is above average but not whether intermediate or high: a variant for any
    above-average risk holds, one for average fails, one for a single level stays unknown."""
    p = sit.profile
    if p.risk is not None or not p.first_degree_relative:
        return _choice(sit, spec)
    if spec.allowed >= _ABOVE_AVERAGE:
        # Inferred, not stated: it holds but does not outweigh a variant for any risk that the
        # stated facts fit as well ("43, pregnant, mother had breast cancer").
        return "held", 0.0, _risk_relative_held, spec, None
    if not _ABOVE_AVERAGE & spec.allowed:
        return "failed", None, _risk_relative_failed, spec, None
    return "unknown", None, _risk_relative_unknown, spec, None


def _risk_relative_held(sit: Situation, _spec: _Choice, _found: None) -> str:
    quote = _quote(sit.profile, "first_degree_relative")
    return f"risk above average: a first-degree relative's cancer{quote}"


def _risk_relative_failed(sit: Situation, _spec: _Choice, _found: None) -> str:
    quote = _quote(sit.profile, "first_degree_relative")
    return f"risk is above average (a first-degree relative's cancer{quote}), not average"


def _risk_relative_unknown(sit: Situation, spec: _Choice, _found: None) -> str:
    quote = _quote(sit.profile, "first_degree_relative")
    return f"risk above average (a first-degree relative's cancer{quote}); whether {spec.needs} is not known"


def _flag_unsaid(_sit: Situation, spec: _Flag, _value: None) -> str:
    return f"{spec.name}: not mentioned, taken as no"


def _flag_unknown(_sit: Situation, spec: _Flag, _value: None) -> str:
    return f"{spec.name} not known"


def _flag_said(sit: Situation, spec: _Flag, value: bool) -> str:
    return f"{spec.name}: {'yes' if value else 'no'}{_quote(sit.profile, spec.quote)}"


@dataclass(frozen=True, slots=True)
class _Span:
    """A range of numbers, worded once, and the fact it bounds."""

    name: str
    range: Range
    unit: str
    described: str
    value: Callable[[Situation], float | None]
    quote: str  # evidence key

    @classmethod
    def of(cls, name: str, rng: Range, unit: str, value: Callable[[Situation], float | None],
           quote: str) -> _Span:
        return cls(name, rng, unit, rng.describe(unit), value, quote)


def _within(sit: Situation, spec: _Span) -> _Result:
    value = spec.value(sit)
    if value is None:
        return "unknown", None, _within_unknown, spec, None
    if spec.range.contains(value):
        return "held", None, _within_held, spec, value
    return "failed", None, _within_failed, spec, value


def _within_unknown(_sit: Situation, spec: _Span, _value: None) -> str:
    return f"{spec.name} not known (needs {spec.described})"


def _within_held(sit: Situation, spec: _Span, value: float) -> str:
    return f"{spec.name} {value:g}{spec.unit}{_quote(sit.profile, spec.quote)} is {spec.described}"


def _within_failed(sit: Situation, spec: _Span, value: float) -> str:
    return f"{spec.name} {value:g}{spec.unit}{_quote(sit.profile, spec.quote)} is not {spec.described}"


def _purpose_satisfies(value: str, allowed: frozenset[str]) -> bool:
    return value in allowed or (value == "axilla" and "locoregional" in allowed)


def _purpose(sit: Situation, spec: _Choice) -> _Result:
    value = sit.indication.purpose
    if value is None:
        return "unknown", None, _choice_unknown, spec, None
    if value in spec.allowed:
        return "held", None, _choice_held, spec, value
    if _purpose_satisfies(value, spec.allowed):
        # An axilla question fits a locoregional variant, but less exactly than an axilla one,
        # and an inexact fit counts for less than the exact one.
        return "held", 1.0, _purpose_inexact, spec, value
    return "failed", None, _choice_failed, spec, value


def _purpose_inexact(sit: Situation, spec: _Choice, value: str) -> str:
    return _choice_held(sit, spec, value) + " (as part of locoregional)"


_CIS = {"female", "male"}


@dataclass(frozen=True, slots=True)
class _Stages:
    allowed: frozenset[str]
    span: str


def _stage(sit: Situation, spec: _Stages) -> _Result:
    if not sit.stages:
        return "unknown", None, _stage_words, spec, "unknown"
    inside = sum(s in spec.allowed for s in sit.stages)
    if inside == len(sit.stages):
        return "held", None, _stage_words, spec, "held"
    if not inside:
        return "failed", None, _stage_words, spec, "failed"
    return "unknown", None, _stage_words, spec, "some"


def _stage_words(sit: Situation, spec: _Stages, found: str) -> str:
    span = spec.span
    if found == "unknown":
        return f"clinical stage not known (needs {span}; give the stage or T, N and M)"
    shown = " / ".join(sit.stages)
    basis = f" ({sit.stage_basis})" if sit.stage_basis else ""
    if found == "held":
        return f"clinical stage {shown}{basis} is within {span}"
    if found == "failed":
        return f"clinical stage {shown}{basis} is outside {span}"
    return f"clinical stage could be {shown}{basis}: within {span} only for some of them"


@dataclass(frozen=True, slots=True)
class _Codes:
    codes: tuple[str, ...]
    code_set: frozenset[str]
    symptoms: bool = False  # symptoms (words not understood may be one), not findings


def _codes_any(sit: Situation, spec: _Codes) -> _Result:
    if not spec.code_set.isdisjoint(sit.present):
        return "held", None, _codes_present, spec, None
    if not spec.symptoms and any(sit.felt_as.get(c) in sit.present for c in spec.codes):
        return "held", None, _codes_felt, spec, None
    if any(not specific.isdisjoint(spec.code_set) for _, specific in sit.present_general):
        return "unknown", None, _codes_general, spec, None
    if spec.symptoms and sit.unread:
        return "unknown", None, _codes_unread, spec, None
    # A symptom or finding that defines a scenario is stated when present: unsaid means absent.
    return "failed", None, _codes_absent, spec, None


def _codes_present(sit: Situation, spec: _Codes, _found: None) -> str:
    p = sit.profile
    return ", ".join(sit.labels(c) + (_quote(p, f"symptoms:{c}") or _quote(p, f"findings:{c}"))
                     for c in spec.codes if c in sit.present)


def _codes_felt(sit: Situation, spec: _Codes, _found: None) -> str:
    p = sit.profile
    return ", ".join(f"{sit.labels(c)}: {sit.labels(sign)} felt{_quote(p, f'symptoms:{sign}')}"
                     for c in spec.codes if (sign := sit.felt_as.get(c)) in sit.present)


def _codes_general(sit: Situation, spec: _Codes, _found: None) -> str:
    general = [c for c, specific in sit.present_general if not specific.isdisjoint(spec.code_set)]
    return (f"{', '.join(sit.labels(c) for c in general)} is said, not which kind "
            f"({_words([sit.labels(c) for c in spec.codes])})")


def _codes_unread(sit: Situation, spec: _Codes, _found: None) -> str:
    return (f"not known whether the words not understood ({_unread(sit)}) are "
            f"{_words([sit.labels(c) for c in spec.codes])}")


def _codes_absent(sit: Situation, spec: _Codes, _found: None) -> str:
    denied = " (denied)" if any(sit.profile.denied(c) for c in spec.codes) else " mentioned"
    return f"no {_words([sit.labels(c) for c in spec.codes])}{denied}"


def _unread(sit: Situation) -> str:
    return ", ".join(f'"{w}"' for w in sit.unread)


def _codes_none(sit: Situation, spec: _Codes) -> _Result:
    if not spec.code_set.isdisjoint(sit.present):
        return "failed", 0.0, _codes_already, spec, None
    if any(not specific.isdisjoint(spec.code_set) for _, specific in sit.present_general):
        # "the result is not in the chart": it may be one of these, or not
        return "unknown", None, _codes_general, spec, None
    return "held", 0.0, _codes_none_words, spec, None


def _codes_already(sit: Situation, spec: _Codes, _found: None) -> str:
    return "already has " + ", ".join(sit.labels(c) for c in spec.codes if c in sit.present)


def _codes_none_words(sit: Situation, spec: _Codes, _found: None) -> str:
    return f"no {_words([sit.labels(c) for c in spec.codes])} mentioned"


def _asymptomatic(sit: Situation, wanted: bool) -> _Result:
    p = sit.profile
    if p.symptoms:
        return ("failed" if wanted else "held"), None, _symptoms_present, wanted, None
    if sit.unread:
        return "unknown", None, _symptoms_unread, wanted, None
    if p.asymptomatic or p.denied_symptoms:
        return ("held" if wanted else "failed"), None, _no_symptoms, wanted, None
    return "unknown", None, _fixed, wanted, "not stated whether there are symptoms"


def _symptoms_present(sit: Situation, _wanted: bool, _found: None) -> str:
    return "symptoms present: " + ", ".join(sit.labels(c) for c in sit.profile.symptoms)


def _symptoms_unread(sit: Situation, _wanted: bool, _found: None) -> str:
    return f"not known whether there are symptoms: words not understood ({_unread(sit)})"


def _no_symptoms(sit: Situation, _wanted: bool, _found: None) -> str:
    p = sit.profile
    shown = ", ".join(sit.labels(c) for c in p.denied_symptoms)
    return "no symptoms" + (_quote(p, "asymptomatic") or f" (denies {shown})")


@dataclass(frozen=True, slots=True)
class _Stated:
    """A fact that is stated when it applies (an operation, implants, neoadjuvant therapy)."""

    choice: _Choice
    mention: str  # the evidence key that says it is mentioned at all
    absent: str  # the reason when it is not


def _stated(sit: Situation, spec: _Stated) -> _Result:
    """With no value and no mention of the fact, the constraint fails: "not mentioned" is not
    evidence of an operation."""
    if spec.choice.value(sit) is None and spec.mention not in sit.profile.evidence:
        return "failed", None, _fixed, spec, spec.absent
    return _choice(sit, spec.choice)


@dataclass(frozen=True, slots=True)
class _Without:
    excluded: frozenset[str]
    needs: str  # the operations excluded, in words


def _surgery_none(sit: Situation, spec: _Without) -> _Result:
    p = sit.profile
    if p.surgery in spec.excluded:
        return "failed", None, _had_surgery, spec, None
    if p.surgery is None and "surgery" in p.evidence:
        # An operation of unstated kind ("had chest surgery"): it may be the one excluded.
        return "unknown", None, _surgery_unknown, spec, None
    return "held", 0.0, _surgery_shown, spec, None


def _had_surgery(sit: Situation, _spec: _Without, _found: None) -> str:
    p = sit.profile
    return f"had {(p.surgery or '').replace('_', ' ')}{_quote(p, 'surgery')}"


def _surgery_unknown(sit: Situation, spec: _Without, _found: None) -> str:
    return f"kind of surgery not known (needs no {spec.needs}){_quote(sit.profile, 'surgery')}"


def _surgery_shown(sit: Situation, _spec: _Without, _found: None) -> str:
    p = sit.profile
    return f"surgery: {p.surgery.replace('_', ' ') if p.surgery else 'none mentioned'}"


@dataclass(frozen=True, slots=True)
class _Population:
    choice: _Choice
    trans_only: bool  # only for transgender patients
    female: bool


def _population(sit: Situation, spec: _Population) -> _Result:
    return _population_is(spec, sit.population)


def _population_is(spec: _Population, population: str | None) -> _Result:
    """The check on the patient's population alone (the gender identity when one is stated,
    else the sex), so the engine's index can decide it before any patient is checked."""
    if population not in _GENDERS and spec.trans_only:
        # A variant only for transgender patients: a gender identity is stated when it applies.
        return "failed", None, _fixed, spec, "no transgender history mentioned"
    if population is None:
        # Sex not stated: male sex and a transgender history are stated when they apply (as
        # for a variant that needs a surgery), so the patient is read as a woman, and said.
        if spec.female:
            return "held", 0.0, _fixed, spec, "sex not stated: read as female"
        return "failed", None, _fixed, spec, "no male sex mentioned"
    choice = spec.choice
    if population in choice.allowed:
        return "held", None, _choice_held, choice, population
    return "failed", None, _choice_failed, choice, population


#: Gender identities (a population that is one says a gender was stated; else it is the sex).
_GENDERS: frozenset[str] = frozenset(get_args(Gender))


# --- compiling ----------------------------------------------------------------------------

def _p(name: str) -> Callable[[Situation], Any]:
    """Reads a profile field."""
    return attrgetter(f"profile.{name}")


#: The constraints the engine's index decides from the question's phase and purpose and the
#: patient's population, before any other check (``Compiled.may_fit``).
INDEXED: tuple[str, ...] = ("phase", "purpose", "population")

#: The constraints that most often fail once phase, purpose and population fit (counted on the
#: bundled scenario sets), tested in this order when only a yes or no is wanted.
_REJECTS_FIRST: dict[str, int] = {name: i for i, name in enumerate((
    "age", "symptoms", "findings", "surgery", "asymptomatic", "implant", "pregnant",
    "neoadjuvant", "nodal_status", "stage"))}

#: How many times conditions were compiled in this process: the engine compiles each
#: variant's once per knowledge base (a test checks that assessing does not compile again).
compilations = 0

_Step = tuple[str, Callable[[Situation, Any], _Result], object, float]


class Compiled:
    """A set of conditions turned into checks once: for each constraint present, its check
    function and what it needs worked out in advance (values as sets, fixed words, how to
    read the fact). Checking is then a loop over the constraints, in the field order of
    Conditions; reasons are worded only when read.

    Plain data and module-level functions only, so a knowledge base holding these pickles.
    """

    __slots__ = ("conditions", "phases", "purposes", "population", "checks", "refinements")

    def __init__(self, cond: Conditions) -> None:
        global compilations
        compilations += 1
        self.conditions = cond
        #: The phases and purposes this applies to (None: no constraint), for indexing.
        self.phases: frozenset[str] | None = None if cond.phase is None else frozenset(cond.phase)
        self.purposes: frozenset[str] | None = (None if cond.purpose is None
                                                else frozenset(cond.purpose))
        self.population: _Population | None = None
        steps: list[_Step] = []

        def add(name: str, check: Callable[[Situation, Any], _Result], spec: object) -> None:
            steps.append((name, check, spec, WEIGHTS.get(name, 1.0)))

        def codes(values: Sequence[str], symptoms: bool = False) -> _Codes:
            return _Codes(tuple(values), frozenset(values), symptoms)

        c = cond
        if c.phase is not None:
            add("phase", _choice, _Choice.of("phase", c.phase, attrgetter("indication.phase"),
                                             ("phase",), on_indication=True))
        if c.purpose is not None:
            add("purpose", _purpose, _Choice.of("purpose", c.purpose, attrgetter("indication.purpose"),
                                                ("purpose",), on_indication=True))
        if c.stage is not None:
            span = f"{c.stage[0]}–{c.stage[-1]}" if len(c.stage) > 1 else c.stage[0]
            add("stage", _stage, _Stages(frozenset(c.stage), span))
        if c.subtype is not None:
            add("subtype", _choice, _Choice.of("receptor subtype", c.subtype, attrgetter("subtype"),
                                               words=_SUBTYPE_WORDS))
        if c.histology is not None:
            add("histology", _choice, _Choice.of("histology", c.histology, _p("histology"),
                                                 ("histology",)))
        if c.invasive is not None:
            add("invasive", _flag, _Flag("invasive cancer", c.invasive, attrgetter("invasive"),
                                         "histology"))
        if c.population is not None:
            self.population = _Population(
                _Choice.of("patient", c.population, attrgetter("population"), ("gender", "sex")),
                not _CIS & set(c.population), "female" in c.population)
            add("population", _population, self.population)
        if c.age is not None:
            add("age", _within, _Span.of("age", c.age, " years", _p("age"), "age"))
        if c.pregnant is not None:
            add("pregnant", _flag, _Flag("pregnant", c.pregnant, _p("pregnant"), "pregnant", True))
        if c.lactating is not None:
            add("lactating", _flag, _Flag("breastfeeding", c.lactating, _p("lactating"),
                                          "lactating", True))
        if c.symptoms_any is not None:
            add("symptoms", _codes_any, codes(c.symptoms_any, symptoms=True))
        if c.findings_any is not None:
            add("findings", _codes_any, codes(c.findings_any))
        if c.none_present is not None:
            add("none_present", _codes_none, codes(c.none_present))
        if c.asymptomatic is not None:
            add("asymptomatic", _asymptomatic, c.asymptomatic)
        if c.surgery is not None:
            add("surgery", _stated, _Stated(_Choice.of("surgery", c.surgery, _p("surgery"), ("surgery",)),
                                            "surgery", "no breast surgery mentioned"))
        if c.surgery_none is not None:
            add("surgery_none", _surgery_none, _Without(
                frozenset(c.surgery_none), _or(c.surgery_none, lambda v: v.replace("_", " "))))
        if c.reconstruction is not None:
            add("reconstruction", _reconstruction, _Choice.of("reconstruction", c.reconstruction,
                                                      _p("reconstruction"), ("reconstruction",)))
        if c.implant is not None:
            add("implant", _stated, _Stated(
                _Choice.of("implant type", c.implant, _p("implant"), ("implant",)),
                "implant", "no breast implants mentioned"))
        if c.implant_years is not None:
            add("implant_years", _within, _Span.of("years since implant placement", c.implant_years,
                                                 "", _p("implant_years"), "implant_years"))
        if c.cancer_history is not None:
            add("cancer_history", _stated_flag, _Flag("personal history of breast cancer",
                                               c.cancer_history, _p("cancer_history"),
                                               "cancer_history"))
        if c.risk is not None:
            add("risk", _risk, _Choice.of("risk", c.risk, _p("risk"), ("risk",)))
        if c.nodal_status is not None:
            add("nodal_status", _choice, _Choice.of("clinical nodal status", c.nodal_status,
                                                    _p("nodal_status"), ("nodal_status", "n")))
        if c.tumor_size_mm is not None:
            add("tumor_size_mm", _within, _Span.of("tumor size", c.tumor_size_mm, " mm",
                                                 _p("tumor_size_mm"), "tumor_size_mm"))
        if c.hormone_use_years is not None:
            add("hormone_use_years", _within, _Span.of("years of hormone use", c.hormone_use_years,
                                                     "", _p("hormone_use_years"), "hormone_use_years"))
        if c.neoadjuvant is not None:
            add("neoadjuvant", _stated, _Stated(
                _Choice.of("neoadjuvant therapy", c.neoadjuvant, _p("neoadjuvant"), ("neoadjuvant",)),
                "neoadjuvant_mention", "no neoadjuvant therapy mentioned"))
        self.checks: tuple[_Step, ...] = tuple(steps)
        #: The checks the knowledge base's index does not decide (see ``may_fit``), those that
        #: most often rule a variant out first: the order of a rejection changes nothing.
        self.refinements = tuple(sorted((step for step in steps if step[0] not in INDEXED),
                                        key=lambda step: _REJECTS_FIRST.get(step[0], len(_REJECTS_FIRST))))

    def may_fit(self, phase: str, purpose: str | None, population: str | None) -> bool:
        """Whether a question of this phase and purpose, for a patient of this population
        (None: not known), can fit at all: the constraints in ``INDEXED``, decided once per
        value when the knowledge base's index is built. The rest is decided by checking."""
        if self.phases is None or phase not in self.phases:
            return False
        if self.purposes is not None and purpose is not None and \
                not _purpose_satisfies(purpose, self.purposes):
            return False
        return self.population is None or _population_is(self.population, population)[0] != "failed"

    def evaluate(self, sit: Situation, *, stop_at_failure: bool = False) -> list[Check]:
        """Check every constraint; the order follows the fields of Conditions.

        With ``stop_at_failure`` the list ends at the first failed check: matching drops such
        a variant anyway.
        """
        out: list[Check] = []
        for name, check, spec, weight in self.checks:
            status, w, words, wspec, found = check(sit, spec)
            out.append(_new(Check, (name, status, weight if w is None else w, words, sit, wspec, found)))
            if stop_at_failure and status == "failed":
                break
        return out

    def fits(self, sit: Situation, *, indexed: bool = False) -> list[Check] | None:
        """The checks of a candidate (the phase held and nothing failed), else None.

        Most variants checked fail, so the statuses are tested first and the checks of a
        survivor are made after. ``indexed``: the variant came from the knowledge base's index
        for this situation, so the constraints in ``INDEXED`` are known not to fail.
        """
        for _, check, spec, _ in (self.refinements if indexed else self.checks):
            if check(sit, spec)[0] == "failed":
                return None
        out = self.evaluate(sit)
        return out if out and out[0].field == "phase" and out[0].status == "held" else None


#: Checks are made in the engine's inner loop: built as the tuples they are, skipping the
#: keyword handling of the generated constructor.
_new = tuple.__new__


def compile_conditions(cond: Conditions) -> Compiled:
    """``cond`` as checks (see :class:`Compiled`). The engine does this once per variant, when
    the knowledge base's index is built (``Topic.compiled``)."""
    return Compiled(cond)


def evaluate(cond: Conditions, sit: Situation, *, stop_at_failure: bool = False) -> list[Check]:
    """Check every constraint in ``cond``; the order follows the fields of Conditions.

    This compiles ``cond`` for one use; the engine checks variants through the compiled
    conditions the knowledge base keeps (``Topic.compiled``).
    With ``stop_at_failure`` the list ends at the first failed check: matching drops such a
    variant anyway, and phase, checked first, rules most variants out.
    """
    return Compiled(cond).evaluate(sit, stop_at_failure=stop_at_failure)


# --- describing conditions in words -------------------------------------------------------

_PHASE_WORDS: dict[str, str] = {
    "screening": "screening without symptoms",
    "diagnostic_workup": "work-up of a symptom or finding",
    "new_diagnosis": "newly diagnosed",
    "neoadjuvant": "neoadjuvant (pre-operative) therapy",
    "surveillance": "routine follow-up after treatment",
    "suspected_recurrence": "suspected recurrence",
}
_PURPOSE_WORDS: dict[str, str] = {
    "locoregional": "extent in the breast and regional nodes (locoregional)",
    "axilla": "the axillary lymph nodes",
    "distant": "distant spread (metastases)",
}
_SUBTYPE_WORDS: dict[str, str] = {
    "er_pos_her2_neg": "ER+/HER2−",
    "her2_pos": "HER2+",
    "triple_negative": "triple negative",
    "er_neg_pr_pos_her2_neg": "ER−/PR+/HER2−",
}
_HISTOLOGY_WORDS: dict[str, str] = {
    "ductal": "invasive ductal", "lobular": "invasive lobular", "mixed": "mixed ductal-lobular",
    "dcis": "DCIS", "other": "another invasive type",
}
_POPULATION_WORDS: dict[str, str] = {
    "female": "female", "male": "male",
    "transfeminine": "transfeminine (male-to-female)",
    "transmasculine": "transmasculine (female-to-male)",
}
_RECONSTRUCTION_WORDS: dict[str, str] = {
    "none": "no reconstruction", "autologous": "reconstruction with the patient's own tissue",
    "implant": "implant reconstruction",
}
_NEOADJUVANT_WORDS: dict[str, str] = {
    "planned": "before neoadjuvant therapy starts", "ongoing": "during neoadjuvant therapy",
    "completed": "after neoadjuvant therapy is completed",
}


def _or(values: Sequence[str], words: dict[str, str] | Callable[[str], str]) -> str:
    say = words.get if isinstance(words, dict) else words
    return _words([say(v) or v for v in values])


def _span(stages: Sequence[str]) -> str:
    return f"{stages[0]}–{stages[-1]}" if len(stages) > 1 else stages[0]


def _amount(rng: Range, unit: str) -> str:
    """'40 or older', 'under 30', '30 to 39' for ages; '5 years or more' for durations."""
    if rng.ge is not None and rng.lt is not None and not unit:
        return f"{rng.ge:g} to {rng.lt - 1:g}"
    if rng.ge is not None and rng.lt is None and rng.le is None:
        return f"{rng.ge:g}{unit} or {'more' if unit else 'older'}"
    if rng.lt is not None and rng.ge is None and rng.gt is None:
        return f"under {rng.lt:g}{unit}"
    return rng.describe(unit)


def _size(rng: Range) -> str:
    if rng.le is not None and rng.gt is None and rng.ge is None:
        return f"tumor {rng.le / 10:g} cm or smaller"
    if rng.gt is not None and rng.le is None and rng.lt is None:
        return f"tumor larger than {rng.gt / 10:g} cm"
    return f"tumor size {rng.describe(' mm')}"


def _spaced(code: str) -> str:
    return code.replace("_", " ")


def _not_yet(codes: Sequence[str], say: Callable[[str], str]) -> list[str]:
    """A BI-RADS result means the patient is past initial imaging; other codes are named."""
    assessed = [c for c in codes if c.startswith("birads_") or c == "imaging_indeterminate"]
    rest = [c for c in codes if c not in assessed]
    out = ["initial imaging: no imaging assessment (BI-RADS) yet"] if assessed else []
    if rest:
        out.append("none of: " + _or(rest, say))
    return out


def describe(cond: Conditions, labels: Callable[[str], str] | None = None) -> list[str]:
    """Each constraint in ``cond`` as a short phrase a clinician can read, in field order.

    ``labels`` turns vocabulary codes (symptoms, findings) into words; without it the code is
    shown with spaces. Phrases say who a scenario is for, never how a patient was checked.
    """
    say = labels or _spaced
    plain = _spaced
    out: list[str] = []
    if cond.phase is not None:
        out.append(_or(cond.phase, _PHASE_WORDS))
    if cond.purpose is not None:
        out.append("imaging for " + _or(cond.purpose, _PURPOSE_WORDS))
    if cond.stage is not None:
        out.append(f"clinical stage {_span(cond.stage)}")
    if cond.subtype is not None:
        out.append(_or(cond.subtype, _SUBTYPE_WORDS))
    if cond.histology is not None:
        out.append(_or(cond.histology, _HISTOLOGY_WORDS) + " histology")
    if cond.invasive is not None:
        out.append("invasive cancer" if cond.invasive else "non-invasive cancer (DCIS)")
    if cond.population is not None:
        everyone = set(cond.population) == set(_POPULATION_WORDS)
        out.append("patients of any sex or gender" if everyone
                   else _or(cond.population, _POPULATION_WORDS) + " patients")
    if cond.age is not None:
        out.append("age " + _amount(cond.age, ""))
    if cond.pregnant is not None:
        out.append("pregnant" if cond.pregnant else "not pregnant")
    if cond.lactating is not None:
        out.append("breastfeeding" if cond.lactating else "not breastfeeding")
    if cond.symptoms_any is not None:
        out.append("with " + _or(cond.symptoms_any, say))
    if cond.findings_any is not None:
        out.append("earlier imaging showed " + _or(cond.findings_any, say))
    if cond.none_present is not None:
        out.extend(_not_yet(cond.none_present, say))
    if cond.asymptomatic is not None:
        out.append("no symptoms" if cond.asymptomatic else "with symptoms")
    if cond.surgery is not None:
        out.append("after " + _or(cond.surgery, plain))
    if cond.surgery_none is not None:
        if all("mastectomy" in s for s in cond.surgery_none):
            out.append("no mastectomy (the breast is in place)")
        else:
            out.append("no " + _or(cond.surgery_none, plain))
    if cond.reconstruction is not None:
        out.append(_or(cond.reconstruction, _RECONSTRUCTION_WORDS))
    if cond.implant is not None:
        out.append(_or(cond.implant, plain) + " implants")
    if cond.implant_years is not None:
        out.append("implants in place for " + _amount(cond.implant_years, " years"))
    if cond.cancer_history is not None:
        out.append("personal history of breast cancer" if cond.cancer_history
                   else "no personal history of breast cancer")
    if cond.risk is not None:
        out.append(_or(cond.risk, plain) + " lifetime risk")
    if cond.nodal_status is not None:
        out.append("clinically node-" + _or(cond.nodal_status, plain))
    if cond.tumor_size_mm is not None:
        out.append(_size(cond.tumor_size_mm))
    if cond.hormone_use_years is not None:
        out.append("hormone use for " + _amount(cond.hormone_use_years, " years"))
    if cond.neoadjuvant is not None:
        out.append(_or(cond.neoadjuvant, _NEOADJUVANT_WORDS))
    return out
