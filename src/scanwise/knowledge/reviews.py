"""Clinical sign-offs stored as data beside the knowledge (``reviews/sign-offs.yaml``).

The file is versioned with the knowledge in the repository but left out of ``kb_version``
(a sign-off records the version it reviewed and must not change it). ``$SCANWISE_REVIEWS_DIR``
points elsewhere, for an institution's own review log or a test's temporary copy.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from scanwise.domain.kb import KnowledgeBaseError
from scanwise.domain.review import ReviewRecord
from scanwise.knowledge.loader import DATA_DIR, load_yaml, top_level_list, validate_entry

REVIEWS_ENV = "SCANWISE_REVIEWS_DIR"
FILE_NAME = "sign-offs.yaml"
HEADER = ("# Clinical sign-offs on articles (scanwise review sign). Each records who reviewed\n"
          "# what, when, against which kb_version, and a fingerprint of the content reviewed; a\n"
          "# changed fingerprint makes the review stale. Only real reviews belong here.\n")


def reviews_dir() -> Path:
    return Path(os.environ.get(REVIEWS_ENV) or DATA_DIR / "reviews")


def load_reviews(folder: Path | None = None) -> list[ReviewRecord]:
    """Every sign-off, validated; a missing file means none yet."""
    path = (folder or reviews_dir()) / FILE_NAME
    if not path.is_file():
        return []
    data = load_yaml(path)
    if data is None:
        return []
    return [validate_entry(ReviewRecord, item, path, f"reviews[{i}] ({item.get('key', '?')})"
                           if isinstance(item, dict) else f"reviews[{i}]")
            for i, item in enumerate(top_level_list(data, path, "reviews"))]


def record_review(record: ReviewRecord, folder: Path | None = None) -> Path:
    """Append a sign-off to the review file (written whole, records kept in order)."""
    folder = folder or reviews_dir()
    records = [*load_reviews(folder), record]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / FILE_NAME
        body = yaml.safe_dump({"reviews": [r.model_dump(mode="json") for r in records]},
                              sort_keys=False, allow_unicode=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(HEADER + body, encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        raise KnowledgeBaseError(f"{folder / FILE_NAME}: cannot write the sign-off: {exc}") from exc
    return path
