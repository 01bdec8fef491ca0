"""The hardening probe (issue 15), one regression test per finding: hostile records get a
4xx naming the file, the audit keeps no words, a vanished database is reported, strangers are
kept out, input is strict and errors are one format. Plus a property test over the readers."""

from __future__ import annotations

import json
import logging
import shutil
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from scanwise.domain.kb import KnowledgeBase
from scanwise.records import RecordError, read_records
from scanwise.web import WebSettings, create_app

TOKEN = "hardening-admin-token"
ADMIN = {"authorization": f"Bearer {TOKEN}"}
LOCAL: dict[str, Any] = {"base_url": "http://localhost", "headers": {"origin": "http://localhost"}}
PROFILE = {"age": 58, "sex": "female", "histology": "ductal", "tumor_size_mm": 18, "grade": 2,
           "stage": "I", "nodal_status": "negative"}
INDICATION = {"phase": "new_diagnosis", "purpose": "distant"}


@pytest.fixture(scope="module")
def db_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hardening") / "h.db"


@pytest.fixture(scope="module")
def client(db_path: Path) -> Iterator[TestClient]:
    app = create_app(WebSettings(db=str(db_path), admin_token=SecretStr(TOKEN)))
    with TestClient(app, **LOCAL) as c:
        yield c


def _error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code, error
    return error


# --- hostile records --------------------------------------------------------------------------

def _pdf(objects: list[bytes]) -> bytes:
    out, offsets = b"%PDF-1.4\n", []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    return out + b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)


