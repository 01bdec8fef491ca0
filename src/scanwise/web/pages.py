"""Server-rendered pages: the patient page, the clinician page, the articles, the API docs.

Forms post back to the page they are on and work without JavaScript; ``static/app.js`` only
adds conveniences (file-size check before upload, a busy state, example fill-ins, focus).
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, PackageLoader, StrictUndefined
from starlette.datastructures import FormData, UploadFile

from scanwise.domain.assess import Assessment
from scanwise.domain.kb import RRL_BANDS
from scanwise.domain.profile import Indication, PatientProfile
from scanwise.domain.statements import disagreements
from scanwise.web.errors import ApiError, BodyTooLarge
from scanwise.web.facts_form import FormProblem, build_form, lists_from_multidict, read_form
from scanwise.web.services import Inputs, Services
from scanwise.web.views import CATEGORY_CLASS, answer_view, assessment_view, openapi_view

router = APIRouter(include_in_schema=False)
log = logging.getLogger("scanwise.web")

# The web's own templates first; the article templates' shared partials (other guidelines'
# statements, review state) after them, so both surfaces render those the same way.
_env = Environment(loader=ChoiceLoader([PackageLoader("scanwise.web", "templates"),
                                        PackageLoader("scanwise", "templates")]), autoescape=True,
                   undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
_env.globals.update(category_class=CATEGORY_CLASS, rrl_bands=RRL_BANDS, disagreements=disagreements)
templates = Jinja2Templates(env=_env)

SEED_QUESTION = ("What is the difference between a CT scan and a PET scan for HER2-positive "
                 "breast cancer?")
SEED_SCENARIO = ("58-year-old woman, 1.8 cm grade 2 IDC, no palpable nodes, normal LFTs and ALP, "
                 "clinical stage I. Is PET/CT needed for distant staging?")
EXAMPLE_QUESTIONS = [
    SEED_QUESTION,
    "How much radiation does a bone scan give?",
    "Do I need an MRI before surgery?",
    "How often will I have mammograms after treatment?",
]
EXAMPLE_SCENARIOS = [
    SEED_SCENARIO,
    "61F, cT3N1 ER+/HER2- IDC, no bone pain, staging?",
    "s/p lumpectomy and radiation 3 years ago, new lump at the lumpectomy scar",
]
_PROFILE_ID = re.compile(r"^[0-9a-f]{32}$")
_ACCEPT = ".txt,.pdf,.json,text/plain,application/pdf,application/json,application/fhir+json"


def _svc(request: Request) -> Services:
    svc: Services = request.app.state.services
    return svc


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    svc = _svc(request)
    base = {"kb_version": svc.kb.version, "upload_limit": svc.settings.upload_limit_text,
            "max_upload_bytes": svc.settings.max_upload_bytes, "accept": _ACCEPT, "active": ""}
    return templates.TemplateResponse(request, name, {**base, **context}, status_code=status)


def error_page(request: Request, error: ApiError) -> HTMLResponse:
    return render(request, "error.html.j2", error.status, error=error,
                  title="Page not found" if error.status == 404 else "This did not work")


# --- form reading ---------------------------------------------------------------------------

class _Submitted:
    """A submitted page form: its fields, the ticked list items and the uploaded files."""

    def __init__(self, form: FormData) -> None:
        self.fields: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
        self.fields["__lists__"] = lists_from_multidict(list(form.multi_items()))
        self.files = [f for _, f in form.multi_items() if isinstance(f, UploadFile) and f.filename]

    def text(self, name: str) -> str:
        return str(self.fields.get(name, "")).strip()

    async def sources(self, limit: int) -> list[tuple[str, bytes]]:
        out = []
        for upload in self.files:
            data = await upload.read()
            if len(data) > limit:
                raise BodyTooLarge(limit)
            if data:
                out.append((upload.filename or "upload", data))
        return out


async def _submitted(request: Request) -> _Submitted:
    form = await request.form(max_files=10, max_fields=500)
    return _Submitted(form)


# --- patient page -----------------------------------------------------------------------------

def _patient(request: Request, status: int = 200, **context: Any) -> HTMLResponse:
    defaults: dict[str, Any] = {"active": "patient", "question": "", "situation": "", "facts": None,
                                "reading": None, "answer": None, "problem": None, "saved": None,
                                "examples": EXAMPLE_QUESTIONS, "follow_ups": []}
    return render(request, "patient.html.j2", status, **{**defaults, **context})


@router.get("/", response_class=HTMLResponse)
async def patient_page(request: Request, profile: str | None = None) -> HTMLResponse:
    svc = _svc(request)
    if profile is None:
        return _patient(request)
    saved = await svc.workers.run(svc.store.get_profile, profile) \
        if _PROFILE_ID.match(profile) else None
    if saved is None:
        return _patient(request, 404, problem="No saved facts have this id. They may have been "
                                              "deleted; you can describe your situation again.")
    return _patient(request, facts=build_form(saved.profile, saved.indication, svc.kb),
                    saved=saved, loaded=True)


@router.post("/", response_class=HTMLResponse)
async def patient_submit(request: Request) -> HTMLResponse:
    svc = _svc(request)
    try:
        form = await _submitted(request)
        sources = await form.sources(svc.settings.max_upload_bytes)
    except BodyTooLarge as exc:
        return _patient(request, 413, problem=exc.detail)
    action = form.text("action") or "ask"
    question = form.text("question")
    situation = form.text("situation")
    keep: dict[str, Any] = {"question": question, "situation": situation}
    profile: PatientProfile | None = None
    indication: Indication | None = None
    try:
        if "profile_json" in form.fields:  # the facts step: the user has checked the facts
            profile, indication = read_form(form.fields, svc.kb)
        elif situation or sources:
            inputs = await svc.workers.run(svc.read_inputs, situation, sources)
            return _patient(request, facts=build_form(inputs.profile, inputs.indication, svc.kb),
                            reading=inputs.reading, **keep)
        if action == "save" and profile is not None:
            saved = await svc.workers.run(svc.store.save_profile, profile, kb_version=svc.kb.version,
                                          indication=indication)
            return _patient(request, 201, facts=build_form(profile, indication, svc.kb),
                            saved=saved, **keep)
        if not question:
            raise ApiError(422, "missing_field", "Type a question first.", field="question")
        answer = await svc.workers.run(svc.ask, question, profile=profile, indication=indication)
        follow_ups = await svc.workers.run(svc.follow_ups, answer)
    except FormProblem as exc:
        return _patient(request, 422, facts=build_form(exc.profile, exc.indication, svc.kb,
                                                       errors=exc.errors),
                        problem="Some facts need fixing: " + str(exc), **keep)
    except ApiError as exc:
        facts = build_form(profile, indication, svc.kb) if profile is not None else None
        return _patient(request, exc.status, problem=exc.message, problem_field=exc.field,
                        facts=facts, **keep)
    facts = build_form(profile, indication, svc.kb) if profile is not None else None
    return _patient(request, answer=answer_view(answer, svc.facts), follow_ups=follow_ups,
                    facts=facts, **keep)


@router.post("/saved/{profile_id}/delete", response_class=HTMLResponse)
async def delete_saved(request: Request, profile_id: str) -> HTMLResponse:
    svc = _svc(request)
    deleted = _PROFILE_ID.match(profile_id) is not None and \
        await svc.workers.run(svc.store.delete_profile, profile_id)
    if not deleted:
        return _patient(request, 404, problem="No saved facts have this id; nothing was deleted.")
    return _patient(request, deleted=True)


# --- clinician page ---------------------------------------------------------------------------

def _clinician(request: Request, status: int = 200, **context: Any) -> HTMLResponse:
    defaults: dict[str, Any] = {"active": "clinician", "scenario": "", "result": None,
                                "reading": None, "problem": None, "include_retired": False,
                                "examples": EXAMPLE_SCENARIOS}
    return render(request, "clinician.html.j2", status, **{**defaults, **context})


@router.get("/clinician", response_class=HTMLResponse)
async def clinician_page(request: Request) -> HTMLResponse:
    return _clinician(request)


@router.post("/clinician", response_class=HTMLResponse)
async def clinician_submit(request: Request) -> HTMLResponse:
    svc = _svc(request)
    try:
        form = await _submitted(request)
        sources = await form.sources(svc.settings.max_upload_bytes)
    except BodyTooLarge as exc:
        return _clinician(request, 413, problem=exc.detail)
    scenario = form.text("scenario")
    include_retired = form.text("include_retired") == "on"
    keep: dict[str, Any] = {"scenario": scenario, "include_retired": include_retired}
    if not scenario and not sources:
        return _clinician(request, 422, problem="Type or paste a scenario, or upload a note or report.",
                          problem_field="scenario", **keep)
    try:
        inputs: Inputs = await svc.workers.run(svc.read_inputs, scenario, sources)
        result: Assessment = await svc.workers.run(
            svc.assess_profile, inputs.profile, inputs.indication, include_retired=include_retired)
    except ApiError as exc:
        return _clinician(request, exc.status, problem=exc.message, problem_field=exc.field, **keep)
    await svc.workers.run(svc.audit, result, surface="web.clinician",
                          inputs={"text": scenario, "files": [data for _, data in sources],
                                  "include_retired": include_retired})
    return _clinician(request, result=assessment_view(result, svc.kb), reading=inputs.reading,
                      **keep)


# --- articles ---------------------------------------------------------------------------------

_SITE_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
               ".json": "application/json", ".html": "text/html; charset=utf-8"}
_ARTICLE_FILE = re.compile(r"^articles/acr-(\d+)-v(\d+)\.html$")


@router.get("/articles")
async def articles_root() -> RedirectResponse:
    # The index's links are relative to the folder, so it lives at /articles/.
    return RedirectResponse("/articles/", status_code=308)


@router.get("/articles/{topic_id:int}/{variant:int}", response_class=HTMLResponse)
async def article_page(request: Request, topic_id: int, variant: int) -> HTMLResponse:
    from scanwise.domain.articles import render_html

    svc = _svc(request)
    article = await svc.workers.run(svc.article, topic_id, variant)
    return HTMLResponse(render_html(article, root="/articles/"))


@router.get("/articles/{path:path}")
async def article_site(request: Request, path: str) -> Response:
    """The article index, its search files and styles, as ``scanwise articles build`` writes them."""
    svc = _svc(request)
    found = _ARTICLE_FILE.match(path)
    if found:  # the index links to the static file names; one address per article
        return RedirectResponse(f"/articles/{found[1]}/{found[2]}", status_code=308)
    site = await svc.workers.run(lambda: svc.article_site)
    name = path or "index.html"
    if name not in site:
        raise ApiError(404, "not_found", "There is no such article page. See the list of articles.")
    suffix = name[name.rfind("."):]
    return Response(site[name], media_type=_SITE_TYPES.get(suffix, "text/plain; charset=utf-8"))


@router.get("/favicon.ico")
async def favicon() -> RedirectResponse:
    # Browsers ask for it on every site, the article pages included.
    return RedirectResponse("/static/favicon.svg", status_code=308)


# --- API docs ---------------------------------------------------------------------------------

@router.get("/docs", response_class=HTMLResponse)
async def api_docs(request: Request) -> HTMLResponse:
    """A local API reference built from the OpenAPI schema (no CDN, works offline)."""
    schema = request.app.openapi()
    return render(request, "docs.html.j2", active="docs", api=openapi_view(schema),
                  schema_json=json.dumps(schema.get("components", {}), indent=2))
