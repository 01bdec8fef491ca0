"""CDS Hooks over real HTTP: `scanwise serve` (uvicorn) on a loopback port, called with JWTs
signed by ES384 and RS384 keys made here, and a small FHIR server for prefetch-less calls.

Requests follow the CDS Hooks specification's order-select/order-sign examples and the
Argonaut PAMA connectathon requests, adapted to breast cases. Every 200 response is checked by
the reusable validator in cds_checks.py; every error must be a 4xx OperationOutcome.
"""

from __future__ import annotations

import copy
import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from cds_checks import validate_outcome, validate_response
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from serving import served

from scanwise.storage import Store

EXAMPLE = Path(__file__).parents[1] / "src" / "scanwise" / "cds" / "examples" / "order-select.json"
ISS_EC, ISS_RSA = "https://ehr-a.example.org", "https://ehr-b.example.org"
PAMA = "http://fhir.org/argonaut/Extension/pama-rating"
CONSULT = "http://fhir.org/argonaut/Extension/pama-rating-consult-id"
SELECT, SIGN = "imaging-order-select", "imaging-order-sign"

EC_KEY = ec.generate_private_key(ec.SECP384R1())
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_EC = ec.generate_private_key(ec.SECP384R1())
P256_KEY = ec.generate_private_key(ec.SECP256R1())


def _jwk(key: Any, kid: str, alg: str) -> dict[str, Any]:
    algo = jwt.algorithms.ECAlgorithm if alg.startswith("ES") else jwt.algorithms.RSAAlgorithm
    data = json.loads(algo.to_jwk(key.public_key()))
    data.update(kid=kid, alg=alg, use="sig")
    return data


# --- a small FHIR server: the example patient's resources, behind a bearer token ----------------

FHIR_TOKEN = "fhir-access-token-for-the-test"


class _Fhir(BaseHTTPRequestHandler):
    seen: list[tuple[str, str | None]] = []
    data: dict[str, Any] = {}

    def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
        _Fhir.seen.append((self.path, self.headers.get("Authorization")))
        if self.headers.get("Authorization") != f"Bearer {FHIR_TOKEN}":
            self._send(
                401, {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "login"}]}
            )
            return
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        path = parts.path.removeprefix("/fhir/")
        prefetch = self.data["prefetch"]
        if path == "Patient/bc-example-1":
            self._send(200, prefetch["patient"])
        elif path in ("Condition", "Observation", "Procedure") and query.get("patient") == ["bc-example-1"]:
            self._send(
                200,
                prefetch[
                    {"Condition": "conditions", "Observation": "observations", "Procedure": "procedures"}[
                        path
                    ]
                ],
            )
        else:
            self._send(
                404,
                {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "not-found"}]},
            )

    def _send(self, status: int, body: dict[str, Any]) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/fhir+json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def fhir_server() -> Iterator[str]:
    _Fhir.data = json.loads(EXAMPLE.read_text())
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Fhir)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/fhir"
    httpd.shutdown()
    httpd.server_close()


# --- scanwise serve with a trust list --------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(base URL, database URL) of `scanwise serve` trusting the two test issuers."""
    tmp = tmp_path_factory.mktemp("cds-serve")
    trust = tmp / "trust.json"
    trust.write_text(
        json.dumps(
            {
                "issuers": [
                    {"iss": ISS_EC, "jwks": {"keys": [_jwk(EC_KEY, "ec-1", "ES384")]}},
                    {"iss": ISS_RSA, "jwks": {"keys": [_jwk(RSA_KEY, "rsa-1", "RS384")]}},
                ]
            }
        )
    )
    db = tmp / "scanwise.db"
    log = tmp / "server.log"
    with served(["--db", str(db), "--cds-trust", str(trust)], log) as server:
        yield server.base, f"sqlite:///{db}"
    text = log.read_text()
    assert "Bearer" not in text and "bc-example-1" not in text, "tokens or patient ids in the log"


