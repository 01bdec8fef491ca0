"""How the web app is set up: database, limits, timeouts."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from scanwise.web.errors import MB, size_text

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


def is_loopback(host: str | None) -> bool:
    """A loopback name or address (``localhost``, 127.0.0.0/8, ``::1``)."""
    if not host:
        return False
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class WebSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    #: A database URL or an SQLite file path; None: ``$SCANWISE_DB``, else the user data dir.
    db: str | None = None
    #: Largest request body, uploads included.
    max_upload_bytes: int = Field(default=5 * MB, gt=0)
    #: Seconds one request's CPU work may take before it gets 504.
    timeout_s: float = Field(default=30.0, gt=0)
    #: Worker processes doing CPU work (each with its own reader), and requests that may wait
    #: for one before 503.
    processes: int = Field(default=1, ge=1, le=64)
    max_waiting: int = Field(default=64, ge=0)
    #: Keep an audit trail of assessments (time, kb version, input hash, redacted result).
    audit: bool = True
    #: Host header names served (DNS rebinding defence); the loopback names always are.
    allowed_hosts: tuple[str, ...] = ()
    #: The address the server listens on: without an admin token, the audit is open only when
    #: this is a loopback address and the caller is on this machine.
    bind_host: str = "127.0.0.1"
    #: The token for the audit and other administrative endpoints (``--admin-token-file``).
    admin_token: SecretStr | None = None
    #: A folder of templates that win, one by one, over the bundled ones (``--templates``).
    templates: Path | None = None

    @property
    def hosts(self) -> frozenset[str]:
        return LOOPBACK_NAMES | {h.lower() for h in self.allowed_hosts}

    @property
    def upload_limit_text(self) -> str:
        return size_text(self.max_upload_bytes)
