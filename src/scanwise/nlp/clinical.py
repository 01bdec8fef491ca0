"""The clinical-text pipeline: sentences, medspaCy's target matcher and ConText.

Sentences are found by :func:`sentence_starts` (punctuation and line starts), not by
medspaCy's PyRuSH splitter: on the short texts people type, PyRuSH took more than half of a
reading (about 2.7 of 4.7 ms) and gave the same readings on every scenario set.

Targets come from the knowledge base's vocabulary (symptoms, findings, labs, studies) plus
cancer mentions, so the words scanwise recognises are data, not code. ConText decides
whether each mention is negated, about a relative, historical or hypothetical.
"""

from __future__ import annotations

import functools
import itertools
import re
import threading
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from scanwise.domain.kb import KnowledgeBase, phrase_pieces
from scanwise.nlp.rules import alternatives, load_rules

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

#: Mentions of cancer, told apart from the vocabulary codes by this prefix.
BREAST_CANCER = "cancer:breast"
Experiencer = Literal["patient", "relative", "other"]
#: The ConText category for a person who is neither the patient nor a relative.
OTHER_PERSON = "OTHER_EXPERIENCER"
#: Cue-word mentions carry this prefix; they are no fact, only a sign that words went unread.
CUE = "cue:"


@dataclass(frozen=True)
class Mention:
    code: str  # vocabulary code, BREAST_CANCER, or "cancer:<site>"
    text: str
    start: int
    end: int
    negated: bool
    family: bool
    historical: bool
    hypothetical: bool
    sentence_start: int
    sentence_end: int
    other_person: bool = False  # about someone who is not the patient nor a relative
    resolved: bool = False  # was present and has gone

    @property
    def experiencer(self) -> Experiencer:
        """Whom the fact is about."""
        return "relative" if self.family else "other" if self.other_person else "patient"

    @property
    def organ(self) -> str | None:
        """For a cancer mention, the organ it concerns ("breast", "lung"); None otherwise."""
        return self.code.split(":", 1)[1] if self.code.startswith("cancer:") else None

    @property
    def asserted(self) -> bool:
        """Said of the patient, now, as a fact."""
        return self.assertion == "present"

    @property
    def assertion(self) -> Literal["present", "denied", "resolved", "hypothetical", "historical"]:
        if self.resolved:
            return "resolved"
        if self.negated:
            return "denied"
        if self.hypothetical:
            return "hypothetical"
        if self.historical:
            return "historical"
        return "present"

    @property
    def status(self) -> Literal["present", "denied", "other"]:
        """Present or denied for the patient; "other" when about someone else or hypothetical."""
        if self.experiencer != "patient" or self.hypothetical:
            return "other"
        if self.negated or self.resolved:
            return "denied"
        return "present"


def token_patterns(phrase: str, tokens: Callable[[str], list[str]]) -> list[list[dict[str, Any]]] | None:
    """'lump in [the|her|my]? [left|right]? armpit' -> spaCy token patterns; None if plain.

    Square brackets list alternatives and a trailing '?' makes the group optional. An
    alternative the tokenizer splits ("d/c", "blood-stained", "fdg-avid") cannot be one token's
    choice: each such alternative gets its own pattern with its tokens in sequence, so it
    matches as written instead of never. Plain phrases stay phrase matches, so their
    punctuation ("pet/ct") tokenises as in text.
    """
    if "[" not in phrase:
        return None
    # Each group as its choices: the one-token alternatives together, then each longer one.
    groups: list[list[list[dict[str, Any]]]] = []
    for words, optional in phrase_pieces(phrase):
        split = [tokens(w) for w in words]
        single = [t[0] for t in split if len(t) == 1]
        choices: list[list[dict[str, Any]]] = []
        if single:
            spec: dict[str, Any] = {"LOWER": {"IN": single}} if len(single) > 1 else {"LOWER": single[0]}
            choices.append([{**spec, "OP": "?"} if optional else spec])
        choices += [[{"LOWER": t} for t in seq] for seq in split if len(seq) > 1]
        if optional and not single:
            choices.append([])  # the group left out
        groups.append(choices)
    return [[spec for choice in combo for spec in choice] for combo in itertools.product(*groups)]


