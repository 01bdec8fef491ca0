"""assess(profile, indication, kb) -> Assessment: the single truth every surface renders.

The engine checks every variant of every current guideline topic against the patient and
the question, keeps those whose conditions do not fail, and ranks them by how much of
their definition is known to hold. Ratings are copied from the knowledge base with their
source; nothing here rates a study. What is unknown is reported as missing, never
assumed; what competes is reported as ambiguity.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from dataclasses import field as computed
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from scanwise.domain.conditions import Check, Conditions, Situation, describe
from scanwise.domain.kb import CATEGORY_ORDER, RRL_BANDS, KnowledgeBase, Procedure, Topic, Variant
from scanwise.domain.profile import (
    STAGE_GROUPS,
    STAGE_SUBGROUPS,
    Indication,
    PatientProfile,
    StageGroup,
)
from scanwise.domain.staging import StageTables, StagingError, stage, t_from_size

#: A runner-up this close to the best match competes with it.
COMPETING_MARGIN = 1.0
MAX_MATCHES = 5


class RatedProcedure(BaseModel):
    # Frozen: the engine builds each procedure's row once per knowledge base and every
    # assessment that shows the variant shares it.
    model_config = ConfigDict(frozen=True)

    name: str
    category: str
    rrl: int | None
    rrl_msv: str | None
    rrl_symbols: str
    rrl_from: str | None
    rating: int | None
    soe: str | None
    verification: str
    source: str
    source_urls: list[str]
    asked: bool  # the question named this study


class StatementRef(BaseModel):
    """What another guideline body says where ACR ratings are missing: never an ACR rating."""

    # Frozen: built once per knowledge base and shared by every result that shows it.
    model_config = ConfigDict(frozen=True)

    id: str
    publisher: str
    document: str
    year: int | None
    currency: Literal["current", "old"]
    verification: Literal["primary", "secondary"]
    direction: Literal["recommended", "not recommended", "consider", "insufficient"]
    procedures: list[str]  # knowledge-base procedure names (or study labels) it concerns
    text: str  # in scanwise's own words
    url: str | None


class Match(BaseModel):
    source: Literal["ACR"] = "ACR"
    topic_id: int
    topic: str
    variant: int
    label: str | None
    status: str
    year: int | None
    why: list[str]  # conditions that held, with the words they rest on
    unknown: list[str]  # conditions that could not be checked
    score: float
    ratings_verified: bool
    ratings_complete: bool
    ratings_note: str | None
    procedures: list[RatedProcedure]  # best first
    unrated_procedures: list[str]
    source_urls: list[str]
    citation: str
    # Other guidelines' statements for this variant (shown where ACR ratings are missing).
    statements: list[StatementRef] = []
    # The licensed content pack that supplied this table ("name version"); None: bundled data.
    pack: str | None = None


class VariantRef(BaseModel):
    topic_id: int
    variant: int
    label: str | None


class Trigger(BaseModel):
    code: str
    label: str
    evidence: str | None


class RedFlagHit(BaseModel):
    id: str
    title: str
    triggered_by: list[Trigger]
    advice: str
    studies: list[str]
    points_to: list[VariantRef]
    sources: list[str]
    confidence: str


class Missing(BaseModel):
    field: str
    question: str
    decides: list[VariantRef]  # the variants whose fit depends on it


class UncoveredTopic(BaseModel):
    topic_id: int
    title: str
    why: list[str]
    note: str
    source_urls: list[str]
    # Other guidelines' statements on the topic as a whole (its ACR variants are not bundled).
    statements: list[StatementRef] = []


class StageInfo(BaseModel):
    groups: list[str]
    basis: str
    anatomic: str | None = None
    clinical_prognostic: str | None = None
    warnings: list[str] = []
    # When T is known and the nodes are not: the stage groups each clinical N would give.
    by_nodes: dict[str, list[str]] = {}


class Unread(BaseModel):
    """Clinical-looking words the reader could not place: shown, never silently dropped."""

    text: str
    start: int
    end: int


class Branch(BaseModel):
    """One answer to the deciding question, and the variant it leads to."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    if_: str = Field(alias="if", serialization_alias="if")  # e.g. "stage I–IIA"
    topic_id: int
    variant: int
    label: str | None = None
    # The stage groups this branch is for, when the branch is about the stage (else empty):
    # what the words in ``if`` say, as values, so no reader of the branch parses them again.
    stages: list[StageGroup] = []


class Decision(BaseModel):
    """The best candidates differ on a fact the input does not give: a branch, not a pick."""

    depends_on: str  # e.g. "clinical stage"
    question: str  # the question that decides it
    branches: list[Branch]


class Abstention(BaseModel):
    """No scenario is chosen: said plainly, with what is missing and the nearest scenarios.

    ``missing`` says, in words, what the nearest scenarios need that the input does not give
    (or contradicts); ``nearest`` are those scenarios. Never a pick: no ratings are shown.
    """

    reason: str
    missing: list[str]
    nearest: list[VariantRef] = []


