"""Compose a patient answer from the fact base and, when given, the patient's assessment.

Every paragraph is built from facts and cites them; code adds only labels ("CT scan:") and
the plain-language reading of an assessment, whose ratings come from the knowledge base
with the ACR topic and variant they belong to. Which facts are used depends on the intent
and on the situation (stage, subtype, phase, symptoms): a fact written for another stage
or subtype is left out, never bent to fit.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from scanwise.domain.answers.blocks import Block as _Block
from scanwise.domain.answers.blocks import Para as _Para
from scanwise.domain.answers.blocks import finish
from scanwise.domain.answers.context import (
    _SUBTYPE_WORDS,
    Context,
    _stage_words,
    context_from,
)
from scanwise.domain.answers.models import Answer, GuidelineRef, Question, Section
from scanwise.domain.answers.outlines import check_outlines
from scanwise.domain.answers.retrieval import search
from scanwise.domain.answers.short import shorten
from scanwise.domain.answers.sources import source_groups, source_line, source_list
from scanwise.domain.answers.tables import acr_place, comparison_table
from scanwise.domain.answers.text import reading_grade
from scanwise.domain.answers.topic_answer import topic_blocks, topic_short
from scanwise.domain.assess import Assessment, Branch, Decision, Match, RatedProcedure, match_for
from scanwise.domain.facts import Fact
from scanwise.domain.kb import KnowledgeBase

DISCLAIMER = (
    "This is general information from published guidelines, not medical advice. scanwise does not "
    "know your full history and cannot examine you. Use it to talk with your care team, who make the "
    "decisions with you. If you have new or severe symptoms, contact your care team now."
)
RETRIEVAL_LABEL = "These facts may help; scanwise could not match your question to a specific topic."

#: How a theme fact names a test, to find the guideline facts that speak about an asked test.
_MENTIONS: dict[str, re.Pattern[str]] = {
    "ct": re.compile(r"(?<![/-])\bCT\b(?!/)"),
    "pet_ct": re.compile(r"\bPET\b"),
    "bone_scan": re.compile(r"\bbone scans?\b", re.I),
    "chest_xray": re.compile(r"\bchest X-rays?\b", re.I),
    "brain_mri": re.compile(r"\b(brain|head) (MRI|scans?)\b|\bMRI of the brain\b", re.I),
    "spine_mri": re.compile(r"\bspine MRI\b", re.I),
    "breast_mri": re.compile(r"\bbreast MRI\b|\bMRI before surgery\b", re.I),
    "mammography": re.compile(r"\bmammograms?\b", re.I),
    "tomosynthesis": re.compile(r"\b3D mammograms?\b", re.I),
    "breast_us": re.compile(r"\bultrasound\b", re.I),
    "axillary_us": re.compile(r"\barmpit ultrasound\b", re.I),
    "dexa": re.compile(r"\bbone density\b", re.I),
    "echo_muga": re.compile(r"\bheart (scans?|checks?)\b|\bechocardiogram\b", re.I),
    "fes_pet": re.compile(r"\bFES-PET\b"),
}
_DISTANT_TESTS = frozenset({"ct", "pet_ct", "bone_scan", "chest_xray", "brain_mri", "spine_mri", "fes_pet",
                            "spect_ct"})
_RADIATION_TESTS = frozenset({"ct", "pet_ct", "bone_scan", "chest_xray", "mammography", "tomosynthesis",
                              "contrast_mammography", "fes_pet", "spect_ct", "sentinel_node_mapping", "dexa"})
_CONTRAST_TESTS = frozenset({"ct", "breast_mri", "brain_mri", "spine_mri", "contrast_mammography"})

#: The fact that explains each red flag of red_flags.yaml in plain words.
_RED_FLAG_FACTS: dict[str, list[str]] = {
    "bone": ["staging.symptoms_change_things"],
    "liver": ["staging.symptoms_change_things"],
    "chest": ["staging.symptoms_change_things"],
    "brain": ["brain_mri.symptoms_only"],
    "recurrence-warning": ["surveillance.warning_signs"],
    "tumor-markers": ["surveillance.no_routine_scans"],
}

#: ACR procedure names in plain words (the rest get generic substitutions).
_PLAIN_NAMES: dict[str, str] = {
    "US breast": "breast ultrasound",
    "US axilla": "armpit ultrasound",
    "Mammography diagnostic": "diagnostic mammogram",
    "Mammography screening": "screening mammogram",
    "Digital breast tomosynthesis diagnostic": "diagnostic 3D mammogram",
    "Digital breast tomosynthesis screening": "screening 3D mammogram",
    "Mammography with IV contrast": "contrast-enhanced mammogram",
    "MRI breast without and with IV contrast": "breast MRI with contrast",
    "MRI breast without IV contrast": "breast MRI without contrast",
    "Bone scan whole body": "whole-body bone scan",
    "FDG-PET/CT skull base to mid-thigh": "PET/CT",
    "FDG-PET/CT whole body": "whole-body PET/CT",
    "Radiography chest": "chest X-ray",
    "Radiography skeletal survey": "X-rays of the whole skeleton",
}
_GENERIC_WORDS = [("CT chest abdomen pelvis", "CT of the chest, belly and pelvis"),
                  ("IV contrast", "contrast"), ("MRI head", "brain MRI"), ("CT head", "head CT"),
                  ("US ", "ultrasound of the "),
                  ("Radiography", "X-ray of the")]

# --- building blocks ---------------------------------------------------------------------------

class _Composer:
    def __init__(self, question: Question, kb: KnowledgeBase, facts: dict[str, Fact], ctx: Context,
                 assessment: Assessment | None, personalized: bool) -> None:
        self.q = question
        self.kb = kb
        self.facts = facts
        self.ctx = ctx
        self.assessment = assessment
        self.personalized = personalized
        self.used: set[str] = set()
        self.tests = question.codes
        self.notes: list[str] = []

    # fact selection
    def pick(self, subject: str, kinds: Iterable[str], limit: int | None = None, *,
             about_test: bool = True, fresh: bool = True) -> list[Fact]:
        kinds = set(kinds)
        out = [f for f in self.facts.values() if f.subject == subject and f.kind in kinds
               and self.ctx.fits(f, about_test=about_test) and not (fresh and f.id in self.used)]
        return out[:limit] if limit is not None else out

    def ids(self, *fact_ids: str) -> list[Fact]:
        return [self.facts[i] for i in fact_ids if i in self.facts and self.ctx.fits(self.facts[i])
                and i not in self.used]

    def para(self, facts: list[Fact], lead: str = "") -> _Para | None:
        facts = [f for f in facts if f.id not in self.used]
        if not facts:
            return None
        self.used.update(f.id for f in facts)
        text = " ".join(" ".join(f.text.split()) for f in facts)
        return _Para(f"{lead}{text}" if lead else text, [f.id for f in facts])

    def label(self, code: str) -> str:
        return self.kb.label(code)

    def per_test(self, heading: str, kinds: Iterable[str], limit: int) -> _Block | None:
        block = _Block(heading)
        many = len(self.tests) > 1
        for code in self.tests:
            p = self.para(self.pick(code, kinds, limit), f"{self._cap(self.label(code))}: " if many else "")
            if p:
                block.paras.append(p)
        return block if block.paras else None

    @staticmethod
    def _cap(text: str) -> str:
        return text[:1].upper() + text[1:]

    @staticmethod
    def plain_name(proc: RatedProcedure) -> str:
        return _plain(proc)

    def ref(self, match: Match) -> GuidelineRef:
        return _ref(match)

    def theme_facts(self, subjects: Iterable[str], kinds: Iterable[str] = ("guideline",), *,
                    mentioning: Iterable[str] = (), limit: int = 4) -> list[Fact]:
        """Facts about situations (staging, follow-up...) that fit, optionally naming given tests."""
        kinds = set(kinds)
        subjects = set(subjects)
        patterns = [_MENTIONS[c] for c in mentioning if c in _MENTIONS]
        out = []
        for f in self.facts.values():
            if f.subject not in subjects or f.kind not in kinds or f.id in self.used:
                continue
            if not self.ctx.fits(f):
                continue
            if patterns and not any(p.search(f.text) for p in patterns):
                continue
            out.append(f)
        return out[:limit]

    # sections shared by intents
    def situation(self) -> _Block:
        if self.assessment is not None and self.assessment.decision is not None:
            return self.decision_block(self.assessment.decision)
        if self.assessment is not None and self.assessment.indication.in_scope:
            return self.assessed_situation(self.assessment)
        return self.general_situation()

    def decision_block(self, decision: Decision) -> _Block:
        """One branch per value of the deciding fact; the answer never picks one."""
        block = _Block(f"It depends on {patient_depends_on(decision, self.kb)}", kind="decision",
                       note="The advice differs for each case below, so scanwise does not pick one. "
                            "The one that fits you depends on this; if you do not know, your care "
                            "team does.")
        for branch in decision.branches:
            match = match_for(self.kb, branch.topic_id, branch.variant)
            block.refs.append(_ref(match))
            block.bullets.append(self._branch_line(branch, match))
        self.biology(block, 2)
        p = self.para(self._symptom_facts())  # whichever branch applies, symptoms change the advice
        if p:
            block.paras.append(p)
        return block

    def _branch_line(self, branch: Branch, match: Match) -> _Para:
        when = branch.if_
        where = f"({acr_place(match)})"
        asked = [p for p in match.procedures if p.asked or self._is_asked(p)]
        if match.ratings_verified and asked:
            by_category: dict[str, list[str]] = {}
            for p in asked:
                name = re.sub(r" (without and with|with|without) contrast$", "", _plain(p))
                by_category.setdefault(p.category.lower(), []).append(name)
            said = "; ".join(f"{_join(names)} {'are' if len(set(names)) > 1 else 'is'} rated {cat}"
                             for cat, names in by_category.items())
            return _Para(f"{_is(when)}: {said} {where}.", ["acr.categories"])
        if match.ratings_verified and match.procedures:
            best = [_plain(p) for p in match.procedures if p.category == "Usually Appropriate"][:3]
            said = (f"usually appropriate: {_join(best)}" if best else "no test is rated usually appropriate")
            return _Para(f"{_is(when)}: {said} {where}.", ["acr.categories"])
        others = "; ".join(f"{s.publisher} ({s.year or 'undated'}): {s.text}" for s in match.statements[:2])
        cites: list[str] = []
        if not others and branch.stages:  # no statements: the fact base's own guideline facts for
            stage = branch.stages[0]      # the branch's first stage group ("stage IIB–IIIC": IIB)
            mention = [_MENTIONS[code] for code in self.tests if code in _MENTIONS]
            fitting = [f for f in self.facts.values() if f.subject == "staging" and f.kind == "guideline"
                       and f.applies.stages and stage in f.applies.stages
                       and (not mention or any(m.search(f.text) for m in mention))]
            fitting.sort(key=lambda f: "IA" in (f.applies.stages or []))  # facts made for this stage first
            if fitting:
                others = " ".join(fitting[0].text.split())
                cites = [fitting[0].id]
                self.used.add(fitting[0].id)
        tail = f" What other guidelines say: {others}" if others else ""
        return _Para(f"{_is(when)}: the ACR's ratings for this scenario are "
                     f"not in scanwise's data {where}.{tail}", cites)

    def general_situation(self) -> _Block:
        block = _Block("For your situation", kind="situation")
        ctx = self.ctx
        said = ctx.described()
        subjects = ["staging"] if ctx.phase in (None, "new_diagnosis") else []
        if ctx.phase == "surveillance":
            subjects.append("surveillance")
        if ctx.phase == "suspected_recurrence":
            subjects.append("recurrence")
        mention = [c for c in self.tests if c in _DISTANT_TESTS]
        staging = self.theme_facts(subjects, mentioning=mention, limit=2) if subjects else []
        if staging and not ctx.stages and "staging" in subjects:
            # Stage unknown: one fact for early and one for later stages, each naming its range.
            early = [f for f in staging if f.applies.stages and "IA" in f.applies.stages][:1]
            later = self.ids("staging.advanced.acr_by_biology")
            staging = early + later
        if staging:
            lead = f"You told us: {', '.join(said)}. " if said else ""
            p = self.para(staging)
            if p:
                block.paras.append(_Para(lead + p.text, p.cites))
        self.biology(block, 3)
        p = self.para(self._symptom_facts())
        if p:
            block.paras.append(p)
        if not block.paras:
            p = self.para(self.ids("staging.depends_on_situation"))
            if p:
                block.paras.append(p)
        block.bullets = [_Para(f"Tell us {m} to tailor this answer.", []) for m in self._unknown_facts()]
        return block

    def biology(self, block: _Block, limit: int) -> None:
        """What the tumor's subtype, and a lobular or inflammatory type, change."""
        ctx = self.ctx
        sub = ctx.fact_subtype
        if sub:
            facts = [f for f in self.facts.values() if f.subject == sub and f.kind in ("guideline", "subtype")
                     and ctx.fits(f) and f.id not in self.used]
            p = self.para(_subtype_priority(facts, self.tests)[:limit])
            if p:
                block.paras.append(p)
            if ctx.subtype is None:
                self.notes.append("ER-positive with HER2 not given: facts for ER-positive, HER2-negative "
                                  "cancer are shown")
        for flag, name in ((ctx.lobular, "lobular"), (ctx.inflammatory, "inflammatory")):
            if flag:
                facts = [f for f in self.facts.values() if f.subject == name and ctx.fits(f)
                         and f.id not in self.used]
                p = self.para(_subtype_priority(facts, self.tests)[:2])
                if p:
                    block.paras.append(p)

    def _symptom_facts(self) -> list[Fact]:
        ctx = self.ctx
        if ctx.phase in ("surveillance", "suspected_recurrence"):
            return self.ids("surveillance.warning_signs")
        if ctx.symptomatic or ctx.phase in (None, "new_diagnosis"):
            return self.ids("staging.symptoms_change_things")
        return []

    def _wanted(self, field: str) -> str:
        """What to tell us, in a patient's words (``knowledge/fields.yaml``)."""
        return self.kb.words(field).patient or field.replace("_", " ")

    def _unknown_facts(self) -> list[str]:
        ctx = self.ctx
        wanted = []
        if not ctx.stages:
            wanted.append(self._wanted("stage"))
        if ctx.fact_subtype is None and not ctx.lobular:
            wanted.append(self._wanted("subtype"))
        if ctx.phase is None:
            wanted.append(self._wanted("phase"))
        if ctx.symptomatic is None:
            wanted.append(self._wanted("asymptomatic"))
        return wanted

    def assessed_situation(self, a: Assessment) -> _Block:
        block = _Block("For your situation", kind="situation")
        said = self.ctx.described()
        if not a.matches:
            lead = f"From what you told us ({', '.join(said)}), " if said else "From what you told us, "
            p = self.para(self.ids("staging.depends_on_situation", "acr.categories"),
                          lead + "scanwise could not match a guideline scenario yet. ")
            if p:
                block.paras.append(p)
        else:
            best = a.matches[0]
            block.refs.append(_ref(best))
            intro = (f"From what you told us ({', '.join(said)}), " if said else "From what you told us, ")
            intro += (f"your situation fits ACR topic {best.topic_id} ({best.topic}), scenario "
                      f"{best.variant}. ")
            block.paras.append(self._ratings_para(best, intro))
            mention = [c for c in self.tests if c in _MENTIONS] or sorted(_DISTANT_TESTS & set(_MENTIONS))
            extra = self.theme_facts(["staging", "surveillance", "recurrence"], mentioning=mention, limit=2)
            p = self.para(extra)
            if p:
                block.paras.append(p)
            if a.ambiguity and len(a.matches) > 1:
                other = a.matches[1]
                block.refs.append(_ref(other))
                p = self.para(self.ids("staging.depends_on_situation"),
                              f"Another ACR scenario fits almost as well (topic {other.topic_id}, scenario "
                              f"{other.variant}). ")
                if p:
                    block.paras.append(p)
        self.biology(block, 2)
        for hit in a.red_flags:
            fact_ids = [i for i in _RED_FLAG_FACTS.get(hit.id, []) if i in self.facts]
            words = ", ".join(t.label for t in hit.triggered_by)
            text = f"You mentioned {words}. {hit.advice}"
            if fact_ids:
                self.used.update(fact_ids)
                block.paras.append(_Para(" ".join(text.split()), fact_ids))
            else:  # a red flag with no plain-language fact yet: still shown, as a prompt
                block.bullets.append(_Para(" ".join(text.split()), []))
        if not a.red_flags:
            p = self.para(self._symptom_facts())
            if p:
                block.paras.append(p)
        asks = []
        for m in a.missing:
            plain = self.kb.words(m.field).patient
            asks.append(f"Tell us {plain} to tailor this answer." if plain else m.question)
        block.bullets += [_Para(t, []) for t in dict.fromkeys(asks)]
        return block

    def _ratings_para(self, match: Match, intro: str) -> _Para:
        cites = ["acr.categories"]
        self.used.add("acr.categories")
        if not match.ratings_verified:
            fact = "recurrence.acr_variants" if self.ctx.phase in ("surveillance", "suspected_recurrence") \
                else "staging.advanced.acr_by_biology"
            cites.append(fact)
            self.used.add(fact)
            return _Para(intro + "The ACR's test ratings for this scenario are not in scanwise's data, so "
                         "scanwise cannot say which tests it rates best. Ask your team, or see the ACR "
                         "document listed in the sources.", cites)
        asked = [p for p in match.procedures if p.asked or self._is_asked(p)]
        groups: dict[str, list[str]] = {}
        # Asked studies and those with more radiation first: they are what a reader weighs.
        ordered = sorted(match.procedures, key=lambda p: (not (p.asked or self._is_asked(p)), -(p.rrl or 0)))
        for proc in ordered:
            groups.setdefault(proc.category, []).append(_plain(proc))
        parts = [intro]
        for proc in asked:
            parts.append(f"For the {_plain(proc)} you asked about, the ACR rating here is "
                         f"{proc.category.lower()}{_dose_words(proc)}.")
        for category in ("Usually Appropriate", "May Be Appropriate", "Usually Not Appropriate"):
            names = groups.get(category)
            if names:
                names = list(dict.fromkeys(names))
                shown = names[:5] + ([f"{len(names) - 5} other tests"] if len(names) > 5 else [])
                parts.append(f"{category}: {_join(shown)}.")
        return _Para(" ".join(parts), cites)

    def _is_asked(self, proc: RatedProcedure) -> bool:
        for code in self.tests:
            term = self.kb.terms.get(code)
            if term and any(n.lower() in proc.name.lower() for n in term.procedure_names):
                return True
        return False

    def questions(self, wanted: list[str], limit: int = 3) -> _Block:
        block = _Block("Questions to ask your care team", kind="questions")
        ctx = self.ctx
        ids = list(wanted)
        if ctx.fact_subtype == "her2_pos" or "echo_muga" in self.tests:
            ids.append("question.heart_checks")
        if ctx.fact_subtype in ("her2_pos", "triple_negative") and self.q.intent in ("compare", "need",
                                                                                    "which_tests"):
            ids.append("question.brain_mri")
        if ctx.fact_subtype == "er_pos_her2_neg" or "dexa" in self.tests:
            ids.append("question.bone_density")
        if ctx.pregnant or ctx.breastfeeding:
            ids.append("question.prepare")
        for fid in list(dict.fromkeys(ids))[:limit]:
            fact = self.facts.get(fid)
            if fact is not None and fid not in self.used:
                self.used.add(fid)
                block.bullets.append(_Para(" ".join(fact.text.split()), [fid]))
        return block

