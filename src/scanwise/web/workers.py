"""CPU work off the event loop: a bounded thread pool with a queue limit and a deadline.

Reading text and assessing take milliseconds, but a large record or a burst of requests must
not stall the server: past the queue limit a request gets 503 at once, and past the deadline
504, while the server goes on answering others (the abandoned thread finishes on its own).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import anyio
import anyio.to_thread

from scanwise.web.errors import ApiError

T = TypeVar("T")


class Workers:
    def __init__(self, threads: int, max_waiting: int, timeout_s: float) -> None:
        self.threads = threads
        self.max_waiting = max_waiting
        self.timeout_s = timeout_s
        self.in_flight = 0
        self._limiter: anyio.CapacityLimiter | None = None

    @property
    def limiter(self) -> anyio.CapacityLimiter:
        if self._limiter is None:  # made on first use, inside the event loop
            self._limiter = anyio.CapacityLimiter(self.threads)
        return self._limiter

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        if self.in_flight >= self.threads + self.max_waiting:
            raise ApiError(503, "busy", "The server is busy. Try again in a few seconds.",
                           headers={"Retry-After": "2"})
        self.in_flight += 1
        try:
            with anyio.move_on_after(self.timeout_s):
                return await anyio.to_thread.run_sync(
                    partial(fn, *args, **kwargs), limiter=self.limiter, abandon_on_cancel=True)
        finally:
            self.in_flight -= 1
        raise ApiError(504, "timeout", f"This took longer than {self.timeout_s:g} seconds and was "
                       "stopped. Try a shorter text or a smaller file.")