_lock = threading.Lock()
_reading = threading.Lock()
_pipelines: dict[str, Language] = {}


_SENTENCE_END = re.compile(r"(?:(?<=[.!?])\s+|(?<![,\-])\n\s*(?=[A-Z0-9(*\u2022-]))(?=\S)")
#: In a record, a field label ("ER:", "Margins;") also ends a sentence.
_FIELD_END = re.compile(r"(?:(?<=[.;:!?])\s+|(?<![,\-])\n\s*(?=[A-Z0-9(*\u2022-]))(?=\S)")


def sentence_starts(text: str, *, at_field_labels: bool = False) -> list[int]:
    """Where sentences start: after . ! ? and at a line that starts like a new field or sentence
    (a wrapped line that continues a list, "headaches,\ncough", does not). Typed text keeps a
    colon inside its sentence ("Exam: no mass", "US done: BI-RADS 4": the heading's negation or
    the study's result reaches what follows); a record's field labels (``at_field_labels``) end
    one, each field being its own statement."""
    pattern = _FIELD_END if at_field_labels else _SENTENCE_END
    return [m.end() for m in pattern.finditer(text)]


def _build(kb: KnowledgeBase, *, compiled: bool = True) -> Language:
    # PyRuSH (imported with medspaCy, not run) logs every token at DEBUG through loguru.
    from loguru import logger

    logger.disable("PyRuSH")
    import medspacy
    from medspacy.context import ConTextRule
    from medspacy.target_matcher import TargetRule

    nlp = medspacy.load(
        medspacy_enable=["medspacy_target_matcher", "medspacy_context"]
    )
    # medspaCy's tokenizer keeps a sentence's final period on the word ("4B."), which would
    # hide "BI-RADS 4B" from the matcher; split it off (abbreviations are exceptions anyway).
    # One compiled pattern (medspaCy's suffixes, then a final period), not a function around
    # two: spaCy serialises a tokenizer's suffix search by its pattern, so the pipeline can be
    # saved and pickled. Same matches: a suffix first, else the period.
    tokenizer = nlp.tokenizer
    base = tokenizer.suffix_search.__self__ if tokenizer.suffix_search else None
    tokenizer.suffix_search = (re.compile(f"(?:{base.pattern})|\\.$", base.flags) if base
                               else re.compile(r"\.$")).search
    read = load_rules()
    cancers, ctx = read.cancers, read.context
    def tokens(word: str) -> list[str]:
        return [t.lower_ for t in nlp.tokenizer(word)]

    rules = []
    for term in kb.vocabulary:
        for phrase in term.patterns:
            patterns = token_patterns(phrase, tokens)
            rules += ([TargetRule(phrase, term.code, pattern=p) for p in patterns] if patterns
                      else [TargetRule(phrase, term.code)])
    rules += [TargetRule(p, BREAST_CANCER) for p in cancers.breast]
    # Clinical-looking cue words: matched (with their context) so that one no fact covers can
    # be reported as not understood; a vocabulary phrase containing one is longer and wins.
    rules += [TargetRule(cue.word, f"{CUE}{cue.word}") for cue in read.cues]
    for organ, words in cancers.organs.items():
        rules += [TargetRule(name, f"cancer:{organ}") for name in words.names]
        # "gastric adenocarcinoma", "papillary thyroid ca": an organ word, then a cancer noun;
        # longer than the bare noun, so the organ's match wins over the breast default.
        single = [w for w in words.words if " " not in w]  # one pattern for all one-word names
        if single:
            rules.append(TargetRule(f"{organ} cancer", f"cancer:{organ}", pattern=[
                {"LOWER": {"IN": single}}, {"LOWER": {"IN": cancers.cancer_nouns}}]))
        rules += [TargetRule(f"{word} cancer", f"cancer:{organ}", pattern=[
            *({"LOWER": piece} for piece in word.split()),
            {"LOWER": {"IN": cancers.cancer_nouns}}]) for word in words.words if " " in word]
    nlp.get_pipe("medspacy_target_matcher").add(rules)
    context = nlp.get_pipe("medspacy_context")
    # A word inside a fact read is that fact's, not a modifier of others: "the diagnostic
    # mammogram is negative" is a result, and its "negative" does not deny the lump before it.
    context.prune_on_target_overlap = True
    context.add([ConTextRule(word, "TERMINATE", direction="TERMINATE") for word in ctx.terminate
                 if word not in ctx.denied_noticing.verbs])
    context.add([ConTextRule(word, "TERMINATE", direction="TERMINATE", pattern=[
        {"LOWER": {"IN": ctx.denied_noticing.after}}, {"LOWER": word}]) for word in ctx.denied_noticing.verbs])
    # "I haven't felt any lump", "didn't feel a lump": the helper and its denial deny what
    # follows, and a noticing verb right after a denial does not end the denial's scope.
    dn = ctx.denied_noticing
    context.add([ConTextRule("denial", "NEGATED_EXISTENCE", direction="FORWARD", pattern=[
        {"LOWER": {"IN": dn.helpers}}, {"LOWER": {"IN": dn.denials}}])])
    # "a cough that won't go away": a denial's words that deny nothing (medspaCy's pseudo rules)
    context.add([ConTextRule(phrase, "PSEUDO_NEGATED_EXISTENCE", direction="PSEUDO")
                 for phrase in ctx.pseudo_denials])
    # "I never felt a lump": "never" alone denies what follows
    context.add([ConTextRule("never", "NEGATED_EXISTENCE", direction="FORWARD")])
    cb = ctx.clause_break
    context.add([ConTextRule("clause break", "TERMINATE", direction="TERMINATE", pattern=[
        {"LOWER": ",", "OP": "?"}, {"LOWER": {"IN": cb.joins}}, {"LOWER": {"IN": cb.subjects}}])])
    # medspaCy reads ": no" backwards ("Fever: no"); after a heading it starts a list of what is
    # absent ("Exam: no palpable abnormality"), so there it negates what follows.
    context.add([ConTextRule(f"{heading}: no", "NEGATED_EXISTENCE", direction="FORWARD",
                             pattern=[{"LOWER": heading}, {"LOWER": ":"}, {"LOWER": "no"}])
                 for heading in ctx.headings])
    # "My sister was diagnosed with breast cancer", "my friend was diagnosed with ...": that
    # person's diagnosis, though "with" ends other modifiers' reach; one rule spanning "with"
    # keeps the scope going, for a relative and for anyone else alike.
    context.add([ConTextRule(f"{who} diagnosed with", category, direction="FORWARD", pattern=[
        {"LOWER": {"IN": words}}, {"LOWER": {"IN": ["'s", "'"]}, "OP": "?"},
        {"LOWER": {"IN": ["just", "recently", "also"]}, "OP": "?"},
        {"LOWER": {"IN": ["was", "were", "got", "has", "had", "is"]}, "OP": "?"},
        {"LOWER": {"IN": ["been", "being"]}, "OP": "?"}, {"LOWER": {"IN": ["just", "recently", "also"]}, "OP": "?"},
        {"LOWER": "diagnosed"}, {"LOWER": "with"}])
        for who, category, words in (("relative", "FAMILY", ctx.relatives),
                                     ("other person", OTHER_PERSON, ctx.other_persons))])
    # A relative named: what follows is about them (medspaCy's own list lacks "mum", "grandma").
    context.add([ConTextRule("relative", "FAMILY", direction="FORWARD",
                             pattern=[{"LOWER": {"IN": ctx.relatives}}])])
    # "My friend had a PET scan": what follows is about that person, not the patient.
    context.add([ConTextRule("other person", OTHER_PERSON, direction="FORWARD", pattern=[
        {"LOWER": {"IN": ctx.other_persons}}, {"LOWER": {"IN": ["'s", "'"]}, "OP": "?"}])])
    # "my husband's sister", "her brother's wife": someone's relative by marriage is no blood
    # relative of the patient's; the whole chain is one modifier (the longer match wins).
    people = [*ctx.relatives, *ctx.other_persons]
    context.add([ConTextRule(f"relative by marriage ({n})", OTHER_PERSON, direction="FORWARD", pattern=[
        {"LOWER": {"IN": first}}, {"LOWER": {"IN": ["'s", "'"]}}, {"LOWER": {"IN": second}}])
        for n, (first, second) in enumerate(((ctx.other_persons, people), (ctx.relatives, ctx.other_persons)))])
    cancer_codes = {BREAST_CANCER} | {f"cancer:{organ}" for organ in cancers.organs}
    context.add([ConTextRule(word, "HISTORICAL", direction="BIDIRECTIONAL", allowed_types=cancer_codes,
                             max_scope=6) for word in ctx.cancer_past])
    # A symptom that has gone ("back pain in June, which has since resolved") is not present.
    context.add([ConTextRule(word, "RESOLVED", direction="BACKWARD") for word in ctx.resolved])
    # "nothing has changed", "nothing feels different": denied
    # (the verb is part of the denial: "has" alone ends scopes)
    context.add([ConTextRule("nothing", "NEGATED_EXISTENCE", direction="FORWARD", max_scope=3, pattern=[
        {"LOWER": "nothing"}, {"LOWER": {"IN": ["has", "have", "had", "is", "was", "feels", "looks", "seems"]},
                               "OP": "?"}])])
    # What a test looks for ("screening for silent rupture") is not a finding the patient has.
    context.add([ConTextRule(word, "HYPOTHETICAL", direction="FORWARD", max_scope=4)
                 for word in ctx.hypothetical])
    if compiled:
        target = nlp.get_pipe("medspacy_target_matcher")
        _compile(target._TargetMatcher__matcher, nlp.vocab,
                 meaning=lambda rule: (rule.category, repr(rule.attributes)))
        target.__class__ = _entities_at_once(type(target))
        # A ConText rule's whole rule (direction, scope, types) is what it does.
        _compile(context._ConText__matcher, nlp.vocab, meaning=id)
    return nlp