def _is(when: str) -> str:
    """How a branch opens for a patient: 'If your stage is IIA' for a stage, else 'If it is
    about male patients' style wording is avoided: 'For male patients'."""
    if re.match(r"(clinical )?stage\b", when):
        return "If your " + when.replace("stage", "stage is", 1)
    return "For " + when


def patient_depends_on(decision: Decision, kb: KnowledgeBase) -> str:
    """What the branch turns on, in a patient's words (knowledge/fields.yaml) where the table
    has them: "your stage", not the engine's "clinical stage"."""
    for f in kb.fields:
        if decision.depends_on in (f.clinical, f.question) and f.patient:
            return f.patient
    return decision.depends_on


def _subtype_priority(facts: list[Fact], tests: list[str]) -> list[Fact]:
    """Subtype facts that speak about the asked tests first, then guidelines, then the rest."""
    patterns = [_MENTIONS[c] for c in tests if c in _MENTIONS]

    def rank(f: Fact) -> tuple[int, int]:
        names = any(p.search(f.text) for p in patterns)
        return (0 if names else 1, 0 if f.kind == "guideline" else 1)

    return sorted(facts, key=rank)


def _plain(proc: RatedProcedure) -> str:
    if proc.name in _PLAIN_NAMES:
        return _PLAIN_NAMES[proc.name]
    name = proc.name
    for old, new in _GENERIC_WORDS:
        name = name.replace(old, new)
    return name


