"""What is built from the knowledge base is built once, not per call: the design behind the
speed figures in benchmarks/ (bench_assess.py, bench_reader.py), checked by counting, not timing.

- Each variant's conditions are compiled once per knowledge base, when its index is first used;
  assessing never compiles again.
- The index by phase, purpose and population drops only variants that cannot fit: the engine
  finds exactly the candidates that checking every variant finds.
- The compiled index pickles with the knowledge base (the on-disk cache may hold it).
- The reader builds its pipeline once per process and runs it once per text.
- Its rule matchers are compiled once, when the pipeline is built (token patterns that are word
  lists become phrases); reading never compiles again, a Matcher for the patterns a text can
  match is built once per such set, and the compiled pipeline finds exactly the entities and
  ConText modifiers medspaCy's own matchers find.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import pytest

from scanwise.domain import conditions
from scanwise.domain.assess import _candidates, assess, work_out_stage
from scanwise.domain.conditions import Situation, evaluate
from scanwise.domain.kb import KnowledgeBase
from scanwise.domain.profile import STAGE_GROUPS, Indication, PatientProfile
from scanwise.eval.runner import load_scenarios
from scanwise.knowledge import loader
from scanwise.nlp import clinical
from scanwise.nlp.scenario import read_scenario

EVAL = Path(__file__).resolve().parents[1] / "src" / "scanwise" / "eval"

CASES = [
    (PatientProfile(age=58, sex="female", histology="ductal", tumor_size_mm=18, grade=2, er="positive",
                    pr="positive", her2="negative", t="cT1c", n="cN0"),
     Indication(phase="new_diagnosis", purpose="distant")),
    (PatientProfile(age=45, symptoms=["palpable_mass"]), Indication(phase="diagnostic_workup")),
    (PatientProfile(age=52, sex="female"), Indication(phase="screening")),
    (PatientProfile(age=61, cancer_history=True, surgery="lumpectomy"), Indication(phase="surveillance")),
    (PatientProfile(gender="transfeminine", age=50), Indication(phase="screening")),
    (PatientProfile(), Indication()),
]


@pytest.fixture(scope="module")
def fresh_kb() -> KnowledgeBase:
    """A knowledge base of its own, loaded from the data files (nothing compiled yet)."""
    return loader.load(loader.DATA_DIR)


def _compilable(kb: KnowledgeBase) -> int:
    """Conditions the engine compiles: every variant's, and the topic-wide ones of the current
    topics whose variants are not (or not all) bundled (checked for 'covered by topic')."""
    variants = sum(len(t.variants) for t in kb.topics if t.status != "superseded")
    bare = sum(1 for t in kb.current_topics() if (not t.variants or not t.variant_list_complete)
               and t.applies_when.phase is not None)
    return variants + bare


def test_conditions_compiled_once_per_knowledge_base(fresh_kb: KnowledgeBase) -> None:
    before = conditions.compilations
    for profile, indication in CASES:
        assess(profile, indication, fresh_kb)
        assess(profile, indication, fresh_kb, include_retired=True)
    first = conditions.compilations - before
    # Only what the questions reached is compiled, and never more than each once.
    assert 0 < first <= _compilable(fresh_kb)
    for _ in range(3):
        for profile, indication in CASES:
            assess(profile, indication, fresh_kb)
            assess(profile, indication, fresh_kb, include_retired=True)
    assert conditions.compilations - before == first, "assessing compiled conditions again"


def test_each_conditions_compiled_exactly_once() -> None:
    kb = loader.load(loader.DATA_DIR)
    before = conditions.compilations
    for topic in kb.topics:
        _ = topic.compiled, topic.compiled_applies_when
    assert conditions.compilations - before == sum(len(t.variants) + 1 for t in kb.topics)
    compiled = conditions.compilations
    for topic in kb.topics:
        assert topic.compiled is topic.compiled  # kept, not rebuilt per access
    for profile, indication in CASES:
        assess(profile, indication, kb, include_retired=True)
    assert conditions.compilations == compiled, "compiled again after everything was compiled"


def _all_scenario_situations(kb: KnowledgeBase) -> list[Situation]:
    out = []
    for name in ("scenarios", "holdout", "holdout4"):
        for case in load_scenarios(EVAL / f"{name}.yaml"):
            profile, indication = read_scenario(case.text, kb)
            stage = work_out_stage(profile, kb.stage_tables)
            out.append(Situation(profile=profile, indication=indication,
                                 stages=[g for g in stage.groups if g in STAGE_GROUPS],
                                 stage_basis=stage.basis, labels=kb.label,
                                 unread=[u.text for u in indication.unread], narrower=kb.narrower))
    return out


def _by_checking_everything(kb: KnowledgeBase, sit: Situation, include_retired: bool) -> list[Any]:
    """What the engine would find with no index: every variant checked in full."""
    out = []
    for topic in kb.topics:
        if topic.status == "superseded" or (topic.status == "retired" and not include_retired):
            continue
        for v in topic.variants:
            cond = topic.conditions[v.number]
            if cond.phase is None:
                continue
            checks = evaluate(cond, sit)
            if checks[0].status == "held" and not any(c.status == "failed" for c in checks):
                out.append((topic.topic_id, topic.status, v.number,
                            [(c.field, c.status, c.weight, c.reason) for c in checks]))
    return out


def test_the_index_drops_only_variants_that_cannot_fit(kb: KnowledgeBase) -> None:
    situations = _all_scenario_situations(kb)
    assert len(situations) > 300
    for sit in situations:
        for retired in (False, True):
            indexed = sorted((c.topic.topic_id, c.topic.status, c.variant.number,
                              [(ch.field, ch.status, ch.weight, ch.reason) for ch in c.checks])
                             for c in _candidates(kb, sit, retired))
            assert indexed == sorted(_by_checking_everything(kb, sit, retired)), sit.indication.text


def test_a_knowledge_base_with_its_index_pickles(fresh_kb: KnowledgeBase) -> None:
    results = [assess(p, i, fresh_kb).model_dump() for p, i in CASES]  # the index is built
    copy = pickle.loads(pickle.dumps(fresh_kb))
    assert [assess(p, i, copy).model_dump() for p, i in CASES] == results


class _CountingPipeline:
    """Stands in for the built pipeline, counting the passes made over texts (each pass makes
    one document, then runs the components on it)."""

    def __init__(self, nlp: Any) -> None:
        self.nlp, self.passes = nlp, 0

    def __call__(self, text: str) -> Any:
        self.passes += 1
        return self.nlp(text)

    def make_doc(self, text: str) -> Any:
        self.passes += 1
        return self.nlp.make_doc(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.nlp, name)


def test_the_reader_builds_its_pipeline_once_and_runs_it_once_per_text(
        kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch) -> None:
    texts = ["61F, cT3N1 ER+/HER2- IDC, no bone pain, staging?",
             "I'm 45 and found a lump in my left breast. My mother had breast cancer. What scan do I need?",
             "Annual screening for a 52 year old woman, no symptoms."]
    read_scenario(texts[0], kb)
    nlp = clinical.pipeline(kb)
    built = len(clinical._pipelines)
    counting = _CountingPipeline(nlp)
    monkeypatch.setitem(clinical._pipelines, kb.version, counting)
    for n, text in enumerate(texts * 2, start=1):
        read_scenario(text, kb)
        assert counting.passes == n, "a text went through the pipeline more than once"
    monkeypatch.undo()
    assert clinical.pipeline(kb) is nlp and len(clinical._pipelines) == built, "the pipeline was built again"


def test_the_pipeline_pickles_and_tokenises_the_same(kb: KnowledgeBase) -> None:
    """The tokenizer's suffix rule is one compiled pattern (no closure), so the pipeline can be
    saved: a copy through pickle splits words exactly as the original does."""
    nlp = clinical.pipeline(kb)
    copy = pickle.loads(pickle.dumps(nlp.tokenizer))
    texts = [case.text for case in load_scenarios(EVAL / "scenarios.yaml")] + [
        "Impression: BI-RADS 4B. Biopsy recommended.", "pT2NOMX (AJCC 8th ed.)."]
    for text in texts:
        assert [t.text for t in copy(text)] == [t.text for t in nlp.tokenizer(text)], text
    assert [t.text for t in nlp.tokenizer("BI-RADS 4B.")] == ["BI", "-", "RADS", "4B", "."]


def _reading(doc: Any) -> list[Any]:
    """What the pipeline says of a text: each entity, and each ConText modifier on it, and
    every token's entity tag."""
    return [(e.label_, e.start, e.end,
             sorted((m.category, m.modifier_span, m.direction) for m in e._.modifiers)) for e in doc.ents] + \
        [(t.ent_iob_, t.ent_type_) for t in doc]


