"""The article site in a real headless Chromium: layout at phone and desktop width, search.

Uses Debian's /usr/bin/chromium through Playwright (tools/ensure_chromium.sh installs it; `make
test` runs that first). Screenshots are saved under pytest's tmp dir and their paths printed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from scanwise.core import Scanwise
from scanwise.domain.assess import match_for
from scanwise.domain.kb import KnowledgeBase
from scanwise.render.articles import site_files

SEED = "articles/acr-310-v2.html"


@pytest.fixture(scope="module")
def site(kb: KnowledgeBase, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("site")
    for rel, text in site_files(kb, Scanwise(kb).articles()).items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def _open(browser: Browser, url: str, width: int) -> Page:
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(url)
    return page


@pytest.mark.parametrize("width", [375, 1280])
def test_article_layout(browser: Browser, site: Path, tmp_path: Path, width: int,
                        kb: KnowledgeBase) -> None:
    page = _open(browser, (site / SEED).as_uri(), width)
    table = page.locator("table.ratings")
    table.scroll_into_view_if_needed()
    shot = tmp_path / f"acr-310-v2-{width}.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"screenshot: {shot}")
    assert table.is_visible()
    box = table.bounding_box()
    assert box is not None and box["width"] > 0 and box["height"] > 0
    assert box["x"] >= 0 and box["x"] + box["width"] <= width
    assert page.evaluate("document.scrollingElement.scrollWidth <= innerWidth")
    rows = page.locator("table.ratings tbody tr")
    assert rows.count() == len(match_for(kb, 310, 2).procedures)
    assert rows.first.is_visible()
    page.close()


def test_article_landmarks_and_headings(browser: Browser, site: Path) -> None:
    page = _open(browser, (site / SEED).as_uri(), 1280)
    for selector in ("header[role=banner]", "nav[aria-label=Breadcrumb]", "main#main",
                     "footer[role=contentinfo]", "table.ratings caption"):
        assert page.locator(selector).count() == 1, selector
    levels = page.evaluate("[...document.querySelectorAll('h1,h2,h3')].map(h => +h.tagName[1])")
    assert levels[0] == 1 and levels.count(1) == 1
    assert all(b - a <= 1 for a, b in zip(levels, levels[1:], strict=False)), "a heading level is skipped"
    # Body text is dark on white: at least 7:1 contrast.
    color = page.evaluate("getComputedStyle(document.body).color")
    assert color == "rgb(26, 26, 26)"
    page.close()


def test_index_search_works_offline(browser: Browser, site: Path, tmp_path: Path,
                                    kb: KnowledgeBase) -> None:
    page = _open(browser, (site / "index.html").as_uri(), 375)
    # Every topic is listed, those without variants in the data too.
    assert page.locator("#all section.topic").count() == len(
        [t for t in kb.topics if t.status != "superseded"])
    page.fill("#q", "stage IIB HER2")
    results = page.locator("#results li")
    assert results.count() >= 1
    assert page.locator("#all").is_hidden()
    assert "310" in results.first.inner_text()
    assert "match" in page.inner_text("#search-status")
    shot = tmp_path / "index-search-375.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"screenshot: {shot}")
    assert page.evaluate("document.scrollingElement.scrollWidth <= innerWidth")
    results.first.locator("a").click()
    page.wait_for_load_state()
    assert page.url.endswith(".html") and page.locator("h1").is_visible()
    page.close()


def test_print_stylesheet_hides_navigation(browser: Browser, site: Path) -> None:
    page = _open(browser, (site / SEED).as_uri(), 1280)
    page.emulate_media(media="print")
    assert page.locator("nav.crumbs").is_hidden()
    assert page.locator("table.ratings").is_visible()
    page.close()