class Assessment(BaseModel):
    kb_version: str
    profile: PatientProfile
    indication: Indication
    stage: StageInfo
    matches: list[Match]
    red_flags: list[RedFlagHit]
    missing: list[Missing]
    ambiguity: str | None
    # Set when a deciding fact is unknown: the result is then a branch, not a pick.
    decision: Decision | None = None
    unread: list[Unread] = []
    # Set when no variant is chosen in scope: what is missing, and the nearest scenarios.
    abstention: Abstention | None = None
    uncovered_topics: list[UncoveredTopic]
    statement: str
    notes: list[str]


# --- stage -------------------------------------------------------------------------------

def _stage_info(groups: list[str], basis: str, *, warnings: list[str] | None = None,
                by_nodes: dict[str, list[str]] | None = None, **known: str | None) -> StageInfo:
    # The empty list and dict are given, not left to the defaults: pydantic deep-copies a
    # mutable default for every instance, which costs more than the rest of the model.
    return StageInfo(groups=groups, basis=basis, warnings=warnings or [], by_nodes=by_nodes or {},
                     **known)


def work_out_stage(profile: PatientProfile, tables: StageTables) -> StageInfo:
    """The clinical stage group(s) the guideline split is checked against (by ``tables``,
    the knowledge base's ``stage_tables``)."""
    if profile.stage is not None:
        quote = profile.cite("stage")
        return _stage_info(groups=list(STAGE_SUBGROUPS.get(profile.stage, (profile.stage,))),
                         basis=f'stated "{quote}"' if quote else "stated")
    t, n, m = profile.t, profile.n, profile.m
    notes: list[str] = []
    if t is None and profile.tumor_size_mm is not None:
        t = "c" + t_from_size(profile.tumor_size_mm)
        notes.append(f"{t} from the {profile.tumor_size_mm:g} mm size")
    if n is None and profile.nodal_status is not None:
        # AJCC clinical N: movable ipsilateral level I-II nodes are cN1, fixed or matted cN2a.
        words = (profile.cite("nodal_status") or "").lower()
        if profile.nodal_status == "negative":
            n, why = "cN0", "cN0 from the clinically negative axilla"
        elif re.search(r"\b(matted|fixed)\b", words):
            n, why = "cN2a", f'cN2a from fixed or matted nodes ("{words}")'
        else:
            n, why = "cN1", f'cN1 from a palpable, movable axillary node ("{words}")'
        notes.append(why)
    if t is None:
        return _stage_info(groups=[], basis="")
    if m is None:
        m = "cM0"
        notes.append("M0 assumed: no distant spread is mentioned")
    if n is None:
        return _bounded_by_nodes(t, m, profile, notes, tables)
    try:
        result = stage(t, n, m, profile.grade, profile.er, profile.pr, profile.her2,
                       tables=tables)
    except StagingError as exc:
        return _stage_info(groups=[], basis="", warnings=[str(exc)])
    groups: list[str] = []
    for g in (result.anatomic, result.clinical_prognostic):
        if g is not None and g not in groups:
            groups.append(g)
    parts = [f"{result.t} {result.n} {result.m}"]
    if result.anatomic:
        parts.append(f"anatomic {result.anatomic}")
    if result.clinical_prognostic:
        parts.append(f"clinical prognostic {result.clinical_prognostic}")
    basis = "computed: " + ", ".join(parts) + ("; " + "; ".join(notes) if notes else "")
    return _stage_info(
        groups=groups,
        basis=basis,
        anatomic=result.anatomic,
        clinical_prognostic=result.clinical_prognostic,
        warnings=list(result.warnings),
    )


#: The clinical N categories a stage is bounded over when the nodes are not stated.
_N_OPTIONS: tuple[str, ...] = ("cN0", "cN1", "cN2a", "cN3")


def _bounded_by_nodes(t: str, m: str, profile: PatientProfile, notes: list[str],
                      tables: StageTables) -> StageInfo:
    """T known, nodes not: the stage groups every clinical N would give. A guideline split that
    all of them fall on one side of is decided; one they straddle is left to the nodes."""
    by_nodes: dict[str, list[str]] = {}
    for n in _N_OPTIONS:
        try:
            result = stage(t, n, m, profile.grade, profile.er, profile.pr, profile.her2,
                           tables=tables)
        except StagingError:
            return _stage_info(groups=[], basis="")
        got = [g for g in (result.anatomic, result.clinical_prognostic) if g is not None]
        by_nodes[n] = list(dict.fromkeys(got))
    groups = list(dict.fromkeys(g for gs in by_nodes.values() for g in gs))
    shown = ", ".join(f"{n} gives {' / '.join(gs)}" for n, gs in by_nodes.items())
    basis = (f"computed for {t} {m} with the nodes not stated: {shown}"
             + ("; " + "; ".join(notes) if notes else ""))
    return _stage_info(groups=groups, basis=basis, by_nodes=by_nodes)


