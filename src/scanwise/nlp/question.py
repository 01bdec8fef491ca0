"""Read a patient's question: what they want to know (intent) and about what (slots).

The words are data (reading.yaml ``question``, validated in :mod:`scanwise.nlp.rules`), and
where the clinical reader has the same words they are its own: the other organs' cancers,
metastatic, DCIS and lobular. Here is only the grammar: tokens, the vocabulary's test phrases
matched longest first, a misspelt word matched to the closest phrase with difflib when it is
close enough ("mamogram" -> mammogram), and stage numbers in words. Every reading that is
inferred rather than stated is said out loud in ``Question.assumptions``. The result is the
domain's :class:`~scanwise.domain.answers.models.Question`.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from scanwise.domain.answer_data import Rule, Topic
from scanwise.domain.answers.models import MAX_QUESTION_CHARS, Intent, Question, TestMention, UnusableQuestion
from scanwise.domain.answers.outlines import topics_of
from scanwise.domain.kb import KnowledgeBase
from scanwise.domain.profile import STAGE_SUBGROUPS, PatientProfile, Phase
from scanwise.knowledge.loader import DATA_DIR
from scanwise.nlp.prefilter import prefiltered
from scanwise.nlp.rules import Cues, alternatives, load_rules

__all__ = ["SlotReader", "find_tests", "read_question", "understand"]

# --- the words, from reading.yaml -------------------------------------------------------------


def _either(*cues: Cues) -> re.Pattern[str]:
    """Several cues as one pattern, whole words, case ignored."""
    body = "|".join(c.alternation() for c in cues)
    return prefiltered(re.compile(rf"\b(?:{body})\b", re.IGNORECASE))


@dataclass(frozen=True)
class _Words:
    symptom_codes: frozenset[str]
    not_tests: frozenset[str]
    mri_places: list[tuple[re.Pattern[str], str]]
    early: re.Pattern[str]
    locally_advanced: re.Pattern[str]
    metastatic: re.Pattern[str]
    dcis: re.Pattern[str]
    lobular: re.Pattern[str]
    inflammatory: re.Pattern[str]
    phases: list[tuple[Phase, re.Pattern[str]]]
    intents: dict[str, re.Pattern[str]]
    scope: dict[str, re.Pattern[str]]
    names: dict[str, re.Pattern[str]]
    other_cancer: re.Pattern[str]


@functools.lru_cache(maxsize=4)
def _words(data_dir: Path = DATA_DIR) -> _Words:
    rules = load_rules(data_dir)
    q, histology = rules.question, rules.fact_kinds.histology
    organs = rules.cancers.organs.values()
    organ_words = alternatives({w for o in organs for w in o.words})
    names = alternatives({n for o in organs for n in o.names})
    nouns = alternatives(rules.cancers.cancer_nouns)
    return _Words(
        symptom_codes=frozenset(q.symptom_codes),
        not_tests=frozenset(q.tests.not_tests),
        mri_places=[(cues.compiled(), code) for code, cues in q.tests.mri_places.items()],
        early=q.stages.early.compiled(),
        locally_advanced=q.stages.locally_advanced.compiled(),
        metastatic=_either(rules.fact_words["metastatic"], q.stages.metastatic),
        dcis=histology["dcis"].compiled(),
        lobular=_either(histology["lobular"], histology["mixed"], q.stages.lobular),
        inflammatory=q.stages.inflammatory.compiled(),
        phases=[(phase, cues.compiled()) for phase, cues in q.phases.items()],
        intents={name: cues.compiled() for name, cues in q.intents.items()},
        scope={name: cues.compiled() for name, cues in q.scope.items()},
        names={name: cues.compiled() for name, cues in q.names.items()},
        # another organ's cancer, in the clinical reader's words: "lung cancer", "melanoma"
        other_cancer=prefiltered(re.compile(rf"\b(?:(?:{organ_words})\s+(?:{nouns})|{names})\b", re.IGNORECASE)),
    )


# --- finding tests -------------------------------------------------------------------------

# Lay and alternative words people use for a study are the vocabulary's (``lay`` of each study).

_TOKEN = re.compile(r"[a-z0-9]+")


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower().replace("’", "'"))


@dataclass(frozen=True)
class _Lexicon:
    phrases: dict[tuple[str, ...], str]  # token tuple -> code
    longest: int
    fuzzy_keys: list[str]  # phrases of 5+ letters, for misspellings
    fuzzy_codes: dict[str, str]


_lexicons: dict[str, _Lexicon] = {}


def _lexicon(kb: KnowledgeBase) -> _Lexicon:
    if kb.version not in _lexicons:
        _lexicons[kb.version] = _build_lexicon(kb)
    return _lexicons[kb.version]


def _build_lexicon(kb: KnowledgeBase) -> _Lexicon:
    phrases: dict[tuple[str, ...], str] = {}
    for term in kb.vocabulary:
        if term.kind != "procedure":
            continue
        for pattern in term.patterns:
            if "[" not in pattern:
                phrases.setdefault(tuple(_tokens(pattern)), term.code)
    for term in kb.vocabulary:  # lay names (vocabulary ``lay``) override: "tomosynthesis"
        for words in term.lay:
            phrases[tuple(_tokens(words))] = term.code
    fuzzy: dict[str, str] = {}
    for toks, code in phrases.items():
        joined = " ".join(toks)
        if len(joined.replace(" ", "")) >= 5:
            fuzzy[joined] = code
            fuzzy.setdefault(joined.replace(" ", ""), code)
    return _Lexicon(phrases, max(len(p) for p in phrases), sorted(fuzzy), fuzzy)


_FUZZY_CUTOFF = 0.84


def find_tests(text: str, kb: KnowledgeBase) -> list[TestMention]:
    """Studies named in the text, in order, longest phrase first; misspellings matched fuzzily."""
    lex = _lexicon(kb)
    toks = _tokens(text)
    found: list[TestMention] = []
    seen: set[str] = set()
    i = 0

    def add(code: str, words: str, fuzzy: bool = False) -> None:
        if code not in seen:
            seen.add(code)
            found.append(TestMention(code=code, label=kb.terms[code].label, words=words, fuzzy=fuzzy))

    while i < len(toks):
        for n in range(min(lex.longest, len(toks) - i), 0, -1):
            code = lex.phrases.get(tuple(toks[i:i + n]))
            if code is None:
                continue
            words = " ".join(toks[i:i + n])
            if code == "breast_mri" and words in ("mri", "mri scan", "magnetic resonance"):
                code = _mri_place(text) or code
            add(code, words)
            i += n
            break
        else:
            matched = _fuzzy(toks, i, lex)
            if matched:
                code, words, n = matched
                add(code, words, fuzzy=True)
                i += n
            else:
                i += 1
    return found


def _mri_place(text: str) -> str | None:
    """A bare "MRI" means breast MRI unless the sentence names another body part."""
    return next((code for pattern, code in _words().mri_places if pattern.search(text)), None)


def _fuzzy(toks: list[str], i: int, lex: _Lexicon) -> tuple[str, str, int] | None:
    """The closest test phrase to the words at i (two words first), if close enough."""
    not_tests = _words().not_tests
    for n in (2, 1):
        words = toks[i:i + n]
        if len(words) < n or any(w in not_tests for w in words):
            continue
        for candidate in (" ".join(words), "".join(words)):
            if len(candidate.replace(" ", "")) < 5 or not candidate[0].isalpha():
                continue
            close = difflib.get_close_matches(candidate, lex.fuzzy_keys, n=1, cutoff=_FUZZY_CUTOFF)
            if close and close[0][0] == candidate[0]:
                return lex.fuzzy_codes[close[0]], " ".join(words), n
    return None


# --- slots ---------------------------------------------------------------------------------

_NUMBER_WORDS = {"zero": "0", "one": "I", "two": "II", "three": "III", "four": "IV",
                 "0": "0", "1": "I", "2": "II", "3": "III", "4": "IV",
                 "i": "I", "ii": "II", "iii": "III", "iv": "IV"}
# "stage 2 or maybe 3": the person does not know yet, so both stay open.
_STAGE_EITHER = re.compile(r"\bstage\s*(?P<a>iii|ii|i|[1-3]|one|two|three)\s*(?:or|to|/)\s*(?:maybe\s*|possibly\s*)?"
                           r"(?:stage\s*)?(?P<b>iii|ii|i|iv|[1-4]|two|three|four)\b", re.IGNORECASE)


#: Reads the facts a question states about the patient (stage, receptors, pregnancy,
#: symptoms, with negation and whose fact it is): the one clinical reader
#: (``scanwise.nlp.scenario.read_profile``, or the core's reading of the same).
SlotReader = Callable[[str, KnowledgeBase], PatientProfile]


def understand(text: str, kb: KnowledgeBase, *, read: SlotReader,
               context_phase: Phase | None = None) -> Question:
    """Read a question into its intent and slots. Raises UnusableQuestion for unusable text."""
    if not isinstance(text, str) or not text.strip():
        raise UnusableQuestion("the question is empty: ask about an imaging test for breast cancer")
    if "\x00" in text:
        raise UnusableQuestion("the question contains binary data, not text")
    if len(text) > MAX_QUESTION_CHARS:
        raise UnusableQuestion(f"the question is {len(text):,} characters; the limit is "
                               f"{MAX_QUESTION_CHARS:,}. Ask one question; put the history in --context")
    words = _words()
    clean = " ".join(text.split())
    tests = find_tests(clean, kb)
    assumptions = [f'read "{t.words}" as {t.label}' for t in tests if t.fuzzy]
    q: dict[str, object] = {"text": clean, "tests": tests}
    said = read(clean, kb)
    _read_facts(said, q, words)
    _read_stage(clean, q, assumptions, words)
    q["lobular"] = bool(words.lobular.search(clean))
    q["inflammatory"] = bool(words.inflammatory.search(clean))
    q.update({f"names_{name}": bool(cue.search(clean)) for name, cue in words.names.items()})
    phase = next((p for p, cue in words.phases if cue.search(clean)), None)
    if phase in _CANCER_PHASES and said.family_history and not _own_cancer(said):
        # "my mom was diagnosed with breast cancer": the cancer words are a relative's (the
        # reader's ConText scope says whose), so they say nothing of this person's phase of care.
        phase = None
    stages = q.get("stages") or []
    if phase is None and stages and "IV" not in stages:  # type: ignore[operator]
        phase = "new_diagnosis"
        assumptions.append("read as a question about tests at diagnosis (staging), because a stage is given")
    q["phase"] = phase
    # the question's own phase cues are too loose to veto a topic
    topic = _question_topic(clean, kb, context_phase)
    intent: Intent
    if topic is not None:
        intent, scope_note = topic.intent, topic.scope_note
        q["topic"] = topic.id
    else:
        intent, scope_note = _intent(clean, tests, q, words)
    q["intent"] = intent
    q["scope_note"] = scope_note
    if intent == "frequency" and phase is None:
        q["phase"] = "surveillance"
        assumptions.append("read as a question about follow-up after treatment")
    q["assumptions"] = assumptions
    return Question.model_validate(q)


def read_question(text: str, kb: KnowledgeBase, *, context_phase: Phase | None = None) -> Question:
    """A question read with the clinical reader's own slot reader (``read_profile``): the
    domain's ``QuestionReader`` for callers without a core (tests, benchmarks, tools)."""
    from scanwise.nlp.scenario import read_profile

    return understand(text, kb, read=read_profile, context_phase=context_phase)


