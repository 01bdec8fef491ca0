"""The JSON API under /api. Each endpoint returns the same models the CLI prints."""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from scanwise.core import Scanwise, UnusableInput
from scanwise.domain.assess import Assessment
from scanwise.records import RecordReading
from scanwise.storage import AuditEntry, SavedProfile
from scanwise.web import services as services_ops
from scanwise.web.errors import ApiError, BodyTooLarge, ErrorBody
from scanwise.web.schemas import (
    AskRequest,
    AskResponse,
    ExtractTextRequest,
    RecommendRequest,
    SaveProfileRequest,
    StageRequest,
    StageResponse,
)
from scanwise.web.services import Services
from scanwise.web.settings import is_loopback

router = APIRouter(prefix="/api")

# Every endpoint may answer with these; listing them puts the error shape in the schema.
_ERR: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": what} for code, what in (
        (400, "Malformed request (invalid JSON)"),
        (413, "Request body over the upload limit"),
        (422, "Invalid input; `field` names it"),
        (500, "Server fault (reported with a request id)"),
        (503, "Server busy; retry later"),
        (504, "The work took too long and was stopped"),
    )
}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorBody, "description": "Not found"}}

ProfileId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="The id given when saved.")]


def services(request: Request) -> Services:
    svc: Services = request.app.state.services
    return svc


Svc = Annotated[Services, Depends(services)]


def _audit_header(response: Response, ok: bool) -> None:
    # The result still goes out when the audit write fails, but never silently.
    response.headers["X-Audit"] = "recorded" if ok else "failed"


@router.post("/recommend", response_model=Assessment, responses=_ERR, tags=["guidance"],
             summary="Match a scenario to guideline variants (same JSON as `scanwise recommend --json`)")
async def recommend(body: RecommendRequest, svc: Svc, response: Response) -> Assessment:
    if body.text is not None:
        result = await svc.workers.run(svc.assess_text, body.text,
                                       include_retired=body.include_retired)
    else:
        assert body.profile is not None  # the request model allows nothing else
        result = await svc.workers.run(svc.assess_profile, body.profile, body.indication,
                                       include_retired=body.include_retired)
    ok = await svc.workers.io(svc.audit, result, surface="api.recommend",
                               inputs=body.model_dump(mode="json"))
    _audit_header(response, ok)
    return result


def _ask(core: Scanwise, body: AskRequest) -> AskResponse:
    ctx = body.context
    if ctx is None:
        given = services_ops.ask(core, body.question)
    elif ctx.text is not None:
        profile, indication = services_ops.read_text(core, ctx.text, "context.text")
        given = services_ops.ask(core, body.question, profile=profile, indication=indication)
    else:
        given = services_ops.ask(core, body.question, profile=ctx.profile, indication=ctx.indication)
    return AskResponse.model_validate({**given.model_dump(), "follow_ups": core.follow_ups(given)})


@router.post("/ask", response_model=AskResponse, responses=_ERR, tags=["guidance"],
             summary="A plain-language, sourced answer (same JSON as `scanwise ask --json`)")
async def ask(body: AskRequest, svc: Svc) -> AskResponse:
    return await svc.workers.run(_ask, body)


def _stage(core: Scanwise, body: StageRequest) -> StageResponse:
    from scanwise.domain.staging import StagingError

    try:
        result = core.stage(body.t, body.n, body.m, grade=body.grade, er=body.er, pr=body.pr,
                            her2=body.her2, oncotype=body.oncotype)
    except UnusableInput as exc:
        cause = exc.__cause__
        # The staging message quotes the value; an API error never echoes what was sent.
        message = f"{cause.field}: {cause.reason}" if isinstance(cause, StagingError) else exc.message
        raise ApiError(422, exc.code, message, field=exc.field) from exc
    return StageResponse.model_validate(result.to_dict())


_EXTRACT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {"schema": {
                "type": "object", "required": ["file"], "additionalProperties": False,
                "properties": {"file": {
                    "type": "array", "items": {"type": "string", "format": "binary"},
                    "description": "One or more records: text, PDF or FHIR JSON."}}}},
            "application/json": {"schema": ExtractTextRequest.model_json_schema()},
        },
    }
}


