"""The clinical reader's rules, loaded from knowledge/reading.yaml and validated on load.

Shorthand and lay wording (each with what it means), medspaCy ConText scopes (negation,
relatives, other people, resolved), the words for each organ's cancer and the clinical-looking
cue words the reader reports when it cannot place them. The reader keeps no lists of its own.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Literal, get_args

from pydantic import Field, field_validator, model_validator

from scanwise.domain.kb import KnowledgeBaseError, Strict, phrase_body, phrase_error
from scanwise.domain.profile import Histology, Phase, Purpose, Reconstruction, Risk, Surgery
from scanwise.knowledge.loader import DATA_DIR, load_yaml, validate_entry
from scanwise.nlp.normalize import CleanText, _Builder
from scanwise.nlp.prefilter import prefiltered
from scanwise.nlp.spelling import SHORTEST, speller

RULES_FILE = "reading.yaml"


class Wording(Strict):
    written: str  # lower-case, whole words
    means: str  # what the reader reads instead
    kind: Literal["abbreviation", "lay", "misspelling"]

    @field_validator("written")
    @classmethod
    def _lower(cls, v: str) -> str:
        if v != v.lower() or not v.strip():
            raise ValueError("must be a non-empty lower-case phrase")
        if error := phrase_error(v):
            raise ValueError(f"{v!r}: {error}")
        return v


class DeniedNoticing(Strict):
    helpers: list[str]
    denials: list[str]
    verbs: list[str]
    after: list[str]


class ClauseBreak(Strict):
    joins: list[str]
    subjects: list[str]


class Context(Strict):
    terminate: list[str]
    denied_noticing: DeniedNoticing
    clause_break: ClauseBreak
    relatives: list[str]
    first_degree: list[str]
    nobody: list[str]
    other_persons: list[str]
    headings: list[str]
    cancer_past: list[str]
    historical_stops: list[str]
    resolved: list[str]
    hypothetical: list[str]
    negated_before: list[str]
    pseudo_denials: list[str]  # look like a denial and are not ("a cough that won't go away")
    felt: list[str]  # just before a finding, it was felt on examination (vocabulary ``felt_as``)
    posed: list[str]  # a question posing a case ("if a 31-year-old had ..."): its facts are the case
    uncertain: list[str]  # a diagnosis only considered ("rule out", "versus"): not one made


class Organ(Strict):
    words: list[str]  # "gastric": before a cancer noun, names this organ's cancer
    names: list[str]  # "lymphoma": a cancer of this organ by itself


class Cancers(Strict):
    breast: list[str]
    cancer_nouns: list[str]
    organs: dict[str, Organ]


class Cue(Strict):
    word: str
    means: str


#: The findings a study's result is read as (vocabulary codes the variants use).
ResultCode = Literal["birads_1", "birads_2", "birads_3", "birads_4", "birads_5", "imaging_indeterminate"]


class ImagingResults(Strict):
    results: dict[ResultCode, list[str]]
    category_words: list[str]
    node_words: list[str]
    node_abnormal: list[str]
    earlier: list[str]
    done_before: list[str]

    @field_validator("results")
    @classmethod
    def _one_meaning(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        seen: dict[str, str] = {}
        for code, words in v.items():
            for w in words:
                if w != w.lower() or not w.strip():
                    raise ValueError(f"{code}: {w!r} must be a non-empty lower-case phrase")
                if w in seen:
                    raise ValueError(f"{w!r} is listed under both {seen[w]} and {code}")
                seen[w] = code
        return v


class Cues(Strict):
    """Alternatives tried together, from a word start unless ``word_start`` is false, to a word
    end unless ``word_end`` is false: regular expressions (``patterns``, tried in the order
    written), or plain words and phrases (``words``, matched as written, longest first); or, for
    a phase, the reader's own wording (``reader``)."""

    patterns: list[str] = []
    words: list[str] = []
    word_start: bool = True
    word_end: bool = True
    reader: Literal["neoadjuvant_therapy"] | None = None

    @model_validator(mode="after")
    def _compiles(self) -> Cues:
        if sum(map(bool, (self.patterns, self.words, self.reader))) != 1:
            raise ValueError("give one of patterns, words or reader")
        if bad := [w for w in self.words if w != w.lower() or not w.strip()]:
            raise ValueError(f"words must be non-empty lower-case phrases: {', '.join(map(repr, bad))}")
        for p in self.patterns:
            try:
                re.compile(p)
            except re.error as exc:
                raise ValueError(f"pattern {p!r} is not a valid regular expression: {exc}") from exc
        return self

    def alternation(self) -> str:
        """The alternatives as one group, with no word boundaries: a part of a longer pattern."""
        return "(?:" + (alternatives(self.words) if self.words else "|".join(self.patterns)) + ")"

    def compiled(self) -> re.Pattern[str]:
        body = alternatives(self.words) if self.words else "|".join(self.patterns)
        return prefiltered(re.compile((r"\b" if self.word_start else "") + "(" + body + ")"
                                      + (r"\b" if self.word_end else ""), re.IGNORECASE))


