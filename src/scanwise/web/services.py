"""The web surface's view of the application core: the core, the store and the workers.

The functions here are synchronous (CPU work); routes run them through :class:`Workers`. The
core's errors become :class:`ApiError` with the field they concern, so pages and API say the
same.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from scanwise.core import Inputs, NotFound, Scanwise, UnusableInput
from scanwise.storage import Store, input_hash
from scanwise.web.errors import ApiError
from scanwise.web.settings import WebSettings
from scanwise.web.workers import Workers

if TYPE_CHECKING:
    from scanwise.domain.answers import Answer
    from scanwise.domain.articles import Article
    from scanwise.domain.assess import Assessment
    from scanwise.domain.facts import Fact
    from scanwise.domain.kb import KnowledgeBase
    from scanwise.domain.profile import Indication, PatientProfile
    from scanwise.records import RecordReading

log = logging.getLogger("scanwise.web")
T = TypeVar("T")

__all__ = ["Inputs", "Services", "api_errors"]


@contextmanager
def api_errors() -> Iterator[None]:
    """The core's errors as the API's: unusable input is 422 naming the field, unknown is 404."""
    try:
        yield
    except UnusableInput as exc:
        raise ApiError(422, exc.code, exc.message, field=exc.field) from exc
    except NotFound as exc:
        raise ApiError(404, "not_found", f"{exc} See /articles for the list.") from exc


def _mapped(call: Callable[..., T]) -> Callable[..., T]:
    def run(*args: Any, **kwargs: Any) -> T:
        with api_errors():
            return call(*args, **kwargs)
    return run


# The core's operations as worker jobs: module-level functions taking the worker's core
# first, so that they are sent to a worker process by reference (see Workers.run).

def article(core: Scanwise, topic_id: int, variant: int) -> Article:
    return _mapped(core.article)(topic_id, variant)


#: The static article site per knowledge-base version and template folder, built once per
#: worker process (about 1 s) and served file by file.
_sites: dict[tuple[str, Path | None], dict[str, str]] = {}


def article_file(core: Scanwise, name: str, templates: Path | None = None) -> str | None:
    """One file of the static article site (built once per worker), or None."""
    from scanwise.render.articles import site_files

    key = (core.kb_version, templates)
    if key not in _sites:
        _sites[key] = site_files(core.kb, core.articles(), templates=templates)
    return _sites[key].get(name)


def read_text(core: Scanwise, text: str, field_name: str = "text", *,
              known: PatientProfile | None = None) -> tuple[PatientProfile, Indication]:
    return _mapped(core.read_text)(text, field_name, known=known)


def assess_text(core: Scanwise, text: str, *, include_retired: bool = False) -> Assessment:
    return _mapped(core.assess_text)(text, include_retired=include_retired)


def assess_profile(core: Scanwise, profile: PatientProfile, indication: Indication | None = None, *,
                   include_retired: bool = False) -> Assessment:
    return _mapped(core.assess)(profile, indication, include_retired=include_retired)


def ask(core: Scanwise, question: str, *, profile: PatientProfile | None = None,
        indication: Indication | None = None) -> Answer:
    return _mapped(core.answer)(question, profile=profile, indication=indication)


def read_records(core: Scanwise, sources: list[tuple[str, bytes]], field_name: str = "file") -> RecordReading:
    return _mapped(core.read_records)(sources, field_name)


def read_inputs(core: Scanwise, text: str, sources: list[tuple[str, bytes]]) -> Inputs:
    return _mapped(core.read_inputs)(text, sources)


def follow_ups(core: Scanwise, given: Answer, limit: int = 4) -> list[str]:
    return core.follow_ups(given, limit)


@dataclass
class Services:
    """The core (for the knowledge base and fact base the pages render with), the store and
    the workers. The operations are worker jobs: ``await svc.workers.run(svc.read_inputs, ...)``;
    database work goes through ``svc.workers.io``."""

    settings: WebSettings
    core: Scanwise
    store: Store
    workers: Workers = field(init=False)

    article = staticmethod(article)
    article_file = staticmethod(article_file)
    read_text = staticmethod(read_text)
    assess_text = staticmethod(assess_text)
    assess_profile = staticmethod(assess_profile)
    ask = staticmethod(ask)
    read_records = staticmethod(read_records)
    read_inputs = staticmethod(read_inputs)
    follow_ups = staticmethod(follow_ups)

    def __post_init__(self) -> None:
        self.workers = Workers(self.settings.processes, self.settings.max_waiting,
                               self.settings.timeout_s)

    @property
    def kb(self) -> KnowledgeBase:
        return self.core.kb

    @property
    def facts(self) -> dict[str, Fact]:
        return self.core.facts

    @cached_property
    def codes(self) -> frozenset[str]:
        """The vocabulary's codes: what the audit may keep of a code list."""
        return frozenset(term.code for term in self.kb.vocabulary)

    def audit(self, assessment: Assessment, *, surface: str, inputs: dict[str, Any]) -> bool:
        """Add the assessment to the audit trail; False (and a log line) if the store failed."""
        if not self.settings.audit:
            return True
        try:
            self.store.record_assessment(assessment, surface=surface, input_sha256=input_hash(inputs),
                                         codes=self.codes)
        except Exception as exc:  # the answer still goes out; the failure is logged and flagged
            log.error("audit write failed: %s", type(exc).__name__)
            return False
        return True
