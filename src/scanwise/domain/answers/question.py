"""Understand a patient's question: what they want to know (intent) and about what (slots).

Pure code: patterns and the knowledge base's vocabulary, no language model. Tests are found
from the vocabulary's procedure phrases plus a short list of lay words ("cat scan", "nuclear
bone test"); a misspelt word is matched to the closest phrase with difflib when it is close
enough ("mamogram" -> mammogram). Every reading that is inferred rather than stated is said
out loud in ``Question.assumptions``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict

from scanwise.domain.answers.outlines import question_topic
from scanwise.domain.kb import KnowledgeBase
from scanwise.domain.profile import STAGE_SUBGROUPS, PatientProfile, Phase, Receptor, StageGroup, Subtype

Intent = Literal[
    "compare",  # how do tests A and B differ
    "explain",  # what is test A
    "need",  # do I need test A (in my situation)
    "which_tests",  # which tests fit my situation
    "radiation",  # radiation dose and safety
    "preparation",  # how to get ready, what happens during the test
    "results",  # what results mean, what comes next
    "frequency",  # how often during follow-up
    "general",  # in scope, but no fixed intent fits: answered by retrieval
    "out_of_scope",  # not about imaging in breast cancer
    # Patient topics (knowledge/answers/topics.yaml decides when each applies):
    "screening",  # when to start, how often, family history, density, supplemental tests
    "follow_up",  # imaging after treatment: how often, which breast, why no routine scans
    "symptoms",  # a lump, pain, discharge, in women and men
    "monitoring",  # checking how treatment before surgery is working
    "report",  # what a report or a BI-RADS category means
    "alternatives",  # tests offered instead of a mammogram that are not substitutes
    "cost",  # coverage and cost: what to ask, and whom
]
INTENTS: tuple[Intent, ...] = ("compare", "explain", "need", "which_tests", "radiation", "preparation",
                               "results", "frequency", "general", "out_of_scope", "screening", "follow_up",
                               "symptoms", "monitoring", "report", "alternatives", "cost")

MAX_QUESTION_CHARS = 2_000


class UnusableQuestion(ValueError):
    """The question cannot be read (empty, too long, binary)."""


class TestMention(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str  # vocabulary procedure code
    label: str
    words: str  # as written in the question
    fuzzy: bool = False  # matched as a likely misspelling


class Question(BaseModel):
    """What the question asks; ``None`` or empty means not said."""

    text: str
    intent: Intent
    tests: list[TestMention] = []
    stages: list[StageGroup] = []
    stage_words: str | None = None
    er: Receptor | None = None
    her2: Receptor | None = None
    triple_negative: bool = False
    lobular: bool = False
    inflammatory: bool = False
    phase: Phase | None = None
    symptomatic: bool | None = None  # True: symptoms named; False: "no symptoms" said
    symptoms: list[str] = []  # vocabulary codes of symptoms named (not denied)
    pregnant: bool = False
    breastfeeding: bool = False
    scope_note: str | None = None  # why the question is out of scope
    topic: str | None = None  # the patient topic (topics.yaml) that matched, if any
    assumptions: list[str] = []

    @property
    def codes(self) -> list[str]:
        return [t.code for t in self.tests]

    @property
    def subtype(self) -> Subtype | None:
        if self.triple_negative:
            return "triple_negative"
        if self.her2 == "positive":
            return "her2_pos"
        if self.er == "positive" and self.her2 == "negative":
            return "er_pos_her2_neg"
        return None


# --- finding tests -------------------------------------------------------------------------

# Lay and alternative words people use for a study are the vocabulary's (``lay`` of each study).

#: A bare "MRI" means breast MRI unless the sentence names another body part.
_MRI_PLACE = [(re.compile(r"\b(brain|head)\b"), "brain_mri"),
              (re.compile(r"\b(spine|spinal|back)\b"), "spine_mri")]

_TOKEN = re.compile(r"[a-z0-9]+")


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower().replace("’", "'"))


# Symptoms that change which tests fit (spread, a new lump), as the clinical reader reads them.
_SYMPTOM_CODES = ("bone_pain", "neurologic_symptoms", "cough", "dyspnea", "chest_pain", "abdominal_pain",
                  "jaundice", "palpable_mass")


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


# Words too common to be read as a misspelt test name.
_NOT_TESTS = frozenset({
    "cancer", "cancers", "breast", "breasts", "scans", "stage", "about", "there", "their", "these",
    "those", "which", "where", "should", "would", "could", "positive", "negative", "treatment",
    "doctor", "doctors", "please", "better", "after", "before", "spread", "tumor", "tumour", "sugar",
    "results", "result", "needed", "necessary", "difference", "between", "check", "checks", "chemo",
    "radiation", "surgery", "having", "getting", "really", "still", "years", "months", "without",
    "symptoms", "pregnant", "health", "medical", "patient", "called", "means", "exposure", "ultra",
    "sound", "nuclear", "density", "heart", "brain", "spine", "because", "lymph", "nodes", "contrast",
    "period", "periods", "people", "person", "mother", "sister", "therapy", "tamoxifen", "women",
    "question", "questions", "answer", "other", "things", "something", "follow", "thing", "image",
    "images", "imaging", "picture", "pictures", "mammary", "metastatic", "metastases", "normal",
})

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
    low = text.lower()
    for pattern, code in _MRI_PLACE:
        if pattern.search(low):
            return code
    return None


def _fuzzy(toks: list[str], i: int, lex: _Lexicon) -> tuple[str, str, int] | None:
    """The closest test phrase to the words at i (two words first), if close enough."""
    for n in (2, 1):
        words = toks[i:i + n]
        if len(words) < n or any(w in _NOT_TESTS for w in words):
            continue
        for candidate in (" ".join(words), "".join(words)):
            if len(candidate.replace(" ", "")) < 5 or not candidate[0].isalpha():
                continue
            close = difflib.get_close_matches(candidate, lex.fuzzy_keys, n=1, cutoff=_FUZZY_CUTOFF)
            if close and close[0][0] == candidate[0]:
                return lex.fuzzy_codes[close[0]], " ".join(words), n
    return None


# --- slots ---------------------------------------------------------------------------------

def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


_NUMBER_WORDS = {"zero": "0", "one": "I", "two": "II", "three": "III", "four": "IV",
                 "0": "0", "1": "I", "2": "II", "3": "III", "4": "IV",
                 "i": "I", "ii": "II", "iii": "III", "iv": "IV"}
# "stage 2 or maybe 3": the person does not know yet, so both stay open.
_STAGE_EITHER = _rx(r"\bstage\s*(?P<a>iii|ii|i|[1-3]|one|two|three)\s*(?:or|to|/)\s*(?:maybe\s*|possibly\s*)?"
                    r"(?:stage\s*)?(?P<b>iii|ii|i|iv|[1-4]|two|three|four)\b")
_EARLY = _rx(r"\bearly[\s-]*stage\b|\bearly breast cancer\b|\bearly cancer\b")
_LOCALLY_ADVANCED = _rx(r"\blocally[\s-]+advanced\b")
_METASTATIC = _rx(r"\b(metastatic|stage\s*iv|secondary breast cancer|de novo metastatic|"
                  r"has spread to (my|the) (bones?|liver|lungs?|brain))\b")
_DCIS = _rx(r"\b(dcis|ductal carcinoma in situ)\b")

_LOBULAR = _rx(r"\blobular\b|\bilc\b")
_INFLAMMATORY = _rx(r"\binflammatory breast\b|\bibc\b")

_PHASE_CUES: list[tuple[Phase, re.Pattern[str]]] = [
    ("suspected_recurrence", _rx(r"\b(think|worried|afraid|scared|concerned|suspect\w*|signs? of)\b"
                                 r"[^.?!]{0,40}"
                                 r"\b(come back|came back|coming back|recurr\w*|returned|spread)\b"
                                 r"|\b(has|it's|it has|cancer) (come|came) back\b|\brecurrence\b(?! risk)"
                                 r"|\b(if|when|once) (my |the )?(cancer|it) (comes|came|has come) back\b"
                                 r"|\brelapse\w*\b")),
    ("neoadjuvant", _rx(r"\b(neo[\s-]?adjuvant|during (my )?chemo\w*|on chemo\w*|chemo\w* before surgery|"
                        r"(chemo\w*|treatment) is working|response to (chemo\w*|treatment))\b")),
    ("surveillance", _rx(r"\b(follow[\s-]?up|after (my |finishing |completing )?"
                         r"(treatment|chemo\w*|radiation|lumpectomy|mastectomy|surgery)|"
                         r"finished (my )?(treatment|chemo\w*|radiation)|"
                         r"surveillance|survivor\w*|in remission|cancer[\s-]free|no evidence of disease|"
                         r"years? (since|after)|check(ing)? (if|whether|that) it (has )?(come|came) back|"
                         r"watch(ing)? for)\b")),
    ("new_diagnosis", _rx(r"\b(newly diagnosed|just diagnosed|new diagnosis|recently diagnosed|"
                          r"been diagnosed|diagnosed (with|last|this|two|a)|staging|"
                          r"stage (it|the cancer|my cancer)|"
                          r"has (it|the cancer) spread|check (if|whether) (it|the cancer) (has )?spread|"
                          r"before (my )?(surgery|operation|treatment))\b")),
]

_RADIATION = _rx(r"\b(radiation|radioactiv\w*|irradiat\w*|dose|doses|msv|millisievert\w*|expos\w*|"
                 r"how safe|is it safe|are they safe|safe to|dangerous|harmful|harm me|cause cancer|"
                 r"risky|risks? of (the |a |this )?(scan|test|ct|pet|x ?ray|mammogram)|glow|safe|safety)\b")
_PREPARATION = _rx(r"\b(prepar\w*|prep|get ready|getting ready|fast|fasting|eat|eating|drink|what to wear|"
                   r"what (should|do) i (wear|bring|expect)|how long (does|will|is) (it|the \w+|a \w+)|"
                   r"claustrophob\w*|closed in|before (my|the|a) (scan|test|appointment)|"
                   r"take my (medication|medicine|meds|pills)|what happens (during|at))\b")
_RESULTS = _rx(r"\b(results?|what does (it|this|that) mean|hot spots?|lit up|light(s|ed)? up|showed|shows? "
               r"(a|an|something)|found (a|an|something)|indeterminate|inconclusive|unclear|abnormal|"
               r"next steps?|what happens (after|next|if)|false (positive|alarm)s?|spots? on|flare)\b")
_FREQUENCY = _rx(r"\b(how often|how frequently|how many (times|scans|mammograms|tests)|"
                 r"every (year|\d+ months|six months|few months)|schedule|yearly|annual\w*|once a year|"
                 r"how long (do|will|should) i "
                 r"(keep|need|have))\b")
_COMPARE = _rx(r"\b(difference|differences|differ|vs|versus|compare[ds]?|comparison|better than|"
               r"which is better|which one is better|instead of|rather than|same as|similar to|or is)\b")
_NEED = _rx(r"\b(do i (really |still |actually )?need|should i (have|get|ask|push|insist|request|be)|"
            r"(is|are) (a |an |the )?[\w/ -]{0,30}(necessary|needed|required|recommended|worth it|"
            r"a good idea|routine)|necessary|recommended|why (didn't|did not|won't|wont|doesn't|does not|"
            r"hasn't|has not|isn't) (my )?(doctor|oncologist|surgeon|team)|ask for|do they (usually )?"
            r"(do|order)|need to have|need a|need an|need one|shouldn't i)\b")
_WHICH = _rx(r"\b(which|what) (scans?|tests?|imaging|kinds? of (scans?|imaging|tests?)|types? of (scans?|"
             r"imaging|tests?))\b|\b(scans?|tests?|imaging) (will|would|should|do|does) (i|my|they)\b|"
             r"\bwhat (comes|happens) next\b")

# --- scope ---------------------------------------------------------------------------------

# Words that make a question about imaging; the weak ones only when no other topic is named.
_IMAGING = _rx(r"\b(scans?|scanning|imag\w*|x[\s-]?rays?|radiolog\w*|radiation|tracer|contrast|dye|"
               r"mammo\w*|screening|staging|hot spots?|biops\w*)\b")
_IMAGING_WEAK = _rx(r"\b(stage|spread|metasta\w*|follow[\s-]?up|recurr\w*|come back|came back|"
                    r"lymph nodes?|tests?|results?)\b")
_OTHER_CANCER = _rx(r"\b(lung|prostate|colon|colorectal|rectal|pancreatic|ovarian|cervical|uterine|"
                    r"endometrial|thyroid|kidney|bladder|stomach|gastric|liver|skin|brain|bone|blood|"
                    r"testicular|esophageal|oesophageal)\s+cancer\b|\b(melanoma|lymphoma|leuka?emia|myeloma|"
                    r"glioma|glioblastoma|sarcoma)\b")
_BREAST = _rx(r"\b(breast|mammo\w*|dcis|idc|ilc|lumpectomy|mastectomy|her[\s-]?2|triple[\s-]negative|"
              r"tamoxifen|letrozole|anastrozole|herceptin|trastuzumab|er[\s-]positive|lobular|ductal)\b")
_OTHER_BODY = _rx(r"\b(knee|ankle|shoulder|wrist|elbow|sprain\w*|sports injur\w*|tooth|teeth|dental|sinus\w*|"
                  r"kidney stones?|gallbladder|gallstones?|appendix|appendicitis|concussion|my baby|fetus|"
                  r"gender reveal|heart attack|stroke)\b")
_NON_IMAGING_TOPIC = _rx(r"\b(chemo\w*|side effects?|hair|diet|eat|food|supplements?|survival|survive|"
                         r"prognosis|life expectancy|cure|curable|surgery|surgeon|radiotherapy|treatment|"
                         r"drugs?|"
                         r"medicines?|pills?|tamoxifen|letrozole|anastrozole|insurance|cost|pay|wig|"
                         r"exercise|sex|fertility|work|job)\b")


#: Reads the facts a question states about the patient (stage, receptors, pregnancy,
#: symptoms, with negation and whose fact it is). The domain keeps no text reader: the one
#: clinical reader (``scanwise.nlp.scenario.read_profile``) is passed in by the core.
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
    clean = " ".join(text.split())
    tests = find_tests(clean, kb)
    assumptions = [f'read "{t.words}" as {t.label}' for t in tests if t.fuzzy]
    q: dict[str, object] = {"text": clean, "tests": tests}
    said = read(clean, kb)
    _read_facts(said, q)
    _read_stage(clean, q, assumptions)
    q["lobular"] = bool(_LOBULAR.search(clean))
    q["inflammatory"] = bool(_INFLAMMATORY.search(clean))
    phase = next((p for p, cue in _PHASE_CUES if cue.search(clean)), None)
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
    topic = question_topic(clean, kb, context_phase)
    intent: Intent
    if topic is not None:
        intent, scope_note = topic.intent, topic.scope_note
        q["topic"] = topic.id
    else:
        intent, scope_note = _intent(clean, tests, q)
    q["intent"] = intent
    q["scope_note"] = scope_note
    if intent == "frequency" and phase is None:
        q["phase"] = "surveillance"
        assumptions.append("read as a question about follow-up after treatment")
    q["assumptions"] = assumptions
    return Question.model_validate(q)


def _read_stage(text: str, q: dict[str, object], assumptions: list[str]) -> None:
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
    if m := _METASTATIC.search(text):
        q["stages"] = ["IV"]
        q["stage_words"] = m.group(0)
    elif m := _LOCALLY_ADVANCED.search(text):
        q["stages"] = ["IIIA", "IIIB", "IIIC"]
        q["stage_words"] = m.group(0)
        assumptions.append('read "locally advanced" as stage III')
    elif m := _EARLY.search(text):
        q["stages"] = ["IA", "IB", "IIA"]
        q["stage_words"] = m.group(0)
        assumptions.append('read "early stage" as stage I to IIA, the range the ACR calls early')
    elif m := _DCIS.search(text):
        q["stages"] = ["0"]
        q["stage_words"] = m.group(0)


_CANCER_PHASES = frozenset({"new_diagnosis", "neoadjuvant", "surveillance", "suspected_recurrence"})


def _own_cancer(p: PatientProfile) -> bool:
    """Whether the reader found anything of the person's own breast cancer."""
    return bool(p.cancer_history or p.stage or p.histology or p.tumor_size_mm or p.er or p.her2)


