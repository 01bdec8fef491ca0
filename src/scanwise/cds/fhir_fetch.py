"""Fetch what the prefetch left out from the EHR's FHIR server (CDS Hooks "FHIR Resource Access").

Used only when the request carries both ``fhirServer`` and ``fhirAuthorization``. Each query is
the discovery's prefetch template with the context tokens filled in; the access token goes in
the ``Authorization`` header. One attempt per query, all inside one deadline; any failure
(network, status, not JSON, not a FHIR resource) is a :class:`FetchFailed` naming the key.
The token is sent only over HTTPS, or plain HTTP to this machine (development).
"""

from __future__ import annotations

import ipaddress
import re
import time
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

DEADLINE_S = 2.5
_TOKEN = re.compile(r"\{\{\s*context\.(\w+)\s*\}\}")


class FetchFailed(Exception):
    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.key = key


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def allowed_server(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "https" or (parts.scheme == "http" and _loopback(parts.hostname or ""))


def fill(template: str, context: dict[str, Any]) -> str:
    """The query with ``{{context.x}}`` replaced by the (URL-quoted) context value."""

    def value(m: re.Match[str]) -> str:
        v = context.get(m[1])
        if not isinstance(v, str) or not v:
            raise FetchFailed(f"prefetch token context.{m[1]} has no value in the request")
        return quote(v, safe="")

    return _TOKEN.sub(value, template)


def fetch(
    server: str,
    access_token: str,
    queries: dict[str, str],
    context: dict[str, Any],
    *,
    deadline_s: float = DEADLINE_S,
    client: httpx.Client | None = None,
) -> dict[str, Any]:
    """Each key's resource (a Patient, or a search Bundle) read from ``server``."""
    if not allowed_server(server):
        raise FetchFailed("fhirServer must be an https:// URL (plain http only on this machine)")
    base = server.rstrip("/")
    end = time.monotonic() + deadline_s
    own = client is None
    http = client or httpx.Client(follow_redirects=False)
    out: dict[str, Any] = {}
    try:
        for key, template in queries.items():
            left = end - time.monotonic()
            if left <= 0:
                raise FetchFailed(f"prefetch {key}: the FHIR server did not answer in time", key)
            url = f"{base}/{fill(template, context)}"
            try:
                resp = http.get(
                    url,
                    timeout=left,
                    headers={"Authorization": f"Bearer {access_token}", "Accept": "application/fhir+json"},
                )
            except httpx.HTTPError as exc:
                raise FetchFailed(
                    f"prefetch {key}: the FHIR server could not be read ({type(exc).__name__})", key
                ) from exc
            if resp.status_code != 200:
                raise FetchFailed(f"prefetch {key}: the FHIR server answered {resp.status_code}", key)
            try:
                data = resp.json()
            except ValueError as exc:
                raise FetchFailed(f"prefetch {key}: the FHIR server's answer is not JSON", key) from exc
            if not isinstance(data, dict) or "resourceType" not in data:
                raise FetchFailed(f"prefetch {key}: the FHIR server's answer is not a FHIR resource", key)
            out[key] = data
    finally:
        if own:
            http.close()
    return out
