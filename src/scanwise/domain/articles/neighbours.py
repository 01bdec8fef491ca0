"""Who an article does not cover and where to go instead, worked out from conditions.

Two variants are compared field by field. Where both constrain a field and no patient can
satisfy both (stage IA–IIA against IIB–IIIC), the field *separates* them. A variant that is
separated from this one by exactly one field is the place to go for patients who differ in
that field only: "clinical stage IIB–IIIC: see variants 4 or 5". A variant with nothing
separating it but extra constraints of its own (symptoms, pregnancy...) is narrower and
takes over for those patients. Red flags whose phases cover this variant add "with
symptoms of spread" with the variants they point to.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from scanwise.domain.conditions import Conditions, Range, describe
from scanwise.domain.kb import KnowledgeBase, Topic, Variant

from .model import Redirect, VariantLink

# Fields that set a scenario apart on their own; other extra fields (invasive, population)
# only narrow it.
_DEFINING = ("symptoms_any", "findings_any", "pregnant", "lactating", "implant", "neoadjuvant",
             "cancer_history", "nodal_status", "tumor_size_mm", "surgery")
_GENERIC = {"invasive", "population"}  # never worth naming in a link note
# Fields that only narrow a scenario already of the same kind (a stage range, an age band).
_REFINING = {"invasive", "stage", "subtype", "histology", "age", "risk", "nodal_status",
             "tumor_size_mm", "reconstruction", "implant_years", "hormone_use_years"}
MAX_LINKS = 8
MAX_GROUPS = 8
MAX_RELATED = 8


def article_path(topic_id: int, variant: int) -> str:
    return f"articles/acr-{topic_id}-v{variant}.html"


@dataclass(frozen=True)
class _Entry:
    topic: Topic
    variant: Variant
    cond: Conditions

    @property
    def key(self) -> tuple[int, int]:
        return (self.topic.topic_id, self.variant.number)


def _entries(kb: KnowledgeBase) -> Iterator[_Entry]:
    for topic in kb.topics:
        for v in topic.variants:
            yield _Entry(topic, v, topic.applies_when.merged(v.applies_when))


def _ranges_meet(a: Range, b: Range) -> bool:
    lo = max((x for x in (a.ge, a.gt, b.ge, b.gt) if x is not None), default=None)
    hi = min((x for x in (a.le, a.lt, b.le, b.lt) if x is not None), default=None)
    if lo is None or hi is None:
        return True
    open_end = any(x == lo for x in (a.gt, b.gt)) or any(x == hi for x in (a.lt, b.lt))
    return lo < hi or (lo == hi and not open_end)


def separating(a: Conditions, b: Conditions) -> list[str]:
    """Fields on which no patient can satisfy both ``a`` and ``b``."""
    out: list[str] = []
    for name in Conditions.model_fields:
        x, y = getattr(a, name), getattr(b, name)
        if x is None or y is None:
            continue
        if isinstance(x, list):
            if name in ("symptoms_any", "findings_any", "none_present", "surgery_none"):
                continue  # handled below: "any of" lists can both hold
            if not set(x) & set(y):
                out.append(name)
        elif isinstance(x, Range):
            if not _ranges_meet(x, y):
                out.append(name)
        elif x != y:
            out.append(name)
    # Pairs of fields that exclude each other.
    if (a.asymptomatic and b.symptoms_any) or (b.asymptomatic and a.symptoms_any):
        out.append("symptoms_any")
    for p, q in ((a, b), (b, a)):
        if p.none_present and q.findings_any and set(q.findings_any) <= set(p.none_present):
            out.append("findings_any")
        if p.surgery_none and q.surgery and set(q.surgery) <= set(p.surgery_none):
            out.append("surgery")
    return sorted(set(out))


def _extras(mine: Conditions, theirs: Conditions) -> list[str]:
    return [n for n in Conditions.model_fields
            if getattr(theirs, n) is not None and getattr(mine, n) is None]


def _only_narrows(mine: Conditions, theirs: Conditions, allowed: set[str]) -> bool:
    """``theirs`` adds nothing to ``mine`` but refinements, exclusions ("not pregnant", "no
    mastectomy") and the ``allowed`` fields: it is the same scenario for other patients."""
    for name in _extras(mine, theirs):
        value = getattr(theirs, name)
        if name in allowed or name in _REFINING or value is False or name in ("surgery_none",
                                                                             "none_present"):
            continue
        if name == "population" and "female" in value:
            continue
        return False
    return True


def _only(cond: Conditions, fields: list[str]) -> Conditions:
    return Conditions.model_validate({f: getattr(cond, f) for f in fields})


def _link(e: _Entry, note: str | None = None) -> VariantLink:
    return VariantLink(topic_id=e.topic.topic_id, variant=e.variant.number, label=e.variant.label,
                       path=article_path(*e.key), note=note or None)


def _notes(group: list[_Entry], skip: set[str],
           labels: Callable[[str], str]) -> list[str | None]:
    """What tells the members of a group apart: the fields on which they differ."""
    if len(group) == 1:
        return [None]
    fields = [n for n in Conditions.model_fields if n not in skip and n not in _GENERIC
              and len({repr(getattr(e.cond, n)) for e in group}) > 1]
    notes = []
    for e in group:
        words = [w for w in describe(_only(e.cond, fields), labels) if not w.startswith("none of")]
        notes.append("; ".join(words[:2]) or None)
    return notes


def _codes(c: Conditions) -> set[str]:
    return set(c.symptoms_any or []) | set(c.findings_any or [])


def _same_kind(a: Conditions, b: Conditions) -> bool:
    """Whether scenarios from different topics are about the same kind of problem: both
    about imaging for a purpose or both not, and sharing a presenting symptom or finding
    when either is defined by one (a lump compares with a lump, not with breast pain)."""
    if (a.purpose is None) != (b.purpose is None):
        return False
    mine, theirs = _codes(a), _codes(b)
    return not (mine or theirs) or bool(mine & theirs)


# A separating field whose value on the other variant lives in a companion field.
_COMPANION = {"symptoms_any": "asymptomatic", "findings_any": "none_present",
              "surgery": "surgery_none"}


def _who(e: _Entry, apart: list[str], labels: Callable[[str], str]) -> str:
    words = describe(_only(e.cond, apart), labels)
    if not words:
        words = describe(_only(e.cond, [_COMPANION[f] for f in apart if f in _COMPANION]), labels)
    return "; ".join(words) or ", ".join(apart).replace("_", " ")


def redirects(kb: KnowledgeBase, topic: Topic, variant: Variant,
              labels: Callable[[str], str]) -> tuple[list[Redirect], list[VariantLink]]:
    """(patients not covered and where they go, related scenarios)."""
    me = _Entry(topic, variant, topic.applies_when.merged(variant.applies_when))
    if me.cond.phase is None:
        siblings = [e for e in _entries(kb) if e.topic is topic and e.key != me.key]
        return [], [_link(e) for e in siblings][:MAX_RELATED]
    others = [e for e in _entries(kb) if e.key != me.key and e.cond.phase is not None
              and (e.topic.status == "current" or e.topic is topic)]
    placed: set[tuple[int, int]] = set()
    out: list[Redirect] = []

    if topic.status != "current":
        successors = [e for e in others if e.topic.status == "current" and _same_kind(me.cond, e.cond)
                      and not separating(me.cond, e.cond) and _only_narrows(me.cond, e.cond, set())]
        if successors:
            out.append(Redirect(who="the same patients today (this topic is retired)",
                                go_to=[_link(e) for e in successors[:MAX_LINKS]]))
            placed |= {e.key for e in successors}

    flagged = _red_flag_redirect(kb, me, others, labels)
    if flagged:
        out.append(flagged)
        placed |= {(link.topic_id, link.variant) for link in flagged.go_to}

    # One separating field: patients who differ in that respect only.
    axes: dict[str, list[_Entry]] = {}
    narrower: dict[str, list[_Entry]] = {}
    for e in others:
        if e.key in placed or not (e.topic is topic or _same_kind(me.cond, e.cond)):
            continue
        apart = separating(me.cond, e.cond)
        if len(apart) == 1 and (e.topic is topic or _only_narrows(me.cond, e.cond, set(apart))):
            axes.setdefault(_who(e, apart, labels), []).append(e)
        elif not apart:
            # A narrower scenario adds something the patient has, not an exclusion.
            defining = [f for f in _extras(me.cond, e.cond)
                        if f in _DEFINING and getattr(e.cond, f) is not False]
            if defining:
                who = "; ".join(describe(_only(e.cond, defining), labels))
                narrower.setdefault(who, []).append(e)
    def own_topic_first(kv: tuple[str, list[_Entry]]) -> tuple[bool, int]:
        return (not any(e.topic is topic for e in kv[1]), len(kv[1]))

    groups = sorted(axes.items(), key=own_topic_first) + sorted(narrower.items(), key=own_topic_first)
    for who, members in groups:
        if len(out) >= MAX_GROUPS:
            break
        members = sorted((e for e in members if e.key not in placed),
                         key=lambda e: (e.topic is not topic, e.key))[:MAX_LINKS]
        if not members:
            continue
        skip = set(separating(me.cond, members[0].cond)) | {"phase", "purpose"}
        notes = _notes(members, skip, labels)
        out.append(Redirect(who=who, go_to=[_link(e, n) for e, n in zip(members, notes, strict=True)]))
        placed |= {e.key for e in members}

    related = [_link(e) for e in others if e.topic is topic and e.key not in placed]
    return out, related[:MAX_RELATED]


def _red_flag_redirect(kb: KnowledgeBase, me: _Entry, others: list[_Entry],
                       labels: Callable[[str], str]) -> Redirect | None:
    """Patients with warning signs of spread leave a routine scenario for a targeted one."""
    if me.cond.symptoms_any or me.cond.phase is None:
        return None
    flags = [f for f in kb.red_flags if set(me.cond.phase) <= set(f.phases)
             and me.key not in f.points_to]
    if not flags:
        return None
    by_key = {e.key: e for e in others}
    targets: list[_Entry] = []
    for flag in flags:
        for key in flag.points_to:
            entry = by_key.get(key)
            if entry is not None and entry not in targets:
                targets.append(entry)
    signs: list[str] = []
    for flag in flags:
        signs.extend(labels(c) for c in flag.triggers if labels(c) not in signs)
    who = "with warning signs of spread (" + ", ".join(signs[:6]) + (", ..." if len(signs) > 6 else "") + ")"
    return Redirect(who=who, go_to=[_link(e) for e in targets[:MAX_LINKS]],
                    see_also="the red-flag rules apply: " + "; ".join(f.title.lower() for f in flags))