def _dose_words(proc: RatedProcedure) -> str:
    if proc.rrl == 0:
        return " (no radiation)"
    if proc.rrl_msv:
        return f" (radiation level {proc.rrl_msv})"
    return ""


def _join(names: list[str]) -> str:
    names = list(dict.fromkeys(names))
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _ref(match: Match) -> GuidelineRef:
    return GuidelineRef(topic_id=match.topic_id, topic=match.topic, variant=match.variant, label=match.label,
                        year=match.year, ratings_in_data=match.ratings_verified,
                        url=match.source_urls[0] if match.source_urls else None)


# --- intents -----------------------------------------------------------------------------------

def _tests_blocks(c: _Composer, *, prep: bool) -> list[_Block | None]:
    if len(c.tests) > 1:
        return [_side_by_side(c), c.per_test("When each is used", ["uses", "guideline"], 1)]
    blocks: list[_Block | None] = [
        c.per_test("How it works", ["how_it_works"], 2),
        c.per_test("What it shows", ["shows"], 1),
        c.per_test("When it is used", ["uses", "guideline"], 1),
        c.per_test("Limits", ["limits"], 1),
    ]
    if prep:
        blocks.append(c.per_test("Getting ready", ["preparation", "safety"], 2))
    blocks.append(_radiation_block(c, "Radiation"))
    return blocks


