"""The table files themselves: provenance blocks, and a loader that refuses bad data."""

from __future__ import annotations

import copy
from importlib import resources

import pytest
import yaml

from scanwise.domain.staging import TableError, tables_version
from scanwise.domain.staging.tables import (
    TABLE_FILES,
    clinical_index,
    validate_anatomic,
    validate_prognostic,
)


def _raw(name: str) -> dict:
    folder = resources.files("scanwise.domain.staging").joinpath("tables")
    return yaml.safe_load(folder.joinpath(TABLE_FILES[name]).read_text())


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


def test_loader_is_cached() -> None:
    assert clinical_index() is clinical_index()
    assert len(tables_version()) == 12


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
