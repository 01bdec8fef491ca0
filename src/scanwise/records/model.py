"""What reading records produces: facts with their evidence, warnings and conflicts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict

from scanwise.domain.profile import Evidence, PatientProfile

#: The largest file read, in bytes; bigger files are refused with this limit named.
MAX_BYTES = 5 * 1024 * 1024
#: The longest text read from one file (a pathology report is rarely over 30,000).
MAX_TEXT_CHARS = 300_000
#: The most pages read from one PDF.
MAX_PAGES = 500
#: How deep JSON may nest (a FHIR Bundle of reports is under 15 levels).
MAX_JSON_DEPTH = 64
#: The most resources in one FHIR file (items of a list plus entries of its Bundles).
MAX_RESOURCES = 5_000


class RecordError(ValueError):
    """A file cannot be read as a record; the message names the file and what is wrong."""


@dataclass
class FieldValue:
    """One document's value for one profile field, with the words it came from."""

    value: Any
    evidence: list[Evidence]
    date: dt.date | None = None
    note: str | None = None


@dataclass
class DocumentFacts:
    """What one document (a text, a PDF, one FHIR resource) says."""

    name: str
    kind: str  # "text", "pdf", "fhir"
    date: dt.date | None = None
    facts: dict[str, FieldValue] = field(default_factory=dict)
    lists: dict[str, list[tuple[str, Evidence]]] = field(default_factory=dict)  # symptoms, ...
    labs: dict[str, tuple[str, Evidence]] = field(default_factory=dict)
    conflicts: list[Conflict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # Clinical-looking words the reader could not place in any fact (as for typed text).
    unread: list[Evidence] = field(default_factory=list)


class ConflictValue(BaseModel):
    model_config = ConfigDict(frozen=True)

    value: Any
    evidence: list[Evidence]
    date: str | None = None  # ISO date of the record that says it, where the record has one


class Conflict(BaseModel):
    """Two statements of one fact that disagree; the fact stays unknown until a person decides."""

    model_config = ConfigDict(frozen=True)

    field: str
    values: list[ConflictValue]
    note: str


class SourceSummary(BaseModel):
    name: str
    kind: str
    date: str | None = None
    chars: int | None = None
    pages: int | None = None
    resources: int | None = None


class RecordReading(BaseModel):
    """The profile read from one or more records, and how each fact was found."""

    profile: PatientProfile
    evidence: dict[str, list[Evidence]]
    warnings: list[str]
    conflicts: list[Conflict]
    sources: list[SourceSummary]
    # Clinical-looking words in record text that no fact covers, with the file they are in.
    unread: list[Evidence] = []

    @property
    def known_fields(self) -> list[str]:
        """Profile fields the records gave a value for."""
        data = self.profile.model_dump(exclude={"evidence"})
        return [k for k, v in data.items() if v not in (None, [], {})]