#: The words the situation readers use (phase, purpose, scope), each named once.
SituationWord = Literal["routine", "treated_for_cancer", "staging_word", "other_organ", "treatment_question",
                        "imaging_word", "breast_context", "treatment_pending", "tumor_described_now",
                        "shared_marker", "injury_elsewhere", "animal"]


class Situation(Strict):
    phases: dict[Phase, Cues]  # strongest first, in the order written
    purposes: dict[Purpose, Cues]
    words: dict[SituationWord, Cues]
    screening_studies: list[str] = Field(min_length=1)  # vocabulary codes

    @model_validator(mode="after")
    def _complete(self) -> Situation:
        # Every purpose and word is read; a phase may have no cue (a work-up is read from the signs).
        for name, have, need in (("purposes", self.purposes, Purpose), ("words", self.words, SituationWord)):
            if missing := set(get_args(need)) - set(have):
                raise ValueError(f"{name}: missing {', '.join(sorted(missing))}")
        return self


class FactCues(Cues):
    """The words of a fact: patterns or words, never the reader's own wording."""

    @model_validator(mode="after")
    def _no_reader(self) -> FactCues:
        if self.reader:
            raise ValueError("only a phase uses the reader's own wording")
        return self


#: The words of the facts read by pattern (nlp/extract.py, nlp/scenario.py), each named once;
#: the grammar of numbers, sizes, TNM codes, receptors and dates stays in the code.
FactWord = Literal["transfeminine", "transmasculine", "transgender", "female", "male", "pregnant", "not_pregnant", "lactating",
                   "not_lactating", "metastatic", "invasive_generic", "supraclavicular_positive", "node_negative",
                   "node_positive", "some_surgery", "unsure", "hormones", "speaker_is_patient", "third_person",
                   "third_person_now", "history_before", "follow_up", "asked_for_someone", "asymptomatic",
                   "no_hormones", "cancer_history", "lab_abnormal", "lab_normal", "other_modality", "mammo_us",
                   "planned", "first_person", "chemo_then_surgery", "neoadjuvant_therapy", "neoadjuvant_planned",
                   "neoadjuvant_done", "neoadjuvant_ongoing", "chemo"]


class FactKinds(Strict):
    """Facts whose value is one of several kinds, each kind's words tried in the order written."""

    surgery: dict[Surgery, FactCues]
    reconstruction: dict[Reconstruction, FactCues]
    histology: dict[Histology, FactCues]
    risk: dict[Risk, FactCues]

    def compiled(self, fact: Literal["surgery", "reconstruction", "histology", "risk"]
                 ) -> list[tuple[str, re.Pattern[str]]]:
        """The kinds of one fact, each with its pattern, in the order written."""
        kinds: dict[str, FactCues] = getattr(self, fact)
        return [(kind, cues.compiled()) for kind, cues in kinds.items()]


class ImplantChange(Strict):
    words: list[str]  # cue words that, said of an implant, mean a possible implant problem
    refer_back: list[str]  # words of a next sentence that refer back to the implant
    not_before: list[str]  # a cue just before one of these is what a test looks for


class PainPlace(Strict):
    pain: list[str]  # cue words of pain
    place: list[str]  # phrases that keep it to one place
    spread: list[str]  # phrases that spread it over the breasts or tie it to the cycle
    body: list[str]  # words of the breast
    operated: list[str]  # where the breast was, after an operation on it ("the chest wall")


