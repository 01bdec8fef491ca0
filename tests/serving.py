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
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

START_WAIT_S = 60  # how long to wait for the server to come up before calling it broken


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def served(args: list[str], log: Path, port: int | None = None) -> Iterator[str]:
    """`scanwise serve --port P ARGS...`, its output in ``log``; yields its base URL."""
    port = port or free_port()
    command = [str(Path(sys.executable).with_name("scanwise")), "serve", "--port", str(port), *args]
    with log.open("w") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=os.environ.copy())
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_WAIT_S
    try:
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"scanwise serve did not start:\n{log.read_text()}")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