# --- matching ----------------------------------------------------------------------------

@dataclass
class _Candidate:
    topic: Topic
    variant: Variant
    checks: list[Check]
    score: float = computed(init=False)
    unknowns: list[Check] = computed(init=False)

    def __post_init__(self) -> None:
        held = sum(c.weight for c in self.checks if c.status == "held")
        self.unknowns = [c for c in self.checks if c.status == "unknown"]
        self.score = held - 0.5 * sum(c.weight for c in self.unknowns)


def _candidates(kb: KnowledgeBase, sit: Situation, include_retired: bool) -> list[_Candidate]:
    """The variants whose conditions do not fail, best first. Only those the knowledge base's
    index holds for the question's phase and purpose and the patient's population can fit;
    each is checked through the conditions compiled when the index was built."""
    ind = sit.indication
    found: list[_Candidate] = []
    for topic, variant, compiled in kb.variants_for(ind.phase, ind.purpose, sit.population,
                                                    include_retired=include_retired):
        checks = compiled.fits(sit, indexed=True)
        if checks is not None:
            found.append(_Candidate(topic, variant, checks))
    found.sort(key=lambda c: (-c.score, len(c.unknowns), c.topic.status != "current",
                              c.topic.topic_id, c.variant.number))
    return found


def _uncovered(kb: KnowledgeBase, sit: Situation, cands: list[_Candidate],
               not_covered: str | None = None) -> list[UncoveredTopic]:
    """Current topics that fit but whose variants are not in the bundled data, or (where only
    part of a topic's variant list is) none of whose variants here fits, unless no current
    scenario addresses the patient's state at all (``not_covered``: that is the answer)."""
    out = []
    for topic in kb.uncovered_for(sit.indication.phase):
        if topic.variants and (not_covered or any(c.topic is topic for c in cands)):
            continue  # a variant of it fits (that one is shown), or the state is not covered
        checks = topic.compiled_applies_when.fits(sit)
        if checks is not None and any(c.status == "held" and c.field != "phase" for c in checks):
            which = ("its variants and ratings are" if not topic.variants else
                     "the variant for it is not among those found, so its ratings are")
            out.append(UncoveredTopic(
                topic_id=topic.topic_id,
                title=topic.title,
                why=[c.reason for c in checks if c.status == "held"],
                note=(f"ACR topic {topic.topic_id} ({topic.title}) covers this situation, but {which} "
                      "not in the bundled data. Check the ACR document."),
                source_urls=topic.source_urls,
                statements=[],  # filled by statements.annotate
            ))
    return out


def _rated(proc: Procedure, kb: KnowledgeBase, asked: bool) -> RatedProcedure:
    urls = [kb.sources[k].url for k in proc.source.split("+") if kb.sources[k].url]
    msv = proc.rrl_msv or (RRL_BANDS.get(proc.rrl) if proc.rrl is not None else None)
    return RatedProcedure(
        name=proc.name,
        category=proc.category,
        rrl=proc.rrl,
        rrl_msv=msv,
        rrl_symbols=proc.rrl_symbols,
        rrl_from=proc.rrl_from,
        rating=proc.rating,
        soe=proc.soe,
        verification=proc.verification,
        source=proc.source,
        source_urls=[u for u in urls if u],
        asked=asked,
    )


#: A variant's procedures as matches show them, best first: for each, its row when the
#: question did not name it, its row when it did, and its name in lower case.
_Rows = tuple[tuple[RatedProcedure, RatedProcedure, str], ...]


def _rated_rows(kb: KnowledgeBase) -> dict[int, _Rows]:
    """Every variant's rows, by the variant's identity, built once per knowledge base."""
    out: dict[int, _Rows] = {}
    for t in kb.topics:
        for v in t.variants:
            procs = sorted(v.procedures, key=lambda p: (CATEGORY_ORDER[p.category], -(p.rating or 0)))
            out[id(v)] = tuple((_rated(p, kb, False), _rated(p, kb, True), p.name.lower())
                               for p in procs)
    return out


def _match(c: _Candidate, kb: KnowledgeBase, asked_names: list[str]) -> Match:
    t, v = c.topic, c.variant
    rows = kb.derived(_rated_rows)[id(v)]
    asked = [a.lower() for a in asked_names]
    year = t.year
    citation = (f"American College of Radiology. ACR Appropriateness Criteria: {t.title}"
                f"{f' ({year})' if year else ''}. Topic {t.topic_id}, variant {v.number}.")
    return Match(
        topic_id=t.topic_id,
        topic=t.title,
        variant=v.number,
        label=v.label,
        status=t.status,
        year=year,
        why=[ch.reason for ch in c.checks if ch.status == "held"],
        unknown=[ch.reason for ch in c.unknowns],
        score=round(c.score, 2),
        ratings_verified=v.ratings.verified,
        ratings_complete=v.ratings.complete,
        ratings_note=v.ratings.note,
        procedures=[named if any(a in name for a in asked) else plain
                    for plain, named, name in rows] if asked else [plain for plain, _, _ in rows],
        unrated_procedures=v.unrated_procedures,
        source_urls=t.source_urls,
        citation=citation,
        statements=[],  # filled by statements.annotate; given here, not copied from the default
    )