def test_the_rule_matchers_are_compiled_once_per_pipeline(kb: KnowledgeBase) -> None:
    nlp = clinical.pipeline(kb)
    target = nlp.get_pipe("medspacy_target_matcher")._TargetMatcher__matcher._MedspacyMatcher__matcher
    context = nlp.get_pipe("medspacy_context")._ConText__matcher._MedspacyMatcher__matcher
    for compiled in (target, context):
        # most token patterns became phrases; the few that can match the same words as a rule
        # meaning something else stay patterns, in their order
        assert isinstance(compiled, clinical._PatternsThenPhrases)
        assert len(compiled.phrases) > 4 * len(compiled.patterns)
    before = clinical.compilations
    texts = [case.text for case in load_scenarios(EVAL / "holdout.yaml")[:40]]
    for text in texts:
        read_scenario(text, kb)
    assert clinical.compilations == before, "a matcher was compiled while reading"
    from scanwise.nlp import prefilter

    parses = prefilter.parses
    for text in texts:
        read_scenario(text, kb)
    assert prefilter.parses == parses, "a regular expression was parsed for its literals while reading"
    # a Matcher for the patterns a text can match is built the first time that set is seen, then kept
    built = clinical.matcher_builds
    for text in texts:
        read_scenario(text, kb)
    assert clinical.matcher_builds == built, "a Matcher was built again for texts already read"
    assert nlp.get_pipe("medspacy_target_matcher")._TargetMatcher__matcher._MedspacyMatcher__matcher is target
    with pytest.raises(RuntimeError):
        target.add("late", [[{"LOWER": "late"}]])  # rules after compiling would be missed: refused


