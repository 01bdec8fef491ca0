"""The clinician page: a scenario (typed, or read from uploaded notes and reports) assessed
against the guideline variants, with the audit trail told of each assessment."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from scanwise.domain.assess import Assessment
from scanwise.web.errors import ApiError
from scanwise.web.pages.common import read_submission, render, services
from scanwise.web.services import Inputs
from scanwise.web.views import assessment_view

router = APIRouter(include_in_schema=False)

SEED_SCENARIO = ("58-year-old woman, 1.8 cm grade 2 IDC, no palpable nodes, normal LFTs and ALP, "
                 "clinical stage I. Is PET/CT needed for distant staging?")
EXAMPLE_SCENARIOS = [
    SEED_SCENARIO,
    "61F, cT3N1 ER+/HER2- IDC, no bone pain, staging?",
    "s/p lumpectomy and radiation 3 years ago, new lump at the lumpectomy scar",
]


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
    svc = services(request)
    form = await read_submission(request, _clinician)
    if isinstance(form, HTMLResponse):
        return form
    scenario = form.text("scenario")
    include_retired = form.text("include_retired") == "on"
    keep: dict[str, Any] = {"scenario": scenario, "include_retired": include_retired}
    if not scenario and not form.sources:
        return _clinician(request, 422, problem="Type or paste a scenario, or upload a note or report.",
                          problem_field="scenario", **keep)
    try:
        inputs: Inputs = await svc.workers.run(svc.read_inputs, scenario, form.sources)
        result: Assessment = await svc.workers.run(
            svc.assess_profile, inputs.profile, inputs.indication, include_retired=include_retired)
    except ApiError as exc:
        return _clinician(request, exc.status, problem=exc.message, problem_field=exc.field, **keep)
    await svc.workers.io(svc.audit, result, surface="web.clinician",
                          inputs={"text": scenario, "files": [data for _, data in form.sources],
                                  "include_retired": include_retired})
    return _clinician(request, result=assessment_view(result, svc.kb), reading=inputs.reading,
                      **keep)