_at_once: dict[type, type] = {}


def _entities_at_once(base: type) -> type:
    """medspaCy's TargetMatcher, setting the document's entities once rather than once per
    match: spaCy's ``doc.ents += (span,)`` rewrites every token's entity tag each time, which
    on a long report cost more than the matching. The same entities: a match overlapping one
    already kept is skipped with medspaCy's warning, as ``doc.ents +=`` refusing it did."""
    if base in _at_once:
        return _at_once[base]
    import warnings

    from spacy.tokens import Span

    class TargetMatcher(base):  # type: ignore[valid-type,misc]
        def __call__(self, doc: Doc) -> Any:
            if not self.result_type or self.result_type.lower() != "ents":
                return super().__call__(doc)
            matcher = self._TargetMatcher__matcher
            kept = list(doc.ents)
            taken = {i for ent in kept for i in range(ent.start, ent.end)}
            for rule_id, start, end in matcher(doc):
                rule = matcher.rule_map[self.nlp.vocab.strings[rule_id]]
                span = Span(doc, start=start, end=end, label=rule.category)
                span._.target_rule = rule
                for attribute, value in (rule.attributes or {}).items():
                    setattr(span._, attribute, value)
                if taken.intersection(range(start, end)):
                    warnings.warn(f'The result ""{span}"" conflicts with a pre-existing entity in doc.ents. '
                                  "This result has been skipped.", RuntimeWarning, stacklevel=2)
                    continue
                kept.append(span)
                taken.update(range(start, end))
            if len(kept) > len(doc.ents):  # (never set when nothing matched: tokens keep no tag)
                doc.ents = tuple(kept)
            return doc

    _at_once[base] = TargetMatcher
    return TargetMatcher