def _read_stage(text: str, q: dict[str, object], assumptions: list[str], words: _Words) -> None:
    """Words for a range of stages: "stage 2 or 3" (not settled yet), or range words where
    the reader found no stated stage."""
    if m := _STAGE_EITHER.search(text):
        groups = [_NUMBER_WORDS[m.group(g).lower()] for g in ("a", "b")]
        q["stages"] = [s for g in groups for s in STAGE_SUBGROUPS.get(g, (g,))]
        q["stage_words"] = m.group(0)
        assumptions.append(f'read "{m.group(0)}" as not settled yet: stage {groups[0]} or {groups[1]}')
        return
    if q.get("stages"):
        return
    if m := words.metastatic.search(text):
        q["stages"] = ["IV"]
        q["stage_words"] = m.group(0)
    elif m := words.locally_advanced.search(text):
        q["stages"] = ["IIIA", "IIIB", "IIIC"]
        q["stage_words"] = m.group(0)
        assumptions.append('read "locally advanced" as stage III')
    elif m := words.early.search(text):
        q["stages"] = ["IA", "IB", "IIA"]
        q["stage_words"] = m.group(0)
        assumptions.append('read "early stage" as stage I to IIA, the range the ACR calls early')
    elif m := words.dcis.search(text):
        q["stages"] = ["0"]
        q["stage_words"] = m.group(0)


