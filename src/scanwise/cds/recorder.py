"""The CDS audit written from one thread, many calls to a commit.

Each hook call's audit (its assessments and the consult whose id goes on the order as
``pama-rating-consult-id``) is written before the call is answered, so feedback on a card can
never arrive before its consult. Written call by call from many threads, every call would pay
a commit (and wait on the disk), and the threads would queue on the database's write lock;
here one thread writes whatever calls are waiting in one transaction (a group commit), and each
call waits for its own batch. A store that fails is logged by type and the calls are answered
all the same (as the web audit does); one bad call never loses the others of its batch.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading

from scanwise.storage import CdsCall, Store

log = logging.getLogger("scanwise.cds")

#: Calls written in one transaction at most.
MAX_BATCH = 64

_Item = tuple[CdsCall, asyncio.AbstractEventLoop, "asyncio.Future[None]"]


class Recorder:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.commits = 0  # transactions written (a batch, or one call after a failed batch)
        self._queue: queue.SimpleQueue[_Item] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    async def record(self, call: CdsCall) -> None:
        """Write ``call``'s audit; returns once it is committed (or its failure logged)."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        self._queue.put((call, loop, done))
        self._start()
        await done

    def _start(self) -> None:
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="scanwise-cds-audit", daemon=True)
                    self._thread.start()

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._write([call for call, _, _ in batch])
            for _, loop, done in batch:
                loop.call_soon_threadsafe(_settle, done)

    def _write(self, calls: list[CdsCall]) -> None:
        try:
            self.store.record_cds_calls(calls)
            self.commits += 1
            return
        except Exception as exc:  # noqa: BLE001 (logged by type; the calls are answered anyway)
            if len(calls) == 1:
                log.error("cds: audit write failed: %s", type(exc).__name__)
                return
        for call in calls:  # one at a time, so that one bad call does not lose the rest
            self._write([call])


def _settle(done: asyncio.Future[None]) -> None:
    if not done.done():
        done.set_result(None)
