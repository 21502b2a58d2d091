"""The web dashboard: the Isolation tab, its JSON, and what a browser shows of it.

Locust runs non-headless with ``--autostart`` against an embedded ``shared-session``
server; the test reads the dashboard over HTTP (and, in the browser test, in Chromium),
then stops Locust with SIGTERM, which ``beatdebate locust`` passes on.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest

from loadtest.embedded import free_port
from loadtest.isolation_board import COLUMNS
from beatdebate_locust import REPO, RUN_TIMEOUT, command

pytestmark = pytest.mark.slow

T = TypeVar("T")
STARTUP = 90.0     # seconds: the embedded server, then Locust's web UI
# The README's picture is refreshed only on request, so that a test run never rewrites a
# tracked file: BEATDEBATE_UPDATE_SCREENSHOTS=1 python -m pytest tests/locust/test_web_ui.py
SCREENSHOT = REPO / "docs" / "img" / "locust-isolation.png"
UPDATE_DOCS = os.environ.get("BEATDEBATE_UPDATE_SCREENSHOTS") == "1"


@contextmanager
def dashboard(tmp_path: Path, *args: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """``beatdebate locust`` with its web UI on a free port; yields the UI's URL."""
    port = free_port()
    process = subprocess.Popen(
        command("--defect", "shared-session", "--autostart", "-u", "10", "-r", "10", "-t", "120s",
                "--web-host", "127.0.0.1", "--web-port", str(port), *args),
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: get(url + "/").startswith(b"<!doctype html>") or None, process)
        yield url, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.communicate(timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


def get(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return bytes(response.read())
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return b""


def wait_for(probe: Callable[[], T | None], process: subprocess.Popen[str]) -> T:
    deadline = time.monotonic() + STARTUP
    while time.monotonic() < deadline:
        assert process.poll() is None, f"locust exited early:\n{process.communicate()[0]}"
        found = probe()
        if found:
            return found
        time.sleep(0.3)
    raise AssertionError("the dashboard did not show it in time")


def violations(url: str) -> dict[str, Any] | None:
    raw = get(url + "/isolation")
    board = json.loads(raw) if raw else None
    return board if board and board["violations"] > 0 else None


def test_the_dashboard_serves_the_isolation_tab_and_its_violations(tmp_path: Path) -> None:
    with dashboard(tmp_path) as (url, process):
        page = get(url + "/").decode()
        assert '"extended_tabs": [{"key": "isolation", "title": "Isolation"}]' in page
        board = wait_for(lambda: violations(url), process)
        row = board["rows"][0]
        assert row["property"] in board["counts"] and row["cls"] in {"bleeding", "loss"}
        assert "victim op" in row["witness"] and row["curl"].startswith("curl ")
        # The tab's table is filled from the stats endpoint the UI polls.
        stats = json.loads(get(url + "/stats/requests"))
        (extended,) = stats["extended_stats"]
        assert extended["key"] == "isolation" and extended["data"]
        assert any(entry["name"].startswith("isolation:") for entry in stats["stats"])
        header = get(url + "/isolation/csv").decode().splitlines()[0]
        assert header == ",".join(key for key, _ in COLUMNS)
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=RUN_TIMEOUT)
    assert process.returncode == 1, output


@pytest.mark.browser
def test_chromium_shows_a_violation_on_the_isolation_tab(tmp_path: Path, chromium_path: str,
                                                         artifacts: Path) -> None:
    from playwright.sync_api import sync_playwright

    with dashboard(tmp_path) as (url, process), sync_playwright() as playwright:
        board = wait_for(lambda: violations(url), process)
        browser = playwright.chromium.launch(executable_path=chromium_path, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.goto(url + "/")
            page.get_by_role("tab", name="Isolation").click()
            cell = page.locator("td", has_text="bleeding").first
            cell.wait_for(timeout=20_000)
            properties = page.locator("td").all_inner_texts()
            assert set(board["counts"]) & set(properties)
            page.wait_for_timeout(500)      # let the tab's underline finish moving: a tidy picture
            shot = artifacts / "locust-isolation.png"
            page.screenshot(path=str(shot))
            if UPDATE_DOCS:
                page.screenshot(path=str(SCREENSHOT))
        finally:
            browser.close()
    assert shot.stat().st_size > 10_000
