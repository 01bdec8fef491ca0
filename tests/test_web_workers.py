"""The worker pool: each process builds its reader once, work given up is stopped at its
deadline (the worker is killed and replaced), and past the queue limit a request gets 503."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import anyio
import pytest

from scanwise.web.errors import ApiError
from scanwise.web.services import assess_text
from scanwise.web.workers import Workers, worker_state


def _sleep(_core: Any, seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def _refuse(_core: Any) -> None:
    raise ApiError(422, "unusable_text", "text: nothing to read", field="text")


def _fault(_core: Any) -> None:
    raise KeyError("a fault of ours")


@pytest.fixture(scope="module")
def workers() -> Iterator[Workers]:
    pool = Workers(processes=2, max_waiting=1, timeout_s=3)
    pool.start()
    yield pool
    pool.close()


def test_each_worker_builds_its_reader_once(workers: Workers) -> None:
    async def scenario() -> list[dict[str, Any]]:
        for _ in range(4):
            await workers.run(assess_text, "stage I breast cancer, is PET/CT needed?")
        return [await workers.run(worker_state) for _ in range(6)]

    states = anyio.run(scenario)
    assert {s["pipelines"] for s in states} == {1}
    assert len({s["pid"] for s in states}) <= 2 and os.getpid() not in {s["pid"] for s in states}


def test_errors_come_back_as_they_were_raised(workers: Workers) -> None:
    with pytest.raises(ApiError) as caught:
        anyio.run(workers.run, _refuse)
    assert (caught.value.status, caught.value.code, caught.value.field) == (422, "unusable_text", "text")
    with pytest.raises(RuntimeError, match="KeyError"):
        anyio.run(workers.run, _fault)


def test_work_past_its_deadline_is_killed_and_the_worker_replaced(workers: Workers) -> None:
    async def scenario() -> None:
        before = workers.replaced
        started = time.monotonic()
        with pytest.raises(ApiError) as caught:
            await workers.run(_sleep, 60)
        assert caught.value.status == 504 and time.monotonic() - started < 5
        assert workers.replaced == before + 1
        # The other worker answers at once, while the killed one is started again.
        assert await workers.run(_sleep, 0) > 0

    anyio.run(scenario)
    deadline = time.monotonic() + 60
    while workers.ready < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert workers.ready == 2


def test_beyond_capacity_503_at_once_and_recovers(workers: Workers) -> None:
    async def scenario() -> None:
        results: list[Any] = []

        async def slow() -> None:
            results.append(await workers.run(_sleep, 1))

        async with anyio.create_task_group() as tg:
            for _ in range(3):  # two workers busy, one waiting: the queue is full
                tg.start_soon(slow)
            await anyio.sleep(0.3)
            started = time.monotonic()
            with pytest.raises(ApiError) as caught:
                await workers.run(_sleep, 0)
            assert caught.value.status == 503 and caught.value.headers == {"Retry-After": "2"}
            assert time.monotonic() - started < 0.1
        assert len(results) == 3
        assert await workers.run(_sleep, 0) > 0

    anyio.run(scenario)


def test_a_request_given_up_with_its_job_running_replaces_the_worker(workers: Workers) -> None:
    async def scenario() -> None:
        before = workers.replaced
        with anyio.move_on_after(0.5):  # the client went away: the request's task is cancelled
            await workers.run(_sleep, 60)
        assert workers.replaced == before + 1
        assert await workers.run(_sleep, 0) > 0  # the other worker answers meanwhile

    anyio.run(scenario)
    deadline = time.monotonic() + 60
    while workers.ready < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert workers.ready == 2
