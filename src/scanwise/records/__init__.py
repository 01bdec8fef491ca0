"""Read patients' records (text, PDF, FHIR R4/mCODE) into the profile the engine assesses.

One entry point for every surface (CLI ``extract`` and ``recommend --record``, web upload,
``ask --record``)::

    reading = read_records([("pathology.pdf", pdf_bytes), ("labs.json", fhir_bytes)])
    reading.profile      # PatientProfile
    reading.evidence     # field -> the words (or FHIR resource) each fact came from
    reading.warnings     # what was inferred, added up or replaced, in words
    reading.conflicts    # statements that disagree; those facts stay unknown

Record text is processed in memory only: nothing here logs or writes it.
"""

from __future__ import annotations

import logging

from scanwise.domain.kb import KnowledgeBase
from scanwise.knowledge.loader import default_kb
from scanwise.records.merge import merge
from scanwise.records.model import (
    MAX_BYTES,
    MAX_TEXT_CHARS,
    Conflict,
    ConflictValue,
    DocumentFacts,
    RecordError,
    RecordReading,
    SourceSummary,
)
from scanwise.records.reader import read_document

log = logging.getLogger("scanwise.records")

__all__ = ["MAX_BYTES", "MAX_TEXT_CHARS", "Conflict", "ConflictValue", "RecordError", "RecordReading",
           "read_records"]


def read_records(sources: list[tuple[str, bytes]], kb: KnowledgeBase | None = None) -> RecordReading:
    """Read (name, raw bytes) records into one profile. Raises RecordError naming the bad file."""
    if not sources:
        raise RecordError("no records given")
    kb = kb or default_kb()
    docs: list[DocumentFacts] = []
    summaries: list[SourceSummary] = []
    for name, data in sources:
        if not isinstance(data, (bytes, bytearray)):
            raise RecordError(f"{name}: expected the file's bytes")
        try:
            found, summary = read_document(name, bytes(data), kb)
        except RecordError:
            raise
        except (RecursionError, MemoryError, TypeError, AttributeError, KeyError, IndexError,
                ValueError) as exc:
            # A file shaped so that a reader trips on it is still the file's problem to report,
            # by name; the type (never the content) is logged so the reader can be fixed.
            log.warning("record reader failed on a file: %s", type(exc).__name__)
            raise RecordError(f"{name}: the file could not be read ({type(exc).__name__}); "
                              "check that it is a complete text, PDF or FHIR JSON file") from exc
        docs.extend(found)
        summaries.append(summary)
    profile, evidence, warnings, conflicts = merge(docs)
    if not any(d.facts or any(d.lists.values()) for d in docs):
        warnings.append("no facts used for imaging guidance were found in the records")
    return RecordReading(profile=profile, evidence=evidence, warnings=warnings, conflicts=conflicts,
                         sources=summaries, unread=[e for d in docs for e in d.unread])