def find_topic(kb: KnowledgeBase, topic_id: int) -> Topic:
    """A topic by its ACR id, whatever its status (current first, then retired, superseded)."""
    found = sorted((t for t in kb.topics if t.topic_id == topic_id),
                   key=lambda t: ("current", "retired", "superseded").index(t.status))
    if not found:
        raise KeyError(f"no ACR topic {topic_id}")
    return found[0]


def match_for(kb: KnowledgeBase, topic_id: int, variant: int) -> Match:
    """One variant as ``assess`` reports it, without a patient: the same rated procedures in
    the same order, with no ``why`` or ``unknown``. Articles build their tables from this so
    they cannot disagree with ``recommend``. Raises KeyError naming the missing topic or variant."""
    topic = find_topic(kb, topic_id)
    return _match(_Candidate(topic, topic.variant(variant), []), kb, [])


def _question(kb: KnowledgeBase, field: str) -> str:
    """The question that settles a fact (``knowledge/fields.yaml``)."""
    return kb.words(field).question or f"What is the {field.replace('_', ' ')}?"


#: Rivals this close to the best match are offered as branches when a deciding fact is unknown:
#: conditions that merely hold must not outrank a variant while the deciding one is open.
DECISION_MARGIN = 4.0
MAX_BRANCHES = 4
# A check's field name where it differs from the Conditions attribute it checks.
_CONDITION_OF: dict[str, str] = {"symptoms": "symptoms_any", "findings": "findings_any"}


def _constraint(c: _Candidate, field: str) -> object:
    return getattr(c.topic.conditions[c.variant.number], _CONDITION_OF.get(field, field), None)


#: What the question asks for decides last: facts about the patient come first.
_ASKED_LAST = {"purpose"}


def _branch_words(c: _Candidate, field: str, sit: Situation, stage: StageInfo) -> str:
    value = _constraint(c, field)
    words = describe(Conditions.model_validate({_CONDITION_OF.get(field, field): value}), sit.labels)
    said = "; ".join(words) or field.replace("_", " ")
    if field == "stage" and stage.by_nodes and isinstance(value, list):
        fits = [n for n, groups in stage.by_nodes.items() if groups and set(groups) <= set(value)]
        if fits:
            said += f" (if the nodes are {' or '.join(fits)})"
    return said


def _branch_stages(c: _Candidate, field: str) -> list[StageGroup]:
    """The stage groups a stage branch is for (its variant's condition), else none."""
    if field != "stage":
        return []
    return list(c.topic.conditions[c.variant.number].stage or [])


#: Conditions that ask about the same fact in two ways ("had a mastectomy" / "had no mastectomy";
#: "a BI-RADS 4 finding" / "no finding yet").
_SAME_FACT = {"surgery_none": "surgery", "none_present": "findings"}
#: A fact asked only once another is known: the kind of reconstruction only after a mastectomy.
#: While both are open, the prior one decides.
_ASKED_AFTER = {"reconstruction": {"surgery", "surgery_none"}}


def _asks(c: _Candidate, fact: str) -> tuple[str, object] | None:
    """The field and value a candidate asks of a fact it leaves unknown; None if it does not."""
    for u in c.unknowns:
        if _SAME_FACT.get(u.field, u.field) == fact and (value := _constraint(c, u.field)) is not None:
            return u.field, value
    return None


def _decision(kb: KnowledgeBase, cands: list[_Candidate], sit: Situation,
              stage: StageInfo) -> Decision | None:
    """A branch, not a pick: the best candidates differ on a condition whose value is unknown.

    For each fact the best match leaves unknown, the rivals within DECISION_MARGIN that also
    leave it unknown but ask a different value of it are its branches (two conditions on one
    fact, "surgery" and "surgery_none", are one fact); the fact with most branches decides.
    One branch per distinct value, best-scoring first.
    """
    if len(cands) < 2:
        return None
    best = cands[0]
    window = [c for c in cands[1:] if best.score - c.score < DECISION_MARGIN]
    open_fields = [ch.field for ch in best.unknowns]
    chosen: tuple[str, list[tuple[_Candidate, str]]] | None = None
    for field in sorted(open_fields, key=lambda f: f in _ASKED_LAST):
        if _ASKED_AFTER.get(field, set()) & set(open_fields):
            continue  # decided after the fact it depends on
        mine = _asks(best, _SAME_FACT.get(field, field))
        if mine is None or mine[0] != field:
            continue
        group, seen = [(best, field)], [mine]
        # Of the rivals asking one value, the one that agrees with the best on the other open
        # facts is the branch: it differs only in this one.
        def agreement(c: _Candidate, field: str = field) -> int:
            return sum(_constraint(c, f) == _constraint(best, f) for f in open_fields if f != field)
        for c in sorted(window, key=agreement, reverse=True):
            theirs = _asks(c, _SAME_FACT.get(field, field))
            if theirs is None or theirs in seen:
                continue
            group.append((c, theirs[0]))
            seen.append(theirs)
        if len(group) > 1 and (chosen is None or (len(group) > len(chosen[1])
                                                  and field not in _ASKED_LAST)):
            chosen = (field, group[:MAX_BRANCHES])
    if chosen is None:
        return None
    field, group = chosen
    fact = _SAME_FACT.get(field, field)
    question = _question(kb, fact)
    if field == "stage" and stage.by_nodes:
        question = _question(kb, "nodal_status") + f" The stage is bounded by the tumor: {stage.basis}."
    return Decision(
        depends_on=kb.words(fact).clinical or fact.replace("_", " "),
        question=question,
        branches=[Branch(**{"if": _branch_words(c, f, sit, stage)}, topic_id=c.topic.topic_id,
                         variant=c.variant.number, label=c.variant.label,
                         stages=_branch_stages(c, f)) for c, f in group],
    )