def _read_facts(profile: PatientProfile, q: dict[str, object]) -> None:
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
    named = [c for c in profile.symptoms if c in _SYMPTOM_CODES]
    q["symptoms"] = named
    if named:
        q["symptomatic"] = True
    elif profile.asymptomatic or any(c in _SYMPTOM_CODES for c in profile.denied_symptoms):
        q["symptomatic"] = False


# "Has it spread", "what scans come next", "will I get a PET": a staging question, whatever else it says.
_SPREAD_OR_NEXT = _rx(r"\b(spread|gone anywhere|metasta\w*|scans? (come|comes) next|will i (get|need|have)|"
                      r"do i (need|get)|should i (demand|ask for|get|have))\b")

_NOT_IMAGING = ("This question is not about an imaging test. scanwise covers imaging for breast cancer: "
                "which scans fit, how they work, their radiation, and what to ask. Ask your care team "
                "about other topics.")


def _intent(text: str, tests: list[TestMention], q: dict[str, object]) -> tuple[Intent, str | None]:
    other = _OTHER_CANCER.search(text)
    if other and not _BREAST.search(text):
        return "out_of_scope", (f'This asks about {other.group(0)}, not breast cancer. scanwise covers '
                                "imaging for breast cancer only.")
    if _OTHER_BODY.search(text) and not _BREAST.search(text) and not re.search(r"\bcancer\b", text, re.I):
        return "out_of_scope", ("This asks about imaging for something other than breast cancer. scanwise "
                                "covers imaging for breast cancer only.")
    if q.get("stages") and _SPREAD_OR_NEXT.search(text):
        return ("need" if tests else "which_tests"), None
    strong = bool(tests) or bool(_IMAGING.search(text)) or bool(_WHICH.search(text))
    if not strong and _NON_IMAGING_TOPIC.search(text):
        return "out_of_scope", _NOT_IMAGING
    if not strong and not _IMAGING_WEAK.search(text):
        if not _BREAST.search(text):
            return "out_of_scope", _NOT_IMAGING
        return "general", None
    if _RADIATION.search(text):
        return "radiation", None
    if _PREPARATION.search(text):
        return "preparation", None
    if _FREQUENCY.search(text) and (tests or q.get("phase") in (None, "surveillance")):
        return "frequency", None
    if _RESULTS.search(text) and not _NEED.search(text):
        return "results", None
    if len(tests) >= 2 and _COMPARE.search(text):
        return "compare", None
    if tests and _NEED.search(text):
        return "need", None
    if _WHICH.search(text) or (_NEED.search(text) and not tests):
        return "which_tests", None
    if len(tests) >= 2:
        return "compare", None
    if tests:
        return "explain", None
    if q.get("stages") or q.get("phase") or q.get("her2") or q.get("er") or q.get("triple_negative"):
        return "which_tests", None
    return "general", None