def test_the_compiled_pipeline_reads_as_medspacys_matchers_do(kb: KnowledgeBase) -> None:
    """Every scenario text and a record's field-label sentences: the same entities, with the
    same modifiers, as the pipeline whose rules stay in medspaCy's own matchers."""
    nlp, plain = clinical.pipeline(kb), clinical._build(kb, compiled=False)
    texts = [case.text for path in sorted(EVAL.glob("*.yaml")) for case in load_scenarios(path)]
    report = (Path(__file__).parent / "fixtures" / "records" / "cap_synoptic.txt").read_text(encoding="utf-8")
    for text, starts in [(t, clinical.sentence_starts(t)) for t in texts] + [
            (report, clinical.sentence_starts(report, at_field_labels=True))]:
        assert _reading(clinical._with_sentences(nlp, text, starts)) == \
            _reading(clinical._with_sentences(plain, text, starts)), text


def test_a_pattern_is_the_word_sequences_it_matches() -> None:
    pattern = [{"LOWER": {"IN": ["lump", "mass"]}}, {"LOWER": "in", "OP": "?"},
               {"LOWER": {"IN": ["my", "Her"]}}]
    choices = clinical._choices(pattern)
    assert choices is not None
    # "Her" never matches a token's lower-case form, in either matcher
    assert clinical._sequences(choices) == {("lump", "in", "my"), ("mass", "in", "my"),
                                            ("lump", "my"), ("mass", "my")}
    assert clinical._matches_whole(choices, ("lump", "my"))
    assert not clinical._matches_whole(choices, ("lump", "in"))
    assert clinical._choices([{"LOWER": "a", "OP": "*"}]) is None  # other operators stay patterns
    assert clinical._choices([{"TEXT": {"REGEX": "^a"}}]) is None


