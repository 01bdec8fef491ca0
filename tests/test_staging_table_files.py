"""The table files themselves: provenance blocks, and a loader that refuses bad data."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import pytest
import yaml

from scanwise.domain.staging import TableError
from scanwise.domain.staging.tables import (
    TABLE_FILES,
    validate_anatomic,
    validate_prognostic,
)
from scanwise.knowledge.loader import DATA_DIR, STAGING_DIR, default_kb, load_stage_tables

FOLDER = DATA_DIR / STAGING_DIR


def _raw(name: str) -> dict:
    return yaml.safe_load((FOLDER / TABLE_FILES[name]).read_text())


@pytest.mark.parametrize("name", sorted(TABLE_FILES))
def test_every_table_names_its_source_and_records_disagreements(name: str) -> None:
    raw = _raw(name)
    source = raw["source"]
    for key in ("publisher", "document", "edition", "table", "year", "url"):
        assert source[key], key
    assert "AJCC" in source["publisher"]
    assert "8th" in source["edition"] and "2018" in source["edition"]
    assert source["year"] == 2018
    assert source["url"].startswith("https://")
    assert len(source["checked_against"]) >= 2
    assert raw["notes"]


@pytest.mark.parametrize("name", ["clinical_prognostic", "pathological_prognostic"])
def test_prognostic_notes_record_each_disagreement_and_choice(name: str) -> None:
    notes = " ".join(_raw(name)["notes"])
    assert "Disagreement" in notes and "Followed" in notes


def test_tables_are_loaded_once_with_the_knowledge_base() -> None:
    kb = default_kb()
    assert kb.stage_tables is default_kb().stage_tables
    assert len(kb.stage_tables.version) == 12
    assert kb.stage_tables.version == load_stage_tables().version


def _copy_tables(tmp_path: Path) -> Path:
    for filename in TABLE_FILES.values():
        shutil.copy(FOLDER / filename, tmp_path / filename)
    return tmp_path


def test_a_broken_table_file_is_named_when_loaded(tmp_path: Path) -> None:
    folder = _copy_tables(tmp_path)
    raw = _raw("anatomic")
    raw["rows"][0]["stage"] = "V"
    (folder / "anatomic.yaml").write_text(yaml.safe_dump(raw))
    with pytest.raises(TableError, match="^anatomic.yaml: "):
        load_stage_tables(folder)


def test_a_table_file_that_is_not_yaml_is_named_when_loaded(tmp_path: Path) -> None:
    folder = _copy_tables(tmp_path)
    (folder / "pathological_prognostic.yaml").write_text("groups: [unclosed\n")
    with pytest.raises(TableError, match="^pathological_prognostic.yaml: not valid YAML"):
        load_stage_tables(folder)


def _broken(mutate) -> dict:  # type: ignore[no-untyped-def]
    raw = copy.deepcopy(_raw("clinical_prognostic"))
    mutate(raw)
    return raw


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda r: r["groups"][0]["stages"]["G1"]["HER2+"].pop("ER-/PR-"), "cells must be"),
        (lambda r: r["groups"][0]["stages"].pop("G3"), "grades must be"),
        (lambda r: r["groups"][0]["stages"]["G1"]["HER2+"].update({"ER+/PR+": "IIZ"}), "IIZ"),
        (lambda r: r["groups"][1]["tn"].append(["T1", "N0"]), "in both"),
        (lambda r: r["groups"][4]["tn"].remove(["T4", "N2"]), "no group"),
        (lambda r: r["groups"][0]["tn"].append(["T5", "N0"]), "unknown T group"),
        (lambda r: r.update({"surprise": 1}), "surprise"),
        (lambda r: r["source"].pop("url"), "url"),
        (lambda r: r.update({"notes": []}), "notes"),
    ],
)
def test_validation_rejects_broken_prognostic_tables(mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TableError, match=message) as info:
        validate_prognostic(_broken(mutate), "clinical_prognostic.yaml")
    assert "clinical_prognostic.yaml" in str(info.value)


def test_validation_rejects_broken_anatomic_table() -> None:
    raw = copy.deepcopy(_raw("anatomic"))
    raw["rows"][0]["stage"] = "V"
    with pytest.raises(TableError, match="anatomic.yaml"):
        validate_anatomic(raw)
