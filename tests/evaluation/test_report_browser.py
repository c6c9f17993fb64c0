"""report.html in a real headless Chromium: it renders, the plots are drawn, nothing is fetched.

Needs Debian's chromium (``.ci/run`` installs it). Without it the test is skipped, except where
REWARDKIT_REQUIRE_BROWSER=1 (CI) makes a missing browser a failure.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rewardkit.evaluation.run import SuiteResult

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser_page() -> Iterator[Any]:
    if CHROMIUM is None:
        if os.environ.get("REWARDKIT_REQUIRE_BROWSER") == "1":
            pytest.fail("chromium is required here (REWARDKIT_REQUIRE_BROWSER=1) but not installed")
        pytest.skip("no chromium on this machine (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser.new_page(viewport={"width": 1300, "height": 1000})
        browser.close()


def test_report_renders_offline_with_every_plot(
    browser_page: Any, evaluation: tuple[Path, list[SuiteResult]], tmp_path: Path
) -> None:
    from playwright.sync_api import Page

    assert isinstance(browser_page, Page)
    page = browser_page
    out, results = evaluation
    requests: list[str] = []
    problems: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    url = (out / "report.html").resolve().as_uri()
    page.goto(url)

    assert page.title() == "rewardkit evaluation"
    assert requests == [url], f"the report fetched more than itself: {requests}"
    assert problems == []
    assert page.locator("section.suite").count() == 2
    suite = page.locator('section.suite[data-suite="demo suite"]')
    rows = suite.locator("table.models tr")
    assert rows.count() == 1 + len([r for r in results if r.suite == "demo suite"])
    assert suite.locator("table.models tr.baseline").count() == 3
    for name in ("sections", "reliability", "length", "scores"):
        figure = suite.locator(f'figure[data-plot="{name}"] svg')
        assert figure.count() == 1, name
        box = figure.bounding_box()
        assert box is not None and box["width"] > 200 and box["height"] > 150, (name, box)
        # drawn content, not an empty frame: matplotlib draws lines and bars as paths
        assert figure.locator("path").count() > 10, name
    # a best-of-K suite has no pairs: only the section bars have something to draw
    assert page.locator('section.suite[data-suite="bok"] figure.plot').count() == 1
    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    assert (tmp_path / "report.png").stat().st_size > 20_000
