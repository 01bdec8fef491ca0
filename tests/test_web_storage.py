"""The store behind the web app: where the database goes, what is kept, what is never kept."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path

import pytest

from scanwise.domain.assess import assess
from scanwise.domain.kb import KnowledgeBase
from scanwise.nlp.scenario import read_scenario
from scanwise.storage import (
    Store,
    StoreError,
    default_database_path,
    input_hash,
    redact,
    resolve_database_url,
)

SCENARIO = ("Zebulon Q, 58-year-old woman, 1.8 cm grade 2 IDC, new bone pain. Staging for distant "
            "disease?")


def test_database_location_order(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SCANWISE_DB", raising=False)
    assert resolve_database_url(None) == f"sqlite:///{default_database_path()}"
    assert "scanwise" in str(default_database_path())
    monkeypatch.setenv("SCANWISE_DB", str(tmp_path / "env.db"))
    assert resolve_database_url(None) == f"sqlite:///{tmp_path / 'env.db'}"
    assert resolve_database_url(str(tmp_path / "opt.db")) == f"sqlite:///{tmp_path / 'opt.db'}"
    monkeypatch.chdir(tmp_path)
    assert resolve_database_url("rel.db") == f"sqlite:///{tmp_path / 'rel.db'}"


def test_urls_pass_through_and_postgres_uses_psycopg() -> None:
    assert resolve_database_url("sqlite:///x.db") == "sqlite:///x.db"
    assert resolve_database_url("postgresql://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    assert resolve_database_url("postgres://h/db") == "postgresql+psycopg://h/db"


def test_unusable_databases_are_named_without_passwords(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="a-file"):
        Store(resolve_database_url(str(blocker / "scanwise.db")))
    with pytest.raises(StoreError) as caught:
        Store("nosuchdriver://user:secret@host/db")
    assert "secret" not in str(caught.value)
    with pytest.raises(StoreError, match="not a database URL"):
        Store("::::")


def test_profiles_round_trip_and_delete(tmp_path: Path, kb: KnowledgeBase) -> None:
    store = Store(resolve_database_url(str(tmp_path / "s.db")))
    profile, indication = read_scenario(SCENARIO, kb)
    saved = store.save_profile(profile, kb_version=kb.version, indication=indication, label="me")
    assert saved.created_at.tzinfo is UTC or saved.created_at.utcoffset() is not None
    again = Store(store.engine.url.render_as_string(hide_password=False)).get_profile(saved.id)
    assert again is not None and again.profile == profile and again.indication == indication
    assert again.created_at.utcoffset() is not None
    assert store.delete_profile(saved.id) and store.get_profile(saved.id) is None
    assert not store.delete_profile(saved.id)


def test_audit_keeps_no_user_words(kb: KnowledgeBase) -> None:
    store = Store("sqlite://")
    profile, indication = read_scenario(SCENARIO, kb)
    assessment = assess(profile, indication, kb)
    assert assessment.red_flags, "the scenario has a red flag whose trigger quotes the text"
    first = store.record_assessment(assessment, surface="test", input_sha256=input_hash({"t": 1}))
    second = store.record_assessment(assessment, surface="test", input_sha256=input_hash({"t": 2}))
    entries = store.audit_entries()
    assert [e.id for e in entries] == [second.id, first.id]  # newest first
    stored = entries[0].result
    assert stored == redact(assessment)
    assert "Zebulon" not in str(stored) and "bone pain." not in str(stored)
    assert all(t["evidence"] is None for f in stored["red_flags"] for t in f["triggered_by"])
    assert stored["matches"] == assessment.model_dump(mode="json")["matches"]
    assert store.audit_entries(limit=1, offset=1)[0].id == first.id


def test_input_hash_is_canonical() -> None:
    assert input_hash({"a": 1, "b": [1, 2]}) == input_hash({"b": [1, 2], "a": 1})
    assert input_hash({"a": 1}) != input_hash({"a": 2})
    assert input_hash({"f": b"pdf bytes"}) != input_hash({"f": b"other bytes"})
    assert len(input_hash({})) == 64
