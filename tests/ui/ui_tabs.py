"""Browser tabs on the chat page, driven like a person would: type, click, read.

Waiting is on what a person waits for: an answer changes the tab's status line (a new
session, or a later turn of its session), so ``ask`` returns once that line changed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, sync_playwright

from beatdebate_server.ui.render import NEW_CONVERSATION

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ANSWER_TIMEOUT_MS = 30_000
DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"


@contextmanager
def chromium(path: str) -> Iterator[Browser]:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass(frozen=True)
class Card:
    track_id: str
    artist: str
    tags: tuple[str, ...]


class Tab:
    def __init__(self, page: Page, url: str) -> None:
        self.page = page
        self.url = url.rstrip("/") + "/ui/"

    def open(self) -> Tab:
        self.page.goto(self.url)
        self.page.wait_for_selector("#session-status", timeout=ANSWER_TIMEOUT_MS)
        self.page.wait_for_selector("#send-btn", timeout=ANSWER_TIMEOUT_MS)
        return self

    def reload(self) -> None:
        self.page.reload()
        self.page.wait_for_selector("#send-btn", timeout=ANSWER_TIMEOUT_MS)

    def status(self) -> str:
        return self.page.inner_text("#session-status").strip()

    def session_hash(self) -> str | None:
        """The short hash in the status line (``Session 3f2a9c0d1e4b · turn 2``), or None."""
        words = self.status().split()
        return words[1] if words[:1] == ["Session"] and len(words) > 1 else None

    def _wait_status(self, *, before: str, pattern: str) -> None:
        """Until the status line is a whole ``pattern`` (a JS regex) other than ``before``
        (while an event runs, Gradio overlays a progress timer on it)."""
        self.page.wait_for_function(
            "([before, pattern]) => { const el = document.querySelector('#session-status');"
            " const text = el ? el.innerText.trim() : '';"
            " return text !== before && new RegExp(pattern).test(text); }",
            arg=[before, pattern], timeout=ANSWER_TIMEOUT_MS)

    def ask(self, text: str) -> None:
        before = self.status()
        self.page.fill("#query-box [data-testid=textbox]", text)
        self.page.click("#send-btn")
        # A new session or a later turn of this one; cards, chat and status come in one update.
        self._wait_status(before=before, pattern=r"^Session [0-9a-f]+ · turn [0-9]+$")

    def new_chat(self) -> None:
        before = self.status()
        self.page.click("#new-chat-btn")
        if before != NEW_CONVERSATION:
            self._wait_status(before=before, pattern=f"^{NEW_CONVERSATION}$")

    def cards(self) -> list[Card]:
        found: list[dict[str, Any]] = self.page.eval_on_selector_all(
            "#track-cards .track-card",
            "els => els.map(e => ({id: e.dataset.trackId, artist: e.dataset.artist,"
            " tags: e.dataset.tags}))")
        return [Card(c["id"], c["artist"], tuple(t for t in c["tags"].split("|") if t)) for c in found]

    def chat_text(self) -> str:
        return self.page.inner_text("#chat")

    def screenshot(self, path: Any) -> None:
        self.page.screenshot(path=str(path), full_page=True)
