"""What the pages and the API do, in one place: thin calls into the core and the store.

The functions here are synchronous (CPU work); routes run them through :class:`Workers`. Core
errors become :class:`ApiError` with the field they concern, so pages and API say the same.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from scanwise.domain.assess import Assessment, assess
from scanwise.domain.kb import KnowledgeBase
from scanwise.domain.profile import Indication, PatientProfile
from scanwise.storage import Store, input_hash
from scanwise.web.errors import ApiError
from scanwise.web.settings import WebSettings
from scanwise.web.workers import Workers

if TYPE_CHECKING:
    from scanwise.domain.answers import Answer
    from scanwise.domain.articles import Article
    from scanwise.domain.facts import Fact
    from scanwise.records import RecordReading

log = logging.getLogger("scanwise.web")

@dataclass
class Services:
    settings: WebSettings
    kb: KnowledgeBase
    store: Store
    workers: Workers = field(init=False)

    def __post_init__(self) -> None:
        self.workers = Workers(self.settings.threads, self.settings.max_waiting,
                               self.settings.timeout_s)

    # --- knowledge ------------------------------------------------------------------------

    @cached_property
    def facts(self) -> dict[str, Fact]:
        from scanwise.domain.facts import load_facts

        return load_facts(self.kb)

    @cached_property
    def article_site(self) -> dict[str, str]:
        """The clinician articles as the static site renders them (built once, ~1 s)."""
        from scanwise.domain.articles import site_files

        return site_files(self.kb)

    def article(self, topic_id: int, variant: int) -> Article:
        from scanwise.domain.articles import compose_article

        try:
            return compose_article(self.kb, topic_id, variant)
        except KeyError as exc:
            raise ApiError(404, "not_found", f"There is no article for ACR topic {topic_id} "
                           f"variant {variant}. See /articles for the list.") from exc

    def warm_up(self) -> None:
        try:
            self.read_text("stage I breast cancer, staging?")
            self.facts  # noqa: B018 (loads and caches the fact base)
        except Exception as exc:  # a failure here shows again, with its message, on first use
            log.warning("warm-up failed: %s", type(exc).__name__)

    # --- assessments ----------------------------------------------------------------------

    def read_text(self, text: str, field_name: str = "text", *,
                  known: PatientProfile | None = None) -> tuple[PatientProfile, Indication]:
        from scanwise.nlp.scenario import UnusableText, read_scenario

        try:
            return read_scenario(text, self.kb, known=known)
        except UnusableText as exc:
            raise ApiError(422, "unusable_text", f"{field_name}: {exc}", field=field_name) from exc

    def assess_text(self, text: str, *, include_retired: bool = False) -> Assessment:
        profile, indication = self.read_text(text)
        return assess(profile, indication, self.kb, include_retired=include_retired)

    def assess_profile(self, profile: PatientProfile, indication: Indication | None = None, *,
                       include_retired: bool = False) -> Assessment:
        return assess(profile, indication or Indication(), self.kb, include_retired=include_retired)

    def audit(self, assessment: Assessment, *, surface: str, inputs: dict[str, Any]) -> bool:
        """Add the assessment to the audit trail; False (and a log line) if the store failed."""
        if not self.settings.audit:
            return True
        try:
            self.store.record_assessment(assessment, surface=surface, input_sha256=input_hash(inputs))
        except Exception as exc:  # the answer still goes out; the failure is logged and flagged
            log.error("audit write failed: %s", type(exc).__name__)
            return False
        return True

    # --- patient answers ------------------------------------------------------------------

    def ask(self, question: str, *, profile: PatientProfile | None = None,
            indication: Indication | None = None) -> Answer:
        from scanwise.domain.answers import UnusableQuestion, answer

        try:
            return answer(question, self.kb, self.facts, profile=profile, indication=indication)
        except UnusableQuestion as exc:
            raise ApiError(422, "unusable_question", f"question: {exc}", field="question") from exc

    # --- records and typed text -----------------------------------------------------------

    def read_records(self, sources: list[tuple[str, bytes]], field_name: str = "file") -> RecordReading:
        from scanwise.records import RecordError, read_records

        try:
            return read_records(sources, self.kb)
        except RecordError as exc:
            raise ApiError(422, "unreadable_file", str(exc), field=field_name) from exc

    def read_inputs(self, text: str, sources: list[tuple[str, bytes]]) -> Inputs:
        """Facts from typed text, uploaded records, or both.

        The records' facts fill what the text leaves unsaid (where the two disagree the fact
        is left unknown and the reading says so); the question (phase, purpose) comes from
        the text.
        """
        if not sources:
            profile, indication = self.read_text(text)
            return Inputs(profile, indication, None)
        reading = self.read_records(sources)
        profile, indication = self.read_text(text, known=reading.profile)
        return Inputs(profile, indication, reading)

    def follow_ups(self, given: Answer, limit: int = 4) -> list[str]:
        """Questions worth asking next, each one the answer engine reads as intended."""
        from scanwise.domain.answers import understand

        tests = [_with_article(t.label) for t in given.understood.tests] or ["a PET/CT scan"]
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
            try:
                if understand(question, self.kb).intent == intent:
                    out.append(question)
            except ValueError:
                continue
        return out


def _with_article(label: str) -> str:
    """'a CT scan', 'an FDG-PET/CT', 'an MRI', 'a mammogram': by how the word is said."""
    word = label.split()[0]
    if word.isupper() or word.split("-")[0].isupper():  # an acronym, read letter by letter
        vowel_sound = word[0] in "AEFHILMNORSX"
    else:
        lower = word.lower()
        vowel_sound = lower[0] in "aeio" or (lower[0] == "u" and not lower.startswith(("uni", "us", "ur")))
    return f"{'an' if vowel_sound else 'a'} {label}"


@dataclass
class Inputs:
    profile: PatientProfile
    indication: Indication
    reading: RecordReading | None  # present when records were uploaded