#: Facts that make a patient one a document is written for, with the conditions that address
#: each: a woman with implants and an armpit lump is the implant document's case before the
#: general one. (An operation is not one: most follow-up scenarios name it either way.)
_DEFINING_FACTS: dict[str, tuple[str, ...]] = {
    "implant": ("implant", "implant_years"), "pregnant": ("pregnant",), "lactating": ("lactating",),
    "gender": ("population",)}


def _addressing_first(cands: list[_Candidate], profile: PatientProfile) -> list[_Candidate]:
    """The variants of a topic that address a stated fact of the patient's (an implant, a
    pregnancy, a gender) lead over a best match that ignores it, when they fall
    behind it only by what is not known (so their own unknowns become the question): the
    general scenario is never picked silently over the one written for this patient."""
    if len(cands) < 2:
        return cands
    best = cands[0]
    def addresses(c: _Candidate, fact: str) -> bool:
        cond = c.topic.conditions[c.variant.number]
        return any(getattr(cond, name) is not None for name in _DEFINING_FACTS[fact])

    stated = [f for f in _DEFINING_FACTS if getattr(profile, f) not in (None, False)]
    ignored = [f for f in stated if not addresses(best, f)]
    if not ignored:
        return cands
    for c in cands[1:]:
        addressed = any(addresses(c, f) for f in ignored)
        # What it holds, its unknowns aside, is within the competing margin of the best.
        held = sum(ch.weight for ch in c.checks if ch.status == "held")
        if addressed and c.unknowns and best.score - held <= COMPETING_MARGIN:
            lead = [x for x in cands if x.topic is c.topic]
            return lead + [x for x in cands if x.topic is not c.topic]
    return cands


#: A routine phase, and the phase the same words would be if something new were found.
_ROUTINE_PHASES: dict[str, str] = {"screening": "diagnostic_workup", "surveillance": "suspected_recurrence"}


def _safety(kb: KnowledgeBase, sit: Situation, cands: list[_Candidate],
            include_retired: bool) -> tuple[list[_Candidate], Decision] | None:
    """Words the reader could not place may be a symptom: the screening or surveillance reading
    is then not chosen silently. The result depends on whether there is a new problem, and
    the symptomatic branch comes first."""
    phase = sit.indication.phase
    alt_ind = sit.indication.model_copy(update={"phase": _ROUTINE_PHASES[phase or ""]})
    # The symptomatic branch: a variant for a new problem, not one for no symptoms.
    alt_sit = replace(sit, indication=alt_ind)
    alt = [c for c in _candidates(kb, alt_sit, include_retired)
           if not c.topic.conditions[c.variant.number].asymptomatic]
    if not alt:
        return None
    words = ", ".join(f'"{w}"' for w in sit.unread)
    new = "there is a new symptom or finding"
    # The symptomatic side may itself turn on another unknown fact (the age, the kind of pain).
    inner = _decision(kb, alt, alt_sit, work_out_stage(sit.profile, kb.stage_tables))
    lead = [b for b in inner.branches[:MAX_BRANCHES - 1]] if inner else []
    branches = [Branch(**{"if": f"{new} and {b.if_}"}, topic_id=b.topic_id, variant=b.variant,
                       label=b.label, stages=b.stages) for b in lead] or \
        [Branch(**{"if": new}, topic_id=alt[0].topic.topic_id, variant=alt[0].variant.number,
                label=alt[0].variant.label)]
    alt_first = [c for b in branches for c in alt if (c.topic.topic_id, c.variant.number) ==
                 (b.topic_id, b.variant)]
    if cands:
        branches.append(Branch(**{"if": f"nothing new: routine {phase}"},
                               topic_id=cands[0].topic.topic_id, variant=cands[0].variant.number,
                               label=cands[0].variant.label))
    decision = Decision(
        depends_on="whether there is a new symptom or finding",
        question=(f"Is there a new symptom or finding? These words were not understood: {words}."
                  + (f" If so: {inner.question}" if inner else "")),
        branches=branches)
    return [*alt_first, *cands], decision


