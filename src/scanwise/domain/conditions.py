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
from typing import Literal

from pydantic import BaseModel, ConfigDict, model_validator

from scanwise.domain.profile import (
    INVASIVE,
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

    def codes(self) -> set[str]:
        """Vocabulary codes this set of conditions refers to."""
        return (set(self.symptoms_any or []) | set(self.findings_any or [])
                | set(self.none_present or []))

    def merged(self, other: Conditions) -> Conditions:
        """Topic-wide conditions combined with a variant's own (the variant's win)."""
        data = self.model_dump(exclude_none=True)
        data.update(other.model_dump(exclude_none=True))
        return Conditions.model_validate(data)


@dataclass(frozen=True)
class Check:
    field: str
    status: Status
    reason: str
    weight: float


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


def _choice(name: str, value: str | None, allowed: Sequence[str], quote: str,
            satisfies: Callable[[str, Sequence[str]], bool] | None = None,
            words: dict[str, str] | None = None) -> tuple[Status, str]:
    label = name.replace("_", " ")
    def say(v: str) -> str:
        return (words or {}).get(v, v.replace("_", " "))

    if value is None:
        return "unknown", f"{label} not known (needs {_words([say(v) for v in allowed])})"
    ok = satisfies(value, allowed) if satisfies else value in allowed
    shown = say(value)
    if ok:
        return "held", f"{label}: {shown}{quote}"
    return "failed", f"{label} is {shown}{quote}, not {_words([say(v) for v in allowed])}"


def _flag(name: str, value: bool | None, wanted: bool, quote: str,
          absent_if_unsaid: bool = False) -> tuple[Status, str]:
    if value is None and absent_if_unsaid:
        # Facts that are always stated when they apply (a pregnancy, implants): unsaid is no.
        return ("held" if not wanted else "failed"), f"{name}: not mentioned, taken as no"
    if value is None:
        return "unknown", f"{name} not known"
    if value == wanted:
        return "held", f"{name}: {'yes' if value else 'no'}{quote}"
    return "failed", f"{name}: {'yes' if value else 'no'}{quote}"


def _range(name: str, value: float | None, rng: Range, unit: str, quote: str) -> tuple[Status, str]:
    if value is None:
        return "unknown", f"{name} not known (needs {rng.describe(unit)})"
    if rng.contains(value):
        return "held", f"{name} {value:g}{unit}{quote} is {rng.describe(unit)}"
    return "failed", f"{name} {value:g}{unit}{quote} is not {rng.describe(unit)}"


def _purpose_satisfies(value: str, allowed: Sequence[str]) -> bool:
    return value in allowed or (value == "axilla" and "locoregional" in allowed)


_CIS = {"female", "male"}


def _stage(sit: Situation, allowed: Sequence[StageGroup]) -> tuple[Status, str]:
    span = f"{allowed[0]}–{allowed[-1]}" if len(allowed) > 1 else allowed[0]
    if not sit.stages:
        return "unknown", f"clinical stage not known (needs {span}; give the stage or T, N and M)"
    inside = [s for s in sit.stages if s in allowed]
    shown = " / ".join(sit.stages)
    basis = f" ({sit.stage_basis})" if sit.stage_basis else ""
    if len(inside) == len(sit.stages):
        return "held", f"clinical stage {shown}{basis} is within {span}"
    if not inside:
        return "failed", f"clinical stage {shown}{basis} is outside {span}"
    return "unknown", (
        f"clinical stage could be {shown}{basis}: within {span} only for some of them"
    )


def _codes_any(sit: Situation, name: str, codes: Sequence[str]) -> tuple[Status, str]:
    p = sit.profile
    present = [c for c in codes if p.present(c)]
    if present:
        return "held", ", ".join(
            sit.labels(c) + (_quote(p, f"symptoms:{c}") or _quote(p, f"findings:{c}"))
            for c in present)
    general = [c for c, specific in sit.narrower.items() if p.present(c) and set(specific) & set(codes)]
    if general:
        return "unknown", (f"{', '.join(sit.labels(c) for c in general)} is said, not which kind "
                           f"({_words([sit.labels(c) for c in codes])})")
    if name == "symptoms" and sit.unread:
        return "unknown", (f"not known whether the words not understood ({_unread(sit)}) are "
                           f"{_words([sit.labels(c) for c in codes])}")
    # A symptom or finding that defines a scenario is stated when present: unsaid means absent.
    denied = " (denied)" if any(p.denied(c) for c in codes) else " mentioned"
    return "failed", f"no {_words([sit.labels(c) for c in codes])}{denied}"


def _unread(sit: Situation) -> str:
    return ", ".join(f'"{w}"' for w in sit.unread)


def _codes_none(sit: Situation, codes: Sequence[str]) -> tuple[Status, str]:
    present = [c for c in codes if sit.profile.present(c)]
    if present:
        return "failed", "already has " + ", ".join(sit.labels(c) for c in present)
    return "held", f"no {_words([sit.labels(c) for c in codes])} mentioned"


_ABOVE_AVERAGE = {"intermediate", "high"}


def _risk(p: PatientProfile, allowed: Sequence[Risk]) -> tuple[Status, str]:
    """The stated risk decides. Unstated, a first-degree relative's breast or ovarian cancer
    says the risk is above average but not whether intermediate or high: a variant for any
    above-average risk holds, one for average fails, one for a single level stays unknown."""
    if p.risk is not None or not p.first_degree_relative:
        return _choice("risk", p.risk, allowed, _quote(p, "risk"))
    quote = _quote(p, "first_degree_relative")
    if set(allowed) >= _ABOVE_AVERAGE:
        return "held", f"risk above average: a first-degree relative's cancer{quote}"
    if not _ABOVE_AVERAGE & set(allowed):
        return "failed", f"risk is above average (a first-degree relative's cancer{quote}), not average"
    return "unknown", (f"risk above average (a first-degree relative's cancer{quote}); whether "
                       f"{_words(list(allowed))} is not known")


def _asymptomatic(sit: Situation, wanted: bool) -> tuple[Status, str]:
    p = sit.profile
    if p.symptoms:
        shown = ", ".join(sit.labels(c) for c in p.symptoms)
        return ("failed" if wanted else "held"), f"symptoms present: {shown}"
    if sit.unread:
        return "unknown", f"not known whether there are symptoms: words not understood ({_unread(sit)})"
    if p.asymptomatic or p.denied_symptoms:
        shown = ", ".join(sit.labels(c) for c in p.denied_symptoms)
        quote = _quote(p, "asymptomatic")
        return ("held" if wanted else "failed"), "no symptoms" + (quote or f" (denies {shown})")
    return "unknown", "not stated whether there are symptoms"


class _Failed(Exception):
    """Raised to stop checking once a constraint fails, when the caller only needs fits."""


def evaluate(cond: Conditions, sit: Situation, *, stop_at_failure: bool = False) -> list[Check]:
    """Check every constraint in ``cond``; the order follows the fields of Conditions.

    With ``stop_at_failure`` the list ends at the first failed check: matching drops such a
    variant anyway, and phase, checked first, rules most variants out.
    """
    try:
        return _evaluate(cond, sit, stop_at_failure)
    except _Failed as stop:
        return stop.args[0]  # type: ignore[no-any-return]


def _evaluate(cond: Conditions, sit: Situation, stop_at_failure: bool) -> list[Check]:
    p, ind = sit.profile, sit.indication
    checks: list[Check] = []

    def add(name: str, result: tuple[Status, str], weight: float | None = None) -> None:
        checks.append(Check(name, result[0], result[1], WEIGHTS.get(name, 1.0) if weight is None else weight))
        if stop_at_failure and result[0] == "failed":
            raise _Failed(checks)

    if cond.phase is not None:
        add("phase", _choice("phase", ind.phase, cond.phase, _quote(ind, "phase")))
    if cond.purpose is not None:
        status, reason = _choice("purpose", ind.purpose, cond.purpose, _quote(ind, "purpose"),
                                 _purpose_satisfies)
        # An axilla question fits a locoregional variant, but less exactly than an axilla one.
        inexact = status == "held" and ind.purpose not in cond.purpose
        # An inexact fit counts for less than the exact one.
        add("purpose", (status, reason + (" (as part of locoregional)" if inexact else "")),
            1.0 if inexact else None)
    if cond.stage is not None:
        add("stage", _stage(sit, cond.stage))
    if cond.subtype is not None:
        add("subtype", _choice("receptor subtype", p.subtype, cond.subtype, "", words=_SUBTYPE_WORDS))
    if cond.histology is not None:
        add("histology", _choice("histology", p.histology, cond.histology,
                                 _quote(p, "histology")))
    if cond.invasive is not None:
        invasive = None if p.histology is None else p.histology in INVASIVE
        add("invasive", _flag("invasive cancer", invasive, cond.invasive, _quote(p, "histology")))
    if cond.population is not None:
        if p.gender is None and not _CIS & set(cond.population):
            # A variant only for transgender patients: a gender identity is stated when it applies.
            add("population", ("failed", "no transgender history mentioned"))
        elif p.population is None:
            # Sex not stated: male sex and a transgender history are stated when they apply (as
            # for a variant that needs a surgery), so the patient is read as a woman, and said.
            if "female" in cond.population:
                add("population", ("held", "sex not stated: read as female"), 0.0)
            else:
                add("population", ("failed", "no male sex mentioned"))
        else:
            add("population", _choice("patient", p.population, cond.population,
                                      _quote(p, "gender") or _quote(p, "sex")))
    if cond.age is not None:
        add("age", _range("age", p.age, cond.age, " years", _quote(p, "age")))
    if cond.pregnant is not None:
        add("pregnant", _flag("pregnant", p.pregnant, cond.pregnant, _quote(p, "pregnant"), True),
            0.0 if p.pregnant is None else None)
    if cond.lactating is not None:
        add("lactating", _flag("breastfeeding", p.lactating, cond.lactating,
                               _quote(p, "lactating"), True), 0.0 if p.lactating is None else None)
    if cond.symptoms_any is not None:
        add("symptoms", _codes_any(sit, "symptoms", cond.symptoms_any))
    if cond.findings_any is not None:
        add("findings", _codes_any(sit, "findings", cond.findings_any))
    if cond.none_present is not None:
        add("none_present", _codes_none(sit, cond.none_present), 0.0)
    if cond.asymptomatic is not None:
        add("asymptomatic", _asymptomatic(sit, cond.asymptomatic))
    if cond.surgery is not None:
        if p.surgery is None and "surgery" not in p.evidence:
            # An operation is stated when it was done: "not mentioned" is not evidence of one.
            add("surgery", ("failed", "no breast surgery mentioned"))
        else:
            add("surgery", _choice("surgery", p.surgery, cond.surgery, _quote(p, "surgery")))
    if cond.surgery_none is not None:
        if p.surgery in cond.surgery_none:
            done = p.surgery.replace("_", " ")
            add("surgery_none", ("failed", f"had {done}{_quote(p, 'surgery')}"))
        elif p.surgery is None and "surgery" in p.evidence:
            # An operation of unstated kind ("had chest surgery"): it may be the one excluded.
            add("surgery_none", ("unknown", f"kind of surgery not known (needs no "
                                            f"{_or(cond.surgery_none, lambda v: v.replace('_', ' '))})"
                                            f"{_quote(p, 'surgery')}"))
        else:
            shown = p.surgery.replace("_", " ") if p.surgery else "none mentioned"
            add("surgery_none", ("held", f"surgery: {shown}"), 0.0)
    if cond.reconstruction is not None:
        add("reconstruction", _choice("reconstruction", p.reconstruction, cond.reconstruction,
                                      _quote(p, "reconstruction")))
    if cond.implant is not None:
        if p.implant is None and "implant" not in p.evidence:
            add("implant", ("failed", "no breast implants mentioned"))
        else:
            add("implant", _choice("implant type", p.implant, cond.implant, _quote(p, "implant")))
    if cond.implant_years is not None:
        add("implant_years", _range("years since implant placement", p.implant_years,
                                    cond.implant_years, "", _quote(p, "implant_years")))
    if cond.cancer_history is not None:
        if cond.cancer_history and p.cancer_history is None:
            # A past breast cancer is stated when there was one: "not mentioned" is not evidence.
            add("cancer_history", ("failed", "no personal history of breast cancer mentioned"))
        else:
            add("cancer_history", _flag("personal history of breast cancer", p.cancer_history,
                                        cond.cancer_history, _quote(p, "cancer_history")))
    if cond.risk is not None:
        # A risk only inferred from a relative's cancer holds but does not outweigh a variant
        # for any risk that the stated facts fit as well ("43, pregnant, mother had breast cancer").
        risk = _risk(p, cond.risk)
        inferred = p.risk is None and bool(p.first_degree_relative) and risk[0] == "held"
        add("risk", risk, 0.0 if inferred else None)
    if cond.nodal_status is not None:
        add("nodal_status", _choice("clinical nodal status", p.nodal_status, cond.nodal_status,
                                    _quote(p, "nodal_status") or _quote(p, "n")))
    if cond.tumor_size_mm is not None:
        add("tumor_size_mm", _range("tumor size", p.tumor_size_mm, cond.tumor_size_mm, " mm",
                                    _quote(p, "tumor_size_mm")))
    if cond.hormone_use_years is not None:
        add("hormone_use_years", _range("years of hormone use", p.hormone_use_years,
                                        cond.hormone_use_years, "", _quote(p, "hormone_use_years")))
    if cond.neoadjuvant is not None:
        if p.neoadjuvant is None and "neoadjuvant_mention" not in p.evidence:
            add("neoadjuvant", ("failed", "no neoadjuvant therapy mentioned"))
        else:
            add("neoadjuvant", _choice("neoadjuvant therapy", p.neoadjuvant, cond.neoadjuvant,
                                       _quote(p, "neoadjuvant")))
    return checks


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