_TABLE_ROWS = (("How it works", ("how_it_works",)), ("What it shows", ("shows",)), ("Limits", ("limits",)),
               ("Radiation", ("dose",)))


def _side_by_side(c: _Composer) -> _Block | None:
    """Two or more tests compared in one table: a row per theme, a column per test."""
    labels = [c._cap(c.label(code)) for code in c.tests]
    rows = []
    for theme, kinds in _TABLE_ROWS:
        cells = []
        for code in c.tests:
            found = c.pick(code, kinds, 1)
            if not found and "dose" in kinds and code not in _RADIATION_TESTS:
                found = c.ids("radiation.no_radiation_tests") or [c.facts["radiation.no_radiation_tests"]]
            cells.append(found)
        rows.append((theme, cells))
        c.used.update(f.id for group in cells for f in group if f.id != "radiation.no_radiation_tests")
    table = comparison_table(labels, rows)
    if not table.rows:
        return None
    block = _Block("Side by side", table=table)
    if any(code in _RADIATION_TESTS for code in c.tests):
        p = c.para(c.ids("radiation.background"))
        if p:
            block.paras.append(p)
    return block


def _radiation_block(c: _Composer, heading: str) -> _Block | None:
    block = _Block(heading)
    many = len(c.tests) > 1
    for code in c.tests:
        facts = c.pick(code, ["dose"], 1 if many else 2)
        if not facts and code not in _RADIATION_TESTS:
            facts = [f for f in c.pick(code, ["how_it_works", "uses"]) if f.dose_msv == 0.0][:1]
        p = c.para(facts, f"{c._cap(c.label(code))}: " if many else "")
        if p:
            block.paras.append(p)
    if any(code in _RADIATION_TESTS for code in c.tests):
        p = c.para(c.ids("radiation.background"))
        if p:
            block.paras.append(p)
    return block if block.paras else None


