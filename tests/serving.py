"""``scanwise serve`` run for a test module: a free loopback port, wait until it answers
/healthz, stop it (by its own pid) at the end. One helper for every test that needs a real
server process."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

START_WAIT_S = 60  # how long to wait for the server to come up before calling it broken


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass(frozen=True)
class Served:
    base: str  # http://127.0.0.1:PORT
    pid: int


def _answers(base: str, ready: Callable[[dict[str, Any]], bool]) -> bool:
    try:
        response = httpx.get(base + "/healthz", timeout=2)
        return response.status_code == 200 and ready(response.json())
    except (httpx.TransportError, ValueError):
        return False


@contextlib.contextmanager
def served(args: list[str], log: Path, *, ready: Callable[[dict[str, Any]], bool] = lambda _: True,
           wait_s: float = START_WAIT_S, stop_s: float = 10) -> Iterator[Served]:
    """`scanwise serve --port P ARGS...`, its output in ``log``, until /healthz answers and its
    body is ``ready`` (every worker up, say)."""
    port = free_port()
    command = [str(Path(sys.executable).with_name("scanwise")), "serve", "--port", str(port), *args]
    with log.open("w") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=os.environ.copy())
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + wait_s
    try:
        while not _answers(base, ready):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"scanwise serve did not start:\n{log.read_text()}")
            time.sleep(0.2)
        yield Served(base, proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=stop_s)
        except subprocess.TimeoutExpired:
            proc.kill()
