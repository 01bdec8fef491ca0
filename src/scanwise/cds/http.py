"""The CDS Hooks endpoints on the web app: discovery, the two services, feedback.

    GET  /cds-services                  discovery
    POST /cds-services/{id}             a hook call (cards, systemActions)
    POST /cds-services/{id}/feedback    what the clinician did with a card

Every endpoint depends on :func:`Cds.authorized` (its own 401 rules, see ``auth``): a failed
check is a bare 401. A malformed request is a 4xx with an OperationOutcome; a fault of ours is
a 500 OperationOutcome without detail. CORS headers are sent only for the origins configured.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import anyio
import anyio.to_thread
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from scanwise.cds.auth import ENV_VAR, Denied, TrustList, Verifier
from scanwise.cds.service import CdsService, HookError, operation_outcome
from scanwise.core import Scanwise
from scanwise.storage import Store

log = logging.getLogger("scanwise.cds")
PREFIX = "/cds-services"
#: Threads doing CDS work at once (the reader is serial; a second thread overlaps the rest).
WORK_THREADS = 2


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


def _json(data: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(data, status_code=status)


def _called_url(request: Request) -> str:
    """The URL the client called, as it must appear in the token's ``aud`` (no query)."""
    return str(request.url.replace(query="", fragment=""))


def install(app: FastAPI, core: Scanwise, store: Store, settings: CdsSettings | None = None) -> CdsService:
    """Add the CDS endpoints (and their CORS) to ``app``. Raises TrustError for a bad trust file."""
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

    def authorized(request: Request) -> None:
        try:
            verifier.check(request.headers.get("authorization"), _called_url(request))
        except Denied as exc:
            log.info("cds: call refused (%s)", exc.rule)
            raise _Unauthorized() from exc

    async def unauthorized(_request: Request, _exc: Exception) -> Response:
        return Response(status_code=401, headers={"WWW-Authenticate": "Bearer"})

    router = APIRouter(prefix=PREFIX, tags=["cds-hooks"], dependencies=[Depends(authorized)],
                       responses=_RESPONSES)

    # Calls wait their turn in order (a FIFO limiter) instead of crowding the text reader,
    # which reads one text at a time: the slowest call then waits for the queue ahead of it,
    # not for whichever thread wins the reader's lock.
    limiter = anyio.CapacityLimiter(WORK_THREADS)

    async def guarded(fn: Any, *args: Any) -> JSONResponse:
        try:
            return _json(await anyio.to_thread.run_sync(partial(fn, *args), limiter=limiter))
        except HookError as exc:
            return _json(exc.outcome(), exc.status)
        except Exception as exc:  # a fault of ours: logged by type, answered without detail
            log.error("cds: internal error: %s", type(exc).__name__)
            return _json(operation_outcome("internal error in the CDS service", "exception"), 500)

    @router.get("", summary="CDS Hooks discovery")
    async def discovery() -> JSONResponse:
        return _json(service.discovery())

    @router.post("/{service_id}", summary="Call a CDS service (order-select, order-sign)")
    async def call(service_id: str, request: Request) -> JSONResponse:
        body = await request.body()
        return await guarded(service.call, service_id, body, str(request.base_url))

    @router.post("/{service_id}/feedback", summary="Feedback on a card")
    async def feedback(service_id: str, request: Request) -> JSONResponse:
        body = await request.body()
        return await guarded(service.feedback, service_id, body)

    app.add_exception_handler(_Unauthorized, unauthorized)
    app.include_router(router)
    if settings.cors_origins:
        app.add_middleware(_CorsForCds, origins=settings.cors_origins)
    app.state.cds = service
    return service
