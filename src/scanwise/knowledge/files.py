"""Which knowledge the process uses, without reading it: the bundled data's folder, its
version from the files' bytes alone, and the content packs configured.

Kept apart from :mod:`scanwise.knowledge.loader` (which imports the domain's models, pydantic
and YAML) so that a command can find out which knowledge base it would load, and look up
what is cached for it, before paying for any of that: ``scanwise kb`` and a warm
``scanwise ask`` never need the models at all. The loader re-exports everything here.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parent
PACKS_ENV = "SCANWISE_KB_PACKS"
#: Folders under the data directory that are not part of ``kb_version``.
NOT_VERSIONED = ("reviews/",)


def versioned_files(data_dir: Path) -> list[tuple[str, Path]]:
    """The data files whose content makes up ``kb_version``, in hashing order."""
    files = sorted(p for p in data_dir.rglob("*.yaml"))
    if not files:
        from scanwise.domain.kb import KnowledgeBaseError

        raise KnowledgeBaseError(f"no knowledge-base files found in {data_dir}")
    rels = ((p.relative_to(data_dir).as_posix(), p) for p in files)
    return [(rel, p) for rel, p in rels if not rel.startswith(NOT_VERSIONED)]


def hash_file(digest: Any, rel: str, path: Path) -> None:
    digest.update(rel.encode() + b"\0" + path.read_bytes() + b"\0")


def bundled_version(data_dir: Path = DATA_DIR) -> str:
    """The bundled data's ``kb_version`` from its files alone (no parsing, no validation)."""
    digest = hashlib.sha256()
    for rel, path in versioned_files(data_dir):
        hash_file(digest, rel, path)
    return digest.hexdigest()[:12]


_chosen: tuple[Path, ...] = ()


def env_packs() -> tuple[Path, ...]:
    """Pack folders named in ``$SCANWISE_KB_PACKS`` (separated by ':')."""
    return tuple(Path(p) for p in os.environ.get(PACKS_ENV, "").split(":") if p.strip())


def use_packs(folders: Iterable[Path | str]) -> None:
    """Load these content packs (after any in ``$SCANWISE_KB_PACKS``) into the default
    knowledge base. Call before it is first used, as the ``--kb-pack`` option does."""
    global _chosen
    _chosen = tuple(Path(f) for f in folders)


def configured_packs() -> tuple[Path, ...]:
    return tuple(dict.fromkeys(p.resolve() for p in (*env_packs(), *_chosen)))
