"""The on-disk knowledge cache: used when it matches the data, rebuilt when the data changes,
never trusted when corrupt."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from scanwise import cache
from scanwise.knowledge import loader


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SCANWISE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("SCANWISE_NO_CACHE", raising=False)
    copy = tmp_path / "knowledge"
    shutil.copytree(loader.DATA_DIR, copy)
    return copy


def _no_loading(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object) -> None:
        raise AssertionError("loaded the YAML although the cache matches")

    monkeypatch.setattr(loader, "load", refuse)


def test_a_matching_cache_is_used_and_a_change_rebuilds_it(data: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    kb, facts = cache.knowledge(data)
    assert kb.version == cache.data_version(data) and facts
    real_load = loader.load
    _no_loading(monkeypatch)
    again, again_facts = cache.knowledge(data)
    assert again.version == kb.version and again_facts.keys() == facts.keys()
    assert again.topics == kb.topics
    vocabulary = data / "vocabulary.yaml"
    vocabulary.write_text(vocabulary.read_text() + "\n# changed\n")
    with pytest.raises(AssertionError, match="loaded the YAML"):
        cache.knowledge(data)  # the data changed: it must be loaded again
    monkeypatch.setattr(loader, "load", real_load)
    changed, _ = cache.knowledge(data)
    assert changed.version != kb.version
    assert changed.version == cache.data_version(data)


def test_a_corrupt_cache_is_rebuilt(data: Path) -> None:
    kb, _ = cache.knowledge(data)
    for path in (Path(cache.cache_dir())).glob("kb-*.pickle"):
        path.write_bytes(b"not a pickle")
    rebuilt, _ = cache.knowledge(data)
    assert rebuilt.version == kb.version


def test_the_cache_can_be_turned_off(data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCANWISE_NO_CACHE", "1")
    cache.knowledge(data)
    assert not list(Path(cache.cache_dir()).glob("kb-*.pickle"))
