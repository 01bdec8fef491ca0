"""The JSON API in process: every endpoint, its contract with the CLI, and bad input.

After every refused request the app must still answer /healthz: bad input costs the caller a
4xx, never the service.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from fpdf import FPDF
from pydantic import SecretStr
from typer.testing import CliRunner

from scanwise.cli import app as cli_app
from scanwise.domain.kb import KnowledgeBase
from scanwise.storage import input_hash
from scanwise.web import WebSettings, create_app
from scanwise.web.services import Services

runner = CliRunner()
SEED_SCENARIO = ("58-year-old woman, 1.8 cm grade 2 IDC, no palpable nodes, normal LFTs and ALP, "
                 "clinical stage I. Is PET/CT needed for distant staging?")
SEED_QUESTION = ("What is the difference between a CT scan and a PET scan for HER2-positive breast "
                 "cancer?")
PATHOLOGY_LINES = [
    "SURGICAL PATHOLOGY REPORT",
    "Patient: 58-year-old female",
    "FINAL DIAGNOSIS: Left breast, core biopsy: invasive ductal carcinoma, Nottingham grade 2.",
    "Tumor size: 1.8 cm.",
    "Estrogen receptor: POSITIVE (90%). Progesterone receptor: POSITIVE (60%).",
    "HER2 (IHC): 3+, POSITIVE.",
]


def pathology_pdf(lines: list[str] = PATHOLOGY_LINES) -> bytes:
    """A small one-page text PDF, as a lab portal would export it."""
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    for line in lines:
        pdf.cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


# The test client speaks as "localhost" (a Host this server answers to) from this site's own
# pages; the audit needs the admin token.
LOCAL: dict[str, Any] = {"base_url": "http://localhost", "headers": {"origin": "http://localhost"}}
ADMIN_TOKEN = SecretStr("test-admin-token-1234")
ADMIN = {"authorization": f"Bearer {ADMIN_TOKEN.get_secret_value()}"}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    db = tmp_path_factory.mktemp("web") / "scanwise.db"
    with TestClient(create_app(WebSettings(db=str(db), admin_token=ADMIN_TOKEN)), **LOCAL) as c:
        yield c


def error_of(response: Any, status: int, code: str, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == code, error
    assert error["message"]
    assert error["request_id"] == response.headers["x-request-id"]
    if field is not None:
        assert error.get("field") == field, error
    assert "Traceback" not in response.text
    return dict(error)


def still_serving(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def cli_json(*args: str) -> Any:
    result = runner.invoke(cli_app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# --- health, coverage -------------------------------------------------------------------------

def test_healthz_reports_kb_version_and_database(client: TestClient, kb: KnowledgeBase) -> None:
    body = client.get("/healthz").json()
    assert {k: body[k] for k in ("status", "kb_version", "database")} == \
        {"status": "ok", "kb_version": kb.version, "database": "ok"}


def test_kb_is_the_same_json_as_the_cli(client: TestClient) -> None:
    response = client.get("/api/kb")
    assert response.status_code == 200
    assert response.json() == cli_json("kb")


# --- recommend ----------------------------------------------------------------------------------

def test_recommend_text_is_the_same_json_as_the_cli(client: TestClient) -> None:
    response = client.post("/api/recommend", json={"text": SEED_SCENARIO})
    assert response.status_code == 200
    assert response.json() == cli_json("recommend", SEED_SCENARIO)
    best = response.json()["matches"][0]
    assert (best["topic_id"], best["variant"]) == (310, 2)
    pet = next(p for p in best["procedures"] if p["name"].startswith("FDG-PET/CT"))
    assert pet["category"] == "Usually Not Appropriate"


def test_recommend_structured_profile(client: TestClient) -> None:
    body = {"profile": {"age": 58, "sex": "female", "histology": "ductal", "tumor_size_mm": 18,
                        "grade": 2, "stage": "I", "nodal_status": "negative"},
            "indication": {"phase": "new_diagnosis", "purpose": "distant"}}
    response = client.post("/api/recommend", json=body)
    assert response.status_code == 200
    best = response.json()["matches"][0]
    assert (best["topic_id"], best["variant"]) == (310, 2)


def test_recommend_profile_without_indication_says_what_is_missing(client: TestClient) -> None:
    response = client.post("/api/recommend", json={"profile": {"age": 58}})
    assert response.status_code == 200
    assert response.json()["matches"] == []
    assert [m["field"] for m in response.json()["missing"]] == ["phase"]


@pytest.mark.parametrize(("body", "status", "code", "field"), [
    ({"text": ""}, 422, "unusable_text", "text"),
    ({"text": "   \n "}, 422, "unusable_text", "text"),
    ({"text": "a\x00b"}, 422, "invalid_value", "text"),
    ({"text": "x" * 20_001}, 422, "invalid_value", "text"),
    ({}, 422, "invalid_value", None),
    ({"text": SEED_SCENARIO, "profile": {}}, 422, "invalid_value", None),
    ({"text": SEED_SCENARIO, "indication": {"phase": "screening"}}, 422, "invalid_value", None),
    ({"text": SEED_SCENARIO, "foo": 1}, 422, "unknown_field", "foo"),
    ({"profile": {"age": 58, "favourite_colour": "blue"}}, 422, "unknown_field",
     "profile.favourite_colour"),
    ({"profile": {"age": "fifty"}}, 422, "invalid_value", "profile.age"),
    ({"profile": {"age": 200}}, 422, "invalid_value", "profile.age"),
    ({"profile": {"her2": "maybe"}}, 422, "invalid_value", "profile.her2"),
    ({"text": 58}, 422, "invalid_value", "text"),
])
def test_recommend_refuses_bad_input_by_field(client: TestClient, body: dict[str, Any], status: int,
                                              code: str, field: str | None) -> None:
    error_of(client.post("/api/recommend", json=body), status, code, field)
    still_serving(client)


def test_several_problems_are_all_named(client: TestClient) -> None:
    error = error_of(client.post("/api/recommend", json={"profile": {"age": -1, "grade": 7}}),
                     422, "invalid_value", "profile.age")
    assert {d["field"] for d in error["details"]} == {"profile.age", "profile.grade"}


def test_invalid_json_and_non_objects(client: TestClient) -> None:
    headers = {"content-type": "application/json"}
    error_of(client.post("/api/recommend", content=b'{"text": ', headers=headers), 400, "invalid_json")
    still_serving(client)
    error_of(client.post("/api/recommend", content=b"[1, 2]", headers=headers), 422, "invalid_body")
    still_serving(client)
    error_of(client.post("/api/recommend", content=b"text=hello",
                         headers={"content-type": "application/x-www-form-urlencoded"}),
             415, "unsupported_media_type")
    still_serving(client)


def test_assessments_go_to_the_audit_trail_without_the_text(client: TestClient) -> None:
    text = SEED_SCENARIO + " Patient name Zebulon Quartermaine."
    response = client.post("/api/recommend", json={"text": text})
    assert response.headers["x-audit"] == "recorded"
    entry = client.get("/api/audit", params={"limit": 1}, headers=ADMIN).json()[0]
    assert entry["surface"] == "api.recommend"
    assert entry["kb_version"] == response.json()["kb_version"]
    assert entry["input_sha256"] == input_hash({"text": text, "profile": None, "indication": None,
                                                "include_retired": False})
    assert entry["result"]["matches"][0]["topic_id"] == 310
    stored = json.dumps(entry)
    assert "Zebulon" not in stored and "58-year-old woman" not in stored
    assert entry["result"]["indication"]["text"] == ""
    assert entry["result"]["profile"]["evidence"] == {}


def test_audit_paging_and_limits(client: TestClient) -> None:
    assert client.get("/api/audit", params={"limit": 100}, headers=ADMIN).status_code == 200
    error_of(client.get("/api/audit", params={"limit": 500}, headers=ADMIN), 422, "invalid_value", "limit")
    error_of(client.get("/api/audit", params={"limit": 0}, headers=ADMIN), 422, "invalid_value", "limit")
    error_of(client.get("/api/audit", params={"limit": "many"}, headers=ADMIN), 422, "invalid_value", "limit")
    still_serving(client)


# --- ask ------------------------------------------------------------------------------------------

def test_ask_seed_question_is_the_same_json_as_the_cli(client: TestClient) -> None:
    response = client.post("/api/ask", json={"question": SEED_QUESTION})
    assert response.status_code == 200
    body = response.json()
    assert body == cli_json("ask", SEED_QUESTION)
    assert body["intent"] == "compare" and not body["personalized"]
    assert body["disclaimer"] and body["sources"]
    assert [s for s in body["sections"] if s["paragraphs"] or s["bullets"]]


def test_ask_with_context_text_or_profile_is_personalised(client: TestClient) -> None:
    context = "I am 58, just diagnosed, stage I, ER positive HER2 negative."
    by_text = client.post("/api/ask", json={"question": "Do I need a PET scan?",
                                            "context": {"text": context}})
    assert by_text.status_code == 200 and by_text.json()["personalized"]
    assert by_text.json() == cli_json("ask", "Do I need a PET scan?", "--context", context)
    by_profile = client.post("/api/ask", json={
        "question": "Do I need a PET scan?",
        "context": {"profile": {"age": 58, "stage": "I", "er": "positive", "her2": "negative"},
                    "indication": {"phase": "new_diagnosis"}}})
    assert by_profile.status_code == 200 and by_profile.json()["personalized"]


@pytest.mark.parametrize(("body", "code", "field"), [
    ({"question": ""}, "unusable_question", "question"),
    ({"question": "   "}, "unusable_question", "question"),
    ({}, "missing_field", "question"),
    ({"question": "x" * 2001}, "invalid_value", "question"),
    ({"question": "PET?", "context": {}}, "invalid_value", "context"),
    ({"question": "PET?", "context": {"text": ""}}, "unusable_text", "context.text"),
    ({"question": "PET?", "context": {"text": "stage I", "profile": {}}}, "invalid_value", "context"),
    ({"question": "PET?", "context": {"text": "stage I", "extra": 1}}, "unknown_field",
     "context.extra"),
    ({"question": "PET?", "lang": "fr"}, "unknown_field", "lang"),
])
def test_ask_refuses_bad_input(client: TestClient, body: dict[str, Any], code: str,
                               field: str) -> None:
    error_of(client.post("/api/ask", json=body), 422, code, field)
    still_serving(client)


# --- extract ------------------------------------------------------------------------------------

def test_extract_text_gives_facts_with_their_words(client: TestClient) -> None:
    text = "Invasive ductal carcinoma, grade 2, 18 mm. ER positive (95%), PR positive, HER2 negative."
    response = client.post("/api/extract", json={"text": text})
    assert response.status_code == 200
    body = response.json()
    assert body["profile"]["her2"] == "negative" and body["profile"]["grade"] == 2
    for field in ("her2", "grade", "er"):
        quoted = body["evidence"][field][0]["text"]
        assert quoted and quoted in text
    assert body["sources"][0]["kind"] == "text"


def test_extract_pdf_upload(client: TestClient) -> None:
    files = {"file": ("pathology.pdf", pathology_pdf(), "application/pdf")}
    response = client.post("/api/extract", files=files)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["profile"]["her2"], body["profile"]["histology"], body["profile"]["tumor_size_mm"]) \
        == ("positive", "ductal", 18.0)
    evidence = body["evidence"]["her2"][0]
    assert evidence["source"] == "pathology.pdf" and evidence["page"] == 1
    assert body["sources"] == [{"name": "pathology.pdf", "kind": "pdf", "date": None,
                                "chars": body["sources"][0]["chars"], "pages": 1, "resources": None}]


def test_extract_several_files_at_once(client: TestClient) -> None:
    files = [("file", ("a.pdf", pathology_pdf(), "application/pdf")),
             ("file", ("b.txt", b"Clinical stage IIA. No bone pain.", "text/plain"))]
    response = client.post("/api/extract", files=files)
    assert response.status_code == 200, response.text
    assert [s["name"] for s in response.json()["sources"]] == ["a.pdf", "b.txt"]


@pytest.mark.parametrize(("files", "code"), [
    ({"file": ("report.pdf", b"\x00\x01\x02 not a pdf" * 50, "application/pdf")}, "unreadable_file"),
    ({"file": ("scan.txt", bytes(range(256)) * 40, "text/plain")}, "unreadable_file"),
    ({"file": ("empty.txt", b"", "text/plain")}, "unreadable_file"),
    ({"file": ("bundle.json", b'{"resourceType": "Bundle", "entry": [', "application/json")},
     "unreadable_file"),
])
def test_extract_refuses_junk_files(client: TestClient, files: dict[str, Any], code: str) -> None:
    error_of(client.post("/api/extract", files=files), 422, code, "file")
    still_serving(client)


def test_extract_refuses_oversize_uploads_with_the_limit(client: TestClient) -> None:
    big = b"Invasive ductal carcinoma. " * (5 * 1024 * 1024 // 27 + 10)
    error = error_of(client.post("/api/extract", files={"file": ("big.txt", big, "text/plain")}),
                     413, "payload_too_large")
    assert "5 MB" in error["message"]
    still_serving(client)
    error_of(client.post("/api/extract", json={"text": "x" * (6 * 1024 * 1024)}), 413,
             "payload_too_large")
    still_serving(client)


def test_extract_refuses_bad_requests(client: TestClient) -> None:
    error_of(client.post("/api/extract", json={"text": ""}), 422, "unreadable_file", "text")
    error_of(client.post("/api/extract", json={"text": "IDC", "note": 1}), 422, "unknown_field", "note")
    error_of(client.post("/api/extract", content=b"{oops", headers={"content-type": "application/json"}),
             400, "invalid_json")
    error_of(client.post("/api/extract", content=b"plain words", headers={"content-type": "text/plain"}),
             415, "unsupported_media_type")
    error_of(client.post("/api/extract", data={"other": "x"},
                         files={"file": ("a.txt", b"IDC grade 2", "text/plain")}),
             422, "unknown_field", "other")
    error_of(client.post("/api/extract", files={"file": (None, "not a file")}), 422, "invalid_value", "file")
    still_serving(client)


# --- stage --------------------------------------------------------------------------------------

def test_stage_is_the_same_json_as_the_cli(client: TestClient) -> None:
    case = {"t": "T1c", "n": "N0", "m": "M0", "grade": 2, "er": "positive", "pr": "positive",
            "her2": "negative"}
    response = client.post("/api/stage", json=case)
    assert response.status_code == 200
    args = [x for k, v in case.items() for x in (f"--{k}", str(v))]
    assert response.json() == cli_json("stage", *args)
    assert response.json()["anatomic"] == "IA"


@pytest.mark.parametrize(("body", "code", "field"), [
    ({"t": "T9", "n": "N0", "m": "M0"}, "staging_error", "t"),
    ({"t": "T1", "n": "N0", "m": "M0", "her2": "sort of"}, "staging_error", "her2"),
    ({}, "missing_field", "t"),
    ({"t": "T1", "stage": "I"}, "unknown_field", "stage"),
    ({"t": ["T1"]}, "invalid_value", "t"),
])
def test_stage_refuses_bad_input(client: TestClient, body: dict[str, Any], code: str,
                                 field: str) -> None:
    error_of(client.post("/api/stage", json=body), 422, code, field)
    still_serving(client)


# --- saved profiles -------------------------------------------------------------------------------

def test_profiles_are_saved_only_on_request_read_back_and_deleted(client: TestClient) -> None:
    body = {"profile": {"age": 58, "her2": "positive",
                        "evidence": {"her2": [{"text": "HER2 3+", "source": "report.pdf"}]}},
            "indication": {"phase": "new_diagnosis"}, "label": "my biopsy"}
    saved = client.post("/api/profiles", json=body)
    assert saved.status_code == 201
    pid = saved.json()["id"]
    got = client.get(f"/api/profiles/{pid}").json()
    assert got["profile"]["her2"] == "positive" and got["label"] == "my biopsy"
    assert got["profile"]["evidence"]["her2"][0]["text"] == "HER2 3+"
    assert got["record_text"] is None  # never kept unless sent
    assert client.delete(f"/api/profiles/{pid}").status_code == 204
    error_of(client.get(f"/api/profiles/{pid}"), 404, "not_found", "profile_id")
    error_of(client.delete(f"/api/profiles/{pid}"), 404, "not_found", "profile_id")


def test_record_text_is_kept_when_sent(client: TestClient) -> None:
    saved = client.post("/api/profiles", json={"profile": {}, "record_text": "ER positive"}).json()
    assert client.get(f"/api/profiles/{saved['id']}").json()["record_text"] == "ER positive"


def test_profiles_refuse_bad_input(client: TestClient) -> None:
    error_of(client.get("/api/profiles/not-an-id"), 422, "invalid_value", "profile_id")
    error_of(client.post("/api/profiles", json={}), 422, "missing_field", "profile")
    error_of(client.post("/api/profiles", json={"profile": {}, "owner": "me"}), 422, "unknown_field",
             "owner")
    still_serving(client)


# --- addresses and methods ------------------------------------------------------------------------

def test_unknown_addresses_and_methods_are_json_errors(client: TestClient) -> None:
    error_of(client.get("/api/nothing-here"), 404, "not_found")
    error_of(client.get("/api/recommend"), 405, "method_not_allowed")
    still_serving(client)


def test_openapi_lists_every_endpoint(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/recommend", "/api/ask", "/api/extract", "/api/stage", "/api/kb", "/api/profiles",
            "/api/profiles/{profile_id}", "/api/audit", "/healthz"} <= set(paths)
    body = paths["/api/extract"]["post"]["requestBody"]["content"]
    assert {"multipart/form-data", "application/json"} <= set(body)


def test_docs_page_works_offline(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert "/api/recommend" in page.text and "Try it" in page.text
    assert "cdn" not in page.text.lower() and "https://" not in page.text.split("<main")[0]


# --- faults, timeouts, privacy ----------------------------------------------------------------------

@pytest.fixture()
def fresh(tmp_path: Path) -> Iterator[tuple[TestClient, Services]]:
    app = create_app(WebSettings(db=str(tmp_path / "f.db")))
    with TestClient(app, **LOCAL) as c:
        yield c, app.state.services


def _broken(_core: Any, text: str, **_: Any) -> None:
    raise RuntimeError(f"cannot read {text}")  # an exception message holding user text


def test_a_fault_is_a_json_500_without_details_and_the_service_goes_on(
        fresh: tuple[TestClient, Services], monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    client, svc = fresh
    monkeypatch.setattr(svc, "assess_text", _broken)  # the worker runs it by reference
    with caplog.at_level(logging.INFO, logger="scanwise.web"):
        response = client.post("/api/recommend", json={"text": "Zebulon Quartermaine, stage I"})
    error_of(response, 500, "internal_error")
    assert "Zebulon" not in response.text
    assert "Zebulon" not in caplog.text  # the log names the fault, not the data
    assert "RuntimeError" in caplog.text
    still_serving(client)


def test_requests_are_logged_by_id_size_and_time_never_by_content(
        fresh: tuple[TestClient, Services], caplog: pytest.LogCaptureFixture) -> None:
    client, _ = fresh
    with caplog.at_level(logging.INFO, logger="scanwise.web"):
        client.post("/api/recommend", json={"text": SEED_SCENARIO + " Zebulon"})
        client.post("/api/extract", files={"file": ("Zebulon.pdf", pathology_pdf(), "application/pdf")})
    assert "Zebulon" not in caplog.text and "ductal" not in caplog.text
    assert "POST /api/recommend status=200" in caplog.text


def test_work_past_the_deadline_is_a_504(tmp_path: Path) -> None:
    app = create_app(WebSettings(db=str(tmp_path / "t.db"), timeout_s=1e-9))
    with TestClient(app, **LOCAL) as client:
        error = error_of(client.post("/api/recommend", json={"text": SEED_SCENARIO}), 504, "timeout")
        assert "seconds" in error["message"]
        assert client.get("/api/kb").status_code == 200  # no CPU work: still served


def test_audit_failure_still_answers_and_says_so(fresh: tuple[TestClient, Services],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    client, svc = fresh

    def down(*_: Any, **__: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(svc.store, "record_assessment", down)
    response = client.post("/api/recommend", json={"text": SEED_SCENARIO})
    assert response.status_code == 200
    assert response.headers["x-audit"] == "failed"


def test_health_reports_a_database_fault(fresh: tuple[TestClient, Services],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    client, svc = fresh

    def down() -> None:
        raise OSError("gone")

    monkeypatch.setattr(svc.store, "ping", down)
    assert client.get("/healthz").json()["database"] == "unavailable"


def test_no_audit_when_switched_off(tmp_path: Path) -> None:
    app = create_app(WebSettings(db=str(tmp_path / "a.db"), audit=False, admin_token=ADMIN_TOKEN))
    with TestClient(app, **LOCAL) as client:
        client.post("/api/recommend", json={"text": SEED_SCENARIO})
        assert client.get("/api/audit", headers=ADMIN).json() == []


def test_concurrent_requests_read_text_safely(tmp_path: Path) -> None:
    """The text pipeline is not thread-safe by itself; many requests at once must still all work
    and give what one request alone gives."""
    import anyio
    import httpx

    from scanwise.eval.runner import load_scenarios

    texts = [c.text for c in load_scenarios()][:40] * 3
    app = create_app(WebSettings(db=str(tmp_path / "c.db"), processes=2, max_waiting=len(texts)))

    async def run_all() -> list[Any]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as http:
            results: list[Any] = [None] * len(texts)

            async def one(i: int) -> None:
                response = await http.post("/api/recommend", json={"text": texts[i]})
                results[i] = (response.status_code, response.json())

            async with anyio.create_task_group() as tg:
                for i in range(len(texts)):
                    tg.start_soon(one, i)
            return results

    together = anyio.run(run_all)
    assert [status for status, _ in together] == [200] * len(texts)
    with TestClient(app, **LOCAL) as client:
        for text, (_, body) in list(zip(texts, together, strict=True))[:40]:
            assert client.post("/api/recommend", json={"text": text}).json() == body
