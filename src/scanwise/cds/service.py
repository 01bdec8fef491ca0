"""The CDS Hooks 2.0 services: rate draft imaging orders while they are written or signed.

Two services share one engine: ``imaging-order-select`` (hook ``order-select``: the orders in
``context.selections``) and ``imaging-order-sign`` (hook ``order-sign``: every draft order).
For each imaging ``ServiceRequest`` the service

1. maps the order's code (CPT, LOINC, SNOMED CT) to knowledge-base procedures through
   ``knowledge/orders/procedure-codes.yaml``;
2. reads the patient from the prefetch (or the EHR's FHIR server) with the FHIR record reader,
   and the question from the order's reason: coded reasons through
   ``knowledge/cds/breast-reason-codes.yaml``, other reasons and notes as free text;
3. assesses through the application core and answers with one card per order:
   a rating (``warning`` when Usually Not Appropriate) with the scenario, why it fits, and
   the Usually Appropriate alternatives as suggestions; or, when a deciding fact is unknown,
   what decides it and what each answer would mean (no rating); or another guideline's
   statement where the ACR data has no ratings (never shown as an ACR rating);
4. puts the Argonaut PAMA rating on the order with a ``systemActions`` update, only when a
   rating was made or no breast-imaging criteria apply.

Errors in the request are :class:`HookError` (4xx with an OperationOutcome). Patient words
are never logged or stored; the audit keeps what the web audit keeps.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import ValidationError

from scanwise.cds.fhir_fetch import FetchFailed, fetch
from scanwise.cds.vocab import Vocab
from scanwise.core import NotFound, Scanwise, UnusableInput
from scanwise.domain.assess import Assessment, Match, RatedProcedure, StatementRef
from scanwise.domain.kb import OrderCode
from scanwise.domain.profile import Indication, PatientProfile
from scanwise.storage.store import CdsCall, Store, input_hash, redact

if TYPE_CHECKING:
    from scanwise.records import RecordReading

log = logging.getLogger("scanwise.cds")

SPEC_VERSION = "2.0.1"
ARGONAUT = "http://fhir.org/argonaut"
PAMA_RATING = f"{ARGONAUT}/Extension/pama-rating"
PAMA_QCDSM = f"{ARGONAUT}/Extension/pama-rating-qcdsm-consulted"
PAMA_CONSULT = f"{ARGONAUT}/Extension/pama-rating-consult-id"
PAMA_AUC = f"{ARGONAUT}/Extension/pama-rating-auc-applied"
PAMA_SYSTEM = f"{ARGONAUT}/CodeSystem/pama-rating"
#: Rating codes as they may arrive on an order; an older draft called one "no-guidelines-apply".
RATING_CODES = {
    "appropriate": "appropriate",
    "not-appropriate": "not-appropriate",
    "no-criteria-apply": "no-criteria-apply",
    "no-guidelines-apply": "no-criteria-apply",
}
#: What this service names itself in pama-rating-qcdsm-consulted (it holds no CMS G-code).
QCDSM = "scanwise"
UNSIGNED_LABEL = "[UNSIGNED DEV MODE: caller not authenticated] "
SYSTEM_NAMES = {
    "http://www.ama-assn.org/go/cpt": "CPT",
    "http://loinc.org": "LOINC",
    "http://snomed.info/sct": "SNOMED CT",
}
NOT_MEDICAL_ADVICE = (
    "Guideline information to support the ordering clinician's judgement; not a substitute for it."
)

#: Reader results kept in memory for repeated orders (see CdsService._read).
READ_CACHE_SIZE = 512
#: Draft-order Bundles known valid, by content digest (see _validate_bundle).
VALID_BUNDLES_SIZE = 1024

Rating = Literal["appropriate", "not-appropriate", "no-criteria-apply"]


@dataclass(frozen=True)
class ServiceDef:
    id: str
    hook: Literal["order-select", "order-sign"]
    title: str
    description: str


SERVICES: dict[str, ServiceDef] = {
    s.id: s
    for s in (
        ServiceDef(
            "imaging-order-select",
            "order-select",
            "scanwise imaging order check (order selected)",
            "Rates a breast-cancer imaging order against the ACR Appropriateness Criteria as soon "
            "as it is selected, using the patient's conditions, tumour markers, stage and "
            "surgery history and the order's reason; offers the studies the guideline rates "
            "Usually Appropriate instead, and records the rating on the order (Argonaut PAMA).",
        ),
        ServiceDef(
            "imaging-order-sign",
            "order-sign",
            "scanwise imaging order check (order signed)",
            "The same check when the orders are signed: every draft imaging order is rated, "
            "with alternatives, and the rating is recorded on the order (Argonaut PAMA).",
        ),
    )
}


def prefetch_templates() -> dict[str, str]:
    """The FHIR queries each service asks for: only ``{{context.patientId}}`` is needed."""
    codes = ",".join(f"{system}|{code}" for system, code in Scanwise.fhir_observation_codes())
    return {
        "patient": "Patient/{{context.patientId}}",
        "conditions": "Condition?patient={{context.patientId}}",
        "observations": f"Observation?patient={{{{context.patientId}}}}&code={codes}",
        "procedures": "Procedure?patient={{context.patientId}}",
    }


class HookError(Exception):
    """A request that cannot be served: the status and an OperationOutcome naming the problem."""

    def __init__(
        self, status: int, message: str, *, code: str = "invalid", expression: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.expression = expression

    def outcome(self) -> dict[str, Any]:
        return operation_outcome(self.message, self.code, self.expression)


def operation_outcome(message: str, code: str = "invalid", expression: str | None = None) -> dict[str, Any]:
    issue: dict[str, Any] = {"severity": "error", "code": code, "details": {"text": message}}
    if expression:
        issue["expression"] = [expression]
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def clean(value: Any) -> Any:
    """The value without null, empty strings, empty lists or empty objects, at any depth
    (a blank string is null). One pass: each value is cleaned, then kept or left out."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            v = clean(v)
            if not _empty(v):
                out[k] = v
        return out
    if isinstance(value, list):
        return [c for c in map(clean, value) if not _empty(c)]
    if isinstance(value, str):
        return value if value.strip() else None
    return value


