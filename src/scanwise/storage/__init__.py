"""What the web app keeps: profiles a user chose to save, and an audit trail of assessments.

An adapter around the pure core (SQLAlchemy 2). The default is an embedded SQLite file, so
``scanwise serve`` needs nothing else running; a ``postgresql://`` URL switches to
PostgreSQL (``pip install 'scanwise[postgres]'``).

Privacy: the audit trail keeps the time, the knowledge-base version, a SHA-256 hash of the
inputs and the result with the user's own words taken out (see :func:`redact`). Record text
is stored only inside a profile the user asked to save.
"""

from .store import (
    AuditEntry,
    CdsCall,
    SavedProfile,
    Store,
    StoreError,
    default_database_path,
    input_hash,
    redact,
    resolve_database_url,
)

__all__ = ["AuditEntry", "CdsCall", "SavedProfile", "Store", "StoreError", "default_database_path",
           "input_hash", "redact", "resolve_database_url"]
