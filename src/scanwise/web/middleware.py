"""Every request: an id, a body-size limit, one log line, and no stack trace to the client.

The log line holds the request id, method, path, status, sizes and time, never a body or a
query string: uploads are patient records.
"""

from __future__ import annotations

import json
import logging
import time
import traceback
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from scanwise.web.errors import ApiError, BodyTooLarge

log = logging.getLogger("scanwise.web")

JSON_PATHS = ("/api/", "/healthz", "/openapi.json")

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


class RequestContext:
    def __init__(self, app: ASGIApp, max_body_bytes: int, framing_bytes: int = 0) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes  # the limit people are told
        self.framing_bytes = framing_bytes  # multipart framing allowed on top of it

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
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode()),
                                      *_HEADERS, (b"content-security-policy", csp)]
            elif message["type"] == "http.response.body":
                sent_bytes += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, limited_receive, tracked_send)
        except Exception as exc:  # a fault of ours: log where, never what was sent
            where = "\n".join(f"  {f.filename}:{f.lineno} in {f.name}"
                              for f in traceback.extract_tb(exc.__traceback__)[-8:])
            log.error("rid=%s unhandled %s at\n%s", rid, type(exc).__name__, where)
            if not response_started:
                await _fault_response(scope, tracked_send, rid)
        finally:
            log.info("rid=%s %s %s status=%s in=%dB out=%dB %.1fms", rid, scope.get("method"),
                     scope.get("path"), status, received, sent_bytes,
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
    if wants_json(scope.get("path", "")):
        error = ApiError(500, "internal_error", "The server failed to handle this request. Nothing "
                         "you sent was kept; report the request id if it keeps happening.")
        body = json.dumps(error.body(rid)).encode()
        content_type = b"application/json"
    else:
        body = _FAULT_HTML.format(rid=rid).encode()
        content_type = b"text/html; charset=utf-8"
    await send({"type": "http.response.start", "status": 500,
                "headers": [(b"content-type", content_type),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
