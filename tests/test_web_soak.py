"""A bounded soak against a real server: `scanwise serve --workers 2` on a free loopback port,
about 20 s of mixed traffic from a few clients with a hostile upload in the middle.

Asserted: no 5xx but the hostile upload's own 504; once the hostile request has been given
up, text requests are served within their deadline again (its worker was killed and
replaced); the server's memory (all its processes) grows by less than a bound.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from serving import served

SOAK_S = 20.0
TIMEOUT_S = 4.0  # the server's deadline for one request's work
CLIENTS = 3
MAX_GROWTH_MIB = 200
TEXT = "58-year-old woman, 1.8 cm grade 2 IDC, no palpable nodes, clinical stage I. Is PET/CT needed?"
# About 290,000 characters (inside the 300,000-character and 5 MB limits) that the reader must
# read through: the upload that once kept the one text reader busy for minutes.
HOSTILE = ("Left breast 2 o'clock mass, irregular, 18 mm, BI-RADS 4C; axilla: one node with "
           "cortical thickening; ER positive 90%, PR negative, HER2 2+ FISH pending. ") * 1800


def _rss_mib(pid: int) -> float:
    """Resident memory of a process and its children (the workers), MiB."""
    total = 0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
        for child in list(pids[1:]):  # the forkserver's children are the workers
            pids += [int(c) for c in Path(f"/proc/{child}/task/{child}/children").read_text().split()]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    db = tmp_path_factory.mktemp("soak") / "soak.db"
    log = tmp_path_factory.mktemp("soak-log") / "server.log"
    with served(["--db", str(db), "--workers", "2", "--timeout", str(TIMEOUT_S)], log,
                ready=lambda health: health.get("workers") == 2, wait_s=120, stop_s=15) as running:
        yield running.base, running.pid


def test_mixed_traffic_with_a_hostile_upload_in_the_middle(server: tuple[str, int]) -> None:
    base, pid = server
    statuses: Counter[str] = Counter()
    late_after_hostile: list[float] = []
    hostile_done = threading.Event()
    stop = time.monotonic() + SOAK_S
    lock = threading.Lock()

    def client(_worker: int) -> None:
        with httpx.Client(base_url=base, timeout=30) as http:
            n = 0
            while time.monotonic() < stop:
                n += 1
                started = time.monotonic()
                if n % 3 == 0:
                    r = http.post("/api/ask", json={"question": "Do I need a PET scan?",
                                                    "context": {"text": TEXT}})
                elif n % 3 == 1:
                    r = http.post("/api/recommend", json={"text": TEXT})
                else:
                    r = http.get("/healthz")
                took = time.monotonic() - started
                with lock:
                    statuses[f"{r.request.url.path} {r.status_code}"] += 1
                    if hostile_done.is_set() and r.request.url.path != "/healthz" and took > TIMEOUT_S:
                        late_after_hostile.append(took)
                if r.status_code == 503:
                    time.sleep(0.2)

    memory_before = _rss_mib(pid)
    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    time.sleep(SOAK_S / 4)
    with httpx.Client(base_url=base, timeout=60) as http:
        hostile = http.post("/api/extract", files={"file": ("long.txt", HOSTILE.encode())})
    hostile_done.set()
    for t in threads:
        t.join()
    memory_after = _rss_mib(pid)

    print(f"\nsoak: hostile upload {hostile.status_code}; {dict(statuses)}; "
          f"memory {memory_before:.0f} -> {memory_after:.0f} MiB")
    assert hostile.status_code in (200, 422, 504), hostile.text
    server_errors = {k: v for k, v in statuses.items() if int(k.rsplit(" ", 1)[1]) >= 500
                     and not k.endswith(" 503")}
    assert server_errors == {}, statuses
    served = sum(v for k, v in statuses.items() if k.endswith(" 200") and "healthz" not in k)
    assert served > 20, statuses
    assert late_after_hostile == [], late_after_hostile
    assert memory_after - memory_before < MAX_GROWTH_MIB, (memory_before, memory_after)
    health = httpx.get(base + "/healthz", timeout=5).json()
    assert health["database"] == "ok"
