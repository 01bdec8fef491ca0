"""Staging: T, N, M, grade and receptors in; AJCC 8th edition stage groups out.

Which prognostic table applies
------------------------------
AJCC keeps two prognostic tables. The *clinical* one is for every patient, from
examination, imaging and biopsy before treatment; the *pathological* one is only for
patients whose first treatment was surgery. The T and N prefixes say which situation
the caller is in, so scanwise decides from them:

* ``p`` on T or N (``pT1c``, ``pN0(sn)``): pathological table only. A clinical N next to
  a pathological T (``pT1 cN0``) is still pathological staging, as in the chapter.
* ``c`` on T or N and no ``p``: clinical table only.
* ``y`` on T or N (``ypT2``, ``ycN1``): post-neoadjuvant. AJCC defines no prognostic stage
  group after neoadjuvant therapy, so only the anatomic stage is given, with a warning.
* no prefix at all (``T1c N0 M0``, the common way people ask): both tables are computed,
  because the caller has not said which applies and each answer is useful.
* ``r`` (recurrence) is read through the letter after it (``rpT2`` is pathological); a
  bare ``r`` counts as no prefix.

The M prefix never chooses the table: M0 is always a clinical finding, even in
pathological staging.

What is never done
------------------
No input is defaulted. A missing or unassessable T or N (TX, NX) gives no stage; a
missing grade, ER, PR or HER2 gives the anatomic stage only; an equivocal HER2 must be
settled by ISH first. Each of these adds a warning that names the input. Stage IV
needs only M1, and stage 0 only Tis N0 M0, exactly as the "Any" rows of the tables say.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from scanwise.domain.staging.errors import StagingError
from scanwise.domain.staging.parsing import (
    ParsedCategory,
    Receptor,
    parse_grade,
    parse_her2,
    parse_m,
    parse_n,
    parse_oncotype,
    parse_receptor,
    parse_t,
)
from scanwise.domain.staging.tables import StageGroup, StageTables

Basis = Literal["clinical", "pathological", "both", "post-neoadjuvant"]
_TABLES_FOR: dict[str, tuple[str, ...]] = {
    "both": ("clinical", "pathological"),
    "clinical": ("clinical",),
    "pathological": ("pathological",),
    "post-neoadjuvant": (),
}
EDITION = "AJCC Cancer Staging Manual, 8th edition, breast (revised tables, January 2018)"
MINUS = "\u2212"  # typographic minus, as the AJCC tables print receptor status


class StageResult(BaseModel):
    """Stage groups for one case, the normalized inputs, and what could not be decided."""

    anatomic: StageGroup | None = None
    clinical_prognostic: StageGroup | None = None
    pathological_prognostic: StageGroup | None = None
    warnings: list[str] = []
    t: str | None = None  # canonical category without prefix: "T1c"
    n: str | None = None  # "N1mi", "N0(i+)"
    m: str | None = None  # "M0", "M0(i+)", "M1"
    tnm: str = ""  # as written back in AJCC notation, prefixes kept: "pT1c pN0(sn) M0"
    grade: int | None = None
    er: Receptor | None = None
    pr: Receptor | None = None
    her2: Receptor | None = None
    oncotype: int | None = None
    oncotype_applied: bool = False
    basis: Basis = "both"
    edition: str = EDITION
    tables_version: str = ""

    def explain(self) -> str:
        """One readable line of inputs and stages, then any warnings, one per line."""
        grade = f"G{self.grade}" if self.grade is not None else "grade unknown"
        markers = marker_summary(self.er, self.pr, self.her2)
        clinical = _shown(self.clinical_prognostic, self.basis in ("pathological",))
        pathological = _shown(self.pathological_prognostic, self.basis in ("clinical",))
        if self.oncotype_applied:
            pathological += f" (Oncotype DX recurrence score {self.oncotype})"
        line = (
            f"{self.tnm}, {grade}, {markers}: anatomic {_shown(self.anatomic, False)}, "
            f"clinical prognostic {clinical}, pathological prognostic {pathological}"
        )
        return "\n".join([line, *(f"  - {w}" for w in self.warnings)])

    def to_dict(self) -> dict[str, object]:
        """JSON-ready: every field, plus the explanation text."""
        data = self.model_dump(mode="json")
        data["explanation"] = self.explain()
        return data


def marker_summary(er: str | None, pr: str | None, her2: str | None) -> str:
    """'ER+ PR+ HER2−', with '?' for unknown and 'HER2 equivocal' spelled out."""
    her2_text = "HER2 equivocal" if her2 == "equivocal" else _marker("HER2", her2)
    return f"{_marker('ER', er)} {_marker('PR', pr)} {her2_text}"


def _marker(name: str, value: str | None) -> str:
    if value is None:
        return f"{name}?"
    return f"{name}+" if value == "positive" else f"{name}{MINUS}"


def _shown(stage: str | None, not_applicable: bool) -> str:
    if stage is not None:
        return stage
    return "not applicable" if not_applicable else "not assigned"


def _read(value: str | None, field: str) -> ParsedCategory | None:
    """None or blank means "not given"; anything else must parse."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if field == "t":
        return parse_t(value)
    if field == "n":
        return parse_n(value)
    return parse_m(value)


