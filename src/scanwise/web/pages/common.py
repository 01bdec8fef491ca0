"""What every page shares: rendering through the one template root, the error page and the
reading of a submitted form (fields, ticked list items, uploads)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, StrictUndefined
from starlette.datastructures import FormData, UploadFile

from scanwise.domain.kb import RRL_BANDS
from scanwise.domain.statements import disagreements
from scanwise.templating import loader
from scanwise.web.errors import ApiError, BodyTooLarge
from scanwise.web.facts_form import lists_from_multidict
from scanwise.web.services import Services
from scanwise.web.views import CATEGORY_CLASS

ACCEPT = ".txt,.pdf,.json,text/plain,application/pdf,application/json,application/fhir+json"


def page_templates(override: Path | None = None) -> Jinja2Templates:
    """The pages' templates: an operator's folder first (if given), then the bundled ones,
    which the article pages share (other guidelines' statements, review state)."""
    env = Environment(loader=loader(override), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.globals.update(category_class=CATEGORY_CLASS, rrl_bands=RRL_BANDS,
                       disagreements=disagreements)
    return Jinja2Templates(env=env)


def services(request: Request) -> Services:
    svc: Services = request.app.state.services
    return svc


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    svc = services(request)
    templates: Jinja2Templates = request.app.state.templates
    base = {"kb_version": svc.kb.version, "upload_limit": svc.settings.upload_limit_text,
            "max_upload_bytes": svc.settings.max_upload_bytes, "accept": ACCEPT, "active": ""}
    return templates.TemplateResponse(request, name, {**base, **context}, status_code=status)


def error_page(request: Request, error: ApiError) -> HTMLResponse:
    return render(request, "error.html.j2", error.status, error=error,
                  title="Page not found" if error.status == 404 else "This did not work")


class Submitted:
    """A submitted page form: its fields, the ticked list items and the uploaded files (read
    into ``sources`` as (name, bytes) by :func:`read_submission`)."""

    def __init__(self, form: FormData) -> None:
        self.fields: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
        self.fields["__lists__"] = lists_from_multidict(list(form.multi_items()))
        self.files = [f for _, f in form.multi_items() if isinstance(f, UploadFile) and f.filename]
        self.sources: list[tuple[str, bytes]] = []

    def text(self, name: str) -> str:
        return str(self.fields.get(name, "")).strip()

    async def read_files(self, limit: int) -> list[tuple[str, bytes]]:
        out = []
        for upload in self.files:
            data = await upload.read()
            if len(data) > limit:
                raise BodyTooLarge(limit)
            if data:
                out.append((upload.filename or "upload", data))
        return out


#: A page's renderer: ``page(request, status, **context)``, as each audience module has one.
Page = Callable[..., HTMLResponse]


async def read_submission(request: Request, page: Page) -> Submitted | HTMLResponse:
    """The submitted form with its uploads read (each within the upload limit); or, when the
    body or an upload is over the limit, ``page`` answering 413 with the limit in words."""
    svc = services(request)
    try:
        form = Submitted(await request.form(max_files=10, max_fields=500))
        form.sources = await form.read_files(svc.settings.max_upload_bytes)
    except BodyTooLarge as exc:
        return page(request, 413, problem=exc.detail)
    return form
