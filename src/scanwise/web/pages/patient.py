"""The patient page: a question in plain words, optionally with the patient's own facts
(typed, or read from uploaded records and checked on a form), answered from the knowledge base;
facts can be saved and deleted."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from scanwise.domain.profile import Indication, PatientProfile
from scanwise.web.errors import ApiError
from scanwise.web.facts_form import FormProblem, build_form, read_form
from scanwise.web.pages.common import read_submission, render, services
from scanwise.web.views import answer_view

router = APIRouter(include_in_schema=False)

SEED_QUESTION = ("What is the difference between a CT scan and a PET scan for HER2-positive "
                 "breast cancer?")
EXAMPLE_QUESTIONS = [
    SEED_QUESTION,
    "How much radiation does a bone scan give?",
    "Do I need an MRI before surgery?",
    "How often will I have mammograms after treatment?",
]
_PROFILE_ID = re.compile(r"^[0-9a-f]{32}$")


def _patient(request: Request, status: int = 200, **context: Any) -> HTMLResponse:
    defaults: dict[str, Any] = {"active": "patient", "question": "", "situation": "", "facts": None,
                                "reading": None, "answer": None, "problem": None, "saved": None,
                                "examples": EXAMPLE_QUESTIONS, "follow_ups": []}
    return render(request, "patient.html.j2", status, **{**defaults, **context})


@router.get("/", response_class=HTMLResponse)
async def patient_page(request: Request, profile: str | None = None) -> HTMLResponse:
    svc = services(request)
    if profile is None:
        return _patient(request)
    saved = await svc.workers.io(svc.store.get_profile, profile) \
        if _PROFILE_ID.match(profile) else None
    if saved is None:
        return _patient(request, 404, problem="No saved facts have this id. They may have been "
                                              "deleted; you can describe your situation again.")
    return _patient(request, facts=build_form(saved.profile, saved.indication, svc.kb),
                    saved=saved, loaded=True)


@router.post("/", response_class=HTMLResponse)
async def patient_submit(request: Request) -> HTMLResponse:
    svc = services(request)
    form = await read_submission(request, _patient)
    if isinstance(form, HTMLResponse):
        return form
    action = form.text("action") or "ask"
    question = form.text("question")
    situation = form.text("situation")
    keep: dict[str, Any] = {"question": question, "situation": situation}
    profile: PatientProfile | None = None
    indication: Indication | None = None
    try:
        if "profile_json" in form.fields:  # the facts step: the user has checked the facts
            profile, indication = read_form(form.fields, svc.kb)
        elif situation or form.sources:
            inputs = await svc.workers.run(svc.read_inputs, situation, form.sources)
            return _patient(request, facts=build_form(inputs.profile, inputs.indication, svc.kb),
                            reading=inputs.reading, **keep)
        if action == "save" and profile is not None:
            saved = await svc.workers.io(svc.store.save_profile, profile, kb_version=svc.kb.version,
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
    svc = services(request)
    deleted = _PROFILE_ID.match(profile_id) is not None and \
        await svc.workers.io(svc.store.delete_profile, profile_id)
    if not deleted:
        return _patient(request, 404, problem="No saved facts have this id; nothing was deleted.")
    return _patient(request, deleted=True)
