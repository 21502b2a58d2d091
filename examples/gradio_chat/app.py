"""A Gradio chat that remembers what each user told it: a target for the isolation checks.

Terms:
- *user*: one browser tab, that is one Gradio session (``gr.Request.session_hash``); each
  ``gradio_client.Client`` is one.
- *code word*: the token a user asks it to remember ("Remember this code word: zq-7f3k2").
  Asking "What code word did I give you?" answers with that user's code words, in order.

The chat endpoint is ``/chat`` (``Client(url).predict(message, api_name="/chat")``).

``--bleed`` reproduces the original front end's defect: the memory is one module-level
variable shared by every user (as its single global session id was), so users read each
other's code words.
"""

# No ``from __future__ import annotations``: Gradio finds the ``gr.Request`` parameter by its
# annotation at run time, and a string annotation would hide it.

import argparse
import re
import threading
from typing import Protocol

import gradio as gr

_ASKS = re.compile(r"\bwhat\b.*\bcode", re.IGNORECASE)
_REMEMBER = re.compile(r"\bremember\b", re.IGNORECASE)
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
KEEP = 50   # code words kept per memory, the newest: a --bleed memory is everybody's
_FILLER = {"remember", "this", "that", "it", "my", "the", "a", "code", "word", "is", "please", "for", "me"}


def code_word_in(message: str) -> str | None:
    """The token a "remember ..." message asks to keep: the last word after "remember" (or
    after the last colon) that is not filler; None when it names none."""
    tail = message.rpartition(":")[2] if ":" in message else _REMEMBER.split(message)[-1]
    words = [w for w in _TOKEN.findall(tail) if w.lower() not in _FILLER]
    return words[-1] if words else None


def answer(message: str, remembered: tuple[str, ...]) -> tuple[str, str | None]:
    """The reply to ``message`` given what this user told us, and the code word to keep, if any.

    Pure: the memory is read and written by the caller.
    """
    if _ASKS.search(message):
        if not remembered:
            return "You have not told me a code word yet.", None
        if len(remembered) == 1:
            return f"Your code word is {remembered[0]}.", None
        return f"Your code words are {', '.join(remembered)}.", None
    if _REMEMBER.search(message):
        token = code_word_in(message)
        if token is None:
            return "Happy to remember something: which code word?", None
        return f"Got it, I will remember {token}.", token
    return f"You said: {message.strip()[:200]}", None


class Memory(Protocol):
    """Code words by user: the seam the --bleed defect replaces."""
    def recall(self, user: str) -> tuple[str, ...]: ...
    def keep(self, user: str, token: str) -> None: ...


class PerUser:
    """Clean: each user's code words, keyed by the Gradio session that told them."""

    def __init__(self) -> None:
        self._words: dict[str, tuple[str, ...]] = {}

    def recall(self, user: str) -> tuple[str, ...]:
        return self._words.get(user, ())

    def keep(self, user: str, token: str) -> None:
        if token not in self._words.get(user, ()):
            self._words[user] = (self._words.get(user, ()) + (token,))[-KEEP:]


# --bleed only: one memory for the whole process, whoever is talking.
_shared_words: tuple[str, ...] = ()


class Shared:
    """Bleeding: every user reads and writes the one module-level memory."""

    def recall(self, user: str) -> tuple[str, ...]:
        return _shared_words

    def keep(self, user: str, token: str) -> None:
        global _shared_words
        if token not in _shared_words:
            _shared_words = (_shared_words + (token,))[-KEEP:]


def create_app(bleed: bool = False) -> gr.ChatInterface:
    """The chat app; nothing listens until ``launch()``."""
    memory: Memory = Shared() if bleed else PerUser()
    # Gradio runs a sync handler in a worker thread: one user's read-then-write must not
    # interleave with another's.
    lock = threading.Lock()

    def chat(message: str, history: list[dict[str, object]], request: gr.Request) -> str:
        user = request.session_hash or "anonymous"
        with lock:
            reply, token = answer(message, memory.recall(user))
            if token is not None:
                memory.keep(user, token)
        return reply

    # concurrency_limit=None: Gradio's default runs one event at a time, so under a hundred
    # users a reply waited seconds in the queue and some gave up; the handler is a dict look-up
    # under a lock, with nothing to protect by queueing.
    return gr.ChatInterface(chat, api_name="chat", title="Memory chat", analytics_enabled=False,
                            concurrency_limit=None,
                            description="Tell me a code word to remember, then ask for it back.")


def main() -> None:
    parser = argparse.ArgumentParser(description="A Gradio chat that remembers each user's code word.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7860)
    parser.add_argument("--bleed", action="store_true",
                        help="one memory shared by all users (the original front end's bug)")
    args = parser.parse_args()
    create_app(args.bleed).launch(server_name=args.host, server_port=args.port)


if __name__ == "__main__":
    main()