def _prefiltered_patterns() -> list[Any]:
    from scanwise.nlp import extract, normalize, pathology, rules, scenario
    from scanwise.nlp.prefilter import Prefiltered

    found: dict[int, Any] = {}

    def collect(obj: Any, depth: int = 0) -> None:
        if isinstance(obj, Prefiltered):
            found[id(obj)] = obj
        elif isinstance(obj, (list, tuple)) and depth < 3:
            for item in obj:
                collect(item, depth + 1)
        elif isinstance(obj, dict) and depth < 3:
            for item in obj.values():
                collect(item, depth + 1)

    for module in (extract, normalize, pathology, scenario):
        for value in vars(module).values():
            collect(value)
    collect(rules.situation_cues())
    return list(found.values())


def test_the_regex_prefilter_never_changes_a_match() -> None:
    """A prefiltered pattern skips texts that lack all of its literals: on every scenario text,
    every record fixture, their upper-cased forms and windows of them, it finds exactly what
    the pattern itself finds."""
    from scanwise.nlp import prefilter

    patterns = _prefiltered_patterns()
    assert len(patterns) > 100
    records = Path(__file__).parent / "fixtures" / "records"
    texts = [case.text for path in sorted(EVAL.glob("*.yaml")) for case in load_scenarios(path)]
    texts += [p.read_text(encoding="utf-8") for p in sorted(records.glob("*.txt"))]
    texts += [t.upper() for t in texts[::7]]
    texts += ["", "ER+ / PR- HER2 3+", "Kelvin \u212a and \u017f: not ASCII"]
    skipped = 0
    for pattern in patterns:
        raw = pattern._pattern
        for text in texts:
            windows = [(0, len(text)), (len(text) // 3, len(text)), (0, len(text) // 2), (-5, 10**9)]
            for pos, endpos in windows:
                got = pattern.search(text, pos, endpos)
                want = raw.search(text, pos, endpos)
                assert (got and got.span()) == (want and want.span()), (raw.pattern, text[:80])
                skipped += prefilter._lowered(text) is not None and pattern._absent(text, pos, endpos)
            assert [m.span() for m in pattern.finditer(text)] == [m.span() for m in raw.finditer(text)]
    assert skipped > 1000  # the prefilter does skip searches


def test_a_patterns_literals_are_what_every_match_contains() -> None:
    import re

    from scanwise.nlp.prefilter import literals, prefiltered

    # (re's parser takes the alternatives' shared "h" out in front: the longer literals are kept)
    assert literals(re.compile(r"\b(history of|hx of)\b", re.IGNORECASE)) == {"istory of", "x of"}
    assert literals(re.compile(r"\b(lump|mass)\b", re.IGNORECASE)) == {"lump", "mass"}
    assert literals(re.compile(r"\b(?:no )?mass(?:es)?\b")) == {"mass"}  # the optional part is not required
    assert literals(re.compile(r"\b(mass|\d+ cm)\b")) == {"mass", " cm"}
    assert literals(re.compile(r"\b(mass|\d+)\b")) is None  # an alternative with no literal: no filter
    assert literals(re.compile(r"(?<=abc)\d")) is None  # a lookbehind's words are not in the match
    assert literals(re.compile(r"(?:ab){2,}x")) == {"ab"}
    assert literals(re.compile(r"\u2212\d|neg")) is None  # a non-ASCII literal: no filter
    p = prefiltered(re.compile(r"\bkm\b", re.IGNORECASE))
    assert p.search("5 KM") and p.search("5 \u212am") and not p.search("5 miles")  # Kelvin sign: searched
