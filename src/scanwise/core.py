"""The application core: one object per process that every surface calls.

The command line, the web app and API, the CDS Hooks service and the order audit all go
through :class:`Scanwise`. It is built once from the knowledge base (with the fact base,
article library and text reader loaded on first use) and offers the operations the surfaces
need: read inputs (text, record files), assess, answer, follow-up questions, article, stage
and coverage. It returns the domain's models and raises two errors of its own:

- :class:`UnusableInput` — the caller gave something that cannot be used (empty text, an
  unreadable record, an unknown stage value). ``field`` names the input it concerns.
  The CLI exits 2, the web answers 422, CDS Hooks answers an OperationOutcome, the audit
  puts the row in quarantine.
- :class:`NotFound` — a topic, variant or article that the knowledge base does not hold.

Anything else escaping from here is a fault of ours (CLI exit 1, HTTP 500).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scanwise.domain.answers import Answer, Question
    from scanwise.domain.articles import Article, Library
    from scanwise.domain.assess import Assessment, Match
    from scanwise.domain.facts import Fact
    from scanwise.domain.kb import KnowledgeBase
    from scanwise.domain.profile import Indication, PatientProfile, Phase
    from scanwise.domain.review import ReviewRecord
    from scanwise.domain.staging import StageResult
    from scanwise.records import RecordReading
    from scanwise.warm_reader import WarmReader


class UnusableInput(ValueError):
    """Input that cannot be used, with the name of the field it concerns."""

    def __init__(self, message: str, field: str | None = None, code: str = "unusable_input",
                 value: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code
        self.value = value  # the value given, where one value is at fault

    def to_dict(self) -> dict[str, str]:
        """JSON-ready form: the field, the value given (where known), the message and its code."""
        out = {"field": self.field, "value": self.value, "message": self.message, "code": self.code}
        return {k: v for k, v in out.items() if v is not None}


class NotFound(LookupError):
    """A topic, variant or article the knowledge base does not hold."""


@dataclass(frozen=True)
class Inputs:
    """What was read from the user's text and records, ready for the engine."""

    profile: PatientProfile
    indication: Indication
    reading: RecordReading | None  # present when records were given

    @property
    def facts_used(self) -> list[str]:
        """The record facts the assessed profile kept (the text did not override them)."""
        if self.reading is None:
            return []
        return [k for k in self.reading.known_fields
                if getattr(self.profile, k) == getattr(self.reading.profile, k)]


