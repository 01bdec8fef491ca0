"""Values for the short case at the top of an article, derived from a variant's conditions.

The case sentences themselves are fragments in the knowledge base (Jinja templates); this
module only supplies the facts they fill in: an age inside the variant's age band, a tumor
that sits in its stage range, the symptom or finding that defines it, and so on. Values are
picked to fit the conditions, so the case describes a patient the variant is written for.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from scanwise.domain.conditions import Conditions, Range

# A representative tumor for each clinical stage group: (size in cm, T, N, nodes on exam).
# The pairs are anatomic AJCC 8th groups; the case states the stage so no table is needed.
_STAGE_EXAMPLE: dict[str, tuple[float, str, str, str]] = {
    "0": (1.2, "cTis", "cN0", "no palpable axillary nodes"),
    "IA": (1.8, "cT1c", "cN0", "no palpable axillary nodes"),
    "IB": (0.8, "cT1b", "cN1mi", "no palpable axillary nodes"),
    "IIA": (2.8, "cT2", "cN0", "no palpable axillary nodes"),
    "IIB": (3.2, "cT2", "cN1", "a palpable, mobile axillary node"),
    "IIIA": (6.0, "cT3", "cN1", "a palpable, mobile axillary node"),
    "IIIB": (4.5, "cT4b", "cN1", "skin ulceration and a palpable, mobile axillary node"),
    "IIIC": (3.5, "cT2", "cN3c", "a palpable supraclavicular node"),
}
_PERSON: dict[str, tuple[str, str, str]] = {  # noun, subject pronoun, possessive
    "female": ("woman", "she", "her"),
    "male": ("man", "he", "his"),
    "transfeminine": ("transgender woman", "she", "her"),
    "transmasculine": ("transgender man", "he", "his"),
}
_SUBTYPE: dict[str, str] = {
    "er_pos_her2_neg": "ER-positive, HER2-negative",
    "her2_pos": "HER2-positive",
    "triple_negative": "triple-negative (ER, PR and HER2 negative)",
    "er_neg_pr_pos_her2_neg": "ER-negative, PR-positive, HER2-negative",
}
_HISTOLOGY: dict[str, str] = {
    "ductal": "invasive ductal carcinoma",
    "lobular": "invasive lobular carcinoma",
    "mixed": "mixed ductal and lobular carcinoma",
    "other": "invasive carcinoma",
    "dcis": "ductal carcinoma in situ",
}
_SURGERY: dict[str, str] = {
    "lumpectomy": "lumpectomy and whole-breast radiation",
    "mastectomy": "mastectomy",
    "bilateral_mastectomy": "bilateral mastectomy",
    "prophylactic_mastectomy": "bilateral prophylactic mastectomies",
    "reduction_mammoplasty": "breast reduction surgery",
}
_RECONSTRUCTION: dict[str, str] = {
    "none": "no reconstruction",
    "autologous": "reconstruction with her own tissue (a DIEP flap)",
    "implant": "implant reconstruction",
}
_RISK: dict[str, str] = {
    "average": "average risk",
    "intermediate": "intermediate risk (a personal history of atypia)",
    "high": "high risk (a BRCA1 mutation)",
}


def _age_in(rng: Range | None, default: int) -> int:
    if rng is None:
        return default
    low = rng.ge if rng.ge is not None else (rng.gt + 1 if rng.gt is not None else None)
    high = rng.lt if rng.lt is not None else (rng.le + 1 if rng.le is not None else None)
    if low is not None and high is not None:
        return int((low + high - 1) // 2)
    if low is not None:
        return int(max(low + 12, default) if low < default else low + 8)
    assert high is not None
    return int(high - 4)


def _years_in(rng: Range | None, default: float) -> float:
    if rng is None:
        return default
    if rng.ge is not None:
        return rng.ge + 3
    if rng.gt is not None:
        return rng.gt + 3
    if rng.lt is not None:
        return max(rng.lt - 2, 1)
    return default


_DEFAULT_AGE = {"screening": 50, "diagnostic_workup": 45, "new_diagnosis": 58,
                "neoadjuvant": 52, "surveillance": 62, "suspected_recurrence": 64}


def case_values(cond: Conditions, labels: Callable[[str], str]) -> dict[str, Any]:
    """The facts a case template may use; every value fits ``cond``."""
    phase = cond.phase[0] if cond.phase else "diagnostic_workup"
    default_age = min(_DEFAULT_AGE[p] for p in (cond.phase or [phase]))
    if cond.pregnant or cond.lactating:
        default_age = 31
    population = cond.population[0] if cond.population else "female"
    noun, pronoun, possessive = _PERSON[population]
    stage = (cond.stage or ["IA"])[0]
    if cond.stage and len(cond.stage) > 1 and cond.stage[0] == "IIB":
        stage = "IIIA"  # a clear late-stage example rather than the borderline IIB
    size_cm, t, n, nodes = _STAGE_EXAMPLE[stage]
    if cond.tumor_size_mm is not None:
        size_cm = 1.6 if cond.tumor_size_mm.contains(16) else 3.4
        nodes = ("no palpable axillary nodes" if cond.nodal_status == ["negative"]
                 else "a palpable, mobile axillary node")
    histology = _HISTOLOGY[(cond.histology or ["ductal"])[0]]
    subtype = cond.subtype[0] if cond.subtype else "er_pos_her2_neg"
    # The defining symptom leads; a lump reads most clearly when it is one of the choices.
    symptoms = sorted(cond.symptoms_any or [], key=lambda c: c != "palpable_mass")
    age = _age_in(cond.age, default_age)
    if cond.pregnant and cond.age is not None and cond.age.ge is not None:
        age = int(cond.age.ge) + 1  # pregnancy makes the low end of an open band typical
    findings = cond.findings_any or []
    return {
        "phase": phase,
        "age": age,
        "person": noun,
        "pronoun": pronoun,
        "possessive": possessive,
        "population": population,
        "stage": stage,
        "stage_group": stage.rstrip("ABC") or stage,  # "IIA" -> "II"
        "t": t,
        "n": n,
        "size_cm": f"{size_cm:g}",
        "nodes": nodes,
        "node_positive": (cond.nodal_status == ["positive"]
                          or (cond.nodal_status is None and n not in ("cN0", "cN1mi"))),
        "histology": histology,
        "subtype": _SUBTYPE[subtype],
        "subtype_code": subtype,
        "symptom": labels(symptoms[0]) if symptoms else "",
        "symptom_code": symptoms[0] if symptoms else "",
        "symptom_codes": list(symptoms),
        "finding": labels(findings[0]) if findings else "",
        "finding_code": findings[0] if findings else "",
        "surgery": _SURGERY[(cond.surgery or ["lumpectomy"])[0]],
        "surgery_code": (cond.surgery or ["lumpectomy"])[0],
        "reconstruction": _RECONSTRUCTION[(cond.reconstruction or ["none"])[0]],
        "reconstruction_code": (cond.reconstruction or ["none"])[0],
        "implant": (cond.implant or ["silicone"])[0],
        "implant_years": f"{_years_in(cond.implant_years, 8):g}",
        "risk": _RISK[(cond.risk or ["average"])[-1]],
        "risk_code": (cond.risk or ["average"])[-1],
        "hormone_years": f"{_years_in(cond.hormone_use_years, 6):g}",
        "neoadjuvant": cond.neoadjuvant[0] if cond.neoadjuvant else "",
        "pregnant": bool(cond.pregnant),
        "lactating": bool(cond.lactating),
    }