def token(
    aud: str | None,
    *,
    alg: str = "ES384",
    key: Any = None,
    kid: str | None = "ec-1",
    iss: str | None = ISS_EC,
    exp: float | None = 300,
    iat: float | None = 0,
    jti: str | None = "new",
) -> str:
    now = time.time()
    claims: dict[str, Any] = {
        "iss": iss,
        "aud": aud,
        "exp": None if exp is None else int(now + exp),
        "iat": None if iat is None else int(now + iat),
        "jti": str(uuid.uuid4()) if jti == "new" else jti,
        "sub": "test-client",
    }
    claims = {k: v for k, v in claims.items() if v is not None}
    headers = {"kid": kid} if kid is not None else {}
    if key is None:
        key = EC_KEY if alg.startswith("ES") else RSA_KEY
    return jwt.encode(claims, key, algorithm=alg, headers=headers)


def call(
    base: str,
    path: str,
    body: Any = None,
    *,
    bearer: str | None = "auto",
    raw: bytes | None = None,
    rsa_key: bool = False,
) -> httpx.Response:
    url = base + path
    if bearer == "auto":
        bearer = token(url, alg="RS384", kid="rsa-1", iss=ISS_RSA) if rsa_key else token(url)
    headers = {"Content-Type": "application/json"}
    if bearer is not None:
        headers["Authorization"] = f"Bearer {bearer}"
    if body is None and raw is None:
        return httpx.get(url, headers=headers, timeout=30)
    content = raw if raw is not None else json.dumps(body).encode()
    return httpx.post(url, content=content, headers=headers, timeout=30)


def ok(resp: httpx.Response) -> dict[str, Any]:
    assert resp.status_code == 200, resp.text
    data = resp.json()
    validate_response(data)
    return data


def failed(resp: httpx.Response, status: int) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.status_code < 500
    data = resp.json()
    validate_outcome(data)
    return data


# --- requests ------------------------------------------------------------------------------------


def example(hook: str = "order-select") -> dict[str, Any]:
    req = json.loads(EXAMPLE.read_text())
    req["hookInstance"] = str(uuid.uuid4())
    if hook == "order-sign":
        req["hook"] = "order-sign"
        del req["context"]["selections"]
    return req


def order(
    sr_id: str, system: str, code: str, *, reason: list[dict[str, Any]] | None = None, note: str | None = None
) -> dict[str, Any]:
    sr: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "id": sr_id,
        "status": "draft",
        "intent": "order",
        "code": {"coding": [{"system": system, "code": code}]},
        "subject": {"reference": "Patient/bc-example-1"},
    }
    if reason:
        sr["reasonCode"] = reason
    if note:
        sr["note"] = [{"text": note}]
    return sr


CPT = "http://www.ama-assn.org/go/cpt"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
STAGING = [
    {
        "coding": [{"system": ICD10CM, "code": "C50.412"}],
        "text": "staging of newly diagnosed invasive ductal breast cancer",
    }
]
LUMP = [{"coding": [{"system": ICD10CM, "code": "N63.20", "display": "Unspecified lump in the left breast"}]}]


def with_orders(
    req: dict[str, Any], *orders: dict[str, Any], select: list[str] | None = None
) -> dict[str, Any]:
    req = copy.deepcopy(req)
    req["context"]["draftOrders"]["entry"] = [{"resource": o} for o in orders]
    if req["hook"] == "order-select":
        req["context"]["selections"] = select or [f"ServiceRequest/{o['id']}" for o in orders]
    return req


def lump_patient(req: dict[str, Any]) -> dict[str, Any]:
    """A 45-year-old woman with no cancer on record."""
    req = copy.deepcopy(req)
    pre = req["prefetch"]
    pre["patient"]["birthDate"] = f"{time.gmtime().tm_year - 45}-01-15"
    for key in ("conditions", "observations", "procedures"):
        pre[key] = {"resourceType": "Bundle", "type": "searchset", "total": 0}
    return req


def consult_id(data: dict[str, Any]) -> str:
    ext = {e["url"]: e for e in data["systemActions"][0]["resource"]["extension"]}
    value: str = ext[CONSULT]["valueUri"]
    return value


def ratings(data: dict[str, Any]) -> dict[str, str]:
    out = {}
    for a in data.get("systemActions", []):
        res = a["resource"]
        ext = {e["url"]: e for e in res["extension"]}
        out[res["id"]] = ext[PAMA]["valueCodeableConcept"]["coding"][0]["code"]
    return out