async def _extract_sources(request: Request, limit: int) -> tuple[list[tuple[str, bytes]], str]:
    """The uploaded files, or the JSON text as one source, and the field they came in;
    refuses anything else by name."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        try:
            body = ExtractTextRequest.model_validate_json(await request.body())
        except ValidationError as exc:
            raise RequestValidationError(
                [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_input=False)]) from exc
        return [("text", body.text.encode("utf-8"))], "text"
    if content_type != "multipart/form-data":
        raise ApiError(415, "unsupported_media_type", "Send the records as multipart/form-data "
                       "(field `file`) or the text as JSON {\"text\": ...}.")
    form = await request.form(max_files=20, max_fields=20)
    unknown = sorted({k for k in form if k != "file"})
    if unknown:
        raise ApiError(422, "unknown_field", f"{unknown[0]}: unknown field; send files as `file`",
                       field=unknown[0])
    sources = []
    for item in form.getlist("file"):
        if not isinstance(item, UploadFile):
            raise ApiError(422, "invalid_value", "file: expected a file upload, got a plain field",
                           field="file")
        data = await item.read()
        if len(data) > limit:
            raise BodyTooLarge(limit)
        sources.append((item.filename or "upload", data))
    if not sources:
        raise ApiError(422, "missing_field", "file: required (one or more files)", field="file")
    return sources, "file"


@router.post("/extract", response_model=RecordReading, tags=["records"],
             responses={**_ERR, 415: {"model": ErrorBody, "description": "Neither multipart nor JSON"}},
             openapi_extra=_EXTRACT_BODY,
             summary="Read records (text, PDF, FHIR JSON) into a profile; every fact with its evidence")
async def extract(request: Request, svc: Svc) -> RecordReading:
    sources, field_name = await _extract_sources(request, svc.settings.max_upload_bytes)
    return await svc.workers.run(svc.read_records, sources, field_name)


@router.post("/stage", response_model=StageResponse, responses=_ERR, tags=["staging"],
             summary="AJCC 8th edition breast stage groups (same JSON as `scanwise stage --json`)")
async def stage_case(body: StageRequest, svc: Svc) -> StageResponse:
    return await svc.workers.run(_stage, body)


@router.get("/kb", responses=_ERR, tags=["knowledge base"],
            summary="What the knowledge base covers (same JSON as `scanwise kb --json`)")
async def kb_coverage(svc: Svc) -> dict[str, Any]:
    return svc.core.coverage()


# --- persistence ----------------------------------------------------------------------------

@router.post("/profiles", response_model=SavedProfile, status_code=201,
             responses=_ERR, tags=["saved profiles"],
             summary="Save a profile (only on request; record text only if included)")
async def save_profile(body: SaveProfileRequest, svc: Svc) -> SavedProfile:
    return await svc.workers.io(svc.store.save_profile, body.profile, kb_version=svc.kb.version,
                                 indication=body.indication, label=body.label,
                                 record_text=body.record_text)


@router.get("/profiles/{profile_id}", response_model=SavedProfile,
            responses={**_ERR, **_NOT_FOUND}, tags=["saved profiles"], summary="A saved profile")
async def get_profile(profile_id: ProfileId, svc: Svc) -> SavedProfile:
    saved = await svc.workers.io(svc.store.get_profile, profile_id)
    if saved is None:
        raise ApiError(404, "not_found", "No saved profile has this id (it may have been deleted).",
                       field="profile_id")
    return saved


@router.delete("/profiles/{profile_id}", status_code=204, response_class=Response,
               responses={**_ERR, **_NOT_FOUND}, tags=["saved profiles"],
               summary="Delete a saved profile")
async def delete_profile(profile_id: ProfileId, svc: Svc) -> Response:
    if not await svc.workers.io(svc.store.delete_profile, profile_id):
        raise ApiError(404, "not_found", "No saved profile has this id (it may have been deleted).",
                       field="profile_id")
    return Response(status_code=204)


def require_admin(request: Request, svc: Svc) -> None:
    """Administrative endpoints: the bearer token from ``--admin-token-file``; without one,
    only a server bound to loopback answers them, and only to callers on this machine."""
    token = svc.settings.admin_token
    given = request.headers.get("authorization", "")
    if token is not None:
        scheme, _, value = given.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
                value.strip().encode(), token.get_secret_value().encode()):
            raise ApiError(401, "unauthorized", "This endpoint needs the administrator's token: "
                           "Authorization: Bearer <token>.", headers={"WWW-Authenticate": "Bearer"})
        return
    client = request.client.host if request.client else None
    if not (is_loopback(svc.settings.bind_host) and is_loopback(client)):
        raise ApiError(403, "admin_disabled", "Administrative endpoints are off: the server has no "
                       "admin token (--admin-token-file) and this call is not from this machine.")


Admin = Annotated[None, Depends(require_admin)]
_ADMIN_ERR: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "Missing or wrong admin token"},
    403: {"model": ErrorBody, "description": "Administrative endpoints are off"},
}
MAX_AUDIT_PAGE = 100


@router.get("/audit", response_model=list[AuditEntry], responses={**_ERR, **_ADMIN_ERR},
            tags=["audit"], summary="The audit trail of assessments, newest first (no user text; "
                                    "admin token)")
async def audit_trail(svc: Svc, _admin: Admin,
                      limit: Annotated[int, Query(ge=1, le=MAX_AUDIT_PAGE)] = 50,
                      offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0) -> list[AuditEntry]:
    return await svc.workers.io(svc.store.audit_entries, limit=limit, offset=offset)