def page_tree_pdf(levels: int = 7) -> bytes:
    """A few hundred bytes whose page tree fans out to 10**levels pages."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    for level in range(levels):
        me = 2 + level
        parent = b"" if level == 0 else b" /Parent %d 0 R" % (me - 1)
        kids = b" ".join([b"%d 0 R" % (me + 1)] * 10)
        objects.append(b"<< /Type /Pages /Kids [%s] /Count %d%s >>" % (kids, 10 ** (levels - level), parent))
    leaf = 2 + levels
    objects.append(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Contents %d 0 R >>"
                   % (leaf - 1, leaf + 1))
    content = b"BT /F1 12 Tf 72 720 Td (stage I breast cancer) Tj ET"
    objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content))
    return _pdf(objects)


def bomb_pdf(megabytes: int = 400) -> bytes:
    z = zlib.compressobj(9)
    chunk = b"\0" * (1024 * 1024)
    stream = b"".join(z.compress(chunk) for _ in range(megabytes)) + z.flush()
    return _pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                 b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
                 b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (len(stream), stream)])


HOSTILE = [
    ("deep.json", b"[" * 100_000, "nested more than"),
    ("bundle.json", b'{"resourceType":"Bundle","type":"collection","entry":5}', "must be a list"),
    ("tree.pdf", page_tree_pdf(), "10,000,000 pages"),
]


@pytest.mark.parametrize(("name", "data", "problem"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_records_are_a_4xx_naming_the_file_and_the_problem(
        client: TestClient, name: str, data: bytes, problem: str) -> None:
    error = _error(client.post("/api/extract", files={"file": (name, data)}), 422, "unreadable_file")
    assert error["message"].startswith(f"{name}: ") and problem in error["message"]


def test_a_decompression_bomb_is_refused_not_a_500(client: TestClient) -> None:
    response = client.post("/api/extract", files={"file": ("bomb.pdf", bomb_pdf())})
    assert response.status_code == 422 and response.json()["error"]["message"].startswith("bomb.pdf: ")


def test_entry_counts_are_bounded_while_parsing(kb: KnowledgeBase) -> None:
    from scanwise.records.model import MAX_RESOURCES

    patient = {"resourceType": "Patient", "gender": "female"}
    bundle = {"resourceType": "Bundle", "type": "collection",
              "entry": [{"resource": patient}] * (MAX_RESOURCES + 1)}
    with pytest.raises(RecordError, match="more than 5,000 FHIR resources"):
        read_records([("many.json", json.dumps(bundle).encode())], kb)


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                     lambda inner: st.lists(inner, max_size=5) | st.dictionaries(
                         st.sampled_from(["resourceType", "entry", "resource", "code", "valueString",
                                          "presentedForm", "data", "text", "id"]) | st.text(max_size=8),
                         inner, max_size=5), max_leaves=30)
_resource = st.fixed_dictionaries({"resourceType": st.sampled_from(
    ["Bundle", "Observation", "Condition", "Patient", "DiagnosticReport", "Procedure", "Nope"])},
    optional={"entry": _json, "code": _json, "valueString": _json, "presentedForm": _json,
              "type": st.sampled_from(["collection", "document"]) | _json})


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.one_of(st.binary(max_size=300), _json.map(lambda v: json.dumps(v).encode()),
                      _resource.map(lambda v: json.dumps(v).encode()),
                      st.binary(max_size=200).map(lambda b: b"%PDF-1.4\n" + b)),
       name=st.sampled_from(["a.txt", "a.json", "a.pdf", "record"]))
def test_readers_fail_only_with_a_record_error_naming_the_file(kb: KnowledgeBase, data: bytes,
                                                               name: str) -> None:
    try:
        read_records([(name, data)], kb)
    except RecordError as exc:
        assert str(exc).startswith((f"{name}", "no records")), exc


# --- the audit keeps no words ------------------------------------------------------------------

def test_structured_free_text_never_reaches_the_audit(client: TestClient) -> None:
    secret = "Zebulon-Quartermaine"
    profile = {**PROFILE, "family_history": [secret], "other_cancer": secret, "t": secret[:40],
               "symptoms": ["bone_pain", secret]}
    indication = {**INDICATION, "assumptions": [secret], "scope_note": secret,
                  "asked_procedures": [secret]}
    response = client.post("/api/recommend", json={"profile": profile, "indication": indication})
    assert response.status_code == 200 and response.headers["x-audit"] == "recorded"
    entry = client.get("/api/audit", params={"limit": 1}, headers=ADMIN).json()[0]
    assert secret not in json.dumps(entry) and secret[:20] not in json.dumps(entry)
    assert "bone_pain" in entry["result"]["profile"]["symptoms"]  # codes are kept


def test_audit_rows_are_capped_and_pages_bounded(client: TestClient) -> None:
    from scanwise.storage.store import MAX_AUDIT_ROW_BYTES

    huge = {**PROFILE, "evidence": {"age": [{"text": "x" * 1000}] * 50}}
    client.post("/api/recommend", json={"profile": huge, "indication": INDICATION})
    entry = client.get("/api/audit", params={"limit": 1}, headers=ADMIN).json()[0]
    assert len(json.dumps(entry["result"])) <= MAX_AUDIT_ROW_BYTES
    _error(client.get("/api/audit", params={"limit": 500}, headers=ADMIN), 422, "invalid_value")


# --- nothing lost without a word ----------------------------------------------------------------

def test_a_vanished_database_is_reported_and_recovered(client: TestClient, db_path: Path) -> None:
    assert client.get("/healthz").json()["database"] == "ok"
    saved = client.post("/api/profiles", json={"profile": PROFILE})
    assert saved.status_code == 201
    backup = db_path.with_suffix(".bak")
    shutil.copy(db_path, backup)
    db_path.unlink()
    try:
        assert client.get("/healthz").json()["database"] == "unavailable"
        _error(client.post("/api/profiles", json={"profile": PROFILE}), 503, "store_unavailable")
        answered = client.post("/api/recommend", json={"profile": PROFILE, "indication": INDICATION})
        assert answered.status_code == 200 and answered.headers["x-audit"] == "failed"
        assert not db_path.exists()  # never silently made again
    finally:
        shutil.copy(backup, db_path)
    assert client.get("/healthz").json()["database"] == "ok"
    assert client.post("/api/profiles", json={"profile": PROFILE}).status_code == 201


def test_health_is_not_a_database_fault_when_the_workers_are_busy(db_path: Path) -> None:
    app = create_app(WebSettings(db=str(db_path), max_waiting=0))
    with TestClient(app, **LOCAL) as c:
        app.state.services.workers.in_flight = 10  # as if every worker and queue place were taken
        assert c.post("/api/recommend", json={"profile": PROFILE}).status_code == 503
        body = c.get("/healthz").json()
        app.state.services.workers.in_flight = 0
    assert body["database"] == "ok"


# --- only the right people in -------------------------------------------------------------------

def test_unknown_host_names_are_refused(client: TestClient) -> None:
    _error(client.get("/healthz", headers={"host": "rebind.evil.example"}), 400, "invalid_host")
    assert client.get("/healthz", headers={"host": "127.0.0.1:8000"}).status_code == 200


def test_extra_host_names_are_served_when_allowed(db_path: Path) -> None:
    app = create_app(WebSettings(db=str(db_path), allowed_hosts=("scanwise.example.org",)))
    with TestClient(app, base_url="http://scanwise.example.org") as c:
        assert c.head("/healthz").status_code == 200


def test_the_audit_needs_the_token(client: TestClient, db_path: Path) -> None:
    _error(client.get("/api/audit"), 401, "unauthorized")
    _error(client.get("/api/audit", headers={"authorization": "Bearer wrong"}), 401, "unauthorized")
    app = create_app(WebSettings(db=str(db_path)))
    with TestClient(app, **LOCAL) as c:  # no token, and the caller is not on this machine
        _error(c.get("/api/audit"), 403, "admin_disabled")


def test_page_forms_refuse_other_sites(client: TestClient) -> None:
    pid = client.post("/api/profiles", json={"profile": PROFILE}).json()["id"]
    evil = client.post(f"/saved/{pid}/delete", headers={"origin": "http://evil.example"})
    assert evil.status_code == 403
    bare = TestClient(client.app, base_url="http://localhost")  # no Origin, no Referer
    assert bare.post(f"/saved/{pid}/delete").status_code == 403
    assert client.get(f"/api/profiles/{pid}").status_code == 200  # still there
    assert client.post(f"/saved/{pid}/delete").status_code == 200


def test_patient_data_is_never_cached(client: TestClient) -> None:
    response = client.post("/api/recommend", json={"profile": PROFILE, "indication": INDICATION})
    assert response.headers["cache-control"] == "no-store"
    assert client.get("/").headers["cache-control"] == "no-store"
    assert "no-store" not in client.get("/static/app.css").headers.get("cache-control", "")


def test_the_log_escapes_the_path_and_masks_profile_ids(client: TestClient,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    pid = "0123456789abcdef0123456789abcdef"
    with caplog.at_level(logging.INFO, logger="scanwise.web"):
        client.get("/api/x%0aforged%00line")
        client.get(f"/api/profiles/{pid}")
    lines = [r.getMessage() for r in caplog.records if r.name == "scanwise.web"]
    assert any("/api/x%0aforged%00line" in line for line in lines)
    assert all("\n" not in line and "\x00" not in line for line in lines)
    assert pid not in caplog.text and "/api/profiles/<id>" in caplog.text


# --- strict input, one error format -------------------------------------------------------------

@pytest.mark.parametrize(("profile", "field"), [
    ({"tumor_size_mm": float("inf")}, None),
    ({"grade": True}, "profile.grade"),
    ({"age": "58"}, "profile.age"),
    ({"tumor_size_mm": 5000}, "profile.tumor_size_mm"),
    ({"symptoms": ["bone_pain"] * 100_000}, "profile.symptoms"),
    ({"other_cancer": "lung\x00"}, "profile.other_cancer"),
    ({"labs": {f"lab{i}": "normal" for i in range(100)}}, "profile.labs"),
])
def test_structured_input_is_strict(client: TestClient, profile: dict[str, Any], field: str | None) -> None:
    body = json.dumps({"profile": {**PROFILE, **profile}}, allow_nan=True)
    response = client.post("/api/recommend", content=body, headers={"content-type": "application/json"})
    assert response.status_code in (400, 422), response.text
    if field:
        assert response.json()["error"]["field"] == field


def test_labels_and_evidence_are_bounded(client: TestClient) -> None:
    _error(client.post("/api/profiles", json={"profile": PROFILE, "label": "a\x00b"}), 422, "invalid_value")
    schema = client.get("/openapi.json").json()["components"]["schemas"]
    assert schema["ProfileInput"]["properties"]["symptoms"]["maxItems"] == 50


@pytest.mark.parametrize("path", ["/api/recommend", "/api/ask", "/api/stage", "/api/profiles",
                                  "/api/extract"])
def test_malformed_json_is_the_same_error_everywhere(client: TestClient, path: str) -> None:
    for body in (b"\xff\xfe{", b"[" * 10_000):
        response = client.post(path, content=body, headers={"content-type": "application/json"})
        _error(response, 400, "invalid_json")


def test_an_empty_body_names_the_field(client: TestClient) -> None:
    error = _error(client.post("/api/ask", content=b"", headers={"content-type": "application/json"}),
                   422, "missing_field")
    assert error["field"] == "body" and "None" not in error["message"]


def test_stage_errors_never_echo_the_input(client: TestClient) -> None:
    error = _error(client.post("/api/stage", json={"t": "Zebulon"}), 422, "staging_error")
    assert "Zebulon" not in error["message"] and error["field"] == "t"