# --- discovery -----------------------------------------------------------------------------------


def test_discovery_lists_both_services_with_prefetch_on_allowed_tokens(server: tuple[str, str]) -> None:
    base, _ = server
    data = call(base, "/cds-services").json()
    services = {s["id"]: s for s in data["services"]}
    assert services[SELECT]["hook"] == "order-select" and services[SIGN]["hook"] == "order-sign"
    for s in services.values():
        assert s["title"] and s["description"]
        assert set(s["prefetch"]) == {"patient", "conditions", "observations", "procedures"}
        for template in s["prefetch"].values():
            tokens = set(__import__("re").findall(r"\{\{([^}]*)\}\}", template))
            assert tokens and tokens <= {"context.patientId", "context.userId", "context.encounterId"}
    assert "16112-5" in services[SELECT]["prefetch"]["observations"]  # ER, read by the FHIR reader


# --- rating ----------------------------------------------------------------------------------------


def test_order_select_early_stage_petct_is_not_appropriate(server: tuple[str, str]) -> None:
    base, _ = server
    data = ok(call(base, f"/cds-services/{SELECT}", example()))
    [card] = data["cards"]
    assert card["indicator"] == "warning" and "Usually Not Appropriate" in card["summary"]
    assert "variant 2" in card["detail"] and "stage IA" in card["detail"]
    assert "none: the guideline rates no imaging study Usually Appropriate" in card["detail"]
    assert "2024" in card["source"]["label"] and card["source"]["url"].startswith("https://acsearch.acr.org/")
    assert card["links"][0]["url"] == f"{base}/articles/310/2"
    assert all(r["display"] for r in card["overrideReasons"])
    assert ratings(data) == {"bc-petct-1": "not-appropriate"}
    assert data["extension"]["systemActions"] == data["systemActions"]


def test_order_sign_rates_every_draft_order_petct_and_ct(server: tuple[str, str]) -> None:
    base, _ = server
    req = with_orders(
        example("order-sign"),
        order("pet", CPT, "78815", reason=STAGING),
        order("ct", CPT, "71260", reason=STAGING),
    )
    data = ok(call(base, f"/cds-services/{SIGN}", req, rsa_key=True))
    assert ratings(data) == {"pet": "not-appropriate", "ct": "not-appropriate"}
    assert [c["indicator"] for c in data["cards"]] == ["warning", "warning"]
    assert "CT chest abdomen pelvis with IV contrast" in data["cards"][1]["detail"]
    consult = consult_id(data)
    assert consult.startswith("urn:uuid:")


def test_not_appropriate_mri_offers_the_usually_appropriate_studies(server: tuple[str, str]) -> None:
    base, _ = server
    req = with_orders(lump_patient(example()), order("mri", CPT, "77049", reason=LUMP))
    data = ok(call(base, f"/cds-services/{SELECT}", req))
    [card] = data["cards"]
    assert card["indicator"] == "warning" and card["selectionBehavior"] == "at-most-one"
    labels = [s["label"] for s in card["suggestions"]]
    assert any("Mammography diagnostic" in x for x in labels)
    assert any("tomosynthesis diagnostic" in x for x in labels)
    for s in card["suggestions"]:
        delete, create = s["actions"]
        assert delete == {
            "type": "delete",
            "description": delete["description"],
            "resourceId": "ServiceRequest/mri",
        }
        assert create["type"] == "create" and create["resource"]["status"] == "draft"
        assert create["resource"]["subject"] == {"reference": "Patient/bc-example-1"}
    assert ratings(data) == {"mri": "not-appropriate"}


def test_diagnostic_mammogram_for_a_palpable_lump_is_appropriate(server: tuple[str, str]) -> None:
    base, _ = server
    req = with_orders(lump_patient(example()), order("mg", CPT, "77066", reason=LUMP))
    data = ok(call(base, f"/cds-services/{SELECT}", req))
    [card] = data["cards"]
    assert card["indicator"] == "info" and "Usually Appropriate" in card["summary"]
    assert "Palpable Breast Masses" in card["source"]["label"]
    assert ratings(data) == {"mg": "appropriate"}