def _empty(cleaned: Any) -> bool:
    # A cleaned value is never a blank string (that became None): empty is None, [] or {}.
    return cleaned is None or (isinstance(cleaned, list | dict) and not cleaned)


def clip(text: str, limit: int = 139) -> str:
    """At most ``limit`` characters, cut at a word with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:")
    return cut + "…"


def new_uuid() -> str:
    return str(uuid.uuid4())


# --- the request ------------------------------------------------------------------------------


@dataclass
class Order:
    """One draft ServiceRequest to rate."""

    resource: dict[str, Any]
    code: OrderCode | None
    codings: list[dict[str, Any]]

    @property
    def ref(self) -> str:
        return f"ServiceRequest/{self.resource.get('id')}" if self.resource.get("id") else "ServiceRequest"

    @property
    def display(self) -> str:
        text = (self.resource.get("code") or {}).get("text")
        if self.code is not None:
            return self.code.display
        if text:
            return str(text)
        first = self.codings[0] if self.codings else {}
        return str(first.get("display") or first.get("code") or "this order")

    @property
    def code_label(self) -> str:
        if self.code is None:
            return ""
        return f"{SYSTEM_NAMES.get(self.code.system, self.code.system)} {self.code.code}"


def _obj(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise HookError(400, f"{where} must be a JSON object", expression=where)
    return value


def _str(data: dict[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise HookError(
            400, f"{where}.{key} is required and must be a non-empty string", expression=f"{where}.{key}"
        )
    return value


def parse_request(body: bytes, service: ServiceDef) -> dict[str, Any]:
    """The request as JSON, checked against CDS Hooks 2.0 and the hook's context rules."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise HookError(400, f"the request body is not JSON: {exc}", code="structure") from exc
    req = _obj(data, "request")
    hook = _str(req, "hook", "request")
    if hook != service.hook:
        raise HookError(
            400,
            f"request.hook is {hook!r}, but service {service.id} answers the {service.hook!r} hook",
            expression="request.hook",
        )
    _str(req, "hookInstance", "request")
    ctx = _obj(req.get("context"), "context")
    _str(ctx, "patientId", "context")
    _str(ctx, "userId", "context")
    if "encounterId" in ctx and not isinstance(ctx["encounterId"], str):
        raise HookError(400, "context.encounterId must be a string", expression="context.encounterId")
    orders = _obj(ctx.get("draftOrders"), "context.draftOrders")
    if orders.get("resourceType") != "Bundle":
        raise HookError(400, "context.draftOrders must be a FHIR Bundle", expression="context.draftOrders")
    _validate_bundle(orders)
    if service.hook == "order-select":
        sel = ctx.get("selections")
        if not isinstance(sel, list) or not sel or not all(isinstance(s, str) and s for s in sel):
            raise HookError(
                400,
                "context.selections is required for order-select: a non-empty list "
                'of references such as "ServiceRequest/123"',
                expression="context.selections",
            )
    if "fhirAuthorization" in req:
        auth = _obj(req["fhirAuthorization"], "fhirAuthorization")
        _str(auth, "access_token", "fhirAuthorization")
        if "fhirServer" not in req:
            raise HookError(
                400, "fhirServer is required when fhirAuthorization is given", expression="request.fhirServer"
            )
    if "fhirServer" in req:
        _str(req, "fhirServer", "request")
    if "prefetch" in req and not isinstance(req["prefetch"], dict):
        raise HookError(400, "prefetch must be a JSON object", expression="request.prefetch")
    return req


_valid_bundles: OrderedDict[bytes, None] = OrderedDict()
_valid_bundles_lock = threading.Lock()


def _digest(value: Any) -> bytes:
    return hashlib.sha256(json.dumps(value, sort_keys=True, separators=(",", ":")).encode()).digest()


def _validate_bundle(bundle: dict[str, Any]) -> None:
    """Check the Bundle against the FHIR R4B models, once per content: the same draft orders
    come back (selected, then signed), and a Bundle found valid stays valid."""
    try:
        key = _digest(bundle)
    except (TypeError, ValueError, RecursionError):
        key = b""  # not plain JSON data: validated below, never remembered
    with _valid_bundles_lock:
        if key and key in _valid_bundles:
            _valid_bundles.move_to_end(key)
            return
    _check_bundle(bundle)
    if key:
        with _valid_bundles_lock:
            _valid_bundles[key] = None
            while len(_valid_bundles) > VALID_BUNDLES_SIZE:
                _valid_bundles.popitem(last=False)