#: How many word sequences one token pattern may stand for before it is left to spaCy's Matcher.
_MAX_EXPANSION = 5_000
#: How many rule matchers this process has compiled (see :func:`_compile`): one per component
#: per pipeline built, never one per text.
compilations = 0


def _choices(pattern: list[dict[str, Any]]) -> list[set[str | None]] | None:
    """Per token of a pattern, the lower-case words it matches (None: it may be left out), for a
    pattern of ``LOWER`` words, word sets and optional (``?``) tokens only; None for any other."""
    out: list[set[str | None]] = []
    for spec in pattern:
        if set(spec) - {"LOWER", "OP"} or spec.get("OP", "?") != "?":
            return None
        value = spec["LOWER"]
        if isinstance(value, dict) and set(value) != {"IN"}:
            return None
        words = list(value["IN"]) if isinstance(value, dict) else [value]
        if not all(isinstance(w, str) for w in words):
            return None
        # A token's LOWER is lower case: a word that is not never matches, in either matcher.
        options: set[str | None] = {w for w in words if w == w.lower()}
        if spec.get("OP") == "?":
            options.add(None)
        out.append(options)
    return out


def _size(choices: list[set[str | None]]) -> int:
    n = 1
    for options in choices:
        n *= len(options)
    return n


def _sequences(choices: list[set[str | None]]) -> set[tuple[str, ...]]:
    """Every word sequence the pattern matches (no empty one: spaCy skips empty matches)."""
    return {tuple(w for w in combo if w is not None) for combo in itertools.product(*choices)} - {()}


