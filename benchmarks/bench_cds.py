"""p50/p99 latency of CDS Hooks calls (order-select, signed ES384 JWT) at 16 concurrent clients.

Starts `scanwise serve` on a free loopback port with a trust list made here, warms it up, then
runs concurrent clients for a bounded time and request count. Beside it: discovery with the
same signed tokens (HTTP and token checks with no CDS work: the server's floor), the same calls
without the token checks (``--cds-allow-unsigned``, what auth costs), the same calls sent by
httpx's AsyncClient (the load generator this benchmark used before), and the service called in
this process with no HTTP at all (the work's floor).

The clients speak HTTP/1.1 over 16 keep-alive connections from one asyncio loop with a few
lines of code of their own (``LeanClient``): on a two-core machine the load generator shares
the cores with the server, and httpx's pool costs about as much CPU per call as the server's
whole HTTP layer, so with it the figures mostly measure the client (compare the rows). Each
client signs a new token per call (untimed, but on the same cores). Beside each HTTP row, the
CPU milliseconds per call of the server's web process, of its worker processes, and of this
load generator (from /proc, Linux only): with clients in a closed loop on two cores the latency
is mostly queueing, so CPU per call is what sets it. The machine's load averages before and
after are printed, since the machine may be shared:

    .venv/bin/python benchmarks/bench_cds.py [--seconds 5] [--concurrency 16] [--max-requests 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from lean_http import LeanClient  # benchmarks/lean_http.py, beside this script

EXAMPLE = Path(__file__).parents[1] / "src" / "scanwise" / "cds" / "examples" / "order-select.json"
ISS = "https://bench-ehr.example.org"
KEY = ec.generate_private_key(ec.SECP384R1())
SERVICE = "/cds-services/imaging-order-select"
_EXAMPLE_REQUEST: dict[str, Any] = json.loads(EXAMPLE.read_text())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_server(tmp: Path, *extra: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    scanwise = Path(sys.executable).with_name("scanwise")
    proc = subprocess.Popen(
        [str(scanwise), "serve", "--port", str(port), "--db", str(tmp / f"{port}.db"), *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=os.environ.copy(),
    )
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


def _tree(pid: int) -> list[int]:
    try:
        kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        kids = []
    return [pid] + [p for k in kids for p in _tree(int(k))]


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_cpu(pid: int) -> tuple[float, float] | None:
    """CPU seconds used so far by the web process and by its worker processes (Linux /proc;
    None elsewhere)."""
    try:
        return _cpu_s(pid), sum(_cpu_s(p) for p in _tree(pid)[1:])
    except (OSError, ValueError, IndexError):
        return None


def token(aud: str) -> str:
    now = int(time.time())
    return jwt.encode(
        {"iss": ISS, "aud": aud, "exp": now + 120, "iat": now, "jti": str(uuid.uuid4())},
        KEY,
        algorithm="ES384",
        headers={"kid": "bench-1"},
    )


def body(fresh: bool = True) -> bytes:
    """The example request; ``fresh``: another patient each time (age and tumour size vary), so
    the service's reader cache cannot answer it; otherwise the same order called again."""
    req = copy.deepcopy(_EXAMPLE_REQUEST)
    req["hookInstance"] = str(uuid.uuid4())
    if fresh:
        pre = req["prefetch"]
        pre["patient"]["birthDate"] = f"{random.randint(1935, 1985)}-06-01"
        size = {
            "resourceType": "Observation",
            "id": "size-1",
            "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "21889-1"}]},
            "subject": {"reference": "Patient/bc-example-1"},
            "valueQuantity": {"value": random.randint(10, 199) / 10, "unit": "mm", "code": "mm"},
        }
        pre["observations"]["entry"].append({"resource": size})
    return json.dumps(req).encode()


