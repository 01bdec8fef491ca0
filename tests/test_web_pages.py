"""The server-rendered pages in process: forms, the facts step, saving, articles, errors.

The browser tests (test_web_browser.py) drive the same pages in Chromium; these check what the
server sends for each form action, including refusals.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from test_web_api import SEED_QUESTION, SEED_SCENARIO, pathology_pdf
from typer.testing import CliRunner

from scanwise.cli import app as cli_app
from scanwise.domain.kb import KnowledgeBase
from scanwise.domain.profile import Evidence, Indication, PatientProfile
from scanwise.nlp.scenario import read_profile
from scanwise.web import WebSettings, create_app
from scanwise.web.facts_form import FormProblem, build_form, read_form

NO_FILE = {"file": ("", b"", "application/octet-stream")}  # what a browser sends for an empty input


TOKEN = "pages-admin-token"

@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    db = tmp_path_factory.mktemp("pages") / "pages.db"
    # As a browser on this site: Host localhost, forms sent from its own pages.
    with TestClient(create_app(WebSettings(db=str(db), admin_token=SecretStr(TOKEN))), base_url="http://localhost",
                    headers={"origin": "http://localhost"}) as c:
        yield c


def words(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, name
    return found[1].replace("&#34;", '"').replace("&quot;", '"').replace("&amp;", "&")


# --- patient page --------------------------------------------------------------------------------

def test_patient_page_has_landmarks_labels_and_the_limit(client: TestClient) -> None:
    page = client.get("/").text
    for part in ('<main id="main"', "<header", "<footer", '<nav aria-label="Main"',
                 'class="skip" href="#main"', '<label for="question">', '<label for="situation">',
                 '<label for="records">', 'aria-current="page"', 'lang="en"'):
        assert part in page, part
    assert "up to 5 MB" in page
    assert "https://" not in page.split("<footer")[0]  # nothing loaded from elsewhere


def test_asking_shows_sections_sources_notice_and_follow_ups(client: TestClient) -> None:
    response = client.post("/", data={"question": SEED_QUESTION, "action": "ask"}, files=NO_FILE)
    assert response.status_code == 200
    text = words(response.text)
    for heading in ("Short answer", "In this answer", "Side by side", "Sources", "Not medical advice",
                    "You might also ask"):
        assert heading in text, heading
    assert 'href="#src-1"' in response.text and 'id="src-1"' in response.text
    assert "Check the facts" not in text  # nothing personal was given


def test_a_described_situation_is_shown_for_checking_before_it_is_used(client: TestClient) -> None:
    situation = "I am 58, just diagnosed, stage I, ER positive HER2 negative"
    response = client.post("/", data={"question": "Do I need a PET scan?", "situation": situation,
                                      "action": "ask"}, files=NO_FILE)
    assert response.status_code == 200
    text = words(response.text)
    assert "Check the facts we read" in text
    assert "“HER2 negative”" in text or "HER2 negative" in text
    assert 'id="answer-title"' not in response.text  # no answer until the facts are confirmed
    assert '<option value="negative" selected>' in response.text


def test_edited_facts_personalise_the_answer_and_say_who_entered_them(client: TestClient) -> None:
    step = client.post("/", data={"question": "Do I need a PET scan?", "action": "ask",
                                  "situation": "I am 58, just diagnosed, stage I, HER2 negative"},
                       files=NO_FILE).text
    form = {"question": "Do I need a PET scan?", "action": "ask", "lists_shown": "1",
            "profile_json": hidden(step, "profile_json"),
            "indication_json": hidden(step, "indication_json"),
            "profile.age": "58", "profile.stage": "I", "profile.her2": "positive",
            "indication.phase": "new_diagnosis"}
    response = client.post("/", data=form, files=NO_FILE)
    assert response.status_code == 200
    assert "Tailored to the facts above" in response.text
    assert "entered by you: positive" in response.text


def test_saving_loading_and_deleting_facts(client: TestClient) -> None:
    step = client.post("/", data={"question": "PET?", "situation": "stage II, HER2 positive",
                                  "action": "ask"}, files=NO_FILE).text
    form = {"question": "PET?", "action": "save", "lists_shown": "1",
            "profile_json": hidden(step, "profile_json"), "profile.stage": "II",
            "profile.her2": "positive", "indication_json": hidden(step, "indication_json")}
    saved = client.post("/", data=form, files=NO_FILE)
    assert saved.status_code == 201
    pid = re.search(r"/\?profile=([0-9a-f]{32})", saved.text)
    assert pid, "the page gives the link to come back"
    loaded = client.get(f"/?profile={pid[1]}")
    assert loaded.status_code == 200 and "Your saved facts are loaded" in loaded.text
    assert '<option value="positive" selected>' in loaded.text
    deleted = client.post(f"/saved/{pid[1]}/delete")
    assert deleted.status_code == 200 and "Deleted" in deleted.text
    assert client.get(f"/?profile={pid[1]}").status_code == 404
    assert client.post(f"/saved/{pid[1]}/delete").status_code == 404


def test_patient_page_problems_are_named(client: TestClient) -> None:
    empty = client.post("/", data={"question": "", "action": "ask"}, files=NO_FILE)
    assert empty.status_code == 422 and "Type a question first" in empty.text
    junk = client.post("/", data={"question": "PET?", "action": "ask"},
                       files={"file": ("scan.pdf", b"\x00\x01 junk" * 30, "application/pdf")})
    assert junk.status_code == 422 and "scan.pdf" in junk.text
    big = client.post("/", data={"question": "PET?"},
                      files={"file": ("big.txt", b"a" * (5 * 1024 * 1024 + 1), "text/plain")})
    assert big.status_code == 413 and "5 MB" in big.text
    bad = client.post("/", data={"question": "PET?", "action": "ask", "lists_shown": "1",
                                 "profile_json": PatientProfile().model_dump_json(),
                                 "indication_json": "{}", "profile.age": "-4"}, files=NO_FILE)
    assert bad.status_code == 422 and "Age (years)" in bad.text
    assert client.get("/healthz").status_code == 200


def test_uploaded_pdf_facts_are_shown_with_their_source(client: TestClient) -> None:
    response = client.post("/", data={"question": "Do I need a PET scan?", "action": "ask"},
                           files={"file": ("pathology.pdf", pathology_pdf(), "application/pdf")})
    assert response.status_code == 200
    text = words(response.text)
    assert "Read from" in text and "pathology.pdf" in text
    assert "in pathology.pdf, page 1" in text
    assert '<option value="ductal" selected>' in response.text


# --- clinician page ----------------------------------------------------------------------------

def test_clinician_seed_scenario(client: TestClient) -> None:
    response = client.post("/clinician", data={"scenario": SEED_SCENARIO}, files=NO_FILE)
    assert response.status_code == 200
    text = words(response.text)
    assert "Best fit: ACR topic 310, variant 2" in text
    row = re.search(r"<tr[^>]*>(?:(?!</tr>).)*FDG-PET/CT(?:(?!</tr>).)*</tr>", response.text, re.S)
    assert row and "Usually Not Appropriate" in row[0] and "asked" in row[0]
    assert 'href="/articles/310/2"' in response.text
    assert "What would refine this" in text or not re.search("missing", text)
    assert "Not medical advice" in text
    audit = client.get("/api/audit", params={"limit": 1},
                       headers={"authorization": f"Bearer {TOKEN}"}).json()[0]
    assert audit["surface"] == "web.clinician"


def test_clinician_note_upload_with_a_question(client: TestClient) -> None:
    response = client.post("/clinician", data={"scenario": "New diagnosis. Staging for distant disease?"},
                           files={"file": ("pathology.pdf", pathology_pdf(), "application/pdf")})
    assert response.status_code == 200
    text = words(response.text)
    assert "pathology.pdf" in text and "HER2" in text
    assert "ACR topic" in text


def test_clinician_refusals(client: TestClient) -> None:
    empty = client.post("/clinician", data={"scenario": "  "}, files=NO_FILE)
    assert empty.status_code == 422 and "Type or paste a scenario" in empty.text
    big = client.post("/clinician", data={"scenario": "staging?"},
                      files={"file": ("big.txt", b"a" * (5 * 1024 * 1024 + 1), "text/plain")})
    # the clinician page itself says so, with its scenario form (the same reading as the patient's)
    assert big.status_code == 413 and "5 MB" in big.text and 'name="scenario"' in big.text
    assert client.get("/healthz").status_code == 200


# --- articles, docs, errors --------------------------------------------------------------------

def test_articles_are_browsable_and_each_has_one_address(client: TestClient) -> None:
    root = client.get("/articles", follow_redirects=False)
    assert root.status_code == 308 and root.headers["location"] == "/articles/"
    index = client.get("/articles/")
    assert index.status_code == 200 and 'id="q"' in index.text  # the search box
    assert client.get("/articles/search-index.js").status_code == 200
    assert client.get("/articles/style.css").headers["content-type"].startswith("text/css")
    article = client.get("/articles/310/2")
    assert article.status_code == 200 and "FDG-PET/CT" in article.text
    assert 'href="/articles/style.css"' in article.text
    static_name = client.get("/articles/articles/acr-310-v2.html", follow_redirects=False)
    assert static_name.status_code == 308 and static_name.headers["location"] == "/articles/310/2"


def test_unknown_pages_are_html_for_browsers(client: TestClient) -> None:
    for path in ("/no-such-page", "/articles/999/1", "/articles/nothing.txt"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("text/html")
        assert '<nav aria-label="Main"' in response.text


# --- the facts form itself ---------------------------------------------------------------------

def _profile() -> tuple[PatientProfile, Indication]:
    profile = PatientProfile(
        age=58, her2="negative", symptoms=["bone_pain"], labs={"alp": "normal"},
        evidence={"her2": [Evidence(text="HER2 negative")],
                  "symptoms:bone_pain": [Evidence(text="back pain")],
                  "labs:alp": [Evidence(text="normal ALP")]})
    return profile, Indication(phase="new_diagnosis")


def _submitted(profile: PatientProfile, indication: Indication, **fields: Any) -> dict[str, Any]:
    return {"profile_json": profile.model_dump_json(), "indication_json": indication.model_dump_json(),
            "lists_shown": "1", **fields}


def test_unchanged_facts_keep_their_evidence(kb: KnowledgeBase) -> None:
    profile, indication = _profile()
    kept = {"__lists__": {"symptoms": {"bone_pain"}, "labs": {"alp=normal"}}}
    got, ind = read_form({**_submitted(profile, indication, **{"profile.her2": "negative"}), **kept}, kb)
    assert got == profile and ind == indication


def test_changed_cleared_and_unticked_facts(kb: KnowledgeBase) -> None:
    profile, indication = _profile()
    form = _submitted(profile, indication, **{"profile.her2": "positive", "profile.age": "",
                                              "indication.phase": "surveillance"})
    form["__lists__"] = {"labs": {"alp=normal"}}
    got, ind = read_form(form, kb)
    assert got.her2 == "positive" and got.evidence["her2"][0].source == "you"
    assert got.age is None and "age" not in got.evidence
    assert got.symptoms == [] and "symptoms:bone_pain" not in got.evidence
    assert got.labs == {"alp": "normal"}
    assert ind.phase == "surveillance" and ind.evidence["phase"][0].text == "entered by you: surveillance"


def test_lists_stay_when_the_form_did_not_show_them(kb: KnowledgeBase) -> None:
    profile, indication = _profile()
    form = {"profile_json": profile.model_dump_json(), "indication_json": indication.model_dump_json()}
    assert read_form(form, kb)[0] == profile


def test_invalid_facts_name_the_field(kb: KnowledgeBase) -> None:
    profile, indication = _profile()
    with pytest.raises(FormProblem) as caught:
        read_form(_submitted(profile, indication, **{"profile.grade": "5", "profile.sex": "robot"}), kb)
    assert set(caught.value.errors) == {"profile.grade", "profile.sex"}
    with pytest.raises(FormProblem):
        read_form({"profile_json": "{not json", "indication_json": "{}"}, kb)


def test_form_offers_every_profile_field(kb: KnowledgeBase) -> None:
    profile, indication = _profile()
    form = build_form(profile, indication, kb)
    keys = {f.key for f in form.fields}
    assert {"age", "her2", "stage", "t", "phase", "purpose"} <= keys
    her2 = next(f for f in form.fields if f.key == "her2")
    assert her2.kind == "select" and her2.value == "negative" and her2.evidence
    assert [i.label for group in form.lists for i in group.items if group.key == "symptoms"]


# --- the serve command ---------------------------------------------------------------------------

def test_serve_help_and_a_bad_database() -> None:
    runner = CliRunner()
    shown = runner.invoke(cli_app, ["serve", "--help"])
    assert shown.exit_code == 0
    for option in ("--host", "--port", "--db"):
        assert option in shown.output
    failed = runner.invoke(cli_app, ["serve", "--db", "/dev/null/inside-a-file/scanwise.db"])
    assert failed.exit_code == 2
    assert "cannot" in failed.output


def test_follow_ups_are_read_as_meant_and_say_a_or_an(client: TestClient, kb: KnowledgeBase) -> None:
    from scanwise.nlp.question import understand

    svc = client.app.state.services  # type: ignore[attr-defined]
    given = svc.ask(svc.core, SEED_QUESTION)
    follow_ups = svc.follow_ups(svc.core, given)
    assert len(follow_ups) == 4
    assert "How much radiation does a CT scan give?" in follow_ups
    for question in follow_ups:
        intent = understand(question, kb, read=read_profile).intent
        assert intent not in (given.intent, "out_of_scope", "general"), question
    assert "an FDG-PET/CT" in " ".join(svc.follow_ups(svc.core, svc.ask(svc.core, "What is a PET/CT scan?")))