def _matches_whole(choices: list[set[str | None]], words: tuple[str, ...]) -> bool:
    """Whether the pattern matches exactly these words."""
    reach = {0}  # how many words the tokens so far can have matched
    for options in choices:
        reach = {n + 1 for n in reach if n < len(words) and words[n] in options} | \
                (reach if None in options else set())
    return len(words) in reach


class _PatternsThenPhrases:
    """Stands where medspaCy's MedspacyMatcher keeps its spaCy Matcher: the token patterns
    that must stay patterns, then the others as phrases, under the same rule ids.

    A pattern can only match a document holding one of the words of each of its required
    (not optional) tokens; the patterns that cannot are left out of the Matcher run on it.
    spaCy's Matcher follows each pattern on its own, so leaving out one that matches nothing
    changes neither the matches of the others nor their order. One Matcher per set of patterns
    that can match, built the first time a document needs that set (a few in all), then kept."""

    def __init__(self, vocab: Any, patterns: list[tuple[str, list[dict[str, Any]]]], phrases: Any) -> None:
        from spacy.matcher import Matcher

        self.vocab, self.phrases = vocab, phrases
        self.patterns = Matcher(vocab)  # all of them, in order (what the gated matchers stand for)
        for rule_id, pattern in patterns:
            self.patterns.add(rule_id, [pattern])
        self._order = [rule_id for rule_id, _ in patterns]
        self._pattern = dict(patterns)
        # per pattern, the words (as LOWER hashes) of each required token
        self._required = {rule_id: [frozenset(vocab.strings.add(w) for w in options if w is not None)
                                    for options in _choices(pattern) or [] if None not in options]
                          for rule_id, pattern in patterns}
        self._matchers: dict[tuple[str, ...], Any] = {}

    def _matcher(self, rule_ids: tuple[str, ...]) -> Any:
        global matcher_builds
        if (matcher := self._matchers.get(rule_ids)) is None:
            from spacy.matcher import Matcher

            matcher = self._matchers[rule_ids] = Matcher(self.vocab)
            for rule_id in rule_ids:
                matcher.add(rule_id, [self._pattern[rule_id]])
            matcher_builds += 1
        return matcher

    def __call__(self, doc: Doc) -> list[tuple[int, int, int]]:
        from spacy.attrs import LOWER

        matches: list[tuple[int, int, int]] = []
        if self._order and len(doc):
            present = set(doc.to_array(LOWER).tolist())
            possible = tuple(rule_id for rule_id in self._order
                             if all(not present.isdisjoint(words) for words in self._required[rule_id]))
            if possible:
                matches = list(self._matcher(possible)(doc))
        if len(self.phrases):
            matches += self.phrases(doc)
        return matches

    def __len__(self) -> int:
        return len(self.patterns) + len(self.phrases)

    def add(self, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError("rules are compiled: add them before the pipeline is built")


#: Matchers built for a set of patterns that can match a document (see _PatternsThenPhrases):
#: a few per pipeline, never one per text once those sets have been seen.
matcher_builds = 0


def _compile(matcher: Any, vocab: Any, meaning: Callable[[Any], Hashable]) -> None:
    """Move medspaCy's token-pattern rules into a PhraseMatcher where that matches exactly the
    same, once, when the pipeline is built.

    spaCy's Matcher tries every pattern at every token (about 0.6 ms of a short text with our
    114 target patterns); a PhraseMatcher looks each token sequence up once. Our patterns are
    only lower-case words, word sets and optional words, so each is a finite set of word
    sequences: those go to a PhraseMatcher under the rule's own id, so each rule still matches a
    span at most once and medspaCy maps the match to the same rule. medspaCy's pruning sorts
    matches by span, stably, so only the order of matches on the *same* span can matter; that
    order is kept: pattern matches still come before the literal phrases' (unchanged), and rules
    that can match the same words with a different ``meaning`` stay together in a Matcher of
    their own, in the order they were added, as before."""
    global compilations
    from spacy.matcher import PhraseMatcher
    from spacy.tokens import Doc

    rules = [(rule_id, rule) for rule_id, rule in matcher.rule_map.items() if isinstance(rule.pattern, list)]
    choices = {rule_id: _choices(rule.pattern) for rule_id, rule in rules}
    if any(choices[rule_id] is None or rule.on_match is not None for rule_id, rule in rules):
        return  # a pattern of another kind could match anything: all stay in spaCy's Matcher
    words = {rule_id: _sequences(c) for rule_id, c in choices.items() if c and _size(c) <= _MAX_EXPANSION}
    by_sequence: dict[tuple[str, ...], set[str]] = {}
    for rule_id, sequences in words.items():
        for seq in sequences:
            by_sequence.setdefault(seq, set()).add(rule_id)
    for rule_id, c in choices.items():  # a rule too large to list is checked word sequence by sequence
        if rule_id not in words and c:
            for seq, ids in by_sequence.items():
                if _matches_whole(c, seq):
                    ids.add(rule_id)
    # Where rules meaning different things can match the same words, their relative order on
    # that span is spaCy's Matcher's: they all stay patterns, as do the rules too large to list.
    stay = set(choices) - set(words)
    for ids in by_sequence.values():
        if len({meaning(matcher.rule_map[i]) for i in ids}) > 1:
            stay |= ids
    phrases = PhraseMatcher(vocab, attr="LOWER")
    for rule_id, _ in rules:
        if rule_id not in stay and words[rule_id]:  # (no lower-case words: matches nothing either way)
            phrases.add(rule_id, [Doc(vocab, words=list(seq)) for seq in sorted(words[rule_id])])
    matcher._MedspacyMatcher__matcher = _PatternsThenPhrases(
        vocab, [(rule_id, rule.pattern) for rule_id, rule in rules if rule_id in stay], phrases)
    compilations += 1


def pipeline(kb: KnowledgeBase) -> Language:
    """One pipeline per knowledge-base version, built on first use (about a second)."""
    with _lock:
        if kb.version not in _pipelines:
            _pipelines[kb.version] = _build(kb)
        return _pipelines[kb.version]


def _with_sentences(nlp: Language, text: str, sentence_starts: Iterable[int]) -> Doc:
    """Run the pipeline on ``text`` with these sentence boundaries (see :func:`sentence_starts`)."""
    import numpy
    from spacy.attrs import SENT_START

    doc = nlp.make_doc(text)
    starts = sorted(set(sentence_starts))
    flags = numpy.empty(len(doc), dtype="int64")
    j = 0
    for token in doc:
        hit = False
        while j < len(starts) and starts[j] <= token.idx:  # a start at or before this token, after the last
            hit = True
            j += 1
        flags[token.i] = 1 if token.i == 0 or hit else -1
    # Set all at once: setting ``Token.is_sent_start`` one token at a time checks the whole
    # document for a parse each time (quadratic on a long report). 1 starts a sentence, -1 not.
    if len(doc):
        doc.from_array([SENT_START], flags.astype("uint64"))  # type: ignore[arg-type]  # a column is accepted
    for _, component in nlp.pipeline:
        doc = component(doc)
    return doc


def _stopped(doc: Doc, mod: Any, ent: Any, stops: list[str]) -> bool:
    """A stop word between a history cue and the mention ends the cue's reach."""
    start, end = mod.modifier_span
    between = doc[end:ent.start] if end <= ent.start else doc[ent.end:start]
    return any(tok.text in stops for tok in between)


def _affirmed_item(doc: Doc, ent: Any) -> bool:
    """"not pregnant, not breastfeeding, persistent focal pain": a list that puts a denial
    before each of its items denies those; an item of it without one (after the last comma
    between the denial and the mention) is affirmed. A list under one denial ("no pain,
    swelling or redness") stays denied: its items do not repeat the denial."""
    denials = {m for m in ent._.modifiers if m.category == "NEGATED_EXISTENCE"}
    if not denials:
        return False
    mod_end = max(m.modifier_span[1] for m in denials)
    commas = [t.i for t in doc[mod_end:ent.start] if t.text == ","]
    if not commas:
        return False
    words = load_rules().context.negated_before
    item = doc[commas[-1] + 1:ent.start]
    if any(t.lower_ in words for t in item):
        return False
    # the items before: each comma-separated piece of the sentence before this one
    pieces = [p.strip().lower() for p in doc[ent.sent.start:commas[-1]].text.split(",")]
    denied = [p for p in pieces if p.split(" ", 1)[0] in words]
    return len(denied) >= 2


def mentions(text: str, kb: KnowledgeBase, starts: Iterable[int] | None = None) -> list[Mention]:
    """Vocabulary and cancer mentions with their context, sentence by sentence (the sentences
    of typed text unless the caller gives its own, as a record reader does)."""
    nlp = pipeline(kb)
    starts = sentence_starts(text) if starts is None else starts
    # medspaCy's components keep state while they read a text and break when two threads read
    # at once, so one text is read at a time.
    with _reading:
        doc = _with_sentences(nlp, text, starts)
    out = []
    stops = load_rules().context.historical_stops
    ents = list(doc.ents)
    for i, ent in enumerate(ents):
        sent = ent.sent
        # the next fact's start: a pronoun after it is about that fact, not this one
        following = next((e.start_char for e in ents[i + 1:] if not e.label_.startswith(CUE)),
                         sent.end_char)
        categories = {mod.category for mod in ent._.modifiers}
        out.append(Mention(
            code=ent.label_,
            text=ent.text,
            start=ent.start_char,
            end=ent.end_char,
            negated=bool(ent._.is_negated) and not _affirmed_item(doc, ent),
            family=bool(ent._.is_family),
            historical=any(mod.category == "HISTORICAL" and not _stopped(doc, mod, ent, stops)
                           for mod in ent._.modifiers),
            hypothetical=bool(ent._.is_hypothetical),
            sentence_start=sent.start_char,
            sentence_end=sent.end_char,
            other_person=OTHER_PERSON in categories,
            resolved="RESOLVED" in categories or _gone_later(text, ent.end_char,
                                                             min(following, sent.end_char), ent.label_),
        ))
    return out


@functools.lru_cache(maxsize=1)
def _pronoun_gone() -> re.Pattern[str]:
    words = alternatives(load_rules().context.resolved)
    return re.compile(rf"\b(?:it|that|which)(?:'s|\s+(?:is|has|had|was))?\s+(?:since\s+|now\s+)?(?:{words})\b",
                      re.IGNORECASE)


def _gone_later(text: str, end: int, until: int, code: str) -> bool:
    """"back pain last year, but that was a gym injury and it's gone since": "it" is the
    symptom, and it has gone, even across the "but" that ends ConText's scope. Only the
    last symptom before the pronoun, and never a cancer."""
    if code.startswith(("cancer:", CUE)) or code == BREAST_CANCER:
        return False
    return bool(_pronoun_gone().search(text, end, until))
