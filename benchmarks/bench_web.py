"""Requests per second and p50/p99 latency of /api/recommend and /api/ask, one worker process
against N (the number of cores), side by side in one run.

For each worker count it starts `scanwise serve --workers W` on a free loopback port with a
throwaway database, then (1) runs concurrent clients against each endpoint for a bounded time
and request count (the rate the server holds), and (2) offers a fixed rate of mixed recommend
and ask requests (default 100/s) and reports p50/p99 and every status, sent once by httpx's
client and once by the lean client of ``lean_http.py`` (the load generator shares the two
cores with the server: httpx's CPU per request is most of what its run measures), and the
resident memory of each worker process:

    .venv/bin/python benchmarks/bench_web.py [--seconds 5] [--concurrency 8] [--rate 100]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
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
from lean_http import LeanClient  # benchmarks/lean_http.py, beside this script
from measure import open_loop

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


def start_server(db: Path, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    scanwise = Path(sys.executable).with_name("scanwise")
    proc = subprocess.Popen([str(scanwise), "serve", "--port", str(port), "--db", str(db),
                             "--workers", str(workers)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=os.environ.copy())
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/healthz", timeout=2).json().get("workers") == workers:
                return proc, base
        except (httpx.TransportError, ValueError):
            pass
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("scanwise serve did not start within 120 s")


def worker_rss_mib(pid: int) -> list[float]:
    """Resident memory of each worker process (children of the forkserver child), MiB."""
    def children(p: int) -> list[int]:
        try:
            return [int(c) for c in Path(f"/proc/{p}/task/{p}/children").read_text().split()]
        except OSError:
            return []

    out = []
    for server_child in children(pid):
        for worker in children(server_child):
            for line in Path(f"/proc/{worker}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    out.append(int(line.split()[1]) / 1024)
    return out


async def offered(base: str, rate: float, seconds: float,
                  bodies: Iterator[tuple[str, dict[str, Any]]]) -> tuple[list[float], Counter[int], float]:
    """Open loop: one request every 1/rate seconds whatever the answers, as traffic arrives."""
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    async with httpx.AsyncClient(base_url=base, timeout=60,
                                 limits=httpx.Limits(max_connections=400)) as http:
        async def one(path: str, body: dict[str, Any]) -> None:
            start = time.perf_counter()
            try:
                response = await http.post(path, json=body)
                statuses[response.status_code] += 1
            except httpx.TransportError:
                statuses[0] += 1
            latencies.append(time.perf_counter() - start)

        elapsed = await open_loop(rate, seconds, bodies, lambda pb: one(*pb))
    return latencies, statuses, elapsed


async def offered_lean(base: str, rate: float, seconds: float,
                       bodies: Iterator[tuple[str, dict[str, Any]]],
                       ) -> tuple[list[float], Counter[int], float]:
    """The same open loop sent by the lean client (keep-alive connections opened as needed and
    reused): what the server holds when the load generator costs little CPU."""
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    idle: list[LeanClient] = []

    async def one(path: str, body: dict[str, Any]) -> None:
        conn = idle.pop() if idle else LeanClient(base)
        content = json.dumps(body).encode()
        start = time.perf_counter()
        try:
            statuses[await conn.request("POST", path, {"Content-Type": "application/json"}, content)] += 1
            idle.append(conn)
        except (OSError, RuntimeError, asyncio.IncompleteReadError):
            statuses[0] += 1
            await conn.close()
        latencies.append(time.perf_counter() - start)

    elapsed = await open_loop(rate, seconds, bodies, lambda pb: one(*pb))
    for conn in idle:
        await conn.close()
    return latencies, statuses, elapsed


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
    print(f"{label:<28} {len(latencies) / elapsed:8.1f} req/s   p50 {p50 * 1e3:7.1f} ms"
          f"   p99 {p99 * 1e3:7.1f} ms   (n={len(latencies)}; {codes})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="time per run")
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent clients")
    parser.add_argument("--max-requests", type=int, default=5000, help="request cap per run")
    parser.add_argument("--rate", type=float, default=100.0, help="offered mixed requests per second")
    args = parser.parse_args()
    texts = [c.text for c in load_scenarios()]
    cores = os.cpu_count() or 1
    print(f"{cores} CPUs, load {os.getloadavg()[0]:.2f}; {args.concurrency} concurrent clients, "
          f"{args.seconds:g} s or "
          f"{args.max_requests} requests per run; offered {args.rate:g}/s mixed recommend+ask")
    for workers in sorted({1, cores}):
        with tempfile.TemporaryDirectory() as tmp:
            proc, base = start_server(Path(tmp) / "bench.db", workers)
            try:
                print(f"\n--workers {workers}  (scanwise serve at {base})")
                for t in texts[:4]:  # warm-up
                    httpx.post(base + "/api/recommend", json={"text": t}, timeout=60)
                httpx.post(base + "/api/ask", json={"question": QUESTIONS[0]}, timeout=60)
                runs = [
                    ("/api/recommend", ({"text": t} for t in itertools.cycle(texts))),
                    ("/api/ask", ({"question": q} for q in itertools.cycle(QUESTIONS))),
                ]
                for path, bodies in runs:
                    latencies, statuses, elapsed = asyncio.run(
                        load(base, path, bodies, args.seconds, args.concurrency, args.max_requests))
                    report(f"  {path}", latencies, statuses, elapsed)
                mix = ([("/api/recommend", {"text": t}) for t in texts[:20]]
                       + [("/api/ask", {"question": q, "context": {"text": texts[i]}})
                          for i, q in enumerate(QUESTIONS)])
                latencies, statuses, elapsed = asyncio.run(
                    offered(base, args.rate, args.seconds, itertools.cycle(mix)))
                report(f"  offered {args.rate:g}/s, httpx", latencies, statuses, elapsed)
                latencies, statuses, elapsed = asyncio.run(
                    offered_lean(base, args.rate, args.seconds, itertools.cycle(mix)))
                report(f"  offered {args.rate:g}/s, lean", latencies, statuses, elapsed)
                rss = worker_rss_mib(proc.pid)
                print("  worker RSS: " + ", ".join(f"{m:.0f} MiB" for m in rss))
            finally:
                proc.terminate()
                proc.wait(timeout=15)


if __name__ == "__main__":
    main()