_CANCER_PHASES = frozenset({"new_diagnosis", "neoadjuvant", "surveillance", "suspected_recurrence"})


def _own_cancer(p: PatientProfile) -> bool:
    """Whether the reader found anything of the person's own breast cancer."""
    return bool(p.cancer_history or p.stage or p.histology or p.tumor_size_mm or p.er or p.her2)


def _read_facts(profile: PatientProfile, q: dict[str, object], words: _Words) -> None:
    """Stage, receptors, pregnancy and symptoms as the one clinical reader read them, whose
    ConText rules decide what is denied and whose fact it is. Range words the reader has no
    single stage for ("early stage") stay above."""
    if profile.stage is not None and not q.get("stages"):
        q["stages"] = list(STAGE_SUBGROUPS.get(profile.stage, (profile.stage,)))
        q["stage_words"] = profile.cite("stage")
    if profile.subtype == "triple_negative":
        q.update(triple_negative=True, er="negative", her2="negative")
    else:
        for key in ("er", "her2"):
            value = getattr(profile, key)
            if value in ("positive", "negative"):
                q[key] = value
    q["pregnant"] = bool(profile.pregnant)
    q["breastfeeding"] = bool(profile.lactating)
    named = [c for c in profile.symptoms if c in words.symptom_codes]
    q["symptoms"] = named
    if named:
        q["symptomatic"] = True
    elif profile.asymptomatic or any(c in words.symptom_codes for c in profile.denied_symptoms):
        q["symptomatic"] = False


