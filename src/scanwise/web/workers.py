"""CPU work off the event loop, in worker processes that can be stopped at a deadline.

Reading a text or a file, assessing and answering run in ``processes`` worker processes, each
with its own application core (knowledge base, fact base and medspaCy reader, which is not
thread-safe): no lock serialises the machine, and a request that passes its deadline gets 504
while its worker is killed and replaced, so abandoned work never keeps a reader busy. Past the
queue limit a request gets 503 at once.

A job is a module-level function taking the worker's core first (``fn(core, *args)``), so that
it can be sent to a process by reference. Database work stays in this process (see
:meth:`Workers.io`): the store is shared, the readers are not.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import multiprocessing
import os
import signal
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from multiprocessing.reduction import ForkingPickler
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import anyio.to_thread

from scanwise.web.errors import ApiError

if TYPE_CHECKING:
    from scanwise.core import Scanwise

T = TypeVar("T")
log = logging.getLogger("scanwise.web")

#: Seconds a new worker may take to load the knowledge base and build its reader.
START_TIMEOUT_S = 120.0


def busy() -> ApiError:
    return ApiError(503, "busy", "The server is busy. Try again in a few seconds.",
                    headers={"Retry-After": "2"})


def _worker_main(conn: Connection) -> None:
    """A worker process: build the core once, then run jobs until the connection closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C stops the server, which stops us
    from scanwise.core import Scanwise

    core = Scanwise.default()
    core.warm_up()
    settle_heap()
    conn.send(("ready", os.getpid()))
    while True:
        try:
            fn, args, kwargs = conn.recv()
        except (EOFError, OSError):
            return
        try:
            reply: tuple[str, Any] = ("ok", fn(core, *args, **kwargs))
        except ApiError as exc:
            reply = ("error", exc)
        except Exception as exc:  # a fault of ours: the type goes back, never the data
            reply = ("fault", type(exc).__name__)
        try:
            conn.send(reply)
        except Exception as exc:  # an unpicklable result is a fault too  # noqa: BLE001
            conn.send(("fault", type(exc).__name__))


def settle_heap() -> None:
    """Keep what start-up built (knowledge base, reader, fact base) out of garbage collection.

    A full collection walks every object alive, a few hundred thousand here, and stops the
    process for tens of milliseconds each time: every request in flight then waits. Frozen,
    the start-up objects are never walked again; only what requests allocate is.
    """
    gc.collect()
    gc.freeze()


def worker_state(core: Scanwise) -> dict[str, Any]:
    """What a worker holds: its process id, how many text pipelines it has built, and how many
    start-up objects it keeps out of garbage collection (see :func:`settle_heap`)."""
    return {"pid": os.getpid(), "kb_version": core.kb_version, "pipelines": core.pipelines_built(),
            "frozen_objects": gc.get_freeze_count()}


@dataclass
class _Worker:
    process: BaseProcess
    conn: Connection

    def stop(self) -> None:
        self.process.kill()
        self.process.join(5)
        self.conn.close()


@dataclass(eq=False)
class _Turn:
    """A request waiting for a worker: handed one, in arrival order, when one is free. A
    request waiting on an event loop is woken through its future, one in a thread through
    its event."""

    given: threading.Event = field(default_factory=threading.Event)
    worker: _Worker | None = None
    loop: asyncio.AbstractEventLoop | None = None
    future: asyncio.Future[None] | None = None

    def wake(self) -> None:
        self.given.set()
        if self.loop is not None and self.future is not None:
            self.loop.call_soon_threadsafe(_resolve, self.future)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


#: A job up to this size (pickled) is written to its worker from the event loop; a larger one
#: (an upload) from a thread, so the loop never waits on a long write.
SEND_ON_LOOP_MAX = 256 * 1024


@dataclass
class _Job:
    lock: threading.Lock = field(default_factory=threading.Lock)
    worker: _Worker | None = None
    cancelled: bool = False