def test_unknown_stage_gets_what_decides_it_and_no_rating(server: tuple[str, str]) -> None:
    base, _ = server
    req = example()
    req["prefetch"]["observations"]["entry"] = [
        e for e in req["prefetch"]["observations"]["entry"] if e["resource"]["id"] != "bc-stage-1"
    ]
    data = ok(call(base, f"/cds-services/{SELECT}", req))
    [card] = data["cards"]
    # Undecided, so no rating: the summary says what it depends on (the engine's own decision
    # since it branches) or that the order is not rated.
    assert card["indicator"] == "info"
    assert "depends on" in card["summary"] or "not rated" in card["summary"]
    assert "Invasive Breast Cancer (2024)" in card["source"]["label"]
    assert "stage" in card["detail"].lower()
    # what each answer would mean: early stage -> variant 2, later stage -> variants 4/5
    assert "variant 2" in card["detail"] and "Usually Not Appropriate" in card["detail"]
    assert "variant 4" in card["detail"]
    assert "systemActions" not in data and "extension" not in data
    assert "suggestions" not in card


def test_knee_mri_gets_no_card_and_no_criteria_apply(server: tuple[str, str]) -> None:
    base, _ = server
    req = with_orders(example(), order("knee", CPT, "73721", note="right knee pain after a fall"))
    data = ok(call(base, f"/cds-services/{SELECT}", req))
    assert data["cards"] == []
    assert ratings(data) == {"knee": "no-criteria-apply"}


def test_another_cancer_gets_no_criteria_apply(server: tuple[str, str]) -> None:
    base, _ = server
    lung = [{"coding": [{"system": ICD10CM, "code": "C34.11"}], "text": "lung cancer, staging"}]
    req = with_orders(lump_patient(example()), order("ct", CPT, "71260", reason=lung))
    data = ok(call(base, f"/cds-services/{SELECT}", req))
    assert data["cards"] == [] and ratings(data) == {"ct": "no-criteria-apply"}


def test_free_text_reason_only(server: tuple[str, str]) -> None:
    base, _ = server
    req = with_orders(
        lump_patient(example()),
        order("us", CPT, "76641", note="45 year old woman with a palpable lump in the left breast"),
    )
    data = ok(call(base, f"/cds-services/{SELECT}", req))
    [card] = data["cards"]
    assert "Palpable Breast Masses" in card["source"]["label"]
    assert ratings(data) == {"us": "appropriate"}  # May Be Appropriate adheres to the criteria


def test_order_select_rates_only_the_selected_orders(server: tuple[str, str]) -> None:
    base, _ = server
    req = with_orders(
        example(),
        order("pet", CPT, "78815", reason=STAGING),
        order("knee", CPT, "73721"),
        select=["ServiceRequest/pet"],
    )
    assert set(ratings(ok(call(base, f"/cds-services/{SELECT}", req)))) == {"pet"}


def test_unmapped_code_is_said_not_rated(server: tuple[str, str]) -> None:
    base, _ = server
    req = with_orders(example(), order("x", CPT, "99999", reason=STAGING))
    data = ok(call(base, f"/cds-services/{SELECT}", req))
    assert "not in its mapping" in data["cards"][0]["summary"] and "systemActions" not in data


# --- the patient from the EHR's FHIR server, or 412 ----------------------------------------------


def test_prefetch_absent_is_fetched_from_the_fhir_server(server: tuple[str, str], fhir_server: str) -> None:
    base, _ = server
    req = example()
    del req["prefetch"]
    req["fhirServer"] = fhir_server
    req["fhirAuthorization"] = {
        "access_token": FHIR_TOKEN,
        "token_type": "Bearer",
        "expires_in": 300,
        "scope": "patient/*.read",
        "subject": "scanwise",
    }
    _Fhir.seen.clear()
    data = ok(call(base, f"/cds-services/{SELECT}", req))
    assert ratings(data) == {"bc-petct-1": "not-appropriate"}
    paths = sorted(p.split("?")[0] for p, _ in _Fhir.seen)
    assert paths == ["/fhir/Condition", "/fhir/Observation", "/fhir/Patient/bc-example-1", "/fhir/Procedure"]
    assert all(auth == f"Bearer {FHIR_TOKEN}" for _, auth in _Fhir.seen)