_NOT_IMAGING = ("This question is not about an imaging test. scanwise covers imaging for breast cancer: "
                "which scans fit, how they work, their radiation, and what to ask. Ask your care team "
                "about other topics.")


def _intent(text: str, tests: list[TestMention], q: dict[str, object],
            words: _Words) -> tuple[Intent, str | None]:
    scope, cue = words.scope, words.intents
    breast = scope["breast"].search(text)
    other = words.other_cancer.search(text)
    if other and not breast:
        return "out_of_scope", (f'This asks about {other.group(0)}, not breast cancer. scanwise covers '
                                "imaging for breast cancer only.")
    if scope["other_body"].search(text) and not breast and not scope["cancer"].search(text):
        return "out_of_scope", ("This asks about imaging for something other than breast cancer. scanwise "
                                "covers imaging for breast cancer only.")
    if q.get("stages") and scope["spread_or_next"].search(text):
        return ("need" if tests else "which_tests"), None
    which, need = cue["which"].search(text), cue["need"].search(text)
    strong = bool(tests) or bool(scope["imaging"].search(text)) or bool(which)
    if not strong and scope["non_imaging_topic"].search(text):
        return "out_of_scope", _NOT_IMAGING
    if not strong and not scope["imaging_weak"].search(text):
        if not breast:
            return "out_of_scope", _NOT_IMAGING
        return "general", None
    if cue["radiation"].search(text):
        return "radiation", None
    if cue["preparation"].search(text):
        return "preparation", None
    if cue["frequency"].search(text) and (tests or q.get("phase") in (None, "surveillance")):
        return "frequency", None
    if cue["results"].search(text) and not need:
        return "results", None
    if len(tests) >= 2 and cue["compare"].search(text):
        return "compare", None
    if tests and need:
        return "need", None
    if which or (need and not tests):
        return "which_tests", None
    if len(tests) >= 2:
        return "compare", None
    if tests:
        return "explain", None
    if q.get("stages") or q.get("phase") or q.get("her2") or q.get("er") or q.get("triple_negative"):
        return "which_tests", None
    return "general", None


def _matches(rule: Rule, text: str) -> bool:
    """A patient topic's rule (knowledge/answers/topics.yaml ``when``) against the question."""
    if not (rule.all or rule.any):
        return False

    def hit(pattern: str) -> bool:
        return re.search(pattern, text, re.IGNORECASE) is not None
    return (all(hit(p) for p in rule.all) and (not rule.any or any(hit(p) for p in rule.any))
            and not any(hit(p) for p in rule.none))


def _question_topic(text: str, kb: KnowledgeBase, phase: Phase | None = None) -> Topic | None:
    """The first patient topic whose rule matches the question (and fits the phase, when known)."""
    return next((t for t in topics_of(kb).topics if _matches(t.when, text)
                 and not (phase and t.phases and phase not in t.phases)), None)
