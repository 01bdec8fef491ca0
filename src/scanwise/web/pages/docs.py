"""The API docs page: a local reference built from the OpenAPI schema (no CDN, works offline)."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from scanwise.web.pages.common import render
from scanwise.web.views import openapi_view

router = APIRouter(include_in_schema=False)


@router.get("/docs", response_class=HTMLResponse)
async def api_docs(request: Request) -> HTMLResponse:
    """A local API reference built from the OpenAPI schema (no CDN, works offline)."""
    schema = request.app.openapi()
    return render(request, "docs.html.j2", active="docs", api=openapi_view(schema),
                  schema_json=json.dumps(schema.get("components", {}), indent=2))