def _basis(t: ParsedCategory | None, n: ParsedCategory | None) -> Basis:
    given = [c for c in (t, n) if c is not None]
    if any(c.is_post_neoadjuvant for c in given):
        return "post-neoadjuvant"
    if any(c.is_pathological for c in given):
        return "pathological"
    if any(c.is_clinical for c in given):
        return "clinical"
    return "both"


def _absent(axis: str, component: ParsedCategory | None) -> str | None:
    """Why T, N or M cannot be used, or None when it can."""
    if component is None:
        return f"{axis} is missing"
    if component.group is None:
        meaning = {
            "T": "primary tumour cannot be assessed",
            "N": "regional nodes cannot be assessed",
            "M": "AJCC 8th edition has no MX; distant metastasis status is unknown",
        }[axis]
        return f"{axis} is {component}, {meaning}"
    return None


def _no_group_reason(t: ParsedCategory, n: ParsedCategory) -> str:
    if t.is_post_neoadjuvant and t.group == "T0" and n.group == "N0":
        return (
            f"{t} {n}: complete pathological response after neoadjuvant therapy; AJCC assigns "
            "no stage group to it"
        )
    if t.group == "T0" and n.group == "N0":
        return f"{t} {n} M0 has no AJCC stage group: no primary tumour and no nodal disease"
    if t.group == "Tis":
        return (
            f"{t} with nodal disease ({n}) has no AJCC stage group; check whether an invasive "
            "component was missed"
        )
    return f"{t} {n} M0 has no AJCC stage group"  # pragma: no cover - tables cover the rest


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def stage(
    t: str | None,
    n: str | None,
    m: str | None,
    grade: int | str | None = None,
    er: str | None = None,
    pr: str | None = None,
    her2: str | None = None,
    oncotype: int | None = None,
    *,
    tables: StageTables,
) -> StageResult:
    """Stage one breast cancer by the AJCC 8th edition (January 2018 tables) in ``tables``
    (the loaded stage tables: ``KnowledgeBase.stage_tables``).

    Raises :class:`StagingError` for a value that cannot be read (``"T9"``, ``"maybe"``);
    returns a result with warnings for values that are readable but not enough to stage.
    """
    pt, pn, pm = _read(t, "t"), _read(n, "n"), _read(m, "m")
    g = parse_grade(grade)
    er_s, pr_s, her2_s = parse_receptor(er, "er"), parse_receptor(pr, "pr"), parse_her2(her2)
    rs = parse_oncotype(oncotype)
    warnings: list[str] = []
    basis = _basis(pt, pn)

    if pm is not None and pm.prefix == "p" and pm.group == "M0":
        warnings.append(f"{pm} is not an AJCC category (M0 is always clinical); read as cM0")

    t_group = pt.group if pt else None
    n_group = pn.group if pn else None
    m_group = pm.group if pm else None
    anatomic: StageGroup | None = None
    staged = False  # True once T, N and M are good enough for the tables
    if m_group is None:
        reasons = [r for r in (_absent("T", pt), _absent("N", pn), _absent("M", pm)) if r]
        warnings.append(f"No stage assigned: {'; '.join(reasons)}")
    elif m_group == "M1":
        anatomic, staged = tables.anatomic.lookup(None, None, "M1"), True
        for reason in (_absent("T", pt), _absent("N", pn)):
            if reason:
                warnings.append(f"{reason}; M1 alone makes this stage IV")
    else:
        reasons = [r for r in (_absent("T", pt), _absent("N", pn)) if r]
        if reasons:
            warnings.append(f"No stage assigned: {'; '.join(reasons)}")
        else:
            assert pt is not None and pn is not None and t_group and n_group
            anatomic = tables.anatomic.lookup(t_group, n_group, "M0")
            if anatomic is None:
                warnings.append(_no_group_reason(pt, pn))
            else:
                staged = True

    prognostic: dict[str, StageGroup | None] = {"clinical": None, "pathological": None}
    oncotype_applied = False
    wanted = _TABLES_FOR[basis]
    if basis == "post-neoadjuvant":
        warnings.append(
            "Post-neoadjuvant (y) staging: AJCC 8th edition defines no prognostic stage group "
            "after neoadjuvant therapy, so no prognostic stage is given (anatomic stage only)"
        )
    elif staged:
        assert m_group is not None
        missing = [
            name
            for name, value in (("grade", g), ("ER", er_s), ("PR", pr_s), ("HER2", her2_s))
            if value is None
        ]
        blocked: list[str] = []
        for which in wanted:
            index = tables.clinical if which == "clinical" else tables.pathological
            fixed = index.fixed(t_group, n_group, m_group)
            if fixed is not None:
                prognostic[which] = fixed
                continue
            assert t_group is not None and n_group is not None
            rule = index.genomic_rule(t_group, n_group)
            if (
                rule is not None
                and rs is not None
                and rs < rule.score_below
                and er_s == rule.er
                and her2_s == rule.her2
            ):
                prognostic[which], oncotype_applied = rule.stage, True
                continue
            if missing or her2_s == "equivocal":
                blocked.append(which)
                continue
            assert g is not None and er_s and pr_s and her2_s
            prognostic[which] = index.cell(
                t_group, n_group, g, her2_s == "positive", er_s == "positive", pr_s == "positive"
            )
        if blocked:
            unassigned = _join(blocked).capitalize() + " prognostic stage not assigned"
            if missing:
                warnings.append(
                    f"{unassigned}: {_missing_phrase(missing, _stated_unknown(grade))}. The AJCC "
                    "prognostic tables need grade, ER, PR and HER2; the anatomic stage is given "
                    "instead"
                )
            if her2_s == "equivocal":
                warnings.append(
                    f"{unassigned}: HER2 is equivocal. Resolve it by in situ hybridisation (ISH) "
                    "first; AJCC stages only a positive or negative HER2 result"
                )

    if rs is not None and not oncotype_applied:
        unused = _oncotype_unused(rs, basis, t_group, n_group, m_group, er_s, her2_s)
        if unused:
            warnings.append(unused)

    return StageResult(
        anatomic=anatomic,
        clinical_prognostic=prognostic["clinical"],
        pathological_prognostic=prognostic["pathological"],
        warnings=warnings,
        t=pt.category if pt else None,
        n=pn.category if pn else None,
        m=pm.category if pm else None,
        tnm=" ".join(
            str(c) if c is not None else f"{axis}?" for axis, c in (("T", pt), ("N", pn), ("M", pm))
        ),
        grade=g,
        er=er_s,
        pr=pr_s,
        her2=her2_s,
        oncotype=rs,
        oncotype_applied=oncotype_applied,
        basis=basis,
        tables_version=tables.version,
    )