def _check_bundle(bundle: dict[str, Any]) -> None:
    from fhir.resources.R4B.bundle import Bundle

    try:
        Bundle.model_validate(bundle)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"] if x != "Bundle")
        raise HookError(
            400,
            f"context.draftOrders is not a valid FHIR R4 Bundle: {where}: {first['msg']}",
            code="structure",
            expression="context.draftOrders",
        ) from exc
    except (TypeError, ValueError, RecursionError) as exc:
        raise HookError(
            400,
            f"context.draftOrders is not a valid FHIR R4 Bundle: {exc}",
            code="structure",
            expression="context.draftOrders",
        ) from exc


# --- what a call needs from elsewhere, and what it leaves for the audit ------------------------------


@dataclass(frozen=True)
class FetchPlan:
    """The prefetch keys a call lacks and where to read them: the EHR's FHIR server."""

    server: str
    access_token: str
    queries: dict[str, str]
    context: dict[str, Any]


class FetchNeeded(Exception):  # noqa: N818 (a request for work, not an error)
    """Raised by :meth:`CdsService.answer` when the service may not fetch itself (a worker
    process): the caller fetches ``plan`` and calls again with what it got."""

    def __init__(self, plan: FetchPlan) -> None:
        super().__init__("prefetch to be fetched")
        self.plan = plan


# --- the outcome of one order -------------------------------------------------------------------


@dataclass
class Outcome:
    order: Order
    rating: Rating | None = None
    card: dict[str, Any] | None = None
    auc_url: str | None = None
    category: str | None = None
    topic_variant: tuple[int, int] | None = None
    audit: dict[str, Any] | None = None
    kind: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