class DischargeKind(Strict):
    nipple: list[str]  # words of the nipple
    fluid: list[str]  # phrases of something coming out
    pathologic: list[str]  # what makes it suspicious: blood, on its own, one side
    physiologic: list[str]  # what makes it physiologic: milky, when squeezed, both sides


class LumpSite(Strict):
    lumps: list[str]  # vocabulary codes of a breast lump
    breast: list[str]  # phrases that keep it in the breast
    axilla: list[str]  # phrases of the armpit
    both: list[str]  # words that make it both armpits
    elsewhere: list[str]  # phrases of another part of the body


class QuestionTests(Strict):
    not_tests: list[str] = Field(min_length=1)  # words never read as a misspelt test name
    mri_places: dict[str, FactCues] = Field(min_length=1)  # vocabulary code: another body part for "MRI"

    @field_validator("not_tests")
    @classmethod
    def _lower_words(cls, v: list[str]) -> list[str]:
        if bad := [w for w in v if w != w.lower() or not w.isalnum()]:
            raise ValueError(f"must be lower-case single words: {', '.join(map(repr, bad))}")
        return v


class QuestionStages(Strict):
    """Stage and histology words of a question, beyond the clinical reader's own."""

    early: FactCues  # stage I to IIA
    locally_advanced: FactCues  # stage III
    metastatic: FactCues  # stage IV, with fact_words.metastatic
    lobular: FactCues  # with fact_kinds.histology lobular and mixed
    inflammatory: FactCues


#: What a question wants to know, each read by its cues (nlp/question.py decides the order).
QuestionIntentWord = Literal["radiation", "preparation", "results", "frequency", "compare", "need", "which"]
#: The words that decide whether a question is about imaging in breast cancer.
QuestionScopeWord = Literal["imaging", "imaging_weak", "breast", "cancer", "other_body", "non_imaging_topic",
                            "spread_or_next"]
#: What a question names at all, for the answer to add a paragraph on it (Question.names_*).
QuestionNamed = Literal["pregnancy", "breast", "contrast"]


class QuestionRules(Strict):
    """How a patient's question is read (reading.yaml ``question``; nlp/question.py)."""

    symptom_codes: list[str] = Field(min_length=1)  # vocabulary codes of symptoms that change the tests
    tests: QuestionTests
    stages: QuestionStages
    phases: dict[Phase, FactCues] = Field(min_length=1)  # strongest first, in the order written
    intents: dict[QuestionIntentWord, FactCues]
    scope: dict[QuestionScopeWord, FactCues]
    names: dict[QuestionNamed, FactCues]

    @model_validator(mode="after")
    def _complete(self) -> QuestionRules:
        for name, have, need in (("intents", self.intents, QuestionIntentWord),
                                 ("scope", self.scope, QuestionScopeWord), ("names", self.names, QuestionNamed)):
            if missing := set(get_args(need)) - set(have):
                raise ValueError(f"{name}: missing {', '.join(sorted(missing))}")
        return self


class ReadingRules(Strict):
    wording: list[Wording]
    context: Context
    pain_place: PainPlace
    discharge_kind: DischargeKind
    lump_site: LumpSite
    cancers: Cancers
    cues: list[Cue]
    imaging_results: ImagingResults
    situation: Situation
    implant_change: ImplantChange
    fact_words: dict[FactWord, FactCues]
    fact_kinds: FactKinds
    question: QuestionRules

    @model_validator(mode="after")
    def _fact_words_complete(self) -> ReadingRules:
        if missing := set(get_args(FactWord)) - set(self.fact_words):
            raise ValueError(f"fact_words: missing {', '.join(sorted(missing))}")
        return self

    @model_validator(mode="after")
    def _implant_changes_are_cues(self) -> ReadingRules:
        cues = {c.word for c in self.cues}
        if unknown := [w for w in self.implant_change.words if w not in cues]:
            raise ValueError(f"implant_change: {', '.join(unknown)} not among the cues")
        if unknown := [w for w in self.pain_place.pain if w not in cues]:
            raise ValueError(f"pain_place: {', '.join(unknown)} not among the cues")
        return self

    @field_validator("wording")
    @classmethod
    def _unique(cls, v: list[Wording]) -> list[Wording]:
        seen = [w.written for w in v]
        dup = {w for w in seen if seen.count(w) > 1}
        if dup:
            raise ValueError(f"written more than once: {', '.join(sorted(dup))}")
        return v


