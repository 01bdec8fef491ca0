"""How the web app is set up: database, limits, timeouts."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from scanwise.web.errors import MB, size_text


class WebSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    #: A database URL or an SQLite file path; None: ``$SCANWISE_DB``, else the user data dir.
    db: str | None = None
    #: Largest request body, uploads included.
    max_upload_bytes: int = Field(default=5 * MB, gt=0)
    #: Seconds one request's CPU work may take before it gets 504.
    timeout_s: float = Field(default=30.0, gt=0)
    #: Threads doing CPU work at once, and requests that may wait for one before 503.
    threads: int = Field(default=4, ge=1)
    max_waiting: int = Field(default=64, ge=0)
    #: Keep an audit trail of assessments (time, kb version, input hash, redacted result).
    audit: bool = True

    @property
    def upload_limit_text(self) -> str:
        return size_text(self.max_upload_bytes)