def _compose_tests(c: _Composer, *, prep: bool) -> list[_Block | None]:
    blocks = _tests_blocks(c, prep=prep)
    if c.personalized or c.ctx.stages or c.ctx.phase or c.ctx.fact_subtype:
        blocks.append(c.situation())
    wanted = ["question.improve_care", "question.benefits_risks"]
    if set(c.tests) & _DISTANT_TESTS:
        wanted += ["question.chance_of_spread", "question.which_test", "question.indeterminate"]
    if set(c.tests) & _RADIATION_TESTS:
        wanted.append("question.no_radiation_alternative")
    wanted.append("question.why_not_guideline")
    blocks.append(c.questions(wanted))
    return blocks


def _compose_need(c: _Composer) -> list[_Block | None]:
    blocks: list[_Block | None] = []
    guide = _Block("What the guidelines say")
    for code in c.tests:
        facts = c.pick(code, ["guideline"], 2 if len(c.tests) == 1 else 1, about_test=True)
        p = c.para(facts)
        if p:
            guide.paras.append(p)
    subjects = {"new_diagnosis": ["staging"], "surveillance": ["surveillance"],
                "suspected_recurrence": ["recurrence"], "neoadjuvant": []}.get(c.ctx.phase or "", ["staging"])
    p = c.para(c.theme_facts(subjects, mentioning=c.tests, limit=2))
    if p:
        guide.paras.append(p)
    if not c.ctx.stages and c.ctx.phase in (None, "new_diagnosis") and set(c.tests) & _DISTANT_TESTS:
        p = c.para(c.theme_facts(["staging"], ["probability"], limit=1))
        if p:
            guide.paras.append(p)
    blocks.append(guide if guide.paras else None)
    blocks.append(c.situation())
    about = "About the test" if len(c.tests) == 1 else "About the tests"
    blocks.append(c.per_test(about, ["how_it_works"], 1))
    blocks.append(c.per_test("Limits", ["limits"], 1))
    blocks.append(_radiation_block(c, "Radiation"))
    wanted = ["question.improve_care", "question.chance_of_spread", "question.why_not_guideline",
              "question.no_radiation_alternative", "question.warning_symptoms"]
    blocks.append(c.questions(wanted))
    return blocks


