"""What the benchmarks share: CPU time per item, and an open loop that sends one request every
1/rate seconds whatever the answers, as traffic arrives."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any


def cpu_per_item(work: Callable[[Any], object], items: Sequence[Any], rounds: int) -> float:
    """CPU seconds per item (``time.process_time``, so other work on a shared machine slows it
    less than wall time would): the best of ``rounds`` passes over all of them."""
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        for item in items:
            work(item)
        best = min(best, time.process_time() - start)
    return best / len(items)


async def open_loop(rate: float, seconds: float, requests: Iterator[Any],
                    send: Callable[[Any], Awaitable[None]]) -> float:
    """Send ``rate * seconds`` requests at their scheduled times, each as its own task; the
    seconds it took until the last answer."""
    began = time.perf_counter()
    tasks = []
    for i in range(int(rate * seconds)):
        await asyncio.sleep(max(0.0, began + i / rate - time.perf_counter()))
        tasks.append(asyncio.create_task(send(next(requests))))
    await asyncio.gather(*tasks)
    return time.perf_counter() - began
