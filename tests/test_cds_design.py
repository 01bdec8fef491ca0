"""What keeps CDS Hooks calls fast under load, checked without timing anything.

- a call is answered in the web app's worker processes (each with its own reader), not in the
  web process, whose threads would queue on one reader;
- those workers keep their start-up heap out of garbage collection;
- a trusted issuer's keys are parsed once, not on every call;
- a draft-order Bundle is validated once per content;
- the audit of calls waiting together is written in one transaction, and a call the store
  refuses never loses the others of its batch.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import anyio
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient

from scanwise.cds import CdsSettings, work
from scanwise.cds import auth as auth_module
from scanwise.cds import service as service_module
from scanwise.cds.auth import TrustList, Verifier
from scanwise.cds.recorder import Recorder
from scanwise.storage import CdsCall, Store
from scanwise.web.workers import worker_state

EXAMPLE = Path(__file__).parents[1] / "src" / "scanwise" / "cds" / "examples" / "order-select.json"
SELECT = "imaging-order-select"


def _cds_services(_core: Any) -> tuple[int, int]:
    """(process id, CDS services built) of the worker that runs this."""
    return os.getpid(), len(work._SERVICES)


def test_a_call_is_answered_in_a_worker_process_not_in_the_web_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from scanwise.web import WebSettings, create_app

    monkeypatch.setattr(work, "_SERVICES", {})  # none built in this process before the call
    app = create_app(WebSettings(db=str(tmp_path / "db.sqlite")), cds=CdsSettings(allow_unsigned=True))
    with TestClient(app, base_url="http://localhost") as client:
        resp = client.post(f"/cds-services/{SELECT}", content=EXAMPLE.read_bytes())
        assert resp.status_code == 200 and resp.json()["cards"]
        workers = app.state.services.workers
        pid, built = anyio.run(workers.run, _cds_services)
        state = anyio.run(workers.run, worker_state)
    assert pid != os.getpid() and built == 1  # the worker built its service and answered
    assert work._SERVICES == {}  # this (web) process never did the work
    assert state["frozen_objects"] > 0  # start-up objects kept out of collections


def _token(key: ec.EllipticCurvePrivateKey, aud: str) -> str:
    now = int(time.time())
    return jwt.encode({"iss": "https://ehr.example.org", "aud": aud, "exp": now + 60, "iat": now,
                       "jti": str(uuid.uuid4())}, key, algorithm="ES384", headers={"kid": "k1"})


def test_an_issuers_keys_are_parsed_once_not_per_call(monkeypatch: pytest.MonkeyPatch) -> None:
    key = ec.generate_private_key(ec.SECP384R1())
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key())) | {"kid": "k1", "alg": "ES384"}
    parsed: list[int] = []
    real = auth_module.PyJWKSet.from_dict

    def counting(data: dict[str, Any]) -> Any:
        parsed.append(1)
        return real(data)

    monkeypatch.setattr(auth_module.PyJWKSet, "from_dict", staticmethod(counting))
    verifier = Verifier(TrustList([auth_module._Issuer(iss="https://ehr.example.org", jwks={"keys": [jwk]})]))
    url = "https://cds.example.org/cds-services"
    for _ in range(5):
        assert verifier.check("Bearer " + _token(key, url), url) is not None
    assert parsed == [1]
    assert not verifier.may_fetch  # no key set by URL: checked on the event loop, no thread


def test_a_draft_order_bundle_is_validated_once_per_content(monkeypatch: pytest.MonkeyPatch) -> None:
    checked: list[int] = []
    real = service_module._check_bundle

    def counting(bundle: dict[str, Any]) -> None:
        checked.append(1)
        real(bundle)

    monkeypatch.setattr(service_module, "_check_bundle", counting)
    monkeypatch.setattr(service_module, "_valid_bundles", type(service_module._valid_bundles)())
    bundle = json.loads(EXAMPLE.read_text())["context"]["draftOrders"]
    service_module._validate_bundle(bundle)
    service_module._validate_bundle(json.loads(json.dumps(bundle)))  # the same content again
    assert checked == [1]
    bundle["entry"] = "not a list"  # changed content: checked again
    with pytest.raises(service_module.HookError):
        service_module._validate_bundle(bundle)
    with pytest.raises(service_module.HookError):  # and an invalid one is never remembered
        service_module._validate_bundle(bundle)
    assert checked == [1, 1, 1]


def _call(consult_id: str | None = None) -> CdsCall:
    return CdsCall(consult_id=consult_id or str(uuid.uuid4()), service_id=SELECT, hook_instance="h",
                   assessments=[{"surface": "cds.test", "kb_version": "v", "input_sha256": "0" * 64,
                                 "result": {"matches": []}}],
                   ratings=[{"rating": "appropriate"}], cards=[str(uuid.uuid4())], unsigned=False)


class _HeldStore(Store):
    """A store whose first write waits until released, so that the next calls queue behind it."""

    def __init__(self) -> None:
        super().__init__("sqlite://")
        self.release = threading.Event()
        self.batches: list[int] = []

    def record_cds_calls(self, calls: list[CdsCall]) -> list[list[int]]:
        if not self.batches:
            self.release.wait(30)
        self.batches.append(len(calls))
        return super().record_cds_calls(calls)


def test_calls_waiting_together_are_written_in_one_transaction() -> None:
    store = _HeldStore()
    recorder = Recorder(store)
    calls = [_call() for _ in range(6)]

    async def scenario() -> None:
        first = asyncio.ensure_future(recorder.record(calls[0]))
        while not recorder._queue.empty():  # the writer has taken the first call
            await asyncio.sleep(0.01)
        rest = [asyncio.ensure_future(recorder.record(c)) for c in calls[1:]]
        await asyncio.sleep(0.05)
        store.release.set()
        await asyncio.gather(first, *rest)

    asyncio.run(scenario())
    assert store.batches == [1, 5] and recorder.commits == 2
    stored = [store.cds_consult(c.consult_id) for c in calls]
    assert all(s is not None and len(s.audit_ids) == 1 for s in stored)
    assert len({s.audit_ids[0] for s in stored if s is not None}) == 6


def test_a_call_the_store_refuses_does_not_lose_the_others_of_its_batch() -> None:
    store = Store("sqlite://")
    good, twin = _call(), _call()
    twin.consult_id = good.consult_id  # the same consult twice: the database refuses the second
    other = _call()
    Recorder(store)._write([good, twin, other])
    assert store.cds_consult(good.consult_id) is not None
    assert store.cds_consult(other.consult_id) is not None


class _Refused(Exception):
    """What the worker pool raises when it is full or a call passes its deadline."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers


