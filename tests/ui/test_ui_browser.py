"""The chat page in a real browser (Debian's Chromium): the design note's scenarios 1–3,
typed and clicked in three tabs of one browser, against a real ``beatdebate serve --ui``.

With ``--defect ui-global-session`` the same clicks must show the bleeding: the tabs share
one session, and tab 1's "More tracks" follows up on tab 2's electronic music.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest
from ui_tabs import DOCS_IMG, Tab, chromium

from beatdebate_server.ui.render import NEW_CONVERSATION

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _sessions(url: str) -> int:
    return int(httpx.get(f"{url}/health").json()["sessions"])


def test_each_tab_is_its_own_conversation(ui_server: str, chromium_path: str,
                                          artifacts: Path) -> None:
    with chromium(chromium_path) as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        tab1, tab2, tab3 = (Tab(context.new_page(), ui_server).open() for _ in range(3))
        assert {tab.status() for tab in (tab1, tab2, tab3)} == {NEW_CONVERSATION}

        # Scenario 1: three tabs at once, three sessions, each answered on its own subject.
        tab1.ask("Songs by Mk.gee")
        tab2.ask("Electronic music")
        tab3.ask("Jazz for studying")
        hashes = [tab.session_hash() for tab in (tab1, tab2, tab3)]
        assert None not in hashes and len(set(hashes)) == 3, hashes
        first_page = tab1.cards()
        assert first_page and {card.artist for card in first_page} == {"Mk.gee"}
        assert tab2.cards() and all("electronic" in card.tags for card in tab2.cards())
        assert tab3.cards() and all("jazz" in card.tags for card in tab3.cards())

        # Scenario 2: "More tracks" follows each tab's own subject, never the other's.
        tab1.ask("More tracks")
        more = tab1.cards()
        assert more and {card.artist for card in more} == {"Mk.gee"}
        assert not {c.track_id for c in more} & {c.track_id for c in first_page}
        assert "Following up on “Songs by Mk.gee”" in tab1.chat_text()
        assert tab1.session_hash() == hashes[0] and "turn 2" in tab1.status()
        tab1.screenshot(artifacts / "follow-up-tab1.png")
        tab2.ask("More tracks")
        assert tab2.cards() and all("electronic" in card.tags for card in tab2.cards())
        assert all(card.artist != "Mk.gee" for card in tab2.cards())
        tab2.screenshot(artifacts / "follow-up-tab2.png")

        # Scenario 3: a reload starts fresh: new session, nothing to follow up on.
        tab3.ask("Songs by The Beatles")
        tab3.ask("More like these")
        before_reload = tab3.session_hash()
        tab3.reload()
        assert tab3.status() == NEW_CONVERSATION
        tab3.ask("More tracks")
        assert tab3.session_hash() not in (None, before_reload, *hashes)
        assert "Nothing to follow up on" in tab3.chat_text()
        assert all(card.artist != "The Beatles" for card in tab3.cards())
        tab3.screenshot(artifacts / "after-reload-tab3.png")


def test_a_follow_up_on_the_shipped_catalog(shipped_ui_server: str, chromium_path: str,
                                            artifacts: Path) -> None:
    """Scenario 2 on the real catalog, as a user first sees the page; it takes the README's
    picture (copied into docs/img only with BEATDEBATE_UPDATE_SCREENSHOTS=1)."""
    with chromium(chromium_path) as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        tab, other = (Tab(context.new_page(), shipped_ui_server).open() for _ in range(2))
        tab.ask("Songs by Radiohead")
        other.ask("Electronic music")
        first_page = tab.cards()
        tab.ask("More tracks")
        more = tab.cards()
        assert len(first_page) == len(more) == 10
        assert {card.artist for card in first_page + more} == {"Radiohead"}
        assert not {c.track_id for c in more} & {c.track_id for c in first_page}
        assert "Following up on “Songs by Radiohead”" in tab.chat_text()
        assert tab.session_hash() != other.session_hash()
        tab.screenshot(artifacts / "shipped-follow-up.png")
        if os.environ.get("BEATDEBATE_UPDATE_SCREENSHOTS") == "1":
            shutil.copyfile(artifacts / "shipped-follow-up.png", DOCS_IMG / "ui-follow-up.png")


def test_new_chat_deletes_the_old_session_and_starts_fresh(ui_server: str, chromium_path: str,
                                                           artifacts: Path) -> None:
    with chromium(chromium_path) as browser:
        tab = Tab(browser.new_page(), ui_server).open()
        tab.ask("Songs by Mk.gee")
        old = tab.session_hash()
        live = _sessions(ui_server)
        tab.new_chat()
        assert tab.status() == NEW_CONVERSATION and tab.cards() == []
        assert _sessions(ui_server) == live - 1        # the old session was DELETEd
        tab.ask("More tracks")
        assert tab.session_hash() not in (None, old)
        assert "Nothing to follow up on" in tab.chat_text()
        tab.screenshot(artifacts / "new-chat.png")


def test_the_global_session_defect_is_seen_in_the_browser(defective_ui_server: str,
                                                          chromium_path: str,
                                                          artifacts: Path) -> None:
    """The same clicks as scenario 2, on the defective page: the check must fail, i.e. the
    bleeding must be visible (this test passes only if it is)."""
    with chromium(chromium_path) as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        tab1, tab2 = (Tab(context.new_page(), defective_ui_server).open() for _ in range(2))
        tab1.ask("Songs by Mk.gee")
        tab2.ask("Electronic music")
        tab1.ask("More tracks")
        tab1.screenshot(artifacts / "defect-follow-up-tab1.png")
        assert tab1.session_hash() == tab2.session_hash()         # one session for both tabs
        cards = tab1.cards()
        assert cards and all(card.artist != "Mk.gee" for card in cards)   # not tab 1's subject
        assert all("electronic" in card.tags for card in cards)           # but tab 2's
        assert "Following up on “Electronic music”" in tab1.chat_text()
        # A reload does not help either: the page keeps the one shared id.
        tab1.reload()
        tab1.ask("More tracks")
        assert "Nothing to follow up on" not in tab1.chat_text()


def test_each_tab_sends_its_own_key_from_the_secure_source(ui_server: str,
                                                          chromium_path: str) -> None:
    # The tab key (``ui/tab_key.py``): 256 bits from crypto.getRandomValues, one per tab,
    # sent in each event's body (never in a URL, where Gradio's session_hash travels).
    with chromium(chromium_path) as browser:
        context = browser.new_context()
        keys: dict[int, set[str]] = {}
        tabs = []
        for number in range(2):
            page = context.new_page()
            sent = keys.setdefault(number, set())

            def record(request: Any, sent: set[str] = sent) -> None:
                if request.method == "POST" and "/queue/join" in request.url:
                    data = (request.post_data_json or {}).get("data") or []
                    sent.update(v for v in data if isinstance(v, str)
                                and re.fullmatch(r"[0-9a-f]{64}", v))
                    assert all(k not in request.url for k in sent)

            page.on("request", record)
            tabs.append(Tab(page, ui_server).open())
        for tab in tabs:
            tab.ask("Songs by Mk.gee")
            tab.ask("More tracks")
        assert "Following up on “Songs by Mk.gee”" in tabs[0].chat_text()
    assert [len(keys[0]), len(keys[1])] == [1, 1]
    assert keys[0] != keys[1]