class Workers:
    def __init__(self, processes: int, max_waiting: int, timeout_s: float) -> None:
        self.processes = processes
        self.max_waiting = max_waiting
        self.timeout_s = timeout_s
        self.in_flight = 0
        self.replaced = 0  # workers killed at a deadline or lost, and started again
        self._idle: list[_Worker] = []
        # Requests waiting for a worker, first come first served: a free worker goes to the
        # longest waiting, never to whichever thread happens to run first (newcomers do not
        # overtake, so the slowest wait is the queue ahead of it, not luck).
        self._waiting: deque[_Turn] = deque()
        self._all: list[_Worker] = []
        self._ready = threading.Condition()
        self._closed = False
        self._started = False
        self._io: anyio.CapacityLimiter | None = None
        # forkserver: each worker starts from a clean, single-threaded server process, never
        # from this one with its threads and sockets.
        self._context: Any = multiprocessing.get_context(  # Forkserver- or SpawnContext
            "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn")

    # --- life cycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Start every worker and wait until each has built its reader (once; later calls
        return at once)."""
        with self._ready:
            if self._started:
                return
            self._started = True
        starters = [threading.Thread(target=self._add_worker, daemon=True) for _ in range(self.processes)]
        for t in starters:
            t.start()
        for t in starters:
            t.join()

    def close(self) -> None:
        with self._ready:
            self._closed = True
            workers, self._all, self._idle = self._all, [], []
            waiting, self._waiting = list(self._waiting), deque()
            self._ready.notify_all()
        for turn in waiting:
            turn.wake()  # with no worker: the request gets 503
        for w in workers:
            w.stop()

    def _add_worker(self) -> None:
        parent, child = self._context.Pipe()
        process = self._context.Process(target=_worker_main, args=(child,), name="scanwise-worker",
                                        daemon=True)
        try:
            process.start()
        except Exception as exc:  # e.g. no processes left: the pool runs with fewer workers
            log.error("a worker could not be started: %s", type(exc).__name__)
            parent.close()
            child.close()
            return
        child.close()
        worker = _Worker(process, parent)
        if not parent.poll(START_TIMEOUT_S):
            log.error("a worker did not start within %gs", START_TIMEOUT_S)
            worker.stop()
            return
        try:
            parent.recv()
        except (EOFError, OSError):
            if not self._closed:  # stopped by close() while starting is no failure
                log.error("a worker failed while starting (exit code %s)", process.exitcode)
            worker.stop()
            return
        with self._ready:
            if self._closed:
                worker.stop()
                return
            self._all.append(worker)
            self._hand_over(worker)

    def _replace(self, worker: _Worker) -> None:
        with self._ready:
            if worker in self._all:
                self._all.remove(worker)
        worker.stop()
        self.replaced += 1
        if not self._closed:
            threading.Thread(target=self._add_worker, name="scanwise-worker-start", daemon=True).start()

    @property
    def ready(self) -> int:
        return len(self._all)

    # --- running ----------------------------------------------------------------------------

    def _take(self, wait_s: float) -> _Worker | None:
        """A free worker, in arrival order, or None after ``wait_s`` (or once closed)."""
        with self._ready:
            if self._closed:
                return None
            if self._idle and not self._waiting:
                return self._idle.pop()
            turn = _Turn()
            self._waiting.append(turn)
        if not turn.given.wait(wait_s):
            with self._ready:
                if turn.worker is None:  # still waiting: give up the place in the queue
                    if turn in self._waiting:
                        self._waiting.remove(turn)
                    return None
        return turn.worker

    def _hand_over(self, worker: _Worker) -> None:
        """Give a free worker to the longest-waiting request, else keep it idle (lock held)."""
        if self._waiting:
            turn = self._waiting.popleft()
            turn.worker = worker
            turn.wake()
        else:
            self._idle.append(worker)

    def _give_back(self, worker: _Worker) -> None:
        with self._ready:
            if worker in self._all:
                self._hand_over(worker)

    def _call(self, job: _Job, fn: Callable[..., T], args: tuple[Any, ...],
              kwargs: dict[str, Any]) -> tuple[str, Any]:
        worker = self._take(self.timeout_s)
        if worker is None:
            return ("no_worker", None)
        with job.lock:
            if job.cancelled:  # given up while waiting for a worker: never start it
                self._give_back(worker)
                return ("cancelled", None)
            job.worker = worker
        worker.conn.send((fn, args, kwargs))
        reply: tuple[str, Any] = worker.conn.recv()
        return reply

    async def _take_on_loop(self, loop: asyncio.AbstractEventLoop, deadline: float) -> _Worker | None:
        """:meth:`_take` for a request on an event loop: it waits on a future, not in a thread."""
        with self._ready:
            if self._closed:
                return None
            if self._idle and not self._waiting:
                return self._idle.pop()
            turn = _Turn(loop=loop, future=loop.create_future())
            self._waiting.append(turn)
        assert turn.future is not None
        try:
            await asyncio.wait_for(asyncio.shield(turn.future), max(0.0, deadline - loop.time()))
        except (TimeoutError, asyncio.CancelledError):
            with self._ready:
                given = turn.worker
                if given is None and turn in self._waiting:  # give up the place in the queue
                    self._waiting.remove(turn)
            if given is not None:  # handed one at the last moment: it goes to the next
                self._give_back(given)
            raise
        return turn.worker

    async def _call_on_loop(self, fn: Callable[..., T], args: tuple[Any, ...],
                            kwargs: dict[str, Any]) -> tuple[tuple[str, Any] | None, _Worker | None]:
        """The job sent to a worker and its reply read back from the event loop (the pipe is
        watched by the loop), with no thread in between: a call costs the web process no
        thread wake-ups or hand-overs of the interpreter lock. The reply, or None past the
        deadline, and the worker that had the job."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout_s
        try:
            worker = await self._take_on_loop(loop, deadline)
        except TimeoutError:
            return None, None
        if worker is None:
            return ("no_worker", None), None
        try:
            data = ForkingPickler.dumps((fn, args, kwargs))
        except Exception as exc:  # not picklable, a fault of ours; nothing was sent  # noqa: BLE001
            return ("fault", type(exc).__name__), worker
        conn = worker.conn
        fd = conn.fileno()
        answered: asyncio.Future[tuple[str, Any]] = loop.create_future()

        def readable() -> None:
            loop.remove_reader(fd)
            if not answered.done():
                try:
                    answered.set_result(conn.recv())
                except Exception as exc:  # noqa: BLE001 (EOFError, OSError: the worker is gone)
                    answered.set_exception(exc)

        loop.add_reader(fd, readable)
        try:
            if len(data) <= SEND_ON_LOOP_MAX:
                conn.send_bytes(data)
            else:
                await anyio.to_thread.run_sync(conn.send_bytes, data)
            reply = await asyncio.wait_for(answered, max(0.0, deadline - loop.time()))
        except TimeoutError:
            return None, worker  # past the deadline: the worker is replaced
        except (EOFError, OSError):
            return ("lost", None), worker
        except BaseException:  # the request was cancelled with its job in the worker
            loop.remove_reader(fd)
            self._replace(worker)
            raise
        finally:
            loop.remove_reader(fd)
        return reply, worker

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(core, *args, **kwargs)`` in a worker process, within the deadline."""
        if self.in_flight >= self.processes + self.max_waiting:
            raise busy()
        if not self._started:  # first use before the app's start-up (an app without lifespan)
            threading.Thread(target=self.start, name="scanwise-workers", daemon=True).start()
        try:
            asyncio.get_running_loop()
            on_loop = True
        except RuntimeError:  # another event loop library: the job waits in a thread
            on_loop = False
        if on_loop:
            self.in_flight += 1
            try:
                answer, used = await self._call_on_loop(fn, args, kwargs)
            finally:
                self.in_flight -= 1
            return self._finish(answer, used)  # type: ignore[no-any-return]
        self.in_flight += 1
        job = _Job()
        reply: tuple[str, Any] | None = None
        try:
            with anyio.move_on_after(self.timeout_s):
                reply = await anyio.to_thread.run_sync(
                    partial(self._call, job, fn, args, kwargs), abandon_on_cancel=True)
        except (EOFError, OSError):  # the worker died under the job
            reply = ("lost", None)
        except Exception as exc:  # the job could not be sent (not picklable): a fault of ours
            reply = ("fault", type(exc).__name__)
            with job.lock:
                if job.worker is not None:  # its pipe may hold half a message: start afresh
                    self._replace(job.worker)
                    job.worker = None
        finally:
            self.in_flight -= 1
            with job.lock:
                job.cancelled = True
                worker = job.worker
        return self._finish(reply, worker)  # type: ignore[no-any-return]

    def _finish(self, reply: tuple[str, Any] | None, worker: _Worker | None) -> Any:
        """The worker back to the pool (or replaced if its job was given up or it was lost),
        and the job's value or error."""
        if reply is not None and reply[0] in ("ok", "error", "fault"):
            assert worker is not None
            self._give_back(worker)
        elif worker is not None:  # given up at the deadline, or lost: its work stops now
            self._replace(worker)
        if reply is None:
            raise ApiError(504, "timeout", f"This took longer than {self.timeout_s:g} seconds and was "
                           "stopped. Try a shorter text or a smaller file.")
        kind, value = reply
        if kind == "ok":
            return value
        if kind == "error":
            raise value
        if kind == "no_worker":
            raise busy()
        log.error("a worker job failed: %s", value or kind)
        raise RuntimeError(f"worker job failed: {value or kind}")

    async def io(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Database work in a thread of this process (the store is thread-safe), with its own
        small limit so that it never waits behind the readers. A failing database is a 503
        naming it, never a silent loss."""
        if self._io is None:
            self._io = anyio.CapacityLimiter(8)
        try:
            return await anyio.to_thread.run_sync(partial(fn, *args, **kwargs), limiter=self._io)
        except ApiError:
            raise
        except Exception as exc:  # the database is gone, locked or unwritable: say so, keep serving
            log.error("database work failed: %s", type(exc).__name__)
            raise ApiError(503, "store_unavailable", "The database cannot be used right now, so "
                           "nothing was saved or read. Try again later.",
                           headers={"Retry-After": "5"}) from exc
