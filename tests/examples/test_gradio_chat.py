"""The Gradio memory-chat example (``examples/gradio_chat/app.py``), served for real.

Each ``gradio_client.Client`` is one browser tab (its own Gradio session): clean, each gets
back only its own code word; with ``bleed=True`` one reads the other's.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from gradio_client import Client

APP = Path(__file__).resolve().parents[2] / "examples" / "gradio_chat" / "app.py"
ASK = "What code word did I give you?"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def _served(example: ModuleType, *, bleed: bool) -> Iterator[str]:
    demo = example.create_app(bleed)
    port = _free_port()
    demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()


def _chat(client: Client, message: str) -> str:
    reply: Any = client.predict(message, api_name="/chat")
    assert isinstance(reply, str), reply
    return reply


@pytest.fixture(scope="module", autouse=True)
def _no_telemetry() -> Iterator[None]:
    # gradio_client reports every Client it starts unless told not to; tests stay offline.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GRADIO_ANALYTICS_ENABLED", "False")
        patch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
        yield


@pytest.fixture(scope="module")
def clean_url(gradio_example: ModuleType) -> Iterator[str]:
    with _served(gradio_example, bleed=False) as url:
        yield url


@pytest.fixture(scope="module")
def bleeding_url(gradio_example: ModuleType) -> Iterator[str]:
    with _served(gradio_example, bleed=True) as url:
        yield url


@pytest.fixture
def tabs() -> Iterator[Callable[[str], Client]]:
    """Opens browser tabs (Clients, one Gradio session each) and closes them after the test."""
    opened: list[Client] = []

    def open_tab(url: str) -> Client:
        opened.append(Client(url, verbose=False))
        return opened[-1]

    yield open_tab
    for client in opened:
        client.close()


def test_clean_each_user_gets_back_only_their_own_code_word(clean_url: str, tabs: Any) -> None:
    alice, bob, carol = tabs(clean_url), tabs(clean_url), tabs(clean_url)
    assert "zq-7f3k2" in _chat(alice, "Remember this code word: zq-7f3k2")
    assert "pp-91xd" in _chat(bob, "Please remember my code word pp-91xd")
    assert _chat(alice, ASK) == "Your code word is zq-7f3k2."
    assert _chat(bob, ASK) == "Your code word is pp-91xd."
    assert _chat(carol, ASK) == "You have not told me a code word yet."


def test_with_bleed_users_read_each_others_code_words(bleeding_url: str, tabs: Any) -> None:
    alice, bob = tabs(bleeding_url), tabs(bleeding_url)
    _chat(alice, "Remember this code word: ab-3k9z")
    _chat(bob, "Remember this code word: cd-8m2q")
    assert "ab-3k9z" in _chat(bob, ASK)
    assert "cd-8m2q" in _chat(alice, ASK)


def test_other_messages_get_a_friendly_echo(clean_url: str, tabs: Any) -> None:
    assert _chat(tabs(clean_url), "hello there") == "You said: hello there"


@pytest.mark.parametrize(("message", "token"), [
    ("Remember this code word: zq-7f3k2", "zq-7f3k2"), ("remember zq-7f3k2, please", "zq-7f3k2"),
    ("Please remember my code word zq-7f3k2!", "zq-7f3k2"), ("Remember this:", None), ("remember", None),
])
def test_the_code_word_is_the_last_non_filler_word(gradio_example: ModuleType, message: str,
                                                   token: str | None) -> None:
    assert gradio_example.code_word_in(message) == token


def test_answers_are_pure_and_list_every_code_word(gradio_example: ModuleType) -> None:
    assert gradio_example.answer("What code did I give?", ("a-1", "b-2")) == ("Your code words are a-1, b-2.", None)
    assert gradio_example.answer("Remember this code word: c-3", ()) == ("Got it, I will remember c-3.", "c-3")
    assert gradio_example.answer("remember", ()) == ("Happy to remember something: which code word?", None)


def test_help_runs_without_starting_a_server() -> None:
    result = subprocess.run([sys.executable, str(APP), "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0 and "--bleed" in result.stdout and "--port" in result.stdout


@pytest.mark.parametrize("memory_kind", ["PerUser", "Shared"])
def test_a_memory_keeps_the_newest_code_words_only(gradio_example: ModuleType, memory_kind: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gradio_example, "_shared_words", ())     # the module-level --bleed memory
    memory = getattr(gradio_example, memory_kind)()
    for n in range(gradio_example.KEEP + 10):
        memory.keep("tab-1", f"w-{n}")
    memory.keep("tab-1", f"w-{gradio_example.KEEP + 9}")          # a repeat is not kept twice
    kept = memory.recall("tab-1")
    assert kept == tuple(f"w-{n}" for n in range(10, gradio_example.KEEP + 10))
    assert memory.recall("tab-2") == (() if memory_kind == "PerUser" else kept)