class _Runner:
    """A worker pool stand-in: records what it is given, or refuses."""

    def __init__(self, refuse: _Refused | None = None) -> None:
        self.refuse = refuse
        self.jobs: list[Any] = []

    async def run(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        self.jobs.append(fn)
        if self.refuse is not None:
            raise self.refuse
        from scanwise.core import Scanwise

        return fn(Scanwise.default(), *args, **kwargs)

    async def io(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)


def _cds_app(runner: _Runner) -> TestClient:
    from fastapi import FastAPI

    from scanwise.cds import install
    from scanwise.core import Scanwise

    app = FastAPI()
    install(app, Scanwise.default(), Store("sqlite://"), CdsSettings(allow_unsigned=True), runner=runner)
    return TestClient(app)


def test_the_endpoint_hands_the_call_to_the_runner_as_the_worker_job() -> None:
    runner = _Runner()
    resp = _cds_app(runner).post(f"/cds-services/{SELECT}", content=EXAMPLE.read_bytes())
    assert resp.status_code == 200 and resp.json()["cards"]
    assert runner.jobs == [work.hook_call]


@pytest.mark.parametrize(("status", "headers"), [(503, {"Retry-After": "2"}), (504, None)])
def test_a_full_pool_or_a_call_past_its_deadline_is_an_operation_outcome(
    status: int, headers: dict[str, str] | None
) -> None:
    runner = _Runner(_Refused(status, "busy or too slow", headers))
    resp = _cds_app(runner).post(f"/cds-services/{SELECT}", content=EXAMPLE.read_bytes())
    assert resp.status_code == status
    assert resp.json()["resourceType"] == "OperationOutcome"
    assert resp.headers.get("retry-after") == (headers or {}).get("Retry-After")


def test_a_free_worker_goes_to_the_longest_waiting_request_not_a_newcomer() -> None:
    from scanwise.web.workers import Workers, _Worker

    pool = Workers(processes=1, max_waiting=8, timeout_s=10)
    worker = _Worker(process=None, conn=None)  # type: ignore[arg-type]  # never started: only handed round
    pool._all, pool._idle = [worker], [worker]
    got: dict[str, Any] = {}
    assert pool._take(1) is worker  # the one worker is busy from here on

    def wait(name: str) -> None:
        got[name] = pool._take(5)

    waiting = []
    for name in ("first", "second", "third"):
        t = threading.Thread(target=wait, args=(name,))
        t.start()
        waiting.append(t)
        while len(pool._waiting) < len(waiting):  # queued in this order
            time.sleep(0.001)
    pool._give_back(worker)
    assert pool._take(0.05) is None  # a newcomer does not overtake the queue
    waiting[0].join(5)
    assert got == {"first": worker}
    for _ in range(2):
        pool._give_back(worker)
    for t in waiting[1:]:
        t.join(5)
    assert got == {"first": worker, "second": worker, "third": worker}
    assert not pool._waiting and pool._idle == []
