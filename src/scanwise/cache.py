"""What is built from the knowledge base, kept on disk between runs and keyed by its version.

Loading the knowledge base reads and validates every YAML file (most of a short command's
start-up); the result is the same until the data changes. So the validated knowledge base and
fact base are pickled to the user cache directory under the ``kb_version`` they were built
from, the content hash of every data file. Each run hashes the files (milliseconds, no
parsing); a cache written for other data, or by another scanwise or Python version, is simply
not used, and a new one is written. Nothing here is ever needed: a missing, unreadable or
corrupt cache means the data is loaded and validated as without it.

What a command shows of the knowledge base as a whole (``scanwise kb``'s coverage) is kept
the same way, as JSON (:func:`derived`), keyed also by the code that computed it: such a
command then reads one small file and never loads the models at all.

The cache holds only the bundled data (no user input); ``SCANWISE_NO_CACHE=1`` turns it off
and ``SCANWISE_CACHE_DIR`` moves it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import scanwise

if TYPE_CHECKING:
    from scanwise.domain.facts import Fact
    from scanwise.domain.kb import KnowledgeBase

log = logging.getLogger("scanwise.cache")
_FORMAT = 3  # bump when what is pickled changes shape


def cache_dir() -> Path:
    configured = os.environ.get("SCANWISE_CACHE_DIR")
    if configured:
        return Path(configured)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("scanwise", appauthor=False))


def enabled() -> bool:
    return os.environ.get("SCANWISE_NO_CACHE", "") not in ("1", "true", "yes")


def data_version(data_dir: Path) -> str:
    """The knowledge base's ``kb_version`` from the files alone: the same content hash the
    loader computes, without parsing or validating anything."""
    from scanwise.knowledge.files import bundled_version

    return bundled_version(data_dir)


def code_fingerprint() -> str:
    """Which code this is: scanwise's and Python's versions and each source file's size and
    modification time (an edited checkout counts as other code). A few milliseconds, no reading."""
    digest = hashlib.sha256(f"{scanwise.__version__}|{sys.version}".encode())
    root = Path(scanwise.__file__).parent
    for path in sorted(root.rglob("*.py")):
        info = path.stat()
        digest.update(f"{path.relative_to(root)}:{info.st_size}:{info.st_mtime_ns}".encode())
    return digest.hexdigest()[:20]


def derived(name: str, build: Callable[[], tuple[str, Any]]) -> Any:
    """JSON-ready data computed from the bundled knowledge base, from the cache when it was
    computed from these data files by this code; else ``build()`` (which returns the
    ``kb_version`` it computed from, and the data) is called and its result kept.

    Only for the bundled data: with content packs configured, call ``build`` instead."""
    if not enabled():
        return build()[1]
    from scanwise.knowledge.files import DATA_DIR

    version = data_version(DATA_DIR)
    path = cache_dir() / f"{name}-{version}-{code_fingerprint()}.json"
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(stored, dict) and stored.get("kb_version") == version and "value" in stored:
            return stored["value"]
    except FileNotFoundError:
        pass
    except (OSError, ValueError) as exc:  # a corrupt file is rebuilt, never trusted
        log.warning("cache %s unreadable (%s); rebuilding", path.name, type(exc).__name__)
    built_from, value = build()
    if built_from == version:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, delete=False,
                                             suffix=".tmp") as f:
                json.dump({"kb_version": version, "value": value}, f, ensure_ascii=False)
            os.replace(f.name, path)
        except OSError as exc:
            log.info("cache %s not written (%s)", path.name, type(exc).__name__)
    return value


def _path(kb_version: str) -> Path:
    runtime = f"{scanwise.__version__}-py{sys.version_info[0]}{sys.version_info[1]}-f{_FORMAT}"
    return cache_dir() / f"kb-{kb_version}-{runtime}.pickle"


def _read(path: Path) -> Any:
    try:
        with path.open("rb") as f:
            return pickle.load(f)  # noqa: S301 - our own file, written below, in the user's cache
    except FileNotFoundError:
        return None
    except Exception as exc:  # a corrupt or foreign file is rebuilt, never trusted  # noqa: BLE001
        log.warning("knowledge-base cache %s unreadable (%s); rebuilding", path.name, type(exc).__name__)
        return None


def _write(path: Path, value: Any) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("wb", dir=path.parent, delete=False, suffix=".tmp") as f:
            pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(f.name, path)  # atomic: another process never reads half a file
    except OSError as exc:  # a read-only home is fine: the next run loads again
        log.info("knowledge-base cache not written (%s)", type(exc).__name__)


def _share(data_dir: Path, kb: KnowledgeBase) -> None:
    # Callers of default_kb() in this process get this same object instead of loading again.
    from scanwise.knowledge import loader

    with loader._lock:
        loader._cache.setdefault((data_dir, ()), kb)


def knowledge(data_dir: Path | None = None) -> tuple[KnowledgeBase, dict[str, Fact]]:
    """The validated knowledge base and fact base, from the cache when it matches the data.

    With content packs configured (``--kb-pack``, ``$SCANWISE_KB_PACKS``) the packs are read
    and validated on every run: an institution's tables are never served from a stale cache.
    """
    from scanwise.knowledge import loader
    from scanwise.knowledge.loader import load_facts

    data_dir = data_dir or loader.DATA_DIR
    facts_dir = loader.FACTS_DIR if data_dir == loader.DATA_DIR else data_dir / "facts"
    packs = loader.configured_packs()
    if packs:
        kb = loader.default_kb() if data_dir == loader.DATA_DIR else loader.load(data_dir, packs)
        return kb, load_facts(kb, facts_dir)
    version = data_version(data_dir) if enabled() else None
    if version is not None:
        cached = _read(_path(version))
        if isinstance(cached, dict) and cached.get("kb_version") == version:
            _share(data_dir, cached["kb"])
            return cached["kb"], cached["facts"]
    kb = loader.load(data_dir)
    _share(data_dir, kb)
    facts = load_facts(kb, facts_dir)
    if version is not None and kb.version == version:
        _write(_path(version), {"kb_version": version, "kb": kb, "facts": facts})
    return kb, facts


def hyphenation() -> None:
    """Put pyphen's parsed English hyphenation patterns (what the reading-grade measure counts
    syllables with) in its own in-memory table, from the cache: parsing the dictionary is a
    fifth of a short ``scanwise ask``. Keyed by pyphen's version; a miss parses and writes."""
    if not enabled():
        return
    try:
        import pyphen
    except ImportError:
        return
    path = pyphen.LANGUAGES.get("en_US")
    if path is None or path in pyphen.hdcache:
        return
    runtime = f"{pyphen.__version__}-py{sys.version_info[0]}{sys.version_info[1]}"
    stored = cache_dir() / f"hyphenation-{runtime}.pickle"
    patterns = _read(stored)
    if not isinstance(patterns, pyphen.HyphDict):
        patterns = pyphen.HyphDict(path)
        _write(stored, patterns)
    pyphen.hdcache[path] = patterns
