"""The CPU work of a CDS Hooks call, as a job for the web app's worker processes.

``scanwise serve`` runs :func:`hook_call` in the same worker processes as the JSON API (see
``web/workers.py``): each process has its own application core and text reader, so calls read
in parallel with no lock between them, and a call past the deadline is stopped with its worker.
The web process keeps what must be one for the whole server: the JWT checks and their replay
cache, the store (the audit write, feedback), and the reads from an EHR's FHIR server, which
wait on the network and so never hold a worker.

A job returns a :class:`Reply`, never raises for a request's fault: a malformed request is
its OperationOutcome (status and JSON body), a missing prefetch to be fetched is the
:class:`~scanwise.cds.service.FetchPlan`, and an answer is the response as JSON bytes (encoded
here, beside the reading, not in the web process) with its :class:`CdsCall` for the audit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from scanwise.cds.service import CdsService, FetchNeeded, FetchPlan, HookError
from scanwise.storage import CdsCall

if TYPE_CHECKING:
    from scanwise.core import Scanwise

#: One CDS service per core and mode in each process, built on its first call.
_SERVICES: dict[tuple[int, bool], CdsService] = {}


@dataclass(frozen=True)
class Reply:
    kind: Literal["ok", "error", "fetch"]
    status: int = 200
    body: bytes = b""
    record: CdsCall | None = None
    plan: FetchPlan | None = None


def encode(data: Any) -> bytes:
    """JSON as the web app sends it (UTF-8, compact, no NaN)."""
    return json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")


def service_for(core: Scanwise, unsigned: bool) -> CdsService:
    """This process's CDS service over ``core``: no store and no fetching of its own."""
    key = (id(core), unsigned)
    svc = _SERVICES.get(key)
    if svc is None or svc.core is not core:
        svc = _SERVICES[key] = CdsService(core, None, unsigned=unsigned, fetches=False)
    return svc


def hook_call(core: Scanwise, service_id: str, body: bytes, base_url: str, unsigned: bool,
              fetched: dict[str, Any] | None = None) -> Reply:
    """Answer one hook call (see :meth:`CdsService.answer`)."""
    try:
        response, record = service_for(core, unsigned).answer(service_id, body, base_url, fetched=fetched)
    except FetchNeeded as need:
        return Reply("fetch", plan=need.plan)
    except HookError as exc:
        return Reply("error", exc.status, encode(exc.outcome()))
    return Reply("ok", 200, encode(response), record)

