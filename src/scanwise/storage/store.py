"""The store: SQLAlchemy 2 tables, the models the API returns, and the privacy rules."""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from platformdirs import user_data_dir
from pydantic import BaseModel
from sqlalchemy import JSON, DateTime, Integer, String, Text, create_engine, event, insert, select
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, DisconnectionError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker
from sqlalchemy.pool import StaticPool

from scanwise.domain.assess import Assessment
from scanwise.domain.profile import Indication, PatientProfile

ENV_VAR = "SCANWISE_DB"


class StoreError(RuntimeError):
    """The database cannot be opened or used; the message names the database, never data."""


def default_database_path() -> Path:
    """An SQLite file in the user's data directory (XDG on Linux, Application Support on macOS)."""
    return Path(user_data_dir("scanwise", appauthor=False)) / "scanwise.db"


def resolve_database_url(value: str | None = None) -> str:
    """A database URL from ``--db`` (a URL or a file path), else ``$SCANWISE_DB``, else the default.

    ``postgresql://`` and ``postgres://`` use the psycopg 3 driver of the ``postgres`` extra.
    """
    value = value or os.environ.get(ENV_VAR) or str(default_database_path())
    if "://" not in value:
        path = Path(value).expanduser().resolve()
        return f"sqlite:///{path}"
    scheme, rest = value.split("://", 1)
    if scheme in ("postgres", "postgresql"):
        return f"postgresql+psycopg://{rest}"
    return value


def _shown(url: URL) -> str:
    """The URL without its password, for messages and logs."""
    return url.render_as_string(hide_password=True)


class _Base(DeclarativeBase):
    pass


class _ProfileRow(_Base):
    __tablename__ = "saved_profiles"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    label: Mapped[str | None] = mapped_column(String(200))
    kb_version: Mapped[str] = mapped_column(String(64))
    profile: Mapped[dict[str, Any]] = mapped_column(JSON)
    indication: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    record_text: Mapped[str | None] = mapped_column(Text)


class _AuditRow(_Base):
    __tablename__ = "assessment_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    surface: Mapped[str] = mapped_column(String(40))
    kb_version: Mapped[str] = mapped_column(String(64))
    input_sha256: Mapped[str] = mapped_column(String(64), index=True)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)


class _CdsConsultRow(_Base):
    """One CDS Hooks call: its service, the audit rows of its assessments, what it rated."""

    __tablename__ = "cds_consults"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    service_id: Mapped[str] = mapped_column(String(64))
    hook_instance: Mapped[str] = mapped_column(String(128))
    audit_ids: Mapped[list[int]] = mapped_column(JSON)
    ratings: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    cards: Mapped[list[str]] = mapped_column(JSON)
    unsigned: Mapped[int] = mapped_column(Integer)


class _CdsCardRow(_Base):
    __tablename__ = "cds_cards"

    uuid: Mapped[str] = mapped_column(String(36), primary_key=True)
    consult_id: Mapped[str] = mapped_column(String(36), index=True)
    service_id: Mapped[str] = mapped_column(String(64))


class _CdsFeedbackRow(_Base):
    __tablename__ = "cds_feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    consult_id: Mapped[str] = mapped_column(String(36), index=True)
    card_uuid: Mapped[str] = mapped_column(String(36))
    outcome: Mapped[str] = mapped_column(String(16))
    accepted_suggestions: Mapped[list[str]] = mapped_column(JSON)
    override_reason: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    comment_given: Mapped[int] = mapped_column(Integer)
    outcome_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CdsFeedback(BaseModel):
    """What the clinician did with a card: never their comment's words, only that one was given."""

    id: int
    received_at: datetime
    consult_id: str
    card_uuid: str
    outcome: str  # accepted | overridden
    accepted_suggestions: list[str]
    override_reason: dict[str, Any] | None  # the Coding chosen (system, code, display)
    comment_given: bool
    outcome_at: datetime


class CdsConsult(BaseModel):
    """A CDS Hooks call as the audit keeps it (no patient words, no EHR resource ids)."""

    id: str
    created_at: datetime
    service_id: str
    hook_instance: str
    audit_ids: list[int]
    ratings: list[dict[str, Any]]
    cards: list[str]
    unsigned: bool
    feedback: list[CdsFeedback] = []