#: Findings that change nothing on their own: a negative or benign study.
_QUIET_FINDINGS = {"birads_1", "birads_2"}


def _accounted_for(kb: KnowledgeBase) -> dict[int, tuple[frozenset[str], frozenset[str]]]:
    """For each variant (by identity), built once per knowledge base: the values its conditions
    name, with the vocabulary's more specific and more general words for the codes among them,
    and the constraints it sets."""
    out: dict[int, tuple[frozenset[str], frozenset[str]]] = {}
    for t in kb.topics:
        for v in t.variants:
            cond = t.conditions[v.number].model_dump(exclude_none=True)
            named = {str(x) for val in cond.values() if isinstance(val, list) for x in val}
            for code in list(named):
                named.update(kb.narrower.get(code, []))
            named.update(broad for broad, kinds in kb.narrower.items() if named & set(kinds))
            out[id(v)] = (frozenset(named), frozenset(cond))
    return out


def _unaccounted(kb: KnowledgeBase, sit: Situation, best: _Candidate) -> list[str]:
    """What the patient has or asks that the chosen variant says nothing about. In a routine
    reading (screening, surveillance): a symptom or finding its conditions do not name, a
    pregnancy or breastfeeding it does not address. In any reading: a study asked about that
    no ACR scenario rates, when it is all that is asked. Any of these means the variant may
    not fit: say so, never pick silently."""
    p, out = sit.profile, []
    if sit.indication.phase in _ROUTINE_PHASES:
        named, constrained = kb.derived(_accounted_for)[id(best.variant)]
        out += [sit.labels(code) for code in [*p.symptoms, *p.findings]
                if code not in named and code not in _QUIET_FINDINGS]
        out += [words for flag, words in (("pregnant", "pregnancy"), ("lactating", "breastfeeding"))
                if getattr(p, flag) and flag not in constrained]
    asked = [code for code in sit.indication.asked_procedures if code in kb.terms]
    if asked and not any(kb.terms[code].procedure_names for code in asked):
        # Only studies no ACR scenario here rates are asked about ("a DEXA bone density scan").
        out += [f"{kb.terms[code].label} (no ACR scenario here rates it)" for code in asked]
    return out


def _overlapping(cands: list[_Candidate]) -> list[_Candidate]:
    """Variants of the best match's own topic that fit as fully as it does, neither's
    conditions narrower than the other's ("pregnant, 40 or older, any risk" beside "pregnant,
    25 or older, high risk" for a high-risk woman of 42): one document's scenarios overlap and
    its labels do not choose, so both are shown, never one silently. Across documents the more
    specific topic (implants, say) keeps the lead."""
    best = cands[0]
    if best.unknowns:
        return []
    mine = best.topic.conditions[best.variant.number]
    out = []
    for c in cands[1:]:
        if c.topic is not best.topic or c.unknowns or best.score - c.score >= DECISION_MARGIN:
            continue
        theirs = c.topic.conditions[c.variant.number]
        if not mine.at_least_as_narrow_as(theirs) and not theirs.at_least_as_narrow_as(mine):
            out.append(c)
    return out


def _missing(cands: list[_Candidate], competing: list[_Candidate], kb: KnowledgeBase) -> list[Missing]:
    """Unknown facts of the best match and of its rivals, each with what it decides."""
    scope = competing or cands[:1]
    decides: dict[str, list[VariantRef]] = {}
    for c in scope:
        for ch in c.unknowns:
            refs = decides.setdefault(ch.field, [])
            ref = VariantRef(topic_id=c.topic.topic_id, variant=c.variant.number,
                             label=c.variant.label)
            if ref not in refs:
                refs.append(ref)
    return [Missing(field=f, question=_question(kb, f), decides=refs) for f, refs in decides.items()]


def _red_flags(kb: KnowledgeBase, sit: Situation) -> list[RedFlagHit]:
    p, phase = sit.profile, sit.indication.phase
    hits = []
    for flag in kb.red_flags:
        if phase is not None and phase not in flag.phases:
            continue
        present = [code for code in flag.triggers if code in sit.present]
        if not present:
            continue
        hits.append(RedFlagHit(
            id=flag.id,
            title=flag.title,
            triggered_by=[Trigger(code=c, label=sit.labels(c),
                                  evidence=p.cite(f"symptoms:{c}") or p.cite(f"findings:{c}")
                                  or p.cite(f"labs:{c}"))
                          for c in present],
            advice=flag.advice,
            studies=flag.studies,
            points_to=[VariantRef(topic_id=t, variant=v, label=kb.topic(t).variant(v).label)
                       for t, v in flag.points_to],
            sources=flag.sources,
            confidence=flag.confidence,
        ))
    return hits


#: How many nearest scenarios an abstention names.
MAX_NEAREST = 3