class CdsService:
    """Both services over one application core and one store.

    :meth:`answer` is the CPU work of a call (it reads and writes nothing but the EHR's FHIR
    server, and that only with ``fetches=True``); :meth:`record` writes its audit and
    :meth:`call` does both. ``scanwise serve`` runs ``answer`` in its worker processes
    (``cds.work``) with ``store=None`` and ``fetches=False``, and the fetch and the audit
    write in the web process.
    """

    def __init__(
        self,
        core: Scanwise,
        store: Store | None,
        *,
        unsigned: bool = False,
        fetch_timeout_s: float = 2.5,
        fetches: bool = True,
    ) -> None:
        self.core = core
        self.store = store
        self.fetches = fetches
        self.codes = frozenset(term.code for term in core.kb.vocabulary)
        self.unsigned = unsigned
        self.fetch_timeout_s = fetch_timeout_s
        self.vocab = Vocab(core.kb)
        self.templates = prefetch_templates()
        self._readings: OrderedDict[tuple[str, str], tuple[PatientProfile, Indication]] = OrderedDict()
        self._readings_lock = threading.Lock()
        # The same patient's prefetch comes back (the order selected, then signed): its record
        # reading is remembered beside the text readings, by the prefetch's exact bytes.
        self._records: OrderedDict[bytes, RecordReading] = OrderedDict()
        self._by_procedure: dict[str, OrderCode] = {}
        for oc in core.kb.order_codes:
            for name in oc.procedures[:1]:
                self._by_procedure.setdefault(name, oc)

    # --- discovery ------------------------------------------------------------------------

    def discovery(self) -> dict[str, Any]:
        return {
            "services": [
                {
                    "hook": s.hook,
                    "id": s.id,
                    "title": s.title,
                    "description": s.description,
                    "prefetch": self.templates,
                    "version": SPEC_VERSION,
                    "usageRequirements": "Call with a signed JWT (ES384 or RS384) from an issuer on this "
                    "server's trust list. Breast-cancer imaging only.",
                }
                for s in SERVICES.values()
            ]
        }

    def service(self, service_id: str) -> ServiceDef:
        found = SERVICES.get(service_id)
        if found is None:
            raise HookError(
                404, f"there is no CDS service {service_id!r}; see GET /cds-services", code="not-found"
            )
        return found

    # --- a hook call ----------------------------------------------------------------------

    def call(self, service_id: str, body: bytes, base_url: str) -> dict[str, Any]:
        """A hook call answered and audited, in this process."""
        response, record = self.answer(service_id, body, base_url)
        self.record(record)
        return response

    def answer(
        self, service_id: str, body: bytes, base_url: str, *, fetched: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], CdsCall]:
        """The response to a hook call and what its audit keeps. ``fetched``: the resources
        read from the EHR's FHIR server for a :class:`FetchNeeded` raised before."""
        service = self.service(service_id)
        req = parse_request(body, service)
        ctx = req["context"]
        orders = self._orders(ctx, service)
        reading = self._patient(req, ctx, fetched) if orders else None
        consult_id = new_uuid()
        outcomes = [self._rate(o, reading, service, base_url) for o in orders]
        for o in outcomes:
            earlier = existing_rating(o.order.resource)
            if o.card is not None and o.rating is not None and earlier and earlier != o.rating:
                o.card["detail"] += (
                    f"\n\nThe order carried an earlier rating ({earlier}); scanwise's rating replaces it."
                )
        unmapped = [o.order for o in outcomes if o.kind == "unmapped"]
        cards = [o.card for o in outcomes if o.card is not None and o.kind != "unmapped"]
        if unmapped:
            cards.append(self._unmapped_card(unmapped))
        actions = [self._rating_action(o, consult_id) for o in outcomes if o.rating is not None]
        record = self._call_record(consult_id, service, req, outcomes, cards)
        response: dict[str, Any] = {"cards": [clean(c) for c in cards]}
        if actions:
            response["systemActions"] = [clean(a) for a in actions]
            # The same actions again for Argonaut-draft clients: the response is only encoded,
            # never changed, so the list is shared rather than copied.
            response["extension"] = {"systemActions": list(response["systemActions"])}
        return response, record

    def _orders(self, ctx: dict[str, Any], service: ServiceDef) -> list[Order]:
        entries = ctx["draftOrders"].get("entry") or []
        requests = [
            e["resource"]
            for e in entries
            if isinstance(e, dict)
            and isinstance(e.get("resource"), dict)
            and e["resource"].get("resourceType") == "ServiceRequest"
        ]
        if service.hook == "order-select":
            chosen = set(ctx["selections"])
            known = {f"ServiceRequest/{r.get('id')}" for r in requests}
            unknown = [s for s in chosen if s.startswith("ServiceRequest/") and s not in known]
            if unknown:
                raise HookError(
                    400,
                    f"context.selections names {unknown[0]}, which is not in context.draftOrders",
                    expression="context.selections",
                )
            requests = [r for r in requests if f"ServiceRequest/{r.get('id')}" in chosen]
        out = []
        for r in requests:
            codings = [c for c in ((r.get("code") or {}).get("coding") or []) if isinstance(c, dict)]
            mapped = next(
                (
                    oc
                    for c in codings
                    if (oc := self.core.kb.order_code(str(c.get("system") or ""), str(c.get("code") or "")))
                    is not None
                ),
                None,
            )
            out.append(Order(r, mapped, codings))
        return out

    # --- the patient ----------------------------------------------------------------------

    def _patient(
        self, req: dict[str, Any], ctx: dict[str, Any], fetched: dict[str, Any] | None = None
    ) -> RecordReading | None:
        given = req.get("prefetch") or {}
        missing = [k for k in self.templates if k not in given]
        data = {k: v for k, v in given.items() if k in self.templates}
        if missing:
            server, auth = req.get("fhirServer"), req.get("fhirAuthorization")
            if not (server and auth):
                raise HookError(
                    412,
                    "prefetch " + ", ".join(missing) + " missing and no fhirServer "
                    "with fhirAuthorization to fetch it from",
                    code="processing",
                    expression="request.prefetch",
                )
            if fetched is None:
                plan = FetchPlan(server, auth["access_token"], {k: self.templates[k] for k in missing},
                                 {k: v for k, v in ctx.items() if isinstance(v, str)})
                if not self.fetches:
                    raise FetchNeeded(plan)
                fetched = self.fetch(plan)
            data.update({k: v for k, v in fetched.items() if k in missing})
        items = []
        for key, value in data.items():
            if value is None:
                continue  # the client found nothing for this query
            if not isinstance(value, dict) or "resourceType" not in value:
                raise HookError(
                    400,
                    f"prefetch.{key} must be a FHIR resource or Bundle",
                    expression=f"request.prefetch.{key}",
                )
            if value["resourceType"] == "OperationOutcome":
                continue  # the client could not run this query; its facts stay unknown
            items.append(value)
        if not any(_has_resources(i) for i in items):
            return None
        raw = json.dumps(items).encode()
        key = hashlib.sha256(raw).digest()
        with self._readings_lock:
            hit = self._records.get(key)
            if hit is not None:
                self._records.move_to_end(key)
                return hit.model_copy(deep=True)
        try:
            reading = self.core.read_records([("prefetch.json", raw)], field="prefetch")
        except UnusableInput as exc:
            raise HookError(400, f"prefetch: {exc.message}", expression="request.prefetch") from exc
        with self._readings_lock:
            self._records[key] = reading
            while len(self._records) > READ_CACHE_SIZE:
                self._records.popitem(last=False)
        return reading  # a new reading, read only from here on (a later hit gets a copy)

    def fetch(self, plan: FetchPlan) -> dict[str, Any]:
        """What the prefetch lacks, read from the EHR's FHIR server within the deadline; a
        server that fails is a 412 naming the query."""
        try:
            return fetch(plan.server, plan.access_token, plan.queries, plan.context,
                         deadline_s=self.fetch_timeout_s)
        except FetchFailed as exc:
            raise HookError(
                412,
                exc.message,
                code="processing",
                expression=f"request.prefetch.{exc.key}" if exc.key else None,
            ) from exc

    # --- rating one order -----------------------------------------------------------------

    def reason_text(self, sr: dict[str, Any]) -> str:
        """The order's reason in words: mapped codes as the reader's words, the rest as written."""
        parts: list[str] = []
        for rc in sr.get("reasonCode") or []:
            if not isinstance(rc, dict):
                continue
            words = [
                self.vocab.words_for(c.get("system"), c.get("code"))
                for c in rc.get("coding") or []
                if isinstance(c, dict)
            ]
            known = [w for w in words if w]
            if known:
                parts.extend(known)
            elif rc.get("text") is None:
                parts.extend(
                    str(c["display"])
                    for c in rc.get("coding") or []
                    if isinstance(c, dict) and c.get("display")
                )
            if rc.get("text"):
                parts.append(str(rc["text"]))
        for note in sr.get("note") or []:
            if isinstance(note, dict) and note.get("text"):
                parts.append(str(note["text"]))
        seen: list[str] = []
        for p in parts:
            p = p.strip().rstrip(".")
            if p and p not in seen:
                seen.append(p)
        return ". ".join(seen)

    def _read(self, text: str, reading: RecordReading | None) -> tuple[PatientProfile, Indication]:
        """The reader's result for this reason and record, remembered for the next calls.

        The text reader takes most of a call's time and runs one text at a time, while the
        same order comes back unchanged (selected, then signed; re-signed after an edit).
        A bounded cache in this process's memory only (never written or logged) answers those
        repeats; any change to the reason or to the patient's facts is a new key.
        """
        known = reading.profile if reading else None
        key = (text, known.model_dump_json() if known is not None else "")
        with self._readings_lock:
            hit = self._readings.get(key)
            if hit is not None:
                self._readings.move_to_end(key)
                return hit[0].model_copy(deep=True), hit[1].model_copy(deep=True)
        result = self.core.read_text(text or "", field="reason", known=known)
        with self._readings_lock:
            self._readings[key] = result
            while len(self._readings) > READ_CACHE_SIZE:
                self._readings.popitem(last=False)
        return result  # new, and only read from here on: no copy (a later hit gets one)

    def _rate(
        self, order: Order, reading: RecordReading | None, service: ServiceDef, base_url: str
    ) -> Outcome:
        out = Outcome(order)
        oc = order.code
        if oc is None:
            out.kind = "unmapped"
            return out
        if not oc.procedures:
            out.kind, out.rating = "no-criteria", "no-criteria-apply"
            return out
        text = self.reason_text(order.resource)
        try:
            profile, indication = self._read(text, reading)
        except UnusableInput:
            out.kind = "no-reason"
            out.card = self._card(
                order,
                "info",
                f"{order.display}: not rated, the order gives no reason scanwise can read",
                self._no_reason_detail(order),
                None,
            )
            return out
        assessment = self.core.assess(profile, indication)
        out.audit = self._audit_row(assessment, service, order, text, reading)
        if not indication.in_scope:
            out.kind, out.rating = "no-criteria", "no-criteria-apply"
            return out
        if assessment.decision is not None:
            out.kind = "decision"
            out.card = self._decision_card(order, assessment)
            return out
        if not assessment.matches:
            out.kind = "insufficient"
            out.card = self._insufficient_card(order, assessment, reading)
            return out
        best = assessment.matches[0]
        if best.unknown or assessment.ambiguity:
            out.kind = "insufficient"
            out.card = self._insufficient_card(order, assessment, reading)
            return out
        rated = rated_in(best, oc)
        if rated is None:
            if best.statements:
                out.kind = "statement"
                out.card = self._statement_card(order, best, base_url)
            else:
                out.kind = "unrated"
                out.card = self._unrated_card(order, best, base_url)
            return out
        out.kind = "rated"
        out.rating = "not-appropriate" if rated.category == "Usually Not Appropriate" else "appropriate"
        out.category = rated.category
        out.topic_variant = (best.topic_id, best.variant)
        out.auc_url = acr_url(best)
        out.card = self._rated_card(order, assessment, best, rated, reading, base_url)
        return out

    # --- cards ----------------------------------------------------------------------------

    def _source(self, label: str, url: str | None) -> dict[str, Any]:
        return {"label": (UNSIGNED_LABEL if self.unsigned else "") + label, "url": url}

    def _card(
        self,
        order: Order,
        indicator: str,
        summary: str,
        detail: str,
        source: dict[str, Any] | None,
        **more: Any,
    ) -> dict[str, Any]:
        card = {
            "uuid": new_uuid(),
            "summary": clip(summary),
            "indicator": indicator,
            "detail": detail + f"\n\n*{NOT_MEDICAL_ADVICE}*",
            "source": source or self._source("scanwise (ACR Appropriateness Criteria)", None),
        }
        card.update(more)
        return card

    def _order_line(self, order: Order, rated: RatedProcedure | None = None) -> str:
        code = f" ({order.code_label})" if order.code_label else ""
        as_ = f", rated as *{rated.name}*" if rated is not None and rated.name != order.display else ""
        return f"**Order:** {order.display}{code}{as_}."

    def _rated_card(
        self,
        order: Order,
        a: Assessment,
        best: Match,
        rated: RatedProcedure,
        reading: RecordReading | None,
        base_url: str,
    ) -> dict[str, Any]:
        una = rated.category == "Usually Not Appropriate"
        year = f" ({best.year})" if best.year else ""
        lines = [
            self._order_line(order, rated),
            f"**ACR rating for this patient:** {rated.category}"
            + (
                f" (rating {rated.rating}"
                + (f", strength of evidence {rated.soe}" if rated.soe else "")
                + ")"
                if rated.rating
                else ""
            )
            + (f"; relative radiation level {rated.rrl_symbols} ({rated.rrl_msv})" if rated.rrl_msv else "")
            + ".",
            f"**Scenario:** ACR {best.topic}{year}, variant {best.variant}: "
            + (best.label or "label not in the bundled data"),
        ]
        if best.why:
            lines.append("**Why this scenario fits:**\n" + "\n".join(f"- {w}" for w in best.why))
        alternatives = [
            p for p in best.procedures if p.category == "Usually Appropriate" and p.name != rated.name
        ]
        if una:
            lines.append(
                "**Usually Appropriate in this scenario:** "
                + (
                    ", ".join(p.name for p in alternatives)
                    if alternatives
                    else "none: the guideline rates no imaging study Usually Appropriate here."
                )
            )
        if rated.verification not in ("verified", "primary"):
            lines.append(f"Rating checked against a {rated.verification} source.")
        lines += self._caveats(a, reading)
        lines.append(f"Source: {best.citation}")
        suggestions = [self._replace(order, p) for p in alternatives]
        summary = f"{order.display}: {rated.category} for this patient (ACR)" + (
            ", see alternatives" if una and alternatives else ""
        )
        card = self._card(
            order,
            "warning" if una else "info",
            summary,
            "\n\n".join(lines),
            self._source(f"scanwise · ACR Appropriateness Criteria: {best.topic}{year}", acr_url(best)),
            links=[self._article_link(best, base_url)],
            overrideReasons=[
                {"system": self.vocab.override_system, "code": r.code, "display": r.display}
                for r in self.vocab.override_reasons
            ],
        )
        if suggestions:
            card["suggestions"] = suggestions
            card["selectionBehavior"] = "at-most-one"
        return card

    def _caveats(self, a: Assessment, reading: RecordReading | None) -> list[str]:
        lines = []
        if a.red_flags:
            lines.append(
                "**Red flags:** "
                + ", ".join(f.title for f in a.red_flags)
                + "; routine guidance may not apply."
            )
        if a.unread:
            lines.append(
                "**Words scanwise could not place:** " + ", ".join(f"\u201c{u.text}\u201d" for u in a.unread)
            )
        if reading is not None and reading.conflicts:
            lines.append(
                "**Records disagree on:** "
                + ", ".join(sorted({c.field for c in reading.conflicts}))
                + " (left unknown)."
            )
        lines += a.notes
        return lines

    def _article_link(self, m: Match, base_url: str) -> dict[str, Any]:
        return {
            "label": f"Scenario article: ACR topic {m.topic_id}, variant {m.variant}",
            "url": f"{base_url.rstrip('/')}/articles/{m.topic_id}/{m.variant}",
            "type": "absolute",
        }

    def _replace(self, order: Order, p: RatedProcedure) -> dict[str, Any]:
        sr = order.resource
        oc = self._by_procedure.get(p.name)
        new = {
            "resourceType": "ServiceRequest",
            "status": "draft",
            "intent": sr.get("intent") or "order",
            "code": {
                "coding": [{"system": oc.system, "code": oc.code, "display": oc.display}] if oc else [],
                "text": p.name,
            },
            "subject": sr.get("subject"),
            "encounter": sr.get("encounter"),
            "reasonCode": sr.get("reasonCode"),
            "requester": sr.get("requester"),
        }
        actions: list[dict[str, Any]] = []
        if sr.get("id"):
            actions.append(
                {
                    "type": "delete",
                    "description": f"Remove the draft order for {order.display}",
                    "resourceId": order.ref,
                }
            )
        actions.append({"type": "create", "description": f"Order {p.name} instead", "resource": new})
        return {
            "label": f"Order {p.name} instead (Usually Appropriate)",
            "uuid": new_uuid(),
            "isRecommended": False,
            "actions": actions,
        }

    def _meaning(self, order: Order, topic_id: int, variant: int) -> str:
        try:
            m = self.core.variant(topic_id, variant)
        except NotFound:
            return f"ACR topic {topic_id} variant {variant} (not in the bundled data)"
        rated = rated_in(m, order.code) if order.code else None
        where = f"ACR topic {topic_id} variant {variant} ({clip(m.label or '', 90)})"
        if rated is None and not (m.ratings_verified and m.procedures):
            return f"{where}: its ratings are not in the bundled data, so {order.display} is unrated"
        if rated is None:
            return f"{where}: {order.display} is not rated there"
        return f"{where}: {order.display} is **{rated.category}**"

    def _decision_card(self, order: Order, a: Assessment) -> dict[str, Any]:
        d = a.decision
        assert d is not None
        lines = [
            self._order_line(order),
            f"**Not rated yet: it depends on the {d.depends_on}.** {d.question}",
        ]
        lines += [f"- If {b.if_}: {self._meaning(order, b.topic_id, b.variant)}" for b in d.branches]
        lines.append("scanwise records no rating on the order until this is known.")
        lines += self._caveats(a, None)
        return self._card(
            order,
            "info",
            f"{order.display}: the rating depends on the {d.depends_on}",
            "\n\n".join(lines),
            self._branch_source(d.branches[0].topic_id, d.branches[0].variant) if d.branches else None,
        )

    def _insufficient_card(
        self, order: Order, a: Assessment, reading: RecordReading | None
    ) -> dict[str, Any]:
        lines = [
            self._order_line(order),
            "**Not rated yet: the guideline scenario cannot be chosen from "
            "what the record and the order's reason say.**",
        ]
        if a.missing:
            lines.append("**What decides it:** " + " ".join(m.question for m in a.missing))
        candidates = [m for m in a.matches if m.unknown][:4]
        if candidates:
            lines.append("**What each answer would mean:**\n" + "\n".join(
                f"- {self._meaning(order, m.topic_id, m.variant)}. Applies if: {'; '.join(m.unknown)}"
                for m in candidates))
        if a.ambiguity:
            lines.append(a.ambiguity)
        lines.append(
            "Add the missing facts to the order's reason or the record, and scanwise will rate "
            "the order; no rating is recorded on it until then."
        )
        lines += self._caveats(a, reading)
        names = ", ".join(m.field.replace("_", " ") for m in a.missing[:3]) or "the clinical situation"
        return self._card(
            order,
            "info",
            f"{order.display}: not rated, {names} not known",
            "\n\n".join(lines),
            self._topic_source(a.matches[0]) if a.matches else None,
        )

    def _branch_source(self, topic_id: int, variant: int) -> dict[str, Any] | None:
        try:
            return self._topic_source(self.core.variant(topic_id, variant))
        except NotFound:
            return None

    def _topic_source(self, m: Match) -> dict[str, Any]:
        year = f" ({m.year})" if m.year else ""
        return self._source(f"scanwise · ACR Appropriateness Criteria: {m.topic}{year}", acr_url(m))

    def _no_reason_detail(self, order: Order) -> str:
        return (
            self._order_line(order) + "\n\nThe order has no reason (reasonCode or note) that scanwise "
            "can read, so no guideline scenario can be chosen. No rating is recorded on the order."
        )

    def _statement_card(self, order: Order, best: Match, base_url: str) -> dict[str, Any]:
        names = {order.display.lower(), *(p.lower() for p in (order.code.procedures if order.code else []))}
        relevant = [
            s for s in best.statements if any(p.lower() in names for p in s.procedures)
        ] or best.statements
        first = relevant[0]
        lines = [
            self._order_line(order),
            f"**No ACR rating:** the ACR ratings for {best.topic}, variant {best.variant} are not in the "
            "bundled data. What other guidelines say (these are **not ACR ratings**):",
        ]
        lines += [f"- {_statement_line(s)}" for s in relevant]
        lines.append("No rating is recorded on the order.")
        year = f" ({first.year})" if first.year else ""
        return self._card(
            order,
            "info",
            f"{order.display}: no ACR rating here; see {first.publisher}{year} (not an ACR rating)",
            "\n\n".join(lines),
            self._source(
                f"scanwise · {first.publisher}: {first.document}{year} (not an ACR rating)", first.url
            ),
            links=[self._article_link(best, base_url)],
        )

    def _unrated_card(self, order: Order, best: Match, base_url: str) -> dict[str, Any]:
        year = f" ({best.year})" if best.year else ""
        lines = [
            self._order_line(order),
            f"**Scenario:** ACR {best.topic}{year}, variant {best.variant}: {best.label or ''}",
            f"The bundled ACR table for this scenario does not rate {order.display}"
            + ("" if best.ratings_verified else ", and its ratings are not in the bundled data")
            + ". The rating is unknown; none is recorded on the order.",
        ]
        return self._card(
            order,
            "info",
            f"{order.display}: not rated in the matched ACR scenario",
            "\n\n".join(lines),
            self._source(f"scanwise · ACR Appropriateness Criteria: {best.topic}{year}", acr_url(best)),
            links=[self._article_link(best, base_url)],
        )

    def _unmapped_card(self, orders: list[Order]) -> dict[str, Any]:
        items = [
            f"- {o.display}: "
            + (", ".join(f"{c.get('system', '?')}|{c.get('code', '?')}" for c in o.codings) or "no code")
            for o in orders
        ]
        detail = (
            "These orders' codes are not in scanwise's order-code mapping (CPT, LOINC, SNOMED CT), "
            "so they were not rated and no rating is recorded on them:\n\n" + "\n".join(items)
        )
        noun = "order" if len(orders) == 1 else f"{len(orders)} orders"
        return self._card(
            orders[0], "info", f"scanwise could not rate {noun}: code not in its mapping", detail, None
        )

    # --- the rating on the order ----------------------------------------------------------

    def _rating_action(self, o: Outcome, consult_id: str) -> dict[str, Any]:
        assert o.rating is not None
        resource = dict(o.order.resource)  # only "extension" is replaced; the rest is shared
        kept = [
            e
            for e in resource.get("extension") or []
            if not (isinstance(e, dict) and str(e.get("url", "")).startswith(PAMA_RATING))
        ]
        rating: dict[str, Any] = {
            "url": PAMA_RATING,
            "valueCodeableConcept": {
                "coding": [{"system": PAMA_SYSTEM, "code": o.rating}],
                "text": f"ACR: {o.category}" if o.category else "No breast-imaging criteria apply (scanwise)",
            },
        }
        ext = [
            rating,
            {"url": PAMA_QCDSM, "valueString": QCDSM},
            {"url": PAMA_CONSULT, "valueUri": f"urn:uuid:{consult_id}"},
        ]
        if o.auc_url:
            ext.append({"url": PAMA_AUC, "valueUri": o.auc_url})
        resource["extension"] = kept + ext
        return {
            "type": "update",
            "description": f"Record the appropriateness rating on {o.order.display}",
            "resource": resource,
        }

    # --- audit ----------------------------------------------------------------------------

    def _audit_row(
        self, a: Assessment, service: ServiceDef, order: Order, text: str, reading: RecordReading | None
    ) -> dict[str, Any] | None:
        """The assessment as the audit keeps it (redacted as the web audit redacts), or None
        (and a log line) if it cannot be made: the service keeps answering."""
        try:
            return {
                "surface": f"cds.{service.id}",
                "kb_version": a.kb_version,
                "input_sha256": input_hash(
                    {
                        "order": [order.code.system, order.code.code] if order.code else None,
                        "reason": text,
                        "record": reading.profile if reading else None,
                    }
                ),
                "result": redact(a, self.codes),
            }
        except Exception as exc:  # noqa: BLE001 (the answer goes out; the failure is logged by type)
            log.error("cds: audit row failed: %s", type(exc).__name__)
            return None

    def _call_record(
        self,
        consult_id: str,
        service: ServiceDef,
        req: dict[str, Any],
        outcomes: list[Outcome],
        cards: list[dict[str, Any]],
    ) -> CdsCall:
        ratings = [
            {
                "system": o.order.code.system if o.order.code else None,
                "code": o.order.code.code if o.order.code else None,
                "kind": o.kind,
                "rating": o.rating,
                "category": o.category,
                "topic_variant": list(o.topic_variant) if o.topic_variant else None,
            }
            for o in outcomes
        ]
        return CdsCall(
            consult_id=consult_id,
            service_id=service.id,
            hook_instance=str(req["hookInstance"])[:128],
            assessments=[o.audit for o in outcomes if o.audit is not None],
            ratings=ratings,
            cards=[c["uuid"] for c in cards],
            unsigned=self.unsigned,
        )

    def record(self, rec: CdsCall) -> None:
        """Write a call's audit (its assessments and the consult) in one transaction. A store
        that fails is logged by type; the service keeps answering."""
        if self.store is None:
            raise RuntimeError("this CDS service has no store to record to")
        try:
            self.store.record_cds_calls([rec])
        except Exception as exc:  # noqa: BLE001 (the service keeps answering if the store fails)
            log.error("cds: audit write failed: %s", type(exc).__name__)

    # --- feedback -------------------------------------------------------------------------

    def feedback(self, service_id: str, body: bytes) -> dict[str, Any]:
        store = self.store
        if store is None:
            raise RuntimeError("this CDS service has no store for feedback")
        self.service(service_id)
        try:
            data = json.loads(body)
        except (ValueError, RecursionError) as exc:
            raise HookError(400, f"the feedback body is not JSON: {exc}", code="structure") from exc
        items = _obj(data, "feedback request").get("feedback")
        if not isinstance(items, list) or not items:
            raise HookError(400, "feedback must be a non-empty list", expression="feedback")
        parsed: list[dict[str, Any]] = []
        for i, raw in enumerate(items):
            where = f"feedback[{i}]"
            fb = _obj(raw, where)
            card = _str(fb, "card", where)
            outcome = _str(fb, "outcome", where)
            if outcome not in ("accepted", "overridden"):
                raise HookError(
                    400, f"{where}.outcome must be accepted or overridden", expression=f"{where}.outcome"
                )
            when = _timestamp(_str(fb, "outcomeTimestamp", where), f"{where}.outcomeTimestamp")
            accepted = fb.get("acceptedSuggestions")
            ids: list[str] = []
            if outcome == "accepted":
                if not isinstance(accepted, list) or not accepted:
                    raise HookError(
                        400,
                        f"{where}.acceptedSuggestions is required for accepted outcomes",
                        expression=f"{where}.acceptedSuggestions",
                    )
                ids = [
                    _str(
                        _obj(s, f"{where}.acceptedSuggestions[{j}]"),
                        "id",
                        f"{where}.acceptedSuggestions[{j}]",
                    )
                    for j, s in enumerate(accepted)
                ]
            reason = fb.get("overrideReason")
            coding = None
            comment = False
            if reason is not None:
                reason = _obj(reason, f"{where}.overrideReason")
                if reason.get("reason") is not None:
                    r = _obj(reason["reason"], f"{where}.overrideReason.reason")
                    coding = {k: str(r[k]) for k in ("system", "code", "display") if r.get(k)}
                comment = bool(str(reason.get("userComment") or "").strip())
            consult = store.cds_card_consult(card, service_id)
            if consult is None:
                raise HookError(
                    400,
                    f"{where}.card: no card with this uuid was issued by {service_id}",
                    expression=f"{where}.card",
                )
            parsed.append(
                {
                    "consult_id": consult,
                    "card_uuid": card,
                    "outcome": outcome,
                    "accepted_suggestions": ids,
                    "override_reason": coding or None,
                    "comment_given": comment,
                    "outcome_at": when,
                }
            )
        for p in parsed:
            store.record_cds_feedback(**p)
        return {"stored": len(parsed)}