def _compose_which(c: _Composer) -> list[_Block | None]:
    ctx = c.ctx
    blocks: list[_Block | None] = []
    main = _Block("Tests at this point in care")
    if ctx.phase in (None, "new_diagnosis"):
        p = c.para(c.theme_facts(["staging"], limit=3))
        if p:
            main.paras.append(p)
        if ctx.stages and set(ctx.stages) <= {"IA", "IB", "IIA"}:
            local = [f for code in ("mammography", "breast_us", "breast_mri")
                     for f in c.pick(code, ["guideline"]) if f.applies.stages]
            p = c.para(local[:3])
            if p:
                main.paras.append(p)
    elif ctx.phase == "surveillance":
        for ids in (("surveillance.mammogram", "surveillance.most_guidelines_mammogram"),
                    ("surveillance.no_routine_scans", "breast_mri.surveillance")):
            p = c.para(c.ids(*ids))
            if p:
                main.paras.append(p)
    elif ctx.phase == "suspected_recurrence":
        p = c.para(c.theme_facts(["recurrence"], limit=2))
        if p:
            main.paras.append(p)
    elif ctx.phase == "neoadjuvant":
        p = c.para(c.ids("axillary_us.acr", "contrast_mammography.uses", "breast_mri.shows"))
        if p:
            main.paras.append(p)
    blocks.append(main if main.paras else None)
    if ctx.phase in (None, "new_diagnosis"):
        prob = _Block("How likely scans are to find spread")
        p = c.para(c.theme_facts(["staging"], ["probability"], limit=2))
        if p:
            prob.paras.append(p)
        blocks.append(prob if prob.paras else None)
    blocks.append(c.situation())
    blocks.append(c.questions(["question.improve_care", "question.chance_of_spread", "question.which_test",
                               "question.why_not_guideline", "question.warning_symptoms"]))
    return blocks


def _compose_radiation(c: _Composer) -> list[_Block | None]:
    blocks: list[_Block | None] = []
    basics = _Block("How radiation is measured")
    p = c.para(c.ids("radiation.msv", "radiation.background", "radiation.acr_levels"))
    if p:
        basics.paras.append(p)
    blocks.append(basics)
    if c.tests:
        blocks.append(_radiation_block(c, "The tests you asked about"))
    else:
        table = _Block("Typical doses")
        for code in ("mammography", "chest_xray", "ct", "bone_scan", "pet_ct", "dexa"):
            p = c.para(c.pick(code, ["dose"], 1), f"{c._cap(c.label(code))}: ")
            if p:
                table.paras.append(p)
        p = c.para(c.ids("radiation.no_radiation_tests"))
        if p:
            table.paras.append(p)
        blocks.append(table)
    risk = _Block("What the risk means")
    p = c.para(c.ids("radiation.risk_small", "radiation.risk_groups", "radiation.doses_vary"))
    if p:
        risk.paras.append(p)
    blocks.append(risk)
    safety = _Block("Pregnancy, breastfeeding and contrast dye")
    if c.ctx.pregnant or c.q.names_pregnancy or not c.tests:
        p = c.para(c.ids("radiation.pregnancy"))
        if p:
            safety.paras.append(p)
    if c.ctx.breastfeeding:
        p = c.para(c.ids("contrast.breastfeeding", "pet_ct.breastfeeding"))
        if p:
            safety.paras.append(p)
    if set(c.tests) & _CONTRAST_TESTS or c.q.names_contrast:
        p = c.para(c.ids("contrast.iodine_kidneys", "contrast.gadolinium"))
        if p:
            safety.paras.append(p)
    blocks.append(safety if safety.paras else None)
    if c.personalized:
        blocks.append(c.situation())
    blocks.append(c.questions(["question.how_much_radiation", "question.no_radiation_alternative",
                               "question.improve_care"]))
    return blocks


