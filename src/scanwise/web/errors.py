"""Errors as the API reports them: ``{"error": {"code", "message", "field"?, "details"?}}``.

Bad input is a 4xx naming the field; a busy or slow server is a 503/504; a fault of ours is a
500 with the request id. No response carries a stack trace or echoes what the user sent.
"""

from __future__ import annotations

from typing import Any

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from starlette.exceptions import HTTPException

MB = 1024 * 1024


def size_text(limit: int) -> str:
    """A byte limit in words people read: "5 MB", "1.5 MB"."""
    return f"{round(limit / MB, 2):g} MB"


class ErrorDetail(BaseModel):
    code: str
    message: str
    field: str | None = None


class ErrorInfo(ErrorDetail):
    details: list[ErrorDetail] | None = None  # every problem, when there are several
    request_id: str | None = None


class ErrorBody(BaseModel):
    """The body of every error response."""

    error: ErrorInfo


class ApiError(Exception):
    """A request the app refuses, with the status, a stable code and a message for people."""

    def __init__(self, status: int, code: str, message: str, *, field: str | None = None,
                 details: list[ErrorDetail] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.details = details
        self.headers = headers

    def __reduce__(self) -> tuple[Any, ...]:
        # Raised in a worker process and re-raised here: pickled with every attribute.
        return (_api_error, (self.status, self.code, self.message, self.field, self.details,
                             self.headers))

    def body(self, request_id: str | None = None) -> dict[str, Any]:
        info = ErrorInfo(code=self.code, message=self.message, field=self.field,
                         details=self.details, request_id=request_id)
        return {"error": info.model_dump(exclude_none=True)}


def _api_error(status: int, code: str, message: str, field: str | None,
               details: list[ErrorDetail] | None, headers: dict[str, str] | None) -> ApiError:
    return ApiError(status, code, message, field=field, details=details, headers=headers)


class BodyTooLarge(HTTPException):
    """The request body passed the upload limit. An HTTPException, so that FastAPI's body
    reader passes it on instead of turning it into a generic 400."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request is larger than the {size_text(limit)} limit. "
                              "Send a smaller file, or fewer files at once.")
        self.limit = limit


_HTTP_CODES = {
    400: "bad_request", 404: "not_found", 405: "method_not_allowed", 406: "not_acceptable",
    413: "payload_too_large", 415: "unsupported_media_type", 429: "too_many_requests",
}


def from_http_exception(exc: HTTPException) -> ApiError:
    if exc.status_code == 400 and exc.detail == "There was an error parsing the body":
        # FastAPI's words for a body that is not UTF-8 or nests too deeply: the same error as
        # any other body that is not JSON, on every endpoint.
        return ApiError(400, "invalid_json", INVALID_JSON)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    if exc.status_code == 404 and message == "Not Found":
        message = "There is nothing at this address. See /docs for the API."
    elif exc.status_code == 405:
        message = "This address does not accept that method. See /docs for the API."
    return ApiError(exc.status_code, code, message, headers=dict(exc.headers or {}) or None)


def _field(loc: tuple[Any, ...] | list[Any]) -> str | None:
    # ("body", "profile", "age") -> "profile.age"; the first element only says where it was.
    parts = [str(p) for p in loc[1:]] if loc and loc[0] in ("body", "query", "path", "header") \
        else [str(p) for p in loc]
    return ".".join(parts) or None


INVALID_JSON = "The request body is not valid JSON (UTF-8, nested at most a few hundred levels)."
_NOT_AN_OBJECT = {"model_attributes_type", "dict_type", "model_type"}
_PYDANTIC_CODES = {"extra_forbidden": "unknown_field", "missing": "missing_field"}


def from_validation_error(exc: RequestValidationError, content_type: str = "") -> ApiError:
    """A 422 naming every bad field; invalid JSON is a 400 of its own, and a body sent as
    something other than JSON (``content_type``, without parameters) a 415."""
    errors = list(exc.errors())
    sent_as_json = content_type in ("", "application/json") or content_type.endswith("+json")
    if not sent_as_json and any(tuple(e.get("loc", ()))[:1] == ("body",) for e in errors):
        return ApiError(415, "unsupported_media_type", f"The request body was sent as {content_type}; "
                        "send it as JSON (Content-Type: application/json).")
    if any(e.get("type") == "json_invalid" for e in errors):
        return ApiError(400, "invalid_json", INVALID_JSON)
    if any(tuple(e.get("loc", ())) == ("body",) and e.get("type") == "missing" for e in errors):
        return ApiError(422, "missing_field", "body: required (a JSON object); the request had none",
                        field="body")
    if any(tuple(e.get("loc", ())) == ("body",) and e.get("type") in _NOT_AN_OBJECT for e in errors):
        return ApiError(422, "invalid_body", "The request body must be a JSON object "
                        "(Content-Type: application/json).")
    details = []
    for e in errors:
        field = _field(e.get("loc", ()))
        code = _PYDANTIC_CODES.get(str(e.get("type")), "invalid_value")
        if code == "unknown_field":
            message = f"{field}: unknown field; it is not part of this request"
        elif code == "missing_field":
            message = f"{field}: required"
        else:
            # A validator's own words, without pydantic's "Value error, " in front.
            ctx = e.get("ctx") or {}
            msg = str(ctx["error"]) if e.get("type") == "value_error" and "error" in ctx else e.get("msg")
            message = f"{field}: {msg}" if field else str(msg)
        details.append(ErrorDetail(code=code, message=message, field=field))
    if not details:
        return ApiError(422, "invalid_value", "The request is not valid.")
    first = details[0]
    message = first.message if len(details) == 1 else \
        f"{first.message} (and {len(details) - 1} more problem{'s' if len(details) > 2 else ''})"
    return ApiError(422, first.code, message, field=first.field,
                    details=details if len(details) > 1 else None)