@functools.lru_cache(maxsize=4)
def load_rules(data_dir: Path = DATA_DIR) -> ReadingRules:
    path = data_dir / RULES_FILE
    if not path.exists():
        raise KnowledgeBaseError(f"{RULES_FILE}: missing from {data_dir}")
    rules: ReadingRules = validate_entry(ReadingRules, load_yaml(path), path, "reading rules")
    return rules


def alternatives(words: Iterable[str]) -> str:
    """Words or phrases as one regular-expression alternation, each escaped, longest first (so
    at one place a phrase wins over a word it starts with: "ca hx" before "ca")."""
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


def person_words(data_dir: Path = DATA_DIR) -> str:
    """The reading rules' relatives and other people (``context``) as one alternation: the
    words for a person who is not the patient, or on whose behalf a question is asked."""
    context = load_rules(data_dir).context
    return alternatives({*context.relatives, *context.other_persons})


@functools.lru_cache(maxsize=4)
def _wording_pattern(data_dir: Path = DATA_DIR) -> tuple[re.Pattern[str], dict[str, str]]:
    """All the wording as one pattern, one named group per entry (longest first, so a phrase
    wins over a word it starts with), and each group's meaning."""
    rules = sorted(load_rules(data_dir).wording, key=lambda w: len(w.written), reverse=True)
    groups = "|".join(f"(?P<w{i}>{phrase_body(w.written)})" for i, w in enumerate(rules))
    # whole words; after a prefix too ("mid-neoadj", "post-NAC")
    pattern = re.compile(rf"(?:(?<![\w/-])|(?<=\bmid-)|(?<=\bpre-)|(?<=\bpost-))(?:{groups})(?![\w/])",
                         re.IGNORECASE)
    return pattern, {f"w{i}": w.means for i, w in enumerate(rules)}