#: States a scenario must address to fit: with one of them, a scenario silent on it is no answer.
_STATES: dict[str, str] = {"lactating": "breastfeeding", "pregnant": "pregnancy"}


def _state_not_covered(kb: KnowledgeBase, sit: Situation, cands: list[_Candidate]) -> str | None:
    """A state no current scenario addresses (breastfeeding, since topic 248 was retired): when
    none of the candidates is written for it but a retired topic's scenario was, the answer is
    that it is not covered, said plainly, never the routine scenario that ignores the state."""
    p = sit.profile
    for flag, words in _STATES.items():
        if getattr(p, flag) is not True or any(
                getattr(c.topic.conditions[c.variant.number], flag) is True for c in cands):
            continue
        for topic in kb.topics:
            if topic.status != "retired":
                continue
            for variant in topic.variants:
                cond = topic.conditions[variant.number]
                if getattr(cond, flag) is not True or cond.phase is None:
                    continue
                if topic.compiled[variant.number].fits(sit) is not None:
                    return (f"no current ACR scenario addresses {words}: the one that did (topic "
                            f"{topic.topic_id}, {topic.title}, variant {variant.number}) is retired, and "
                            f"the routine scenarios do not account for {words}")
    return None


def _abstain(kb: KnowledgeBase, sit: Situation, reason: str | None = None) -> Abstention:
    """No variant fits: the scenarios that come nearest (fewest conditions failed, the phase
    left aside while it is unknown) and what each lacks, so the reader sees what is missing
    rather than an empty answer."""
    ind = sit.indication
    scored: list[tuple[int, float, Topic, Variant, list[Check]]] = []
    for topic in kb.current_topics():
        for variant in topic.variants:
            cond = topic.conditions[variant.number]
            if cond.phase is None:
                continue
            checks = topic.compiled[variant.number].evaluate(sit)
            failed = [c for c in checks if c.status == "failed"]
            phase_unknown = any(c.field == "phase" and c.status == "unknown" for c in checks)
            if not failed and not phase_unknown:
                continue  # it fits: not a near miss
            held = sum(c.weight for c in checks if c.status == "held")
            scored.append((len(failed), -held, topic, variant, checks))
    scored.sort(key=lambda x: (x[0], x[1], x[2].topic_id, x[3].number))
    nearest = [x for x in scored if x[0] == scored[0][0]][:MAX_NEAREST] if scored else []
    missing: list[str] = []
    if ind.phase is None:
        missing.append("the clinical situation: " + _question(kb, "phase"))
    for _, _, topic, variant, checks in nearest:
        lacks = [c.reason for c in checks if c.status == "failed"]
        if lacks:
            missing.append(f"topic {topic.topic_id} variant {variant.number} needs what the text "
                           f"does not give: {'; '.join(lacks)}")
    if reason is not None:
        missing.insert(0, "a current scenario for this situation; ask the care team")
    reason = reason or ("the clinical situation is not clear from the text" if ind.phase is None
                        else "no scenario in the bundled ACR data fits")
    return Abstention(reason=reason, missing=missing,
                      nearest=[VariantRef(topic_id=t.topic_id, variant=v.number, label=v.label)
                               for _, _, t, v, _ in nearest])


def _statement(matches: list[Match], ind: Indication, uncovered: list[UncoveredTopic],
               ambiguity: str | None, flags: list[RedFlagHit], decision: Decision | None = None,
               abstention: Abstention | None = None) -> str:
    if not ind.in_scope:
        return ind.scope_note or "This question is outside what scanwise covers."
    if not matches:
        if uncovered:
            missing = (" What is missing: " + " | ".join(abstention.missing) + "."
                       if abstention and abstention.missing else "")
            return uncovered[0].note + missing
        lead = (f"No scenario fits: {abstention.reason}. scanwise does not guess an answer where "
                "the guidelines it holds are silent." if abstention else
                "No variant in the bundled ACR data fits this situation. scanwise does not guess "
                "an answer where the guidelines it holds are silent.")
        if abstention and abstention.missing:
            lead += " What is missing: " + " | ".join(abstention.missing) + "."
        return lead
    best = matches[0]
    if decision is not None and ambiguity:
        # A branch, not a pick: the statement says what it depends on, not a best fit.
        parts = [ambiguity]
        if flags:
            parts.append("Red flags present: " + ", ".join(f.title.lower() for f in flags)
                         + "; routine advice may not apply.")
        return " ".join(parts)
    lead = (f"Best fit: ACR {best.topic} (topic {best.topic_id}), variant {best.variant}: "
            f"{best.label or 'label not in the bundled data'}")
    parts = [lead]
    if not best.ratings_verified:
        parts.append("Its ratings are not in the bundled data; see the ACR document.")
    if ambiguity:
        parts.append(ambiguity)
    if flags:
        parts.append("Red flags present: " + ", ".join(f.title.lower() for f in flags)
                     + "; routine advice may not apply.")
    return " ".join(parts)


