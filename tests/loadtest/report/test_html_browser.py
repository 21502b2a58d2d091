"""The HTML report in a real browser (Debian's Chromium), from a real run against a defect.

The page of ``beatdebate simulate --defect shared-session --nemesis abort --html`` is opened
from ``file://`` with every other request refused: it must show each chart, shade the
nemesis's window, and a click on a violation's mark must land on that witness and its curl.
Screenshots go to ``$TEST_ARTIFACTS/html-report`` (default ``test-artifacts/``); with
``BEATDEBATE_UPDATE_SCREENSHOTS=1`` the first one replaces the README's ``docs/img/html-report.png``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from playwright.sync_api import Browser, Route, sync_playwright

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[3]
BEATDEBATE = Path(sys.executable).with_name("beatdebate")
DOCS_IMG = ROOT / "docs" / "img"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def defect_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A short real run of the embedded server with a defect and a nemesis: its HTML and JSON."""
    out = tmp_path_factory.mktemp("html-report")
    html, report = out / "report.html", out / "report.json"
    done = subprocess.run([str(BEATDEBATE), "simulate", "--defect", "shared-session", "--nemesis", "abort",
                           "--users", "10", "--duration", "6s", "--seed", "7", "--quiet",
                           "--html", str(html), "--json", str(report)],
                          capture_output=True, text=True, check=False, timeout=120, cwd=ROOT)
    assert done.returncode == 1, done.stdout + done.stderr     # the defect bleeds: exit 1
    return html, orjson.loads(report.read_bytes())


@pytest.fixture
def artifacts() -> Path:
    path = Path(os.environ.get("TEST_ARTIFACTS", ROOT / "test-artifacts")) / "html-report"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def browser(chromium_path: str) -> Iterator[Browser]:
    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def test_the_report_opens_offline_shows_each_chart_and_leads_to_a_witness(
        defect_run: tuple[Path, dict[str, Any]], browser: Browser, artifacts: Path) -> None:
    html, report = defect_run
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    refused: list[str] = []

    def offline(route: Route) -> None:
        if route.request.url.startswith("file:"):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    context.route("**/*", offline)
    page = context.new_page()
    page.goto(html.as_uri())

    assert page.inner_text("#verdict-line").startswith("FAIL: bleeding ")
    kinds = sorted(report["latency_ms"])
    charts = ["chart-throughput", "chart-users", *(f"chart-latency-{kind}" for kind in kinds), "chart-violations"]
    for chart in charts:
        box = page.locator(f"svg#{chart}").bounding_box()
        assert box is not None and box["width"] > 500 and box["height"] > 100, chart
        assert page.locator(f"svg#{chart} path.series, svg#{chart} a.mark").count() >= 1, chart
    # The nemesis's window is shaded on every chart.
    assert report["time_series"]["faults"]
    for chart in charts:
        assert page.locator(f"svg#{chart} rect.fault").count() == len(report["time_series"]["faults"]), chart
    page.screenshot(path=str(artifacts / "report-top.png"))
    page.locator("#over-time").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "report-over-time.png"))
    if os.environ.get("BEATDEBATE_UPDATE_SCREENSHOTS") == "1":
        page.locator("#chart-throughput").scroll_into_view_if_needed()
        page.evaluate("document.getElementById('over-time').scrollIntoView()")
        page.screenshot(path=str(DOCS_IMG / "html-report.png"))

    # Follow a violation's mark on the timeline to its witness: the last one drawn, which no
    # other mark can cover (marks close in time overlap).
    marks = page.locator("#chart-violations a.mark")
    assert marks.count() == len(report["time_series"]["violations"])
    mark = marks.last
    target = (mark.get_attribute("href") or "").removeprefix("#")
    violation = next(v for v in report["time_series"]["violations"] if v["witness"] == target)
    mark.scroll_into_view_if_needed()
    mark.click()
    page.wait_for_url(f"**#{target}")
    witness = page.locator(f"section.witness#{target}")
    assert witness.evaluate("el => el.matches(':target')")
    assert violation["property"] in witness.locator("h3").inner_text()
    curl = witness.locator("pre.curl").inner_text()
    assert curl.startswith("curl -sS -i -X ") and report["target"] in curl
    box = witness.bounding_box()
    assert box is not None and -2 <= box["y"] < 900      # scrolled to it (its top at the viewport's, ± rounding)
    page.screenshot(path=str(artifacts / "report-witness.png"))

    assert refused == []       # it asked for nothing beyond its own file
    context.close()


def test_copy_of_the_readme_screenshot_exists() -> None:
    """The README shows the report; the picture is taken by the test above."""
    assert (DOCS_IMG / "html-report.png").stat().st_size > 10_000
    assert "docs/img/html-report.png" in (ROOT / "README.md").read_text()
