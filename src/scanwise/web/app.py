"""The FastAPI application: pages, API, static files, error handling and the store."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import scanwise
from scanwise.cds import CdsSettings
from scanwise.cds import install as install_cds
from scanwise.core import Scanwise
from scanwise.storage import Store, resolve_database_url
from scanwise.templating import check_folder
from scanwise.web import api, pages
from scanwise.web.errors import ApiError, from_http_exception, from_validation_error
from scanwise.web.middleware import RequestContext, request_id, wants_json
from scanwise.web.schemas import Health
from scanwise.web.services import Services
from scanwise.web.settings import WebSettings

STATIC_DIR = Path(__file__).parent / "static"
# Multipart framing around an upload of exactly the limit must still fit.
_FRAMING_BYTES = 64 * 1024

log = logging.getLogger("scanwise.web")

DESCRIPTION = """Evidence-based imaging guidance for breast cancer, from published guidelines
(ACR Appropriateness Criteria; NCCN/ASCO where cited). Guideline information, not medical advice.

Errors are JSON: `{"error": {"code", "message", "field"?}}`. Uploads are read in memory and
never logged; nothing is stored unless saved through `/api/profiles`. Assessments are kept in
an audit trail as time, knowledge-base version, input hash and the result without the user's
text."""


def create_app(settings: WebSettings | None = None, *, store: Store | None = None,
               cds: CdsSettings | None = None) -> FastAPI:
    """The app. Opens (and creates) the database now, so a bad ``--db`` fails at start-up; a
    templates folder that cannot be used raises ``TemplateFolderError`` before that."""
    settings = settings or WebSettings()
    if settings.templates is not None:
        settings = settings.model_copy(update={"templates": check_folder(settings.templates)})
    core = Scanwise.default()
    store = store or Store(resolve_database_url(settings.db))
    svc = Services(settings=settings, core=core, store=store)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # The server listens once every worker has built its reader (a few seconds), so no
        # request waits on start-up; the pages render with the fact base, loaded meanwhile.
        starting = threading.Thread(target=svc.workers.start, name="scanwise-workers", daemon=True)
        starting.start()
        core.facts  # noqa: B018
        await anyio.to_thread.run_sync(starting.join)
        yield
        svc.workers.close()
        store.close()

    app = FastAPI(title="scanwise", version=scanwise.__version__, description=DESCRIPTION,
                  docs_url=None, redoc_url=None, openapi_url="/openapi.json", lifespan=lifespan)
    app.state.services = svc
    app.state.templates = pages.page_templates(settings.templates)
    app.add_middleware(RequestContext, max_body_bytes=settings.max_upload_bytes,
                       framing_bytes=_FRAMING_BYTES, hosts=settings.hosts)
    _install_error_handlers(app)

    @app.head("/healthz", include_in_schema=False)
    @app.get("/healthz", response_model=Health, tags=["service"],
             summary="Liveness and readiness: writes and reads a probe row in the database")
    async def healthz() -> Health:
        # Database work runs beside the readers, so a busy pool never reads as a database fault.
        try:
            await svc.workers.io(store.ping)
            database = "ok"
        except ApiError:  # a health check reports the fault instead of failing
            database = "unavailable"
        return Health(status="ok", kb_version=core.kb_version, database=database,  # type: ignore[arg-type]
                      workers=svc.workers.ready)

    app.include_router(api.router)
    # CDS Hooks: its own JWT checks, errors and CORS; its work in the same worker processes
    install_cds(app, core, store, cds, runner=svc.workers)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(HeadAsGet)
    return app


class HeadAsGet:
    """HEAD on a page answers as GET does (status and headers) without the body, as HTTP
    says; the API's routes keep their own methods."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD" or wants_json(scope["path"]):
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if not message.get("more_body", False):
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                return
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headers_only)


def _error_response(request: Request, error: ApiError) -> Response:
    if not wants_json(request.url.path):
        return pages.error_page(request, error)
    return JSONResponse(error.body(request_id(request.scope)), status_code=error.status,
                        headers=error.headers)


def _install_error_handlers(app: FastAPI) -> None:
    async def api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return _error_response(request, exc)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return _error_response(request, from_http_exception(exc))

    async def validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        return _error_response(request, from_validation_error(exc, content_type))

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