def test_fhir_server_refusing_is_412(server: tuple[str, str], fhir_server: str) -> None:
    base, _ = server
    req = example()
    del req["prefetch"]
    req["fhirServer"] = fhir_server
    req["fhirAuthorization"] = {
        "access_token": "wrong",
        "token_type": "Bearer",
        "expires_in": 300,
        "scope": "patient/*.read",
        "subject": "scanwise",
    }
    failed(call(base, f"/cds-services/{SELECT}", req), 412)


def test_prefetch_absent_without_a_fhir_server_is_412(server: tuple[str, str]) -> None:
    base, _ = server
    req = example()
    del req["prefetch"]
    req.pop("fhirServer")
    data = failed(call(base, f"/cds-services/{SELECT}", req), 412)
    assert "prefetch" in data["issue"][0]["details"]["text"]


# --- the JWT rules, one broken at a time ----------------------------------------------------------


def _hs256(url: str) -> str:
    now = int(time.time())
    return jwt.encode(
        {"iss": ISS_EC, "aud": url, "exp": now + 300, "iat": now, "jti": str(uuid.uuid4())},
        "a-shared-secret-that-is-long-enough-for-hs256",
        algorithm="HS256",
        headers={"kid": "ec-1"},
    )


def _none(url: str) -> str:
    now = int(time.time())
    return jwt.encode(
        {"iss": ISS_EC, "aud": url, "exp": now + 300, "iat": now, "jti": str(uuid.uuid4())},
        None,
        algorithm="none",
        headers={"kid": "ec-1"},
    )


BROKEN = {
    "no token": lambda url: None,
    "alg none": _none,
    "HMAC": _hs256,
    "ES256 (not allowed)": lambda url: token(url, alg="ES256", key=P256_KEY),
    "kid unknown": lambda url: token(url, kid="ec-2"),
    "no kid": lambda url: token(url, kid=None),
    "iss not trusted": lambda url: token(url, iss="https://evil.example.org"),
    "no iss": lambda url: token(url, iss=None),
    "aud another URL": lambda url: token(url.rsplit("/", 1)[0]),
    "no aud": lambda url: token(None),
    "expired": lambda url: token(url, exp=-5),
    "no exp": lambda url: token(url, exp=None),
    "iat in the future": lambda url: token(url, iat=600),
    "no iat": lambda url: token(url, iat=None),
    "no jti": lambda url: token(url, jti=None),
    "signed by another key": lambda url: token(url, key=OTHER_EC),
    "RSA kid with ES384": lambda url: token(url, kid="rsa-1", iss=ISS_RSA),
    "EC kid with RS384": lambda url: token(url, alg="RS384", kid="ec-1"),
    "not a JWT": lambda url: "not-a-token",
}


@pytest.mark.parametrize("rule", list(BROKEN))
def test_every_broken_jwt_rule_is_a_bare_401(server: tuple[str, str], rule: str) -> None:
    base, _ = server
    for path, body in ((f"/cds-services/{SELECT}", example()), ("/cds-services", None)):
        resp = call(base, path, body, bearer=BROKEN[rule](base + path))
        assert resp.status_code == 401, (rule, path, resp.text)
        assert resp.content == b""


def test_a_replayed_jti_is_refused(server: tuple[str, str]) -> None:
    base, _ = server
    url = f"{base}/cds-services"
    once = token(url, jti="replay-" + str(uuid.uuid4()))
    assert call(base, "/cds-services", bearer=once).status_code == 200
    assert call(base, "/cds-services", bearer=once).status_code == 401


def test_aud_as_a_list_holding_the_url_is_accepted(server: tuple[str, str]) -> None:
    base, _ = server
    url = f"{base}/cds-services"
    now = int(time.time())
    t = jwt.encode(
        {"iss": ISS_RSA, "aud": [url], "exp": now + 60, "iat": now, "jti": str(uuid.uuid4())},
        RSA_KEY,
        algorithm="RS384",
        headers={"kid": "rsa-1"},
    )
    assert call(base, "/cds-services", bearer=t).status_code == 200