class Scanwise:
    """The one application core. Build with :meth:`default` (cached per process)."""

    def __init__(self, kb: KnowledgeBase, facts: dict[str, Fact] | None = None) -> None:
        self.kb = kb
        #: Set by the command line (see :mod:`scanwise.warm_reader`): text is read by a reader
        #: kept loaded in a background process when one is up, else here.
        self.warm_reader: WarmReader | None = None
        self._follow_up_intents: dict[str, str | None] = {}
        if facts is not None:  # already validated against this knowledge base (the cache)
            self.__dict__["facts"] = facts

    # --- construction ---------------------------------------------------------------------

    _default: Scanwise | None = None
    _default_packs: tuple[Any, ...] = ()
    _lock = threading.Lock()

    @classmethod
    def default(cls) -> Scanwise:
        """The process's core over the bundled knowledge base and the configured content packs,
        loaded once (the bundled data from the on-disk cache when it matches: see
        :mod:`scanwise.cache`); built again when the configured packs change."""
        from scanwise.knowledge.files import configured_packs

        with cls._lock:
            packs = configured_packs()
            if cls._default is None or cls._default_packs != packs:
                from scanwise.cache import knowledge

                kb, facts = knowledge()
                cls._default, cls._default_packs = cls(kb, facts), packs
            return cls._default

    @property
    def kb_version(self) -> str:
        """The bundled data's content hash, then '+name@version' for each content pack."""
        return self.kb.version

    @cached_property
    def facts(self) -> dict[str, Fact]:
        """The patient fact base, validated against this knowledge base (loaded once)."""
        from scanwise.knowledge.loader import load_facts

        return load_facts(self.kb)

    @cached_property
    def library(self) -> Library:
        """The clinician articles' fragments, validated against the knowledge and fact bases
        (loaded once)."""
        from scanwise.knowledge.loader import load_library

        return load_library(self.kb, self.facts)

    # --- reading --------------------------------------------------------------------------

    def read_text(self, text: str, field: str = "text", *,
                  known: PatientProfile | None = None) -> tuple[PatientProfile, Indication]:
        """A scenario in free text into the profile and indication (facts from records in
        ``known`` fill what the text leaves unsaid)."""
        if self.warm_reader is not None:
            from scanwise.warm_reader import Refused

            try:
                found = self.warm_reader.read(text, known)
            except Refused as exc:
                raise UnusableInput(f"{field}: {exc}", field, "unusable_text") from exc
            if found is not None:
                return found
        from scanwise.nlp.scenario import UnusableText, read_scenario

        try:
            return read_scenario(text, self.kb, known=known)
        except UnusableText as exc:
            raise UnusableInput(f"{field}: {exc}", field, "unusable_text") from exc

    def _read_slots(self, text: str, kb: KnowledgeBase) -> PatientProfile:
        """The facts a question states (the question reader's slot reader): the same reading."""
        return self.read_text(text, "question")[0]

    def _read_question(self, text: str, kb: KnowledgeBase, *, context_phase: Phase | None = None) -> Question:
        """A question read into its intent and slots (the answer engine's question reader), its
        facts read as every other input is."""
        from scanwise.nlp.question import understand

        return understand(text, kb, read=self._read_slots, context_phase=context_phase)

    def read_records(self, sources: list[tuple[str, bytes]], field: str = "file") -> RecordReading:
        """Records as (name, raw bytes) into one profile with evidence for every fact."""
        from scanwise.records import RecordError, read_records

        try:
            return read_records(sources, self.kb)
        except RecordError as exc:
            raise UnusableInput(str(exc), field, "unreadable_file") from exc

    @staticmethod
    def fhir_observation_codes() -> list[tuple[str, str]]:
        """(system, code) of every FHIR Observation code the record reader reads (tumour
        markers, TNM and stage, size, grade): for a surface that asks an EHR for just these,
        such as the CDS Hooks prefetch."""
        from scanwise.records.fhir import observation_codes

        return observation_codes()

    def read_inputs(self, text: str, sources: list[tuple[str, bytes]] | None = None,
                    field: str = "text") -> Inputs:
        """Facts from typed text, records, or both.

        The records' facts fill what the text leaves unsaid (where they disagree the fact
        stays unknown and the reading says so); the question (phase, purpose) comes from
        the text.
        """
        if not sources:
            profile, indication = self.read_text(text, field)
            return Inputs(profile, indication, None)
        reading = self.read_records(sources)
        profile, indication = self.read_text(text, field, known=reading.profile)
        if reading.unread:
            # Words of the records the reader could not place count as the text's do: shown, and
            # no "no symptom mentioned" while they stand (each keeps the file it is in).
            indication = indication.model_copy(update={"unread": [*indication.unread, *reading.unread]})
        return Inputs(profile, indication, reading)

    # --- guidance -------------------------------------------------------------------------

    def assess(self, profile: PatientProfile, indication: Indication | None = None, *,
               include_retired: bool = False) -> Assessment:
        assess, annotate, no_question = self._engine
        found = assess(profile, indication or no_question(), self.kb, include_retired=include_retired)
        # Other guidelines' statements and the pack behind each table, added after matching.
        return annotate(found, self.kb)

    @cached_property
    def _engine(self) -> tuple[Any, Any, type[Indication]]:
        """The engine, the statements' annotation and the empty question, imported on first use
        (not at start-up) and kept: an import statement run on every assessment costs more
        than a tenth of the assessment."""
        from scanwise.domain.assess import assess
        from scanwise.domain.profile import Indication
        from scanwise.domain.statements import annotate

        return assess, annotate, Indication

    def assess_text(self, text: str, *, include_retired: bool = False, field: str = "text") -> Assessment:
        profile, indication = self.read_text(text, field)
        return self.assess(profile, indication, include_retired=include_retired)

    def assess_inputs(self, inputs: Inputs, *, include_retired: bool = False) -> Assessment:
        return self.assess(inputs.profile, inputs.indication, include_retired=include_retired)

    def answer(self, question: str, *, profile: PatientProfile | None = None,
               indication: Indication | None = None, field: str = "question",
               include_retired: bool = False) -> Answer:
        """A patient's question answered in plain language from the fact base.

        With ``include_retired`` the personal section may also match retired topics."""
        from scanwise.cache import hyphenation
        from scanwise.domain.answers import UnusableQuestion, answer, merge_indication

        hyphenation()  # the answer's reading grade counts syllables with these patterns
        read = self._read_question

        if profile is None and indication is None:
            # The question's own symptoms ("a lump in my breast") tailor the answer when no
            # patient topic answers it as asked: the same reader as every other input.
            try:
                topical = read(question, self.kb).topic is not None
                said, asked = (None, None) if topical else self.read_text(question, field)
            except (UnusableInput, UnusableQuestion):  # answer() below says what is wrong
                said, asked = None, None
            # A stage in the question is assessed by the answer itself; symptoms are read here.
            if said is not None and asked is not None and asked.in_scope and said.symptoms:
                profile, indication = said, asked
        try:
            if include_retired and profile is not None:
                asked = merge_indication(indication, read(question, self.kb), self.kb)
                assessment = self.assess(profile, asked, include_retired=True)
                return answer(question, self.kb, self.facts, read=read, assessment=assessment)
            return answer(question, self.kb, self.facts, read=read, profile=profile,
                          indication=indication)
        except UnusableQuestion as exc:
            raise UnusableInput(f"{field}: {exc}", field, "unusable_question") from exc

    def answer_json(self, question: str, *, context: str | None = None, context_field: str = "context",
                    include_retired: bool = False) -> dict[str, Any]:
        """A question answered for the patient described in ``context`` (free text, read with
        ``read_text``; ``context_field`` names it in errors), with its follow-up questions:
        JSON-ready, the ``scanwise ask --json`` shape (the warm reader answers with it too)."""
        profile, indication = self.read_text(context, context_field) if context is not None else (None, None)
        result = self.answer(question, profile=profile, indication=indication,
                             include_retired=include_retired)
        data = result.model_dump(mode="json")
        data["follow_ups"] = self.follow_ups(result)
        return data

    def follow_ups(self, given: Answer, limit: int = 4) -> list[str]:
        """Questions worth asking next, each one the answer engine reads as intended."""
        from scanwise.domain.answers import UnusableQuestion

        tests = [with_article(t.label) for t in given.understood.tests] or ["a PET/CT scan"]
        first = tests[0]
        candidates = [
            ("radiation", f"How much radiation does {first} give?"),
            ("preparation", f"How do I prepare for {first}?"),
            ("explain", f"What is {first}?"),
            ("which_tests", "Which imaging tests fit my situation?"),
            ("frequency", "How often will I have scans after treatment?"),
            ("results", f"What happens if {first} finds something?"),
        ]
        out: list[str] = []
        for intent, question in candidates:
            if intent == given.intent or len(out) >= limit:
                continue
            # The candidates are made from the knowledge base's test names, never from the
            # user's words, so how each one reads is worked out once per process.
            if question not in self._follow_up_intents:
                try:
                    read_as = self._read_question(question, self.kb).intent
                except UnusableQuestion:
                    read_as = None
                self._follow_up_intents[question] = read_as
            if self._follow_up_intents[question] == intent:
                out.append(question)
        return out

    # --- knowledge ------------------------------------------------------------------------

    def article(self, topic_id: int, variant: int) -> Article:
        """One variant's clinician article, with its review state from the stored sign-offs."""
        from scanwise.domain.articles import compose_article
        from scanwise.knowledge.reviews import load_reviews

        try:
            return compose_article(self.kb, topic_id, variant, library=self.library,
                                   reviews=load_reviews())
        except KeyError as exc:
            why = exc.args[0] if exc.args else f"no ACR topic {topic_id} variant {variant}"
            raise NotFound(f"There is no article for ACR topic {topic_id} variant {variant}: {why}.") from exc

    def article_keys(self) -> list[tuple[int, int]]:
        """Every (topic, variant) that has an article, current topics first."""
        from scanwise.domain.articles import all_variants

        return all_variants(self.kb)

    def articles(self) -> list[Article]:
        """Every variant's article (``article_keys`` order), for the static site."""
        from scanwise.domain.articles import compose_article
        from scanwise.knowledge.reviews import load_reviews

        reviews = load_reviews()
        return [compose_article(self.kb, t, v, library=self.library, reviews=reviews)
                for t, v in self.article_keys()]

    def variant(self, topic_id: int, variant: int) -> Match:
        """One variant's rated studies as ``assess`` reports them, without a patient."""
        from scanwise.domain.assess import match_for

        try:
            return match_for(self.kb, topic_id, variant)
        except KeyError as exc:
            raise NotFound(f"ACR topic {topic_id} has no variant {variant} in the knowledge base.") from exc

    @classmethod
    def default_coverage(cls) -> dict[str, Any]:
        """What ``default().coverage()`` returns, read from the on-disk cache when it was
        computed from these data files by this code (see :func:`scanwise.cache.derived`):
        ``scanwise kb`` then neither loads nor validates the knowledge base. With content packs
        configured it is computed."""
        from scanwise.knowledge.files import configured_packs

        if configured_packs():
            return cls.default().coverage()
        from scanwise.cache import derived

        def build() -> tuple[str, dict[str, Any]]:
            core = cls.default()
            return core.kb_version, core.coverage()

        return derived("coverage", build)

    def coverage(self) -> dict[str, Any]:
        """What the knowledge base covers, per topic (the `scanwise kb --json` shape).

        Per topic, the variants are split three ways: with verified ACR ratings, with other
        guidelines' statements only, and with neither; ``topic_statements`` counts the
        statements on a topic as a whole (where its variants are not in the bundled data).
        """
        from scanwise.domain.statements import variant_coverage

        topics = []
        for t in self.kb.topics:
            split = variant_coverage(self.kb, t)
            topics.append({
                "topic_id": t.topic_id,
                "title": t.title,
                "status": t.status,
                "variants": len(t.variants),
                "variants_with_verified_ratings": sum(v.ratings.verified for v in t.variants),
                "variants_with_complete_tables": sum(v.ratings.complete for v in t.variants),
                "rated_procedures": sum(len(v.procedures) for v in t.variants),
                "pack": t.pack,
                "replaces": t.replaces,
                **split,
            })
        current = [t for t in topics if t["status"] == "current"]
        return {
            "kb_version": self.kb.version,
            "packs": [p.model_dump() for p in self.kb.packs],
            "topics": len(current),
            "variants": sum(t["variants"] for t in current),
            "variants_with_verified_ratings": sum(t["variants_with_verified_ratings"] for t in current),
            "variants_with_complete_tables": sum(t["variants_with_complete_tables"] for t in current),
            "variants_with_statements_only": sum(len(t["with_statements_only"]) for t in current),
            "variants_with_nothing": sum(len(t["with_nothing"]) for t in current),
            "guideline_statements": len(self.kb.statements),
            "retired_topics": len(topics) - len(current),
            "red_flags": len(self.kb.red_flags),
            "sources": len(self.kb.sources),
            "by_topic": topics,
        }

    # --- clinical review --------------------------------------------------------------------

    def review_status(self) -> list[dict[str, Any]]:
        """Every article with its review state: reviewed, stale (the knowledge behind it
        changed since the sign-off) or unreviewed, from the stored sign-offs."""
        out = []
        for a in self.articles():
            topic_id, variant = a.topic_id, a.variant
            out.append({"kind": "article", "key": f"{topic_id}/{variant}", "topic_id": topic_id,
                        "variant": variant, "status": a.status, "title": a.title,
                        **a.review.model_dump(mode="json")})
        return out

    def sign_review(self, topic_id: int, variant: int, *, reviewer: str, role: str,
                    on: date | None = None) -> ReviewRecord:
        """Record a clinician's sign-off on an article as it reads now (stored as data)."""
        from pydantic import ValidationError

        from scanwise.domain.articles.compose import article_fingerprint
        from scanwise.domain.review import ReviewRecord
        from scanwise.knowledge.reviews import record_review

        article = self.article(topic_id, variant)
        try:
            record = ReviewRecord(kind="article", key=f"{topic_id}/{variant}", reviewer=reviewer,
                                  role=role, date=on or date.today(), kb_version=self.kb.version,
                                  fingerprint=article_fingerprint(article))
        except ValidationError as exc:
            first = exc.errors()[0]
            field = str(first["loc"][0]) if first["loc"] else "reviewer"
            raise UnusableInput(f"{field}: {first['msg']}", field, "invalid_review") from exc
        record_review(record)
        return record

    # --- staging --------------------------------------------------------------------------

    def stage(self, t: str | None, n: str | None, m: str | None, **factors: Any) -> StageResult:
        """AJCC 8th edition stage groups; an unreadable value is UnusableInput naming it."""
        from scanwise.domain.staging import StagingError, stage

        if t is None and n is None and m is None:
            raise UnusableInput("t: give t, n and m (and grade, er, pr, her2)", "t", "missing_field")
        try:
            return stage(t, n, m, **factors, tables=self.kb.stage_tables)
        except StagingError as exc:
            raise UnusableInput(str(exc), exc.field, "staging_error", str(exc.value)) from exc

    def stage_rows(self, columns: Sequence[str] | None,
                   rows: Iterable[Mapping[str | None, object]]) -> Iterator[dict[str, object]]:
        """Stage a table's rows in order, one JSON-ready result or error per row (a bad cell
        names its row, field and value; the other rows are still staged). A table without
        the required columns is UnusableInput naming them."""
        from scanwise.domain.staging.batch import (
            OPTIONAL_COLUMNS,
            REQUIRED_COLUMNS,
            missing_columns,
            stage_records,
        )

        missing = missing_columns(columns)
        if missing:
            raise UnusableInput(
                f"missing required column(s): {', '.join(missing)}. Expected columns: "
                f"{','.join(REQUIRED_COLUMNS)} (optional: {','.join(OPTIONAL_COLUMNS)})",
                missing[0], "missing_field")
        return stage_records(rows, self.kb.stage_tables)

    # --- process-wide readiness -----------------------------------------------------------

    @staticmethod
    def pipelines_built() -> int:
        """How many text pipelines this process has built (one per thread that read text)."""
        from scanwise.nlp import clinical

        return len(clinical._pipelines)

    def warm_up(self) -> None:
        """Build the reader and the engine's index (the compiled conditions, the rated rows)
        and load the fact base now, so the first request is not slow."""
        self.assess(*self.read_text("stage I breast cancer, staging?"))
        self.facts  # noqa: B018 (loads and caches the fact base)


def with_article(label: str) -> str:
    """'a CT scan', 'an FDG-PET/CT', 'an MRI', 'a mammogram': by how the word is said."""
    word = label.split()[0]
    if word.isupper() or word.split("-")[0].isupper():  # an acronym, read letter by letter
        vowel_sound = word[0] in "AEFHILMNORSX"
    else:
        lower = word.lower()
        vowel_sound = lower[0] in "aeio" or (lower[0] == "u" and not lower.startswith(("uni", "us", "ur")))
    return f"{'an' if vowel_sound else 'a'} {label}"