@dataclass
class CdsCall:
    """What the audit keeps of one CDS Hooks call: its assessments, already redacted with
    :func:`redact` (each ``surface``, ``kb_version``, ``input_sha256``, ``result``), and the
    consult naming them, with what it rated and the uuids of its cards."""

    consult_id: str
    service_id: str
    hook_instance: str
    assessments: list[dict[str, Any]]
    ratings: list[dict[str, Any]]
    cards: list[str]
    unsigned: bool


class _ProbeRow(_Base):
    """One row the health check writes and reads back."""

    __tablename__ = "health_probe"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(32))
    written_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SavedProfile(BaseModel):
    """A profile the user chose to keep, with the question it came with."""

    id: str
    created_at: datetime
    label: str | None
    kb_version: str
    profile: PatientProfile
    indication: Indication | None
    record_text: str | None  # only when the user asked to keep it


class AuditEntry(BaseModel):
    """One assessment as the audit trail keeps it: when, on which data, for what input."""

    id: int
    created_at: datetime
    surface: str  # which page or endpoint asked, e.g. "api.recommend"
    kb_version: str
    input_sha256: str
    result: dict[str, Any]  # the Assessment JSON, redacted


def input_hash(inputs: Mapping[str, Any]) -> str:
    """SHA-256 of the inputs in a canonical JSON form; bytes (uploads) enter as their own hash."""

    def canonical(value: Any) -> Any:
        if isinstance(value, bytes):
            return {"sha256": hashlib.sha256(value).hexdigest()}
        if isinstance(value, BaseModel):
            return value.model_dump(mode="json")
        if isinstance(value, Mapping):
            return {str(k): canonical(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [canonical(v) for v in value]
        return value

    data = json.dumps(canonical(inputs), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


#: The largest audit row kept whole; a bigger one keeps its outline only.
MAX_AUDIT_ROW_BYTES = 32 * 1024
# Profile fields typed as plain text: whatever was sent. Every other field is a number, a yes/no
# or one of a fixed set of values, checked on input.
_TEXT_FIELDS = ("t", "n", "m", "other_cancer")
_CODE_LISTS = ("symptoms", "denied_symptoms", "findings", "family_history")
_TNM = re.compile(r"^(?:y|r|yr)?[cp]?[TNM](?:is|[0-4Xx]|mi)[a-d]?(?:\((?:sn|i[+-]|mol[+-]|f|m)\))?$")


def _word(value: str) -> str:
    """A word of the user's as the audit keeps it: a short hash that can be matched, not read."""
    return "sha256:" + hashlib.sha256(value.encode("utf-8")).hexdigest()[:16]


def redact(assessment: Assessment, codes: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The Assessment JSON without the user's own words: codes and numbers only.

    No scenario text, no evidence quotes, no words the reader could not place; text fields of
    a structured profile (T, N, M, other cancer) are kept only when they are a TNM category,
    code lists only where an entry is a vocabulary code in ``codes``; anything else becomes a
    short hash. Reasons (``why``) keep the short clinical phrases they rest on, e.g.
    ``stage I``, so an auditor can still see why a variant was chosen. A row over
    MAX_AUDIT_ROW_BYTES keeps only its outline (knowledge base, stage, matched variants).
    """
    data = assessment.model_dump(mode="json")
    profile, indication = data["profile"], data["indication"]
    profile["evidence"] = {}
    for name in _TEXT_FIELDS:
        value = profile.get(name)
        if isinstance(value, str) and not _TNM.match(value):
            profile[name] = _word(value)
    for name in _CODE_LISTS:
        profile[name] = [v if v in codes else _word(v) for v in profile.get(name) or []]
    profile["labs"] = {(k if k in codes else _word(k)): v for k, v in (profile.get("labs") or {}).items()}
    indication["text"] = ""
    indication["evidence"] = {}
    indication["asked_procedures"] = [v if v in codes else _word(v)
                                      for v in indication.get("asked_procedures") or []]
    indication["assumptions"] = [_word(v) for v in indication.get("assumptions") or []]
    if indication.get("scope_note"):
        indication["scope_note"] = _word(indication["scope_note"])
    data["unread"] = []
    for flag in data["red_flags"]:
        for trigger in flag["triggered_by"]:
            trigger["evidence"] = None
    if len(json.dumps(data, separators=(",", ":"))) > MAX_AUDIT_ROW_BYTES:
        data = {"kb_version": data["kb_version"], "truncated": True, "stage": data.get("stage"),
                "matches": [{k: m.get(k) for k in ("topic_id", "variant", "score")}
                            for m in data["matches"][:20]]}
    return data


def _utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything is stored in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Store:
    """Saved profiles and the audit trail in one database. Safe to share between threads."""

    def __init__(self, url: str) -> None:
        try:
            parsed = make_url(url)
        except ArgumentError as exc:
            raise StoreError(f"not a database URL: {url!r}") from exc
        self.url = _shown(parsed)
        self._memory = parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:")
        try:
            self.engine = _engine(parsed)
        except OSError as exc:
            raise StoreError(f"cannot create the database folder for {self.url}: {exc}") from exc
        try:
            _Base.metadata.create_all(self.engine)
        except SQLAlchemyError as exc:
            self.engine.dispose()
            raise StoreError(f"cannot open the database {self.url}: {exc.__class__.__name__}: "
                             f"{exc.orig if hasattr(exc, 'orig') else exc}") from exc
        self._session = sessionmaker(self.engine, expire_on_commit=False)

    def close(self) -> None:
        if self._memory:
            return  # an in-memory database lives exactly as long as its one connection
        self.engine.dispose()

    def ping(self) -> None:
        """Write a probe row and read it back: raises if the database cannot be written."""
        token = uuid.uuid4().hex
        with self._session.begin() as session:
            session.merge(_ProbeRow(id=1, token=token, written_at=datetime.now(UTC)))
        with self._session() as session:
            row = session.get(_ProbeRow, 1)
            if row is None or row.token != token:
                raise StoreError(f"the database {self.url} did not keep what was written")

    # --- saved profiles -------------------------------------------------------------------

    def save_profile(self, profile: PatientProfile, *, kb_version: str,
                     indication: Indication | None = None, label: str | None = None,
                     record_text: str | None = None) -> SavedProfile:
        row = _ProfileRow(
            id=uuid.uuid4().hex,
            created_at=datetime.now(UTC),
            label=label,
            kb_version=kb_version,
            profile=profile.model_dump(mode="json"),
            indication=indication.model_dump(mode="json") if indication else None,
            record_text=record_text,
        )
        with self._session.begin() as session:
            session.add(row)
        return _saved(row)

    def get_profile(self, profile_id: str) -> SavedProfile | None:
        with self._session() as session:
            row = session.get(_ProfileRow, profile_id)
            return _saved(row) if row else None

    def delete_profile(self, profile_id: str) -> bool:
        with self._session.begin() as session:
            row = session.get(_ProfileRow, profile_id)
            if row is None:
                return False
            session.delete(row)
            return True

    # --- audit trail ------------------------------------------------------------------------

    def record_assessment(self, assessment: Assessment, *, surface: str, input_sha256: str,
                          codes: frozenset[str] = frozenset()) -> AuditEntry:
        """Keep the assessment, redacted (see :func:`redact`; ``codes``: the vocabulary)."""
        row = _AuditRow(created_at=datetime.now(UTC), surface=surface,
                        kb_version=assessment.kb_version, input_sha256=input_sha256,
                        result=redact(assessment, codes))
        with self._session.begin() as session:
            session.add(row)
            session.flush()
            return _entry(row)

    def audit_entries(self, *, limit: int = 50, offset: int = 0) -> list[AuditEntry]:
        """Newest first."""
        query = select(_AuditRow).order_by(_AuditRow.id.desc()).limit(limit).offset(offset)
        with self._session() as session:
            return [_entry(row) for row in session.scalars(query)]

    # --- CDS Hooks consults and feedback ------------------------------------------------------

    def record_cds_calls(self, calls: list[CdsCall]) -> list[list[int]]:
        """CDS Hooks calls in one transaction (one commit, and one statement per table, for
        the lot): the audit rows of their assessments, then each call's consult naming its
        rows, and their cards. Returns each call's audit row ids."""
        now = datetime.now(UTC)
        rows = [{"created_at": now, "surface": a["surface"], "kb_version": a["kb_version"],
                 "input_sha256": a["input_sha256"], "result": a["result"]}
                for call in calls for a in call.assessments]
        with self.engine.begin() as conn:
            ids: list[int] = []
            if rows:
                added = conn.execute(
                    insert(_AuditRow).returning(_AuditRow.id, sort_by_parameter_order=True), rows)
                ids = [int(row[0]) for row in added]
            given = iter(ids)
            per_call = [[next(given) for _ in call.assessments] for call in calls]
            conn.execute(insert(_CdsConsultRow), [
                {"id": call.consult_id, "created_at": now, "service_id": call.service_id,
                 "hook_instance": call.hook_instance, "audit_ids": audit_ids, "ratings": call.ratings,
                 "cards": call.cards, "unsigned": int(call.unsigned)}
                for call, audit_ids in zip(calls, per_call, strict=True)])
            card_rows = [{"uuid": card, "consult_id": call.consult_id, "service_id": call.service_id}
                         for call in calls for card in call.cards]
            if card_rows:
                conn.execute(insert(_CdsCardRow), card_rows)
        return per_call

    def cds_card_consult(self, card_uuid: str, service_id: str) -> str | None:
        """The consult that issued this card through this service, or None."""
        with self._session() as session:
            row = session.get(_CdsCardRow, card_uuid)
            return row.consult_id if row is not None and row.service_id == service_id else None

    def record_cds_feedback(self, *, consult_id: str, card_uuid: str, outcome: str,
                            accepted_suggestions: list[str], override_reason: dict[str, Any] | None,
                            comment_given: bool, outcome_at: datetime) -> None:
        with self._session.begin() as session:
            session.add(_CdsFeedbackRow(
                received_at=datetime.now(UTC), consult_id=consult_id, card_uuid=card_uuid,
                outcome=outcome, accepted_suggestions=accepted_suggestions,
                override_reason=override_reason, comment_given=int(comment_given),
                outcome_at=outcome_at))

    def cds_consult(self, consult_id: str) -> CdsConsult | None:
        with self._session() as session:
            row = session.get(_CdsConsultRow, consult_id)
            if row is None:
                return None
            fb = session.scalars(select(_CdsFeedbackRow).where(_CdsFeedbackRow.consult_id == consult_id)
                                 .order_by(_CdsFeedbackRow.id))
            return CdsConsult(
                id=row.id, created_at=_utc(row.created_at), service_id=row.service_id,
                hook_instance=row.hook_instance, audit_ids=row.audit_ids, ratings=row.ratings,
                cards=row.cards, unsigned=bool(row.unsigned),
                feedback=[CdsFeedback(
                    id=f.id, received_at=_utc(f.received_at), consult_id=f.consult_id,
                    card_uuid=f.card_uuid, outcome=f.outcome, accepted_suggestions=f.accepted_suggestions,
                    override_reason=f.override_reason, comment_given=bool(f.comment_given),
                    outcome_at=_utc(f.outcome_at)) for f in fb])


def _engine(url: URL) -> Engine:
    if url.get_backend_name() != "sqlite":
        try:
            return create_engine(url, pool_pre_ping=True)
        except (ArgumentError, ImportError) as exc:
            hint = " (install the extra: pip install 'scanwise[postgres]')" \
                if url.get_backend_name() == "postgresql" else ""
            raise StoreError(f"cannot use the database {_shown(url)}: {exc}{hint}") from exc
    if url.database in (None, "", ":memory:"):
        # One shared connection, or every thread would see its own empty database.
        return create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
    path = Path(url.database)  # type: ignore[arg-type]
    path.parent.mkdir(parents=True, exist_ok=True)
    sqlite3.connect(path).close()  # the file is made once, here, and never again behind our back

    def connect() -> sqlite3.Connection:
        # mode=rw: a file deleted while the server runs is an error, not a new empty database.
        return sqlite3.connect(f"{path.as_uri()}?mode=rw", uri=True, check_same_thread=False,
                               timeout=10)

    engine = create_engine(url, creator=connect)

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, record: Any) -> None:
        # WAL lets readers go on while the audit trail is written.
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()
        record.info["inode"] = _inode(path)

    @event.listens_for(engine, "checkout")
    def _same_file(_dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        # A pooled connection may still hold a file that was deleted or replaced: drop it, so
        # that the next one opens the file that is there now (or fails if none is).
        if record.info.get("inode") != _inode(path):
            raise DisconnectionError("the database file was removed or replaced")

    return engine


def _inode(path: Path) -> int | None:
    try:
        return path.stat().st_ino
    except OSError:
        return None


def _saved(row: _ProfileRow) -> SavedProfile:
    return SavedProfile(
        id=row.id, created_at=_utc(row.created_at), label=row.label, kb_version=row.kb_version,
        profile=PatientProfile.model_validate(row.profile),
        indication=Indication.model_validate(row.indication) if row.indication else None,
        record_text=row.record_text,
    )


def _entry(row: _AuditRow) -> AuditEntry:
    return AuditEntry(id=row.id, created_at=_utc(row.created_at), surface=row.surface,
                      kb_version=row.kb_version, input_sha256=row.input_sha256, result=row.result)