# --- malformed requests ------------------------------------------------------------------------------


def _bad_bundle() -> dict[str, Any]:
    req = example()
    req["context"]["draftOrders"]["entry"][0]["resource"]["status"] = 7
    return req


def _no_selections() -> dict[str, Any]:
    req = example()
    del req["context"]["selections"]
    return req


def _wrong_selection() -> dict[str, Any]:
    req = example()
    req["context"]["selections"] = ["ServiceRequest/not-there"]
    return req


MALFORMED: dict[str, tuple[str, Any, int]] = {
    "not JSON": (SELECT, b"{not json", 400),
    "a JSON list": (SELECT, b"[]", 400),
    "no hook": (SELECT, {k: v for k, v in example().items() if k != "hook"}, 400),
    "wrong hook for the service": (SIGN, example(), 400),
    "no context": (SELECT, {"hook": "order-select", "hookInstance": "x"}, 400),
    "draftOrders not a Bundle": (
        SELECT,
        {**example(), "context": {**example()["context"], "draftOrders": {"resourceType": "Patient"}}},
        400,
    ),
    "invalid Bundle": (SELECT, _bad_bundle(), 400),
    "order-select without selections": (SELECT, _no_selections(), 400),
    "selection not in draftOrders": (SELECT, _wrong_selection(), 400),
    "unknown service id": ("imaging-order-dispatch", example(), 404),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_requests_get_an_operation_outcome(server: tuple[str, str], case: str) -> None:
    base, _ = server
    service, body, status = MALFORMED[case]
    raw = body if isinstance(body, bytes) else None
    failed(call(base, f"/cds-services/{service}", None if raw else body, raw=raw), status)


# --- feedback ------------------------------------------------------------------------------------------


def test_feedback_is_stored_with_the_consult(server: tuple[str, str]) -> None:
    base, db = server
    req = with_orders(lump_patient(example()), order("mri", CPT, "77049", reason=LUMP))
    data = ok(call(base, f"/cds-services/{SELECT}", req))
    card = data["cards"][0]
    consult = consult_id(data)
    feedback = {
        "feedback": [
            {
                "card": card["uuid"],
                "outcome": "accepted",
                "acceptedSuggestions": [{"id": card["suggestions"][0]["uuid"]}],
                "outcomeTimestamp": "2026-12-01T10:05:31Z",
            },
            {
                "card": card["uuid"],
                "outcome": "overridden",
                "outcomeTimestamp": "2026-12-01T10:06:00Z",
                "overrideReason": {"reason": card["overrideReasons"][0], "userComment": "patient words here"},
            },
        ]
    }
    resp = call(base, f"/cds-services/{SELECT}/feedback", feedback)
    assert resp.status_code == 200, resp.text
    stored = Store(db).cds_consult(consult.removeprefix("urn:uuid:"))
    assert stored is not None and stored.service_id == SELECT and len(stored.audit_ids) == 1
    assert stored.ratings[0]["rating"] == "not-appropriate"
    first, second = stored.feedback
    assert first.outcome == "accepted" and first.accepted_suggestions == [card["suggestions"][0]["uuid"]]
    assert second.outcome == "overridden" and second.override_reason == card["overrideReasons"][0]
    assert second.comment_given and "patient words" not in stored.model_dump_json()
    assert second.outcome_at.isoformat().startswith("2026-12-01T10:06:00")


def test_feedback_for_an_unknown_card_or_malformed_is_400(server: tuple[str, str]) -> None:
    base, _ = server
    path = f"/cds-services/{SELECT}/feedback"
    failed(
        call(
            base,
            path,
            {
                "feedback": [
                    {
                        "card": str(uuid.uuid4()),
                        "outcome": "overridden",
                        "outcomeTimestamp": "2026-12-01T10:06:00Z",
                    }
                ]
            },
        ),
        400,
    )
    failed(
        call(base, path, {"feedback": [{"card": "x", "outcome": "maybe", "outcomeTimestamp": "now"}]}), 400
    )
    failed(call(base, path, raw=b"nope"), 400)
    assert call(base, path, {"feedback": []}, bearer=None).status_code == 401
