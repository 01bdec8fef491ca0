"""Server-rendered pages, one module per audience: ``patient``, ``clinician``, ``articles``
(clinician articles and their site), ``docs`` (the API reference); ``common`` renders and reads
forms for all of them. Each route parses its input, calls the core through
``web/services.py`` and renders a template from the one template root.

Forms post back to the page they are on and work without JavaScript; ``static/app.js`` only
adds conveniences (file-size check before upload, a busy state, example fill-ins, focus).
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import RedirectResponse

from scanwise.web.pages import articles, clinician, docs, patient
from scanwise.web.pages.common import error_page, page_templates

__all__ = ["error_page", "page_templates", "router"]

router = APIRouter(include_in_schema=False)
for module in (patient, clinician, articles):
    router.include_router(module.router)


@router.get("/favicon.ico")
async def favicon() -> RedirectResponse:
    # Browsers ask for it on every site, the article pages included.
    return RedirectResponse("/static/favicon.svg", status_code=308)


router.include_router(docs.router)
