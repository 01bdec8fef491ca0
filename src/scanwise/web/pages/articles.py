"""The clinician articles: one page per guideline variant and the article site (index,
search files, styles) as ``scanwise articles build`` writes it, through the same templates."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from scanwise.web.errors import ApiError
from scanwise.web.pages.common import services

router = APIRouter(include_in_schema=False)

_SITE_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
               ".json": "application/json", ".html": "text/html; charset=utf-8"}
_ARTICLE_FILE = re.compile(r"^articles/acr-(\d+)-v(\d+)\.html$")


@router.get("/articles")
async def articles_root() -> RedirectResponse:
    # The index's links are relative to the folder, so it lives at /articles/.
    return RedirectResponse("/articles/", status_code=308)


@router.get("/articles/{topic_id:int}/{variant:int}", response_class=HTMLResponse)
async def article_page(request: Request, topic_id: int, variant: int) -> HTMLResponse:
    from scanwise.render.articles import render_html

    svc = services(request)
    article = await svc.workers.run(svc.article, topic_id, variant)
    return HTMLResponse(render_html(article, root="/articles/", templates=svc.settings.templates))


@router.get("/articles/{path:path}")
async def article_site(request: Request, path: str) -> Response:
    """The article index, its search files and styles, as ``scanwise articles build`` writes them."""
    svc = services(request)
    found = _ARTICLE_FILE.match(path)
    if found:  # the index links to the static file names; one address per article
        return RedirectResponse(f"/articles/{found[1]}/{found[2]}", status_code=308)
    name = path or "index.html"
    # one file back, not the whole site
    content = await svc.workers.run(svc.article_file, name, svc.settings.templates)
    if content is None:
        raise ApiError(404, "not_found", "There is no such article page. See the list of articles.")
    suffix = name[name.rfind("."):]
    return Response(content, media_type=_SITE_TYPES.get(suffix, "text/plain; charset=utf-8"))