def _compose_preparation(c: _Composer) -> list[_Block | None]:
    blocks: list[_Block | None] = []
    if c.tests:
        blocks.append(c.per_test("Getting ready", ["preparation"], 3))
        blocks.append(c.per_test("Safety checks", ["safety"], 2))
        blocks.append(c.per_test("What happens", ["how_it_works"], 2))
    else:
        general = _Block("Getting ready")
        p = c.para(c.ids("contrast.tell_staff", "radiation.pregnancy"))
        if p:
            general.paras.append(p)
        blocks.append(general)
    if set(c.tests) & _CONTRAST_TESTS:
        extra = _Block("Contrast dye")
        p = c.para(c.ids("contrast.tell_staff", "contrast.iodine_kidneys"))
        if p:
            extra.paras.append(p)
        blocks.append(extra if extra.paras else None)
    if c.personalized:
        blocks.append(c.situation())
    blocks.append(c.questions(["question.prepare", "question.contrast", "question.accuracy"]))
    return blocks


def _compose_results(c: _Composer) -> list[_Block | None]:
    blocks: list[_Block | None] = []
    if c.tests:
        blocks.append(c.per_test("What results can and cannot show", ["limits"], 3))
    else:
        general = _Block("What results can and cannot show")
        p = c.para(c.ids("ct.indeterminate", "pet_ct.false_positives"))
        if p:
            general.paras.append(p)
        blocks.append(general)
    nxt = _Block("What may happen next")
    ids = ["ct.indeterminate"] if set(c.tests) & {"ct", "pet_ct"} else []
    if "bone_scan" in c.tests:
        ids.append("bone_scan.xray_painful")
    if "fes_pet" in c.tests:
        ids.append("fes_pet.limits")
    if "spect_ct" not in c.tests and "bone_scan" in c.tests:
        ids.append("spect_ct.uses")
    ids.append("term.biopsy")
    p = c.para(c.ids(*ids))
    if p:
        nxt.paras.append(p)
    if c.ctx.phase in ("surveillance", "suspected_recurrence"):
        p = c.para(c.ids("recurrence.workup"))
        if p:
            nxt.paras.append(p)
    blocks.append(nxt if nxt.paras else None)
    if c.personalized:
        blocks.append(c.situation())
    blocks.append(c.questions(["question.results", "question.indeterminate", "question.accuracy"]))
    return blocks


def _compose_frequency(c: _Composer) -> list[_Block | None]:
    blocks: list[_Block | None] = []
    sched = _Block("Follow-up schedule")
    for code in c.tests:
        p = c.para(c.pick(code, ["guideline"], 2), f"{c._cap(c.label(code))}: ")
        if p:
            sched.paras.append(p)
    p = c.para(c.ids("surveillance.visits", "surveillance.mammogram", "surveillance.after_mastectomy"))
    if p:
        sched.paras.append(p)
    blocks.append(sched)
    routine = _Block("Tests not used routinely")
    p = c.para(c.ids("surveillance.no_routine_scans", "surveillance.choosing_wisely",
                     "breast_mri.surveillance"))
    if p:
        routine.paras.append(p)
    blocks.append(routine if routine.paras else None)
    warn = _Block("Warning signs to report")
    p = c.para(c.ids("surveillance.warning_signs", "warning_signs.spinal_cord"))
    if p:
        warn.paras.append(p)
    blocks.append(warn if warn.paras else None)
    if c.personalized or c.ctx.fact_subtype:
        blocks.append(c.situation())
    blocks.append(c.questions(["question.follow_up_schedule", "question.warning_symptoms"]))
    return blocks


def _compose_general(c: _Composer) -> tuple[list[_Block | None], str | None]:
    block = _Block("Facts that may help", kind="retrieval", note=RETRIEVAL_LABEL)
    for fid, _score in search(c.q.text, c.facts, k=5):
        fact = c.facts[fid]
        if c.ctx.fits(fact, about_test=True):
            p = c.para([fact])
            if p:
                block.paras.append(p)
    if not block.paras:
        return [_scope_block(c.q, "scanwise found no facts that match this question.")], None
    return [block, c.questions(["question.improve_care", "question.benefits_risks"])], RETRIEVAL_LABEL


_CAN_ANSWER = [
    "How two tests differ, for example a CT scan and a PET scan.",
    "What a test is, how it works, and its limits.",
    "Whether a test is usually advised for your stage and tumor type.",
    "How much radiation a test gives.",
    "How to get ready for a test.",
    "What results can mean, and how often tests are done in follow-up.",
]


def _scope_block(q: Question, why: str | None = None) -> _Block:
    block = _Block("What scanwise covers", kind="scope")
    block.paras.append(_Para(why or q.scope_note or "This question is outside what scanwise covers.", []))
    block.paras.append(_Para("scanwise answers questions about imaging tests for breast cancer. For "
                             "example, it can explain:", []))
    block.bullets = [_Para(t, []) for t in _CAN_ANSWER]
    return block


# --- the answer ----------------------------------------------------------------------------------

