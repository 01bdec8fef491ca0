"""Every request: an id, a Host check, a same-origin check on state changes, a body-size
limit, one log line, and no stack trace to the client.

The log line holds the request id, method, path (as sent, control characters escaped, saved
profile ids masked), status, sizes and time, never a body or a query string: uploads are
patient records, and a profile id is the only key to a saved profile.
"""

from __future__ import annotations

import json
import logging
import re
import time
import traceback
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from scanwise.web.errors import ApiError, BodyTooLarge
from scanwise.web.settings import is_loopback

log = logging.getLogger("scanwise.web")

JSON_PATHS = ("/api/", "/healthz", "/openapi.json")
# CDS Hooks calls carry their own credential (a signed JWT, checked by scanwise.cds.auth) and
# no cookie, and may come from the origins --cds-cors-origin allows: a same-site check on them
# would only refuse what the CDS Hooks rules accept.
BEARER_ONLY_PATHS = ("/cds-services",)

# Nothing may load from elsewhere, and no page leaks its address (a saved profile's link holds
# its id) to the sites it links to. The article pages come from the static-site templates,
# which use an inline handler, so they get everything but the script rule.
_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin"),
            (b"x-frame-options", b"DENY")]
_CSP = (b"default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'; "
        b"base-uri 'none'; form-action 'self'")
_CSP_ARTICLES = _CSP + b"; script-src 'self' 'unsafe-inline'"


def wants_json(path: str) -> bool:
    return path.startswith(JSON_PATHS)


def request_id(scope: Scope) -> str | None:
    value = scope.get("state", {}).get("request_id")
    return value if isinstance(value, str) else None


_FAULT_HTML = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Server error · scanwise</title>
<link rel="stylesheet" href="/static/app.css"></head><body><main id="main" class="page">
<h1>Something went wrong on our side</h1><p>The request could not be completed. Nothing you sent
was kept. Please try again; if it keeps happening, report request id <code>{rid}</code>.</p>
<p><a href="/">Back to the start</a></p></main></body></html>"""


_STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
_PROFILE_ID = re.compile(r"[0-9a-fA-F]{32}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\\]")


def logged_path(scope: Scope) -> str:
    """The path as the client sent it (not URL-decoded), with control characters and
    backslashes escaped and anything shaped like a profile id masked: one line, no secrets."""
    raw = scope.get("raw_path")
    path = raw.split(b"?", 1)[0].decode("latin-1") if isinstance(raw, bytes) else \
        str(scope.get("path", ""))
    path = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", path)
    return _PROFILE_ID.sub("<id>", path)[:300]


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _host_name(host: str) -> str:
    """``example.org:8000`` -> ``example.org``; ``[::1]:8000`` -> ``::1``."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _origin_host(value: str) -> str | None:
    """The host[:port] of an Origin or Referer value, or None when it has none ("null")."""
    if "://" not in value:
        return None
    return value.split("://", 1)[1].split("/", 1)[0].lower() or None


def refusal(scope: Scope, hosts: frozenset[str]) -> ApiError | None:
    """Why this request is refused before it reaches a route: a Host this server does not
    answer to (DNS rebinding), or a state change sent from another site (CSRF)."""
    host = _header(scope, b"host") or ""
    if _host_name(host) not in hosts and not is_loopback(_host_name(host)):
        return ApiError(400, "invalid_host", "This server does not answer to that host name. The "
                        "operator can add it with --allowed-host.")
    if scope.get("method") in _STATE_CHANGING and not scope.get("path", "").startswith(BEARER_ONLY_PATHS):
        origin = _header(scope, b"origin")
        sent_from = _origin_host(origin) if origin else None
        if sent_from is None and not wants_json(scope.get("path", "")):
            referer = _header(scope, b"referer")
            sent_from = _origin_host(referer) if referer else None
            if sent_from is None:  # a page form always says where it was sent from
                return ApiError(403, "cross_site_request", "This form must be sent from this "
                                "site's own page; reload the page and try again.")
        if (origin or sent_from) and sent_from != host.lower():
            return ApiError(403, "cross_site_request", "A request from another site cannot change "
                            "anything here.")
    return None


_REFUSED_HTML = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Refused · scanwise</title>
<link rel="stylesheet" href="/static/app.css"></head><body><main id="main" class="page">
<h1>This request was refused</h1><p>{message}</p><p>Request id <code>{rid}</code>.</p>
<p><a href="/">Back to the start</a></p></main></body></html>"""

_NO_STORE = [(b"cache-control", b"no-store")]


class RequestContext:
    def __init__(self, app: ASGIApp, max_body_bytes: int, framing_bytes: int = 0,
                 hosts: frozenset[str] = frozenset({"localhost"})) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes  # the limit people are told
        self.framing_bytes = framing_bytes  # multipart framing allowed on top of it
        self.hosts = hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = uuid.uuid4().hex[:12]
        scope.setdefault("state", {})["request_id"] = rid
        started = time.perf_counter()
        limit = self.max_body_bytes + self.framing_bytes
        received = 0
        status = 0
        sent_bytes = 0
        response_started = False
        declared = _content_length(scope)

        async def limited_receive() -> Message:
            nonlocal received
            if declared is not None and declared > limit:
                raise BodyTooLarge(self.max_body_bytes)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(self.max_body_bytes)
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal status, sent_bytes, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                csp = _CSP_ARTICLES if scope.get("path", "").startswith("/articles") else _CSP
                # Everything but the static files may carry patient data: never cached.
                cache = [] if scope.get("path", "").startswith("/static/") else _NO_STORE
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode()),
                                      *_HEADERS, *cache, (b"content-security-policy", csp)]
            elif message["type"] == "http.response.body":
                sent_bytes += len(message.get("body", b""))
            await send(message)

        try:
            refused = refusal(scope, self.hosts)
            if refused is not None:
                await _error_response(scope, tracked_send, refused, rid)
            else:
                await self.app(scope, limited_receive, tracked_send)
        except Exception as exc:  # a fault of ours: log where, never what was sent
            where = "\n".join(f"  {f.filename}:{f.lineno} in {f.name}"
                              for f in traceback.extract_tb(exc.__traceback__)[-8:])
            log.error("rid=%s unhandled %s at\n%s", rid, type(exc).__name__, where)
            if not response_started:
                await _fault_response(scope, tracked_send, rid)
        finally:
            log.info("rid=%s %s %s status=%s in=%dB out=%dB %.1fms", rid, scope.get("method"),
                     logged_path(scope), status, received, sent_bytes,
                     (time.perf_counter() - started) * 1000)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _fault_response(scope: Scope, send: Send, rid: str) -> None:
    await _error_response(scope, send, ApiError(
        500, "internal_error", "The server failed to handle this request. Nothing you sent was "
        "kept; report the request id if it keeps happening."), rid)


async def _error_response(scope: Scope, send: Send, error: ApiError, rid: str) -> None:
    if wants_json(scope.get("path", "")):
        body = json.dumps(error.body(rid)).encode()
        content_type = b"application/json"
    elif error.status == 500:
        body = _FAULT_HTML.format(rid=rid).encode()
        content_type = b"text/html; charset=utf-8"
    else:
        body = _REFUSED_HTML.format(message=error.message, rid=rid).encode()
        content_type = b"text/html; charset=utf-8"
    await send({"type": "http.response.start", "status": error.status,
                "headers": [(b"content-type", content_type),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
