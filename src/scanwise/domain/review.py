"""Clinical review of published content: who signed off what, against which knowledge.

A :class:`ReviewRecord` is a clinician's sign-off on one article (or, later, one answer
outline): name, role, date, the ``kb_version`` it was reviewed against and a fingerprint of
the content itself. The content is *reviewed* while its fingerprint still matches, *stale*
once the knowledge behind it has changed, and *unreviewed* without a record. Pages show the
state plainly; nothing here invents a reviewer.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=120)]


class ReviewRecord(BaseModel):
    """One sign-off, as stored in ``knowledge/reviews/``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["article", "outline"] = "article"
    key: Annotated[str, Field(pattern=r"^[0-9]+/[0-9]+$|^[a-z0-9_.-]+$")]  # "310/5" for an article
    reviewer: Name
    role: Name
    date: dt.date
    kb_version: str  # the knowledge base version the reviewer saw
    fingerprint: Annotated[str, Field(pattern=r"^[0-9a-f]{16}$")]  # of the content reviewed


class ReviewState(BaseModel):
    """What a page says about review: who and when, and whether it still holds."""

    model_config = ConfigDict(frozen=True)

    state: Literal["reviewed", "stale", "unreviewed"]
    reviewer: str | None = None
    role: str | None = None
    date: dt.date | None = None
    kb_version: str | None = None

    def sentence(self) -> str:
        if self.state == "unreviewed":
            return "Not yet reviewed by a clinician."
        who = (f"Reviewed by {self.reviewer} ({self.role}) on {self.date}, against knowledge base "
               f"{self.kb_version}")
        if self.state == "stale":
            return who + ("; the knowledge behind this page has changed since, so that review is "
                          "out of date.")
        return who + "."


def fingerprint(content: str) -> str:
    """A short hash of what was reviewed (content rendered without its version or review)."""
    return hashlib.sha256(content.encode("utf-8")).hexdigest()[:16]


def state_for(records: list[ReviewRecord], kind: str, key: str, current: str) -> ReviewState:
    """The latest sign-off on one item, judged against the item's fingerprint now."""
    mine = sorted((r for r in records if r.kind == kind and r.key == key), key=lambda r: r.date)
    if not mine:
        return ReviewState(state="unreviewed")
    last = mine[-1]
    return ReviewState(state="reviewed" if last.fingerprint == current else "stale",
                       reviewer=last.reviewer, role=last.role, date=last.date,
                       kb_version=last.kb_version)