def _title(q: Question) -> str:
    labels = [t.label for t in q.tests]
    for_whom = ""
    sub = q.subtype or ("er_pos_her2_neg" if q.er == "positive" else None)
    if sub:
        for_whom = f" for {_SUBTYPE_WORDS[sub]} breast cancer"
    elif q.stages:
        for_whom = f" for {_stage_words(q.stages)} breast cancer"
    if q.intent == "compare" and len(labels) >= 2:
        return f"{_join(labels)}: how they differ{for_whom}"
    if q.intent == "explain" and labels:
        return f"About the {_join(labels)}{for_whom}"
    if q.intent == "need" and labels:
        return f"Is a {_join(labels)} needed{for_whom}?"
    if q.intent == "radiation":
        return f"Radiation and safety{': ' + _join(labels) if labels else ' of imaging tests'}"
    if q.intent == "preparation":
        return f"Getting ready{' for the ' + _join(labels) if labels else ' for a scan'}"
    if q.intent == "results":
        return f"Results{' of the ' + _join(labels) if labels else ' of imaging tests'} and next steps"
    if q.intent == "frequency":
        return f"How often tests are done in follow-up{for_whom}"
    if q.intent == "which_tests":
        return f"Which imaging tests fit{for_whom or ' your situation'}"
    if q.intent == "out_of_scope":
        return "Outside what scanwise covers"
    return RETRIEVAL_LABEL


def compose(question: Question, kb: KnowledgeBase, facts: dict[str, Fact], *,
            assessment: Assessment | None = None, personalized: bool = False) -> Answer:
    ctx = context_from(question, assessment)
    c = _Composer(question, kb, facts, ctx, assessment, personalized)
    title = _title(question)
    topics = check_outlines(facts, kb)
    topic = next((t for t in topics.topics if t.id == question.topic), None)
    short, short_cites = "", list[str]()
    if topic is not None:
        title = topic.title
        short, short_cites = topic_short(c, topic)
        blocks = topic_blocks(c, topic, topics, short)
    else:
        blocks, title = _intent_blocks(c, question, title)
    kept = [b for b in blocks if b is not None and not b.empty()]
    sections, cited = finish(kept, facts, kb.answers.glossary, already=short_cites)
    if not short:
        short, short_cites = _short_from(sections, c)
    sources = source_list(cited, facts, kb, sections)
    if sources:
        sections.append(Section(heading="Sources", kind="sources",
                                bullets=[source_line(s) for s in sources],
                                bullet_citations=[[] for _ in sources]))
    readable = [title, short] + [t for s in sections if s.kind != "sources" for t in s.paragraphs + s.bullets]
    assumptions = list(question.assumptions)
    if assessment is not None:
        assumptions += [a for a in assessment.indication.assumptions if a not in assumptions]
    return Answer(
        question=question.text,
        title=title,
        short_answer=short,
        short_citations=short_cites,
        intent=question.intent,
        personalized=personalized,
        sections=sections,
        sources=sources,
        source_groups=source_groups(sources),
        disclaimer=DISCLAIMER,
        reading_grade=reading_grade(readable + [DISCLAIMER]),
        kb_version=kb.version,
        understood=question,
        assumptions=assumptions,
        notes=c.notes,
    )


def _intent_blocks(c: _Composer, question: Question, title: str) -> tuple[list[_Block | None], str]:
    """The fixed intents that no patient topic covered (comparisons, one test, radiation...)."""
    intent = question.intent
    if intent == "out_of_scope":
        return [_scope_block(question)], title
    if intent in ("compare", "explain"):
        return _compose_tests(c, prep=intent == "explain"), title
    if intent == "need":
        return _compose_need(c), title
    if intent == "which_tests":
        return _compose_which(c), title
    if intent == "radiation":
        return _compose_radiation(c), title
    if intent == "preparation":
        return _compose_preparation(c), title
    if intent == "results":
        return _compose_results(c), title
    if intent == "frequency":
        return _compose_frequency(c), title
    blocks, label = _compose_general(c)
    return blocks, title if label is not None else "Outside what scanwise covers"


def _short_from(sections: list[Section], c: _Composer) -> tuple[str, list[str]]:
    """For the fixed intents: the branch or the engine's rating first, else the first content."""
    decision = c.assessment.decision if c.assessment is not None else None
    for s in sections:
        if s.kind == "decision" and decision is not None:
            return shorten([f"It depends on {patient_depends_on(decision, c.kb)}."] + s.bullets,
                           max_words=80), []
    for s in sections:
        if s.kind == "scope" and s.paragraphs:
            return shorten(s.paragraphs[:1]), []
    for s in sections:
        if s.kind == "situation" and s.paragraphs and s.guideline_refs:
            return shorten(s.paragraphs[:1]), s.paragraph_citations[0] if s.paragraph_citations else []
    for s in sections:
        if s.kind in ("content", "retrieval") and (s.paragraphs or s.table):
            if s.table and s.table.rows:
                first = next((r for r in s.table.rows if r[0] == "What it shows"), s.table.rows[0])
                return shorten([f"{col}: {cell}" for col, cell in zip(s.table.columns[1:], first[1:],
                                                                      strict=True)]), []
            return shorten(s.paragraphs[:2]), s.paragraph_citations[0] if s.paragraph_citations else []
    return "", []
