"""What a tab keeps of its chat: a bounded transcript (issue 16, finding 5).

Gradio keeps each tab's transcript in a ``gr.State`` on the server, for as long as the tab
lives. Unbounded, one tab could grow it without end, with turns the backend refused too
(a refused query is still shown, with the reason). So a tab keeps its last
``MAX_MESSAGES`` messages (the backend keeps a session's last 50 turns: 50 questions and
50 answers), and a message longer than ``MAX_MESSAGE_CHARS`` is kept cut, with an
ellipsis: the backend refuses a query over 500 characters anyway.
"""

from __future__ import annotations

from collections.abc import Sequence

Message = dict[str, str]

MAX_MESSAGES = 100
MAX_MESSAGE_CHARS = 2_000
_ELLIPSIS = "…"


def message(role: str, content: str) -> Message:
    """One chat message, cut to ``MAX_MESSAGE_CHARS``."""
    if len(content) > MAX_MESSAGE_CHARS:
        content = content[:MAX_MESSAGE_CHARS - len(_ELLIPSIS)] + _ELLIPSIS
    return {"role": role, "content": content}


def extend(transcript: Sequence[Message], *messages: Message) -> list[Message]:
    """A new transcript: ``transcript`` and ``messages``, its last ``MAX_MESSAGES`` only."""
    return [*transcript, *messages][-MAX_MESSAGES:]


__all__ = ["MAX_MESSAGES", "MAX_MESSAGE_CHARS", "Message", "extend", "message"]
