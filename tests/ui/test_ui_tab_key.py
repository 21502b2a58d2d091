"""The tab key: another tab's ``session_hash`` alone reads nothing (issue 16, finding 6),
and a tab's transcript stays bounded (finding 5). Over Gradio's client protocol, against a
real ``serve --ui``; the browser's side is in ``test_ui_browser.py``."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from gradio_client import Client

from beatdebate_server.ui.tab_key import check, digest
from beatdebate_server.ui.transcript import MAX_MESSAGE_CHARS, MAX_MESSAGES, extend, message


@pytest.fixture
def tab(ui_server: str) -> Iterator[Client]:
    client = Client(f"{ui_server}/ui/", verbose=False)
    yield client
    client.close()


def _thief_of(ui_server: str, victim: Client) -> Client:
    """A client that presents the victim's ``session_hash`` as its own."""
    thief = Client(f"{ui_server}/ui/", verbose=False)
    thief.session_hash = victim.session_hash
    return thief


def test_another_tabs_hash_without_its_key_reads_and_changes_nothing(
        ui_server: str, tab: Client) -> None:
    key = secrets.token_hex(32)
    *_, first = tab.predict("Songs by Mk.gee", 10, "", key, api_name="/ask")
    assert first["status"] == 200
    thief = _thief_of(ui_server, tab)
    try:
        stolen: list[Any] = [thief.predict("", api_name="/history"),
                             thief.predict("", "f" * 64, api_name="/history"),
                             thief.predict("More tracks", 10, "", api_name="/ask")[-1],
                             thief.predict("", api_name="/new_chat")[-1]]
    finally:
        thief.close()
    for envelope in stolen:
        assert envelope["status"] == 403, envelope
        assert "Mk.gee" not in json.dumps(envelope)
    own = tab.predict("", key, api_name="/history")
    assert own["status"] == 200 and own["body"]["turn_count"] == 1  # nothing was changed


def test_a_client_without_a_key_works_as_before(tab: Client) -> None:
    # The harness (``simulate --through ui``) passes no key: the tab stays unbound.
    *_, first = tab.predict("Songs by Mk.gee", 10, "", api_name="/ask")
    *_, more = tab.predict("More tracks", 10, "", api_name="/ask")
    history = tab.predict("", api_name="/history")
    assert first["status"] == more["status"] == history["status"] == 200
    assert more["body"]["context"]["anchor"]["query"] == "Songs by Mk.gee"


def test_a_huge_refused_message_is_kept_cut(tab: Client) -> None:
    # Issue 16: the tab's transcript kept every refused query whole. (The event's body
    # is capped at 16 KiB like any request's, so that is the most a message can be.)
    _, chat, *_, envelope = tab.predict("x" * 12_000, 10, "", api_name="/ask")
    assert envelope["status"] == 422
    assert len(json.dumps(chat)) < 2 * MAX_MESSAGE_CHARS + 1_000


def test_the_key_check() -> None:
    key = secrets.token_hex(32)
    assert check(None, "") .allowed and check(None, "").bound is None
    bound = check(None, key)
    assert bound.allowed and bound.bound == digest(key) and key not in bound.bound
    assert check(bound.bound, key).allowed
    assert not check(bound.bound, "").allowed
    assert not check(bound.bound, key[:-1] + ("0" if key[-1] != "0" else "1")).allowed


def test_the_transcript_keeps_its_last_messages_each_cut() -> None:
    transcript: list[dict[str, str]] = []
    for n in range(3 * MAX_MESSAGES):
        transcript = extend(transcript, message("user", f"q{n} " + "y" * 10_000))
    assert len(transcript) == MAX_MESSAGES
    assert transcript[-1]["content"].startswith(f"q{3 * MAX_MESSAGES - 1} ")
    assert all(len(m["content"]) == MAX_MESSAGE_CHARS for m in transcript)
    assert message("assistant", "short") == {"role": "assistant", "content": "short"}
