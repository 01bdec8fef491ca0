"""Requests per second and p50/p99 latency of /api/recommend and /api/ask under concurrent load.

Starts `scanwise serve` on a free loopback port with a throwaway database, warms it up, then
runs concurrent async clients against each endpoint for a bounded time and request count:

    .venv/bin/python benchmarks/bench_web.py [--seconds 5] [--concurrency 8] [--max-requests 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from scanwise.eval.runner import load_scenarios

QUESTIONS = [
    "What is the difference between a CT scan and a PET scan for HER2-positive breast cancer?",
    "How much radiation does a bone scan give?",
    "Do I need an MRI before surgery?",
    "How often will I have mammograms after treatment?",
    "What is a PET scan?",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_server(db: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    scanwise = Path(sys.executable).with_name("scanwise")
    proc = subprocess.Popen([str(scanwise), "serve", "--port", str(port), "--db", str(db)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=os.environ.copy())
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                return proc, base
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("scanwise serve did not start within 60 s")


async def load(base: str, path: str, bodies: Iterator[dict[str, Any]], seconds: float,
               concurrency: int, max_requests: int) -> tuple[list[float], Counter[int], float]:
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    budget = itertools.count()
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        async with httpx.AsyncClient(base_url=base, timeout=60) as http:
            while time.perf_counter() < deadline and next(budget) < max_requests:
                body = next(bodies)
                start = time.perf_counter()
                response = await http.post(path, json=body)
                latencies.append(time.perf_counter() - start)
                statuses[response.status_code] += 1

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return latencies, statuses, time.perf_counter() - began


def report(label: str, latencies: list[float], statuses: Counter[int], elapsed: float) -> None:
    latencies.sort()
    p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)]
    codes = ", ".join(f"{code}: {n}" for code, n in sorted(statuses.items()))
    p50 = statistics.median(latencies)
    print(f"{label:<18} {len(latencies) / elapsed:8.1f} req/s   p50 {p50 * 1e3:7.1f} ms"
          f"   p99 {p99 * 1e3:7.1f} ms   (n={len(latencies)}; {codes})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="time per endpoint")
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent clients")
    parser.add_argument("--max-requests", type=int, default=5000, help="request cap per endpoint")
    args = parser.parse_args()
    texts = [c.text for c in load_scenarios()]
    with tempfile.TemporaryDirectory() as tmp:
        proc, base = start_server(Path(tmp) / "bench.db")
        try:
            print(f"scanwise serve at {base}; {args.concurrency} concurrent clients, "
                  f"{args.seconds:g} s or {args.max_requests} requests per endpoint, {os.cpu_count()} CPUs")
            # Warm-up: the first request builds the text pipeline and loads the fact base.
            httpx.post(base + "/api/recommend", json={"text": texts[0]}, timeout=60)
            httpx.post(base + "/api/ask", json={"question": QUESTIONS[0]}, timeout=60)
            runs = [
                ("/api/recommend", ({"text": t} for t in itertools.cycle(texts))),
                ("/api/ask", ({"question": q} for q in itertools.cycle(QUESTIONS))),
            ]
            for path, bodies in runs:
                latencies, statuses, elapsed = asyncio.run(
                    load(base, path, bodies, args.seconds, args.concurrency, args.max_requests))
                report(path, latencies, statuses, elapsed)
        finally:
            proc.terminate()
            proc.wait(timeout=10)


if __name__ == "__main__":
    main()
