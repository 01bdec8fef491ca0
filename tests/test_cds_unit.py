"""The CDS Hooks service in-process: branch and statement cards (which never rate), the trust
list and remote key sets, development mode, CORS, the data files and the `scanwise cds` CLI."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
import pytest
from cds_checks import validate_card, validate_response
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from scanwise.cds import CdsService, CdsSettings
from scanwise.cds.auth import Denied, ReplayCache, TrustError, TrustList, Verifier
from scanwise.cds.service import clean, clip, existing_rating
from scanwise.cds.vocab import Vocab
from scanwise.cli import app as cli_app
from scanwise.core import Scanwise
from scanwise.domain.assess import Branch, Decision, StatementRef
from scanwise.storage import Store

EXAMPLE = Path(__file__).parents[1] / "src" / "scanwise" / "cds" / "examples" / "order-select.json"
SELECT = "imaging-order-select"


@pytest.fixture(scope="module")
def core() -> Scanwise:
    return Scanwise.default()


def _service(core: Scanwise, **kw: Any) -> CdsService:
    return CdsService(core, Store("sqlite://"), **kw)


def _body(req: dict[str, Any] | None = None) -> bytes:
    return json.dumps(req or json.loads(EXAMPLE.read_text())).encode()


# --- cards that never rate --------------------------------------------------------------------


def test_a_branch_decision_is_an_info_card_naming_each_answer_and_no_rating(
    core: Scanwise, monkeypatch: pytest.MonkeyPatch
) -> None:
    svc = _service(core)
    real = core.assess

    def branching(profile: Any, indication: Any = None, **kw: Any) -> Any:
        a = real(profile, indication, **kw)
        return a.model_copy(
            update={
                "decision": Decision(
                    depends_on="clinical stage",
                    question="What is the clinical stage?",
                    branches=[
                        Branch(**{"if": "stage I–IIA", "topic_id": 310, "variant": 2}),
                        Branch(**{"if": "stage IIB–III", "topic_id": 310, "variant": 4}),
                    ],
                )
            }
        )

    monkeypatch.setattr(core, "assess", branching)
    data = svc.call(SELECT, _body(), "http://127.0.0.1:8000")
    validate_response(data)
    [card] = data["cards"]
    assert card["indicator"] == "info" and "depends on the clinical stage" in card["summary"]
    assert "Invasive Breast Cancer (2024)" in card["source"]["label"]
    assert "If stage I–IIA" in card["detail"] and "**Usually Not Appropriate**" in card["detail"]
    assert "If stage IIB–III" in card["detail"] and "ratings are not in the bundled data" in card["detail"]
    assert "systemActions" not in data and "suggestions" not in card


def test_a_statement_where_acr_has_no_ratings_says_so_and_never_rates(
    core: Scanwise, monkeypatch: pytest.MonkeyPatch
) -> None:
    svc = _service(core)
    real = core.assess
    statement = StatementRef(
        id="nccn-2015-early-staging",
        publisher="National Comprehensive Cancer Network (NCCN)",
        document="Breast Cancer v2.2015",
        year=2015,
        currency="old",
        verification="secondary",
        direction="not recommended",
        procedures=["FDG-PET/CT skull base to mid-thigh"],
        text="Routine body imaging is not advised for early-stage disease without symptoms.",
        url="https://www.nccn.org/guidelines/guidelines-detail?category=1&id=1419",
    )

    def unrated(profile: Any, indication: Any = None, **kw: Any) -> Any:
        a = real(profile, indication, **kw)
        best = a.matches[0].model_copy(
            update={"procedures": [], "ratings_verified": False, "statements": [statement]}
        )
        return a.model_copy(update={"matches": [best]})

    monkeypatch.setattr(core, "assess", unrated)
    data = svc.call(SELECT, _body(), "http://127.0.0.1:8000")
    validate_response(data)
    [card] = data["cards"]
    assert "not an ACR rating" in card["summary"] and "not an ACR rating" in card["source"]["label"]
    assert "NCCN" in card["source"]["label"] and "2015" in card["source"]["label"]
    assert "**not ACR ratings**" in card["detail"] and "Older version" in card["detail"]
    assert "systemActions" not in data


def test_an_order_without_any_reason_is_not_rated(core: Scanwise) -> None:
    req = json.loads(EXAMPLE.read_text())
    del req["context"]["draftOrders"]["entry"][0]["resource"]["reasonCode"]
    data = _service(core).call(SELECT, _body(req), "http://127.0.0.1:8000")
    validate_response(data)
    assert data["cards"][0]["indicator"] == "info" and "systemActions" not in data


def test_an_earlier_rating_is_read_with_its_synonym_and_replaced(core: Scanwise) -> None:
    req = json.loads(EXAMPLE.read_text())
    sr = req["context"]["draftOrders"]["entry"][0]["resource"]
    sr["extension"] = [
        {
            "url": "http://fhir.org/argonaut/Extension/pama-rating",
            "valueCodeableConcept": {
                "coding": [
                    {
                        "system": "http://fhir.org/argonaut/CodeSystem/pama-rating",
                        "code": "no-guidelines-apply",
                    }
                ]
            },
        }
    ]
    assert existing_rating(sr) == "no-criteria-apply"
    data = _service(core).call(SELECT, _body(req), "http://127.0.0.1:8000")
    ext = data["systemActions"][0]["resource"]["extension"]
    assert [e["url"] for e in ext].count("http://fhir.org/argonaut/Extension/pama-rating") == 1
    assert "earlier rating (no-criteria-apply)" in data["cards"][0]["detail"]


def test_the_validator_catches_broken_cards() -> None:
    good = {"uuid": "u", "summary": "s", "indicator": "info", "source": {"label": "scanwise"}}
    validate_card(good)
    for broken in (
        {**good, "summary": "x" * 140},
        {**good, "indicator": "urgent"},
        {**good, "suggestions": [{"label": "a", "uuid": "v"}]},
        {**good, "overrideReasons": [{"system": "s", "code": "c"}]},
        {**good, "links": [{"label": "a", "url": "/relative", "type": "absolute"}]},
        {**good, "source": {"label": "someone else"}},
    ):
        with pytest.raises(AssertionError):
            validate_card(broken)
    with pytest.raises(AssertionError):
        validate_response({"cards": [{**good, "detail": ""}]})


def test_clean_and_clip() -> None:
    assert clean({"a": None, "b": "", "c": [], "d": {"e": [None, " "]}, "f": 0, "g": False}) == {
        "f": 0,
        "g": False,
    }
    assert len(clip("word " * 60)) < 140 and clip("word " * 60).endswith("…")


# --- the data files ------------------------------------------------------------------------------


def test_reason_codes_are_read_as_intended(core: Scanwise) -> None:
    v = Vocab(core.kb)
    icd = "http://hl7.org/fhir/sid/icd-10-cm"
    assert v.words_for(icd, "C50.911") == "breast cancer" and v.words_for(icd, "c50.412") == "breast cancer"
    assert v.words_for(icd, "C34.11") is None and v.words_for(None, "C50") is None
    profile, _ = core.read_text(v.words_for(icd, "Z85.3") or "")
    assert profile.cancer_history is True
    profile, _ = core.read_text(v.words_for(icd, "Z80.3") or "")
    assert profile.family_history and profile.cancer_history is not True
    _, indication = core.read_text(v.words_for(icd, "N63.20") or "")
    assert indication.phase == "diagnostic_workup"


def test_every_mapped_loinc_or_snomed_order_code_has_a_checked_source(core: Scanwise) -> None:
    for oc in core.kb.order_codes:
        if oc.system != "http://www.ama-assn.org/go/cpt":
            src = core.kb.sources[oc.source]
            assert src.url and src.publisher
    assert core.kb.order_code("http://loinc.org", "24601-7") is not None


@pytest.mark.parametrize(
    ("system", "code", "cpt"),
    [
        ("http://loinc.org", "36277-2", "77049"),  # breast MRI without and with contrast, both breasts
        ("http://loinc.org", "24605-8", "77066"),  # diagnostic mammogram
        ("http://snomed.info/sct", "47079000", "76641"),  # breast ultrasound
    ],
)
def test_a_loinc_or_snomed_order_is_rated_as_the_same_study_in_cpt(
    core: Scanwise, system: str, code: str, cpt: str
) -> None:
    svc = _service(core)

    def rating(sys_: str, code_: str) -> tuple[str | None, list[str]]:
        req = json.loads(EXAMPLE.read_text())
        req["context"]["draftOrders"]["entry"][0]["resource"]["code"] = {
            "coding": [{"system": sys_, "code": code_}]}
        data = svc.call(SELECT, _body(req), "http://127.0.0.1:8000")
        validate_response(data)
        codes = [c["code"] for a in data.get("systemActions", [])
                 for e in a["resource"]["extension"] if e["url"].endswith("pama-rating")
                 for c in e["valueCodeableConcept"]["coding"]]
        return (codes[0] if codes else None), [c["summary"].split(":", 1)[1] for c in data["cards"]]

    assert rating(system, code) == rating("http://www.ama-assn.org/go/cpt", cpt)
    assert rating(system, code)[0] is not None  # rated, not left unmapped


# --- trust --------------------------------------------------------------------------------------

KEY = ec.generate_private_key(ec.SECP384R1())


def _jwk(kid: str) -> dict[str, Any]:
    data = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(KEY.public_key()))
    return {**data, "kid": kid, "alg": "ES384"}


def _token(aud: str, kid: str, iss: str = "https://ehr.example.org") -> str:
    now = int(time.time())
    return jwt.encode(
        {"iss": iss, "aud": aud, "exp": now + 60, "iat": now, "jti": str(uuid.uuid4())},
        KEY,
        algorithm="ES384",
        headers={"kid": kid},
    )


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        json.dumps({"issuers": [{"iss": "a", "jwks_url": "http://plain.example.org/jwks"}]}),
        json.dumps({"issuers": [{"iss": "a", "jwks": {"keys": []}, "jwks_url": "https://x.example.org"}]}),
        json.dumps({"issuers": [{"iss": "a"}]}),
        json.dumps({"issuer": []}),
    ],
)
def test_a_bad_trust_file_is_refused_at_start(tmp_path: Path, content: str) -> None:
    path = tmp_path / "trust.json"
    path.write_text(content)
    with pytest.raises(TrustError, match="trust.json"):
        TrustList.load(path)


def test_a_remote_key_set_is_cached_and_fetched_again_for_an_unknown_kid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import scanwise.cds.auth as auth

    monkeypatch.setattr(auth, "REFRESH_MIN_S", 0.0)
    served = {"keys": [_jwk("k1")]}
    fetched: list[str] = []

    def get(url: str) -> dict[str, Any]:
        fetched.append(url)
        return served

    path = tmp_path / "trust.json"
    path.write_text(
        json.dumps(
            {"issuers": [{"iss": "https://ehr.example.org", "jwks_url": "https://ehr.example.org/jwks"}]}
        )
    )
    verifier = Verifier(TrustList.load(path, get=get))
    url = "https://cds.example.org/cds-services"
    verifier.check("Bearer " + _token(url, "k1"), url)
    verifier.check("Bearer " + _token(url, "k1"), url)
    assert fetched == ["https://ehr.example.org/jwks"]  # cached
    served = {"keys": [_jwk("k1"), _jwk("k2")]}  # the EHR rotates in a new key
    verifier.check("Bearer " + _token(url, "k2"), url)
    assert len(fetched) == 2
    with pytest.raises(Denied):
        verifier.check("Bearer " + _token(url, "k3"), url)


def test_no_trust_file_denies_everything() -> None:
    with pytest.raises(Denied):
        Verifier(None).check("Bearer x", "https://cds.example.org/cds-services")


# --- the app: 401 by default, development mode, CORS ------------------------------------------------


def _client(tmp_path: Path, cds: CdsSettings) -> TestClient:
    from scanwise.web import WebSettings, create_app

    # The server answers loopback host names only (Host allowlist).
    return TestClient(create_app(WebSettings(db=str(tmp_path / "db.sqlite")), cds=cds),
                      base_url="http://localhost")


def test_without_a_trust_file_the_cds_endpoints_answer_401(tmp_path: Path) -> None:
    with _client(tmp_path, CdsSettings()) as client:
        assert client.get("/cds-services").status_code == 401
        resp = client.post(f"/cds-services/{SELECT}", content=_body())
        assert resp.status_code == 401 and resp.content == b""
        assert client.get("/healthz").status_code == 200  # the rest of the app is unaffected


def test_unsigned_development_mode_says_so_in_every_card(tmp_path: Path) -> None:
    with _client(tmp_path, CdsSettings(allow_unsigned=True)) as client:
        resp = client.post(f"/cds-services/{SELECT}", content=_body())
        assert resp.status_code == 200
        assert all(c["source"]["label"].startswith("[UNSIGNED DEV MODE") for c in resp.json()["cards"])


def test_cors_only_for_the_configured_origins(tmp_path: Path) -> None:
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}
    with _client(
        tmp_path, CdsSettings(allow_unsigned=True, cors_origins=["https://ehr.example.org"])
    ) as client:
        ok = client.options(
            f"/cds-services/{SELECT}", headers={"Origin": "https://ehr.example.org", **preflight}
        )
        assert ok.headers.get("access-control-allow-origin") == "https://ehr.example.org"
        other = client.options(
            f"/cds-services/{SELECT}", headers={"Origin": "https://evil.example.org", **preflight}
        )
        assert "access-control-allow-origin" not in other.headers
        page = client.get("/healthz", headers={"Origin": "https://ehr.example.org"})
        assert "access-control-allow-origin" not in page.headers  # CDS paths only
    with _client(tmp_path, CdsSettings(allow_unsigned=True)) as client:
        resp = client.get("/cds-services", headers={"Origin": "https://ehr.example.org"})
        assert "access-control-allow-origin" not in resp.headers


# --- the CLI ------------------------------------------------------------------------------------


def test_cli_example_and_call() -> None:
    runner = CliRunner()
    example = runner.invoke(cli_app, ["cds", "example", "order-select"])
    assert example.exit_code == 0 and json.loads(example.stdout)["hook"] == "order-select"
    as_json = runner.invoke(cli_app, ["cds", "call", "-", "--json"], input=example.stdout)
    assert as_json.exit_code == 0, as_json.output
    validate_response(json.loads(as_json.stdout))
    readable = runner.invoke(cli_app, ["cds", "call", "-"], input=example.stdout)
    assert "Usually Not Appropriate" in readable.stdout and "not-appropriate" in readable.stdout
    bad = runner.invoke(cli_app, ["cds", "call", "-"], input="{}")
    assert bad.exit_code == 2


def test_a_repeated_order_gives_the_same_answer_and_a_changed_record_a_new_one(core: Scanwise) -> None:
    svc = _service(core)
    req = json.loads(EXAMPLE.read_text())
    first = svc.call(SELECT, _body(req), "http://127.0.0.1:8000")
    again = svc.call(SELECT, _body(req), "http://127.0.0.1:8000")
    assert first["cards"][0]["detail"] == again["cards"][0]["detail"]
    assert first["cards"][0]["uuid"] != again["cards"][0]["uuid"]
    stage = req["prefetch"]["observations"]["entry"][0]["resource"]
    stage["valueCodeableConcept"] = {"text": "Stage IIIA"}
    changed = svc.call(SELECT, _body(req), "http://127.0.0.1:8000")
    assert "variant 4" in changed["cards"][0]["detail"] and "systemActions" not in changed


def test_a_deeply_nested_body_is_a_400_not_a_fault(core: Scanwise) -> None:
    from scanwise.cds import HookError

    with pytest.raises(HookError) as err:
        _service(core).call(SELECT, b"[" * 100_000 + b"]" * 100_000, "http://127.0.0.1:8000")
    assert err.value.status == 400


def test_a_jti_is_refused_while_its_token_is_valid_and_forgotten_once_it_expires(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = [1_000_000.0]
    monkeypatch.setattr(time, "time", lambda: clock[0])
    cache = ReplayCache()
    assert cache.first_use("iss", "a", clock[0] + 60)
    assert not cache.first_use("iss", "a", clock[0] + 60)  # a replay
    assert cache.first_use("other-iss", "a", clock[0] + 60)  # per issuer
    for i in range(5000):  # many tokens of the last minute: all kept, none swept early
        assert cache.first_use("iss", f"j{i}", clock[0] + 30 + i / 1000)
    assert not cache.first_use("iss", "j4999", clock[0] + 99)
    clock[0] += 61  # every token above has expired: their pairs leave as they fall due
    assert cache.first_use("iss", "x", clock[0] + 60)
    assert len(cache._seen) == 1 and len(cache._expiry) == 1
    assert cache.first_use("iss", "a", clock[0] + 60)  # an expired pair may come back: its token is dead


def test_clean_drops_nulls_and_empties_at_any_depth_and_keeps_falsy_values() -> None:
    data = {"a": None, "b": "", "c": "  ", "d": [], "e": {}, "f": [None, "", {"g": [{}]}],
            "h": 0, "i": False, "j": [0, "x", {"k": "v", "l": None}], "m": {"n": {"o": []}}}
    assert clean(data) == {"h": 0, "i": False, "j": [0, "x", {"k": "v"}]}