def assess(profile: PatientProfile, indication: Indication, kb: KnowledgeBase, *,
           include_retired: bool = False) -> Assessment:
    """Match the patient and question to guideline variants; see the module docstring."""
    stage = work_out_stage(profile, kb.stage_tables)
    sit = Situation(
        profile=profile,
        indication=indication,
        stages=[g for g in stage.groups if g in STAGE_GROUPS],
        stage_basis=stage.basis,
        labels=kb.label,
        unread=[u.text for u in indication.unread],
        narrower=kb.narrower,
        felt_as=kb.felt_as,
    )
    notes: list[str] = list(stage.warnings)
    if not indication.in_scope:
        return Assessment(
            kb_version=kb.version, profile=profile, indication=indication, stage=stage,
            matches=[], red_flags=[], missing=[], ambiguity=None, uncovered_topics=[],
            statement=_statement([], indication, [], None, []), notes=notes,
        )
    cands = _candidates(kb, sit, include_retired)
    not_covered = None if include_retired else _state_not_covered(kb, sit, cands)
    if not_covered:
        cands = []
    competing: list[_Candidate] = []
    ambiguity = None
    if len(cands) > 1 and cands[0].score - cands[1].score < COMPETING_MARGIN:
        competing = [c for c in cands if cands[0].score - c.score < COMPETING_MARGIN]
        names = ", ".join(f"topic {c.topic.topic_id} variant {c.variant.number}" for c in competing)
        deciding = sorted({kb.words(ch.field).clinical or ch.field.replace("_", " ")
                           for c in competing for ch in c.unknowns})
        ambiguity = (f"These scenarios fit about equally well: {names}."
                     + (f" What would decide: {', '.join(deciding)}." if deciding else ""))
    asked = [name for code in indication.asked_procedures
             for name in (kb.terms[code].procedure_names if code in kb.terms else [])]
    cands = _addressing_first(cands, profile)
    decision = _decision(kb, cands, sit, stage)
    if sit.unread and indication.phase in _ROUTINE_PHASES:
        cands, decision = _safety(kb, sit, cands, include_retired) or (cands, decision)
    if decision is not None:
        # The branches lead: each one's studies are in the matches, in branch order.
        order = [(b.topic_id, b.variant) for b in decision.branches]
        cands = sorted(cands, key=lambda c: order.index((c.topic.topic_id, c.variant.number))
                       if (c.topic.topic_id, c.variant.number) in order else len(order))
        competing = [c for c in cands[:len(order)]]
        ambiguity = (f"Depends on {decision.depends_on}: "
                     + "; ".join(f"if {b.if_}, topic {b.topic_id} variant {b.variant}"
                                 for b in decision.branches) + ". " + decision.question)
    uncovered = _uncovered(kb, sit, cands, not_covered)
    if cands and decision is None and ambiguity is None and (overlap := _overlapping(cands)):
        competing = [cands[0], *overlap]
        cands = competing + [c for c in cands if c not in competing]
        names = " and ".join(f"topic {c.topic.topic_id} variant {c.variant.number}" for c in competing)
        ambiguity = (f"Both fit: {names}. Each has a condition the other lacks, so the guideline's "
                     "scenarios overlap here; compare their ratings.")
    if cands and decision is None and ambiguity is None and (
            loose := _unaccounted(kb, sit, cands[0])):
        best = cands[0]
        ambiguity = (f"Topic {best.topic.topic_id} variant {best.variant.number} fits best, but it does "
                     f"not account for: {'; '.join(loose)}. It may not be the right scenario.")
    matches = [_match(c, kb, asked) for c in cands[:max(MAX_MATCHES, len(competing))]]
    flags = _red_flags(kb, sit)
    missing = _missing(cands, competing, kb) if cands else _missing_without_match(indication, kb)
    abstention = _abstain(kb, sit, not_covered) if not matches else None
    if profile.pregnant and matches and not any(
            "pregnan" in (m.label or "").lower() for m in matches[:1]):
        notes.append("The patient is pregnant, but the best-fitting guideline scenario does not "
                     "address pregnancy; studies using radiation or contrast need separate review.")
    return Assessment(
        kb_version=kb.version,
        profile=profile,
        indication=indication,
        stage=stage,
        matches=matches,
        red_flags=flags,
        missing=missing,
        ambiguity=ambiguity,
        decision=decision,
        unread=[Unread(text=u.text, start=u.start or 0, end=u.end or 0) for u in indication.unread],
        abstention=abstention,
        uncovered_topics=uncovered,
        statement=_statement(matches, indication, uncovered, ambiguity, flags, decision, abstention),
        notes=notes,
    )


def _missing_without_match(ind: Indication, kb: KnowledgeBase) -> list[Missing]:
    if ind.phase is None:
        return [Missing(field="phase", question=_question(kb, "phase"), decides=[])]
    return []


__all__ = ["Abstention", "Assessment", "Match", "RatedProcedure", "RedFlagHit", "StageGroup", "assess",
           "find_topic", "match_for",
           "t_from_size", "work_out_stage"]
