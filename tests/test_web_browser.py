"""Both pages end to end in a real headless Chromium against a real `scanwise serve`.

The server is started by the test on a free loopback port with its own database file; Chromium
is Debian's /usr/bin/chromium driven by Playwright (tools/ensure_chromium.sh installs it, and
`make test` runs that first). Screenshots at phone (375x800) and desktop (1280x900) width are
saved under pytest's temporary directory and their paths printed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from serving import served
from test_web_api import SEED_QUESTION, SEED_SCENARIO, pathology_pdf

SIZES = {"phone": (375, 800), "desktop": (1280, 900)}
@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = tmp_path_factory.mktemp("serve") / "scanwise.db"
    with served(["--db", str(db)], tmp_path_factory.mktemp("serve-log") / "server.log") as server:
        yield server.base


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("screenshots")


_CONSOLE_ERRORS: dict[int, list[str]] = {}


def open_page(browser: Browser, url: str, size: str) -> Page:
    width, height = SIZES[size]
    page = browser.new_page(viewport={"width": width, "height": height})
    errors = _CONSOLE_ERRORS.setdefault(id(page), [])
    # Script errors and blocked loads (the content security policy) show up here.
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)
    return page


def close(page: Page) -> None:
    errors = _CONSOLE_ERRORS.pop(id(page), [])
    page.close()
    assert errors == [], errors


def screenshot(page: Page, path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page.screenshot(path=str(path), full_page=True)
    with capsys.disabled():  # shown in every run, not only on failure
        print(f"\nscreenshot: {path}")


def fits_the_width(page: Page) -> None:
    width = page.viewport_size["width"] if page.viewport_size else 0
    assert page.evaluate("document.documentElement.scrollWidth") <= width, "page scrolls sideways"


# WCAG 2 contrast of every piece of text against the background it is drawn on.
_CONTRAST_JS = """
() => {
  const rgb = c => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => [r, g, b].map(v => { v /= 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); })
    .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  const background = el => { for (; el; el = el.parentElement) {
    const c = rgb(getComputedStyle(el).backgroundColor);
    if (c.length === 3 || c[3] > 0) return c.slice(0, 3); } return [255, 255, 255]; };
  const worst = [];
  for (const el of document.querySelectorAll("body *")) {
    const own = Array.from(el.childNodes).some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own || el.closest(".vh") || !el.getClientRects().length) continue;
    const a = lum(rgb(getComputedStyle(el).color)), b = lum(background(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < 4.5) worst.push(el.tagName + "." + el.className + ": " + ratio.toFixed(2));
  }
  return worst;
}
"""


def readable(page: Page) -> None:
    assert page.evaluate(_CONTRAST_JS) == [], "text below 4.5:1 contrast"


@pytest.mark.parametrize("size", list(SIZES))
def test_patient_asks_the_seed_question(browser: Browser, server: str, shots: Path, size: str,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    page = open_page(browser, server + "/", size)
    page.get_by_label("Your question").fill(SEED_QUESTION)
    page.get_by_role("button", name="Get answer").click()
    title = page.locator("#answer-title")
    expect(title).to_contain_text("CT scan and FDG-PET/CT")
    expect(title).to_be_focused()  # keyboard and screen-reader users land on the answer
    # Short answer first, then the list of sections; the comparison is one side-by-side table.
    short = page.locator(".short-answer")
    expect(short).to_be_visible()
    expect(page.get_by_role("navigation", name="In this answer")).to_be_visible()
    for heading in ("Side by side", "Sources"):
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    expect(page.locator("table.side-by-side")).to_be_visible()
    first_section = page.locator("details.answer-section").first
    assert (short.bounding_box() or {"y": 1e9})["y"] < (first_section.bounding_box() or {"y": 0})["y"]
    expect(page.get_by_role("note").filter(has_text="Not medical advice")).to_be_visible()
    expect(page.locator("sup.cite a").first).to_be_visible()
    expect(page.get_by_role("heading", name="You might also ask")).to_be_visible()
    fits_the_width(page)
    readable(page)
    screenshot(page, shots / f"patient-answer-{size}.png", capsys)
    # a follow-up question is one click, and is answered in turn
    page.locator(".follow-ups button").first.click()
    expect(page.locator("#answer-title")).to_be_visible()
    close(page)


@pytest.mark.parametrize("size", list(SIZES))
def test_patient_uploads_a_pdf_report_checks_the_facts_and_gets_a_tailored_answer(
        browser: Browser, server: str, shots: Path, size: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    report = tmp_path / "pathology.pdf"
    report.write_bytes(pathology_pdf())
    page = open_page(browser, server + "/", size)
    page.get_by_label("Your question").fill("Do I need a PET scan?")
    page.get_by_label("Or add your records").set_input_files(str(report))
    page.get_by_role("button", name="Get answer").click()
    expect(page.get_by_role("heading", name="Check the facts we read")).to_be_focused()
    her2 = page.get_by_label("HER2", exact=True)
    expect(her2).to_have_value("positive")
    expect(page.locator("#f-profile-her2-ev")).to_contain_text("HER2 (IHC): 3+")
    expect(page.get_by_label("Type of cancer")).to_have_value("ductal")
    expect(page.get_by_label("Tumor size (mm)")).to_have_value("18")
    expect(page.get_by_text("pathology.pdf, page 1").first).to_be_visible()
    fits_the_width(page)
    readable(page)
    screenshot(page, shots / f"patient-facts-{size}.png", capsys)
    # the facts are editable before they are used
    page.get_by_label("Where you are in care").select_option("new_diagnosis")
    page.get_by_role("button", name="Answer with these facts").click()
    expect(page.locator("#answer-title")).to_be_visible()
    expect(page.get_by_text("Tailored to the facts above")).to_be_visible()
    expect(page.get_by_label("Where you are in care")).to_have_value("new_diagnosis")
    close(page)


@pytest.mark.parametrize("size", list(SIZES))
def test_clinician_runs_the_seed_scenario(browser: Browser, server: str, shots: Path, size: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    page = open_page(browser, server + "/clinician", size)
    page.get_by_label("Clinical scenario").fill(SEED_SCENARIO)
    page.get_by_role("button", name="Assess").click()
    expect(page.locator("#result-title")).to_be_focused()
    best = page.locator("section.match").first
    expect(best.get_by_role("heading", level=3)).to_contain_text("Best fit: ACR topic 310, variant 2")
    pet = best.get_by_role("row").filter(has_text="FDG-PET/CT")
    expect(pet).to_contain_text("Usually Not Appropriate")
    expect(pet).to_contain_text("asked")
    bone = best.get_by_role("row").filter(has_text="Bone scan whole body")
    expect(bone).to_contain_text("1-10 mSv")
    expect(bone).to_contain_text("relative radiation level 3")  # the symbols, said in words
    expect(page.locator(".result p.notice")).to_contain_text("Not medical advice.")
    fits_the_width(page)  # on a phone the table turns into one card per study
    readable(page)
    screenshot(page, shots / f"clinician-{size}.png", capsys)
    best.get_by_role("link", name="Read the article for this scenario").click()
    expect(page).to_have_url(server + "/articles/310/2")
    expect(page.locator("h1")).to_be_visible()
    close(page)


def test_keyboard_skip_link_examples_and_upload_limit(browser: Browser, server: str,
                                                      tmp_path: Path) -> None:
    page = open_page(browser, server + "/", "desktop")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    example = page.get_by_role("button", name="How much radiation does a bone scan give?")
    example.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_label("Your question")).to_have_value("How much radiation does a bone scan give?")
    expect(page.get_by_label("Your question")).to_be_focused()
    big = tmp_path / "big.txt"
    big.write_bytes(b"a" * (6 * 1024 * 1024))
    page.get_by_label("Or add your records").set_input_files(str(big))
    expect(page.locator("#records-size")).to_contain_text("the limit is 5 MB")
    page.get_by_role("button", name="Get answer").click()
    expect(page.get_by_label("Or add your records")).to_be_focused()  # not sent
    expect(page.locator("#answer-title")).to_have_count(0)
    close(page)


def test_docs_page_try_it_and_articles_search(browser: Browser, server: str) -> None:
    page = open_page(browser, server + "/docs", "desktop")
    form = page.locator("form[data-path='/api/kb']")
    form.get_by_role("button").click()
    expect(form.locator(".response")).to_contain_text("200")
    expect(form.locator(".response")).to_contain_text("kb_version")
    page.goto(server + "/articles")
    expect(page).to_have_url(server + "/articles/")
    page.get_by_label("Search scenarios").fill("HER2")
    expect(page.locator("#results li").first).to_be_visible()
    close(page)


def test_server_refuses_bad_input_and_keeps_serving(server: str) -> None:
    with httpx.Client(base_url=server, timeout=30) as http:
        too_big = http.post("/api/extract",
                            files={"file": ("big.txt", b"x" * (5 * 1024 * 1024 + 100_000), "text/plain")})
        assert too_big.status_code == 413 and too_big.json()["error"]["code"] == "payload_too_large"
        assert http.post("/api/recommend", content=b"{", headers={"content-type": "application/json"}
                         ).status_code == 400
        assert http.post("/api/extract", content=b"--x\r\nnot multipart",
                         headers={"content-type": "multipart/form-data; boundary=x"}).status_code < 500
        assert http.get("/healthz").json()["status"] == "ok"
