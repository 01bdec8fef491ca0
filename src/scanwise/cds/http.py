"""The CDS Hooks endpoints on the web app: discovery, the two services, feedback.

    GET  /cds-services                  discovery
    POST /cds-services/{id}             a hook call (cards, systemActions)
    POST /cds-services/{id}/feedback    what the clinician did with a card

Every endpoint depends on the JWT checks of ``auth`` (its own 401 rules): a failed check is a
bare 401. A malformed request is a 4xx with an OperationOutcome; a fault of ours is a 500
OperationOutcome without detail; a busy server or a call past the deadline is the worker
pool's 503 or 504, as an OperationOutcome. CORS headers are sent only for the origins
configured.

Where the work runs: the token checks (one replay cache for the server), the audit write
(``recorder``: one thread, many calls to a commit), feedback and reads from an EHR's FHIR
server stay in the web process; reading, assessing and building the cards run in the worker
processes the JSON API uses, as :func:`scanwise.cds.work.hook_call` (see that module).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import anyio
import anyio.to_thread
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import Response
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from scanwise.cds import work
from scanwise.cds.auth import ENV_VAR, Denied, TrustList, Verifier
from scanwise.cds.recorder import Recorder
from scanwise.cds.service import CdsService, HookError, operation_outcome
from scanwise.core import Scanwise
from scanwise.storage import Store

log = logging.getLogger("scanwise.cds")
PREFIX = "/cds-services"
#: Reads from EHRs' FHIR servers at once (threads of the web process, waiting on the network).
FETCH_THREADS = 8
T = TypeVar("T")


class Runner(Protocol):
    """Where the work goes (the web app's ``Workers``): ``run(fn, *args)`` calls
    ``fn(core, *args)`` in a worker process within the deadline; ``io(fn, *args)`` runs
    database work in a thread of this process. Its refusals (busy, past the deadline, the
    store unusable) are exceptions with an HTTP ``status``, a ``message`` and ``headers``."""

    def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> Awaitable[T]: ...

    def io(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> Awaitable[T]: ...


@dataclass
class CdsSettings:
    """``scanwise serve --cds-trust FILE --cds-allow-unsigned --cds-cors-origin URL``."""

    trust_file: str | None = None
    allow_unsigned: bool = False
    cors_origins: list[str] = field(default_factory=list)

    @classmethod
    def from_env(cls) -> CdsSettings:
        return cls(trust_file=os.environ.get(ENV_VAR) or None)


class _Unauthorized(Exception):
    pass


class _CorsForCds:
    """CORS for the CDS paths only, and only for the configured origins."""

    def __init__(self, app: ASGIApp, origins: list[str]) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=origins,
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type"],
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (scope["path"] == PREFIX or scope["path"].startswith(PREFIX + "/")):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)


_OUTCOME = {"content": {"application/json": {"schema": {"type": "object"}}}}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid JWT bearer token (no body)"},
    400: {"description": "Malformed request: an OperationOutcome naming the problem", **_OUTCOME},
    404: {"description": "Unknown service id: an OperationOutcome", **_OUTCOME},
    412: {"description": "The patient data could not be obtained: an OperationOutcome", **_OUTCOME},
    500: {"description": "A fault of ours: an OperationOutcome without detail", **_OUTCOME},
}


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return _raw(work.encode(data), status, headers)


def _raw(body: bytes, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def _refusal(exc: Exception) -> Response | None:
    """The runner's own refusal (503 busy or store unusable, 504 past the deadline) as an
    OperationOutcome with its headers (Retry-After), or None for anything else."""
    status, message = getattr(exc, "status", None), getattr(exc, "message", None)
    if not (isinstance(status, int) and status in (503, 504) and isinstance(message, str)):
        return None
    headers = getattr(exc, "headers", None)
    code = "timeout" if status == 504 else "transient"
    return _json(operation_outcome(message, code), status, headers if isinstance(headers, dict) else None)


def _feedback(service: CdsService, service_id: str, body: bytes) -> tuple[int, dict[str, Any]]:
    try:
        return 200, service.feedback(service_id, body)
    except HookError as exc:
        return exc.status, exc.outcome()


def _called_url(request: Request) -> str:
    """The URL the client called, as it must appear in the token's ``aud`` (no query)."""
    return str(request.url.replace(query="", fragment=""))


def install(app: FastAPI, core: Scanwise, store: Store, settings: CdsSettings | None = None, *,
            runner: Runner) -> CdsService:
    """Add the CDS endpoints (and their CORS) to ``app``, their work going to ``runner``.
    Raises TrustError for a bad trust file."""
    settings = settings or CdsSettings.from_env()
    trust = TrustList.load(settings.trust_file) if settings.trust_file else None
    verifier = Verifier(trust, allow_unsigned=settings.allow_unsigned)
    service = CdsService(core, store, unsigned=settings.allow_unsigned)
    if settings.allow_unsigned:
        log.warning(
            "CDS HOOKS: UNSIGNED CALLS ACCEPTED (--cds-allow-unsigned). Any caller can use the "
            "CDS services; for local development only, never with real patients."
        )
    elif trust is None:
        log.warning("cds: no trust file (--cds-trust or $%s): every CDS Hooks call is refused", ENV_VAR)

    def check(authorization: str | None, url: str) -> None:
        try:
            verifier.check(authorization, url)
        except Denied as exc:
            log.info("cds: call refused (%s)", exc.rule)
            raise _Unauthorized() from exc

    async def authorized(request: Request) -> None:
        # A signature check takes well under a millisecond: on the event loop, unless a key
        # set may have to be fetched from an issuer (then in a thread, never blocking the loop).
        authorization, url = request.headers.get("authorization"), _called_url(request)
        if verifier.may_fetch:
            await anyio.to_thread.run_sync(check, authorization, url)
        else:
            check(authorization, url)

    async def unauthorized(_request: Request, _exc: Exception) -> Response:
        return Response(status_code=401, headers={"WWW-Authenticate": "Bearer"})

    router = APIRouter(prefix=PREFIX, tags=["cds-hooks"], dependencies=[Depends(authorized)],
                       responses=_RESPONSES)

    fetch_limiter = anyio.CapacityLimiter(FETCH_THREADS)
    recorder = app.state.cds_recorder = Recorder(store)
    discovered = work.encode(service.discovery())  # the same for every call

    async def answer(service_id: str, body: bytes, base_url: str) -> Response:
        service.service(service_id)  # an unknown id is a 404 before any work
        reply = await runner.run(work.hook_call, service_id, body, base_url, service.unsigned)
        if reply.kind == "fetch" and reply.plan is not None:
            fetched = await anyio.to_thread.run_sync(service.fetch, reply.plan, limiter=fetch_limiter)
            reply = await runner.run(work.hook_call, service_id, body, base_url, service.unsigned, fetched)
        if reply.kind == "fetch":
            raise RuntimeError("a call asked for its prefetch again")
        if reply.record is not None:
            await recorder.record(reply.record)
        return _raw(reply.body, reply.status)

    async def guarded(work_: Awaitable[Response]) -> Response:
        try:
            return await work_
        except HookError as exc:
            return _json(exc.outcome(), exc.status)
        except Exception as exc:  # a fault of ours: logged by type, answered without detail
            refused = _refusal(exc)
            if refused is not None:
                return refused
            log.error("cds: internal error: %s", type(exc).__name__)
            return _json(operation_outcome("internal error in the CDS service", "exception"), 500)

    async def feedback_reply(service_id: str, body: bytes) -> Response:
        status, data = await runner.io(_feedback, service, service_id, body)
        return _json(data, status)

    @router.get("", summary="CDS Hooks discovery")
    async def discovery() -> Response:
        return _raw(discovered)

    @router.post("/{service_id}", summary="Call a CDS service (order-select, order-sign)")
    async def call(service_id: str, request: Request) -> Response:
        body = await request.body()
        return await guarded(answer(service_id, body, str(request.base_url)))

    @router.post("/{service_id}/feedback", summary="Feedback on a card")
    async def feedback(service_id: str, request: Request) -> Response:
        body = await request.body()
        return await guarded(feedback_reply(service_id, body))

    app.add_exception_handler(_Unauthorized, unauthorized)
    app.include_router(router)
    if settings.cors_origins:
        app.add_middleware(_CorsForCds, origins=settings.cors_origins)
    app.state.cds = service
    return service