def _missing_phrase(missing: list[str], grade_stated_unknown: bool) -> str:
    """'grade is GX (not assessable); ER and HER2 are missing'."""
    parts = []
    names = list(missing)
    if "grade" in names and grade_stated_unknown:
        names.remove("grade")
        parts.append("grade is GX (not assessable)")
    if names:
        parts.append(f"{_join(names)} {'is' if len(names) == 1 else 'are'} missing")
    return "; ".join(parts)


def _stated_unknown(grade: int | str | None) -> bool:
    return isinstance(grade, str) and bool(grade.strip())


def _oncotype_unused(
    rs: int,
    basis: Basis,
    t_group: str | None,
    n_group: str | None,
    m_group: str | None,
    er: str | None,
    her2: str | None,
) -> str | None:
    head = f"Oncotype DX recurrence score {rs} not used"
    if basis in ("clinical", "post-neoadjuvant"):
        return (
            f"{head}: it changes only the pathological prognostic stage, and this is "
            f"{basis} staging"
        )
    eligible = (
        t_group in ("T1", "T2") and n_group == "N0" and m_group == "M0"
        and er == "positive" and her2 == "negative"
    )
    if not eligible:
        return (
            f"{head}: the AJCC genomic rule covers only T1-T2 N0 M0, ER-positive, "
            "HER2-negative cancer"
        )
    return None  # eligible, but 11 or more: the grid stage stands, nothing to report


__all__ = ["EDITION", "StageResult", "StagingError", "marker_summary", "stage"]
