from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from scanwise.domain.kb import KnowledgeBase
from scanwise.knowledge.loader import default_kb

# No background reader outlives the tests (the CLI starts one for the next command); the tests
# of the warm reader turn it on for themselves. Subprocesses inherit this.
os.environ["SCANWISE_NO_WARM_READER"] = "1"


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return default_kb()


# Browser tests use Debian's chromium (installed by tools/ensure_chromium.sh), never a
# browser downloaded by Playwright: this machine has no network for that.
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


# Module scope: Playwright's sync API holds an event loop while the browser is open, and later
# tests that run their own asyncio loop in this thread must not find it still running.
@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run tools/ensure_chromium.sh (make test does)")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say, at the end, how many tests were skipped for want of the reference data and how
    to run them (a fresh clone has no ../shared/reference)."""
    from reference_data import REASON

    skipped = [r for r in terminalreporter.stats.get("skipped", [])
               if isinstance(r.longrepr, tuple) and REASON in str(r.longrepr[2])]
    if skipped:
        terminalreporter.write_line(f"{len(skipped)} test(s) skipped: {REASON}.", yellow=True)