async def load(
    base: str,
    signed: bool,
    fresh: bool,
    seconds: float,
    concurrency: int,
    max_requests: int,
    *,
    path: str = SERVICE,
    client: str = "lean",
    server_pid: int | None = None,
) -> dict[str, Any]:
    url = base + path
    times: list[float] = []
    statuses: dict[int, int] = {}
    sent = 0
    end = 0.0
    method = "GET" if path == "/cds-services" else "POST"

    def request() -> tuple[dict[str, str], bytes]:
        headers = {"Content-Type": "application/json"}
        if signed:
            headers["Authorization"] = f"Bearer {token(url)}"  # signing is the client's cost, untimed
        return headers, (b"" if method == "GET" else body(fresh))

    async def lean_worker(conn: LeanClient) -> None:
        nonlocal sent
        while time.monotonic() < end and sent < max_requests:
            sent += 1
            headers, content = request()
            start = time.perf_counter()
            status = await conn.request(method, path, headers, content)
            times.append(time.perf_counter() - start)
            statuses[status] = statuses.get(status, 0) + 1

    async def httpx_worker(http: httpx.AsyncClient) -> None:
        nonlocal sent
        while time.monotonic() < end and sent < max_requests:
            sent += 1
            headers, content = request()
            start = time.perf_counter()
            resp = await http.request(method, url, content=content or None, headers=headers)
            times.append(time.perf_counter() - start)
            statuses[resp.status_code] = statuses.get(resp.status_code, 0) + 1

    if client == "httpx":
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(timeout=30, limits=limits) as http:
            for _ in range(10):  # warm-up
                headers, content = request()
                await http.request(method, url, content=content or None, headers=headers)
            cpu0, me0 = (server_cpu(server_pid) if server_pid else None), time.process_time()
            started = time.monotonic()
            end = started + seconds
            await asyncio.gather(*(httpx_worker(http) for _ in range(concurrency)))
            elapsed = time.monotonic() - started
            cpu1, me1 = (server_cpu(server_pid) if server_pid else None), time.process_time()
    else:
        conns = [LeanClient(base) for _ in range(concurrency)]
        try:
            for i in range(max(10, concurrency)):  # warm-up, and every connection opened
                headers, content = request()
                await conns[i % concurrency].request(method, path, headers, content)
            cpu0, me0 = (server_cpu(server_pid) if server_pid else None), time.process_time()
            started = time.monotonic()
            end = started + seconds
            await asyncio.gather(*(lean_worker(c) for c in conns))
            elapsed = time.monotonic() - started
            cpu1, me1 = (server_cpu(server_pid) if server_pid else None), time.process_time()
        finally:
            for c in conns:
                await c.close()
    out = summary(times, elapsed) | {"statuses": statuses}
    n = max(1, len(times))
    if cpu0 is not None and cpu1 is not None:  # CPU per call: where the two cores went
        out["web_cpu_ms"] = (cpu1[0] - cpu0[0]) * 1000 / n
        out["worker_cpu_ms"] = (cpu1[1] - cpu0[1]) * 1000 / n
    out["client_cpu_ms"] = (me1 - me0) * 1000 / n
    return out


def summary(times: list[float], elapsed: float) -> dict[str, Any]:
    ms = sorted(t * 1000 for t in times)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    return {"requests": len(ms), "rps": len(ms) / elapsed, "p50_ms": statistics.median(ms), "p99_ms": p99}


def in_process(n: int) -> dict[str, Any]:
    from scanwise.cds import CdsService
    from scanwise.core import Scanwise
    from scanwise.storage import Store

    svc = CdsService(Scanwise.default(), Store("sqlite://"))
    svc.call("imaging-order-select", body(), "http://127.0.0.1")
    times = []
    started = time.monotonic()
    for _ in range(n):
        b = body(fresh=True)
        t = time.perf_counter()
        svc.call("imaging-order-select", b, "http://127.0.0.1")
        times.append(time.perf_counter() - t)
    return summary(times, time.monotonic() - started)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--max-requests", type=int, default=3000)
    args = ap.parse_args()
    rows: list[tuple[str, dict[str, Any]]] = []
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(KEY.public_key())) | {
            "kid": "bench-1",
            "alg": "ES384",
        }
        trust = tmp / "trust.json"
        trust.write_text(json.dumps({"issuers": [{"iss": ISS, "jwks": {"keys": [jwk]}}]}))
        load_before = os.getloadavg()
        servers: tuple[tuple[list[str], bool, tuple[tuple[str, bool, dict[str, str]], ...]], ...] = (
            (
                ["--cds-trust", str(trust)],
                True,
                (
                    ("HTTP, signed ES384, new patient each call", True, {}),
                    ("HTTP, signed ES384, the same order again", False, {}),
                    ("HTTP, signed ES384, discovery (no CDS work)", True, {"path": "/cds-services"}),
                    ("HTTP, signed ES384, new patient, httpx client", True, {"client": "httpx"}),
                ),
            ),
            (["--cds-allow-unsigned"], False, (("HTTP, unsigned, new patient each call", True, {}),)),
        )
        for extra, signed, runs in servers:
            proc, base = start_server(tmp, *extra)
            try:
                for label, fresh, kw in runs:
                    result = load(base, signed, fresh, args.seconds, args.concurrency, args.max_requests,
                                  server_pid=proc.pid, **kw)
                    rows.append((label, asyncio.run(result)))
            finally:
                proc.terminate()
                proc.wait(timeout=10)
    rows.append(("in process, one at a time, new patient each call", in_process(200)))
    load_after = os.getloadavg()
    print(f"CDS Hooks order-select, {args.concurrency} concurrent clients on loopback, "
          f"{os.cpu_count()} CPUs, scanwise serve with its default workers ({os.cpu_count()})")
    print("load average (1, 5, 15 min) before: " + ", ".join(f"{x:.2f}" for x in load_before)
          + "; after: " + ", ".join(f"{x:.2f}" for x in load_after))
    print("CPU ms per call: web = the server process (HTTP, token checks, hand-over, audit write), "
          "workers = its worker processes, client = this load generator (signing included)")
    print(f"{'':48} {'requests':>8} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'web':>6} {'workers':>7} "
          f"{'client':>6}")
    for label, r in rows:
        cpu = "".join(f" {r[k]:>{w}.2f}" if k in r else f" {'':>{w}}"
                      for k, w in (("web_cpu_ms", 6), ("worker_cpu_ms", 7), ("client_cpu_ms", 6)))
        print(
            f"{label:48} {r['requests']:>8} {r['rps']:>8.1f} {r['p50_ms']:>8.1f} {r['p99_ms']:>8.1f}{cpu}"
            + (f"   statuses {r['statuses']}" if "statuses" in r else "")
        )


if __name__ == "__main__":
    main()