def _timestamp(value: str, where: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise HookError(400, f"{where} must be an ISO 8601 date-time", expression=where) from exc
    if moment.tzinfo is None:
        raise HookError(
            400, f"{where} must give its time zone (UTC, e.g. 2026-01-01T10:00:00Z)", expression=where
        )
    return moment


def _has_resources(item: dict[str, Any]) -> bool:
    return item.get("resourceType") != "Bundle" or bool(item.get("entry"))


def _statement_line(s: StatementRef) -> str:
    year = f" ({s.year})" if s.year else ""
    old = " Older version; not checked against the current one." if s.currency == "old" else ""
    link = f" [source]({s.url})" if s.url else ""
    return f"**{s.publisher}, {s.document}{year}**: {s.direction}. {s.text}{old}{link}"


def rated_in(m: Match, oc: OrderCode) -> RatedProcedure | None:
    """The variant's rating of the ordered study: the first of the code's procedures it rates."""
    by_name = {p.name: p for p in m.procedures}
    for name in oc.procedures:
        if name in by_name:
            return by_name[name]
    return None


def acr_url(m: Match) -> str | None:
    """The ACR's own page for the topic (never a mirror)."""
    return next(
        (
            u
            for u in m.source_urls
            if u.startswith(
                ("https://acsearch.acr.org/", "https://www.acr.org/", "https://gravitas.acr.org/")
            )
        ),
        None,
    )


def existing_rating(sr: dict[str, Any]) -> str | None:
    """The pama-rating an order already carries, normalised (no-guidelines-apply is no-criteria-apply)."""
    for e in sr.get("extension") or []:
        if isinstance(e, dict) and e.get("url") == PAMA_RATING:
            for c in (e.get("valueCodeableConcept") or {}).get("coding") or []:
                code = RATING_CODES.get(str(c.get("code")))
                if code:
                    return code
    return None