_DIGITS = {w: str(i) for i, w in enumerate(
    ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"])}
_NUMBER = "|".join(_DIGITS)
# A size written in words ("two and a half centimetres", "three point eight cm") as digits.
_SIZE_IN_WORDS = re.compile(
    rf"\b({_NUMBER})(?:(\s+and\s+a\s+half)|\s+point\s+({_NUMBER}))?(?=[\s-]*(?:centimet(?:re|er)s?|cm|"
    rf"millimet(?:re|er)s?|mm)\b)", re.IGNORECASE)


def _size_digits(m: re.Match[str]) -> str:
    whole = _DIGITS[m.group(1).lower()]
    if m.group(2):
        return f"{whole}.5"
    return f"{whole}.{_DIGITS[m.group(3).lower()]}" if m.group(3) else whole


# A word long enough to correct safely.
_LETTERS = re.compile(rf"\b[A-Za-z]{{{SHORTEST},}}\b")


def expand(text: str, data_dir: Path = DATA_DIR) -> CleanText:
    """The text with shorthand and lay wording replaced by what it means; each character knows
    where it stood in the original, so evidence quotes the words as written."""
    pattern, means = _wording_pattern(data_dir)
    spell = speller(data_dir)
    b = _Builder(text)
    # Spelling first, so a misspelt shorthand or lay phrase is then read like the right one.
    b.sub(_LETTERS, lambda m: spell.correct(m.group(0)) or m.group(0))
    b.sub(pattern, lambda m: means[m.lastgroup or ""])
    b.sub(_SIZE_IN_WORDS, _size_digits)
    return CleanText(b.text, tuple(b.origin + [len(text)]))


@functools.lru_cache(maxsize=4)
def negated_before(data_dir: Path = DATA_DIR) -> re.Pattern[str]:
    """A denial word shortly before a fact read by pattern ("no implants", "never had radiation")."""
    words = alternatives(load_rules(data_dir).context.negated_before)
    return re.compile(rf"\b({words})\b[^.;,]{{0,20}}$", re.IGNORECASE)


@functools.lru_cache(maxsize=4)
def denied_just_before(data_dir: Path = DATA_DIR) -> re.Pattern[str]:
    """A denial word at most one word before ("no chemo first", "not having neoadjuvant"), for
    cues whose denial must be about them, not about a word between ("not imaged before NACT")."""
    words = alternatives(load_rules(data_dir).context.negated_before)
    return re.compile(rf"\b({words})\s+(?:[\w'-]+\s+)?$", re.IGNORECASE)


@functools.lru_cache(maxsize=4)
def not_stated_before(data_dir: Path = DATA_DIR) -> re.Pattern[str]:
    """A denial or a diagnosis only considered shortly before a term in a report ("negative for
    lobular carcinoma", "DCIS versus invasive ductal")."""
    ctx = load_rules(data_dir).context
    return re.compile(rf"\b(?:{alternatives([*ctx.negated_before, *ctx.uncertain])})(?!\w)[^.;]{{0,25}}$",
                      re.IGNORECASE)


@functools.lru_cache(maxsize=4)
def felt_words(data_dir: Path = DATA_DIR) -> re.Pattern[str]:
    """A word of examination ("palpable R axillary lymphadenopathy", "... nodes on exam")."""
    return re.compile(rf"\b(?:{alternatives(load_rules(data_dir).context.felt)})\b", re.IGNORECASE)


@functools.lru_cache(maxsize=4)
def cue_pattern(data_dir: Path = DATA_DIR) -> re.Pattern[str]:
    return re.compile(rf"\b({alternatives({c.word for c in load_rules(data_dir).cues})})\b", re.IGNORECASE)


@functools.lru_cache(maxsize=4)
def result_patterns(data_dir: Path = DATA_DIR) -> tuple[re.Pattern[str], dict[str, str], re.Pattern[str],
                                                         re.Pattern[str], re.Pattern[str], re.Pattern[str],
                                                         re.Pattern[str]]:
    """What a study showed: the result-word pattern (longest first) with each word's finding,
    the BI-RADS category pattern, the lymph-node words, the words of an abnormal node and
    those of a study from before the problem (reading.yaml ``imaging_results``)."""
    ir = load_rules(data_dir).imaging_results
    meaning: dict[str, str] = {w: code for code, ws in ir.results.items() for w in ws}
    result = re.compile(rf"(?<![\w-])({alternatives(meaning)})(?![\w-])", re.IGNORECASE)
    cats = alternatives(ir.category_words)
    category = re.compile(rf"(?<![\w-])(?:{cats})\s*[-:]?\s*(?P<n>[0-6])(?P<sub>[abc])?(?!\w|\.\d)", re.IGNORECASE)
    def words(ws: list[str]) -> re.Pattern[str]:
        return re.compile(rf"(?<![\w-])(?:{alternatives(ws)})(?![\w-])", re.IGNORECASE)

    done_before = re.compile(rf"(?<![\w-])(?:{alternatives(ir.done_before)})\s+(?:(?:dx|diagnostic|screening|recent|initial)\s+)?$",
                             re.IGNORECASE)
    return (result, meaning, category, words(ir.node_words), words(ir.node_abnormal), words(ir.earlier),
            done_before)


@functools.lru_cache(maxsize=4)
def situation_cues(data_dir: Path = DATA_DIR) -> tuple[list[tuple[str, re.Pattern[str] | None]],
                                                        list[tuple[str, re.Pattern[str]]],
                                                        dict[str, re.Pattern[str]]]:
    """The phase cues (strongest first; None where the reader's own wording is used), the
    purpose cues and the situation words, compiled (reading.yaml ``situation``)."""
    sit = load_rules(data_dir).situation
    phases: list[tuple[str, re.Pattern[str] | None]] = [
        (name, None if cues.reader else cues.compiled()) for name, cues in sit.phases.items()]
    purposes: list[tuple[str, re.Pattern[str]]] = [(name, cues.compiled()) for name, cues in sit.purposes.items()]
    return phases, purposes, {name: cues.compiled() for name, cues in sit.words.items()}
