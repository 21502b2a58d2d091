"""``unscoped-cache``: follow-up replies are cached by their query text alone.

The second session to ask "More tracks" gets the first one's reply: its page and its
anchor, a turn of another session (``foreign-anchor``, ``foreign-content``). A wrapper
around the turn's ``Answering``: the service records whatever reply it is given.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..service.answers import Answering, Reply
from ..session import Turn

if TYPE_CHECKING:
    from ..recommender import Intent


class UnscopedCache:
    """An ``Answering`` that answers a follow-up from a cache keyed by its text."""

    def __init__(self, answers: Answering) -> None:
        self._answers = answers
        self._replies: dict[str, Reply] = {}

    async def answer(self, intent: Intent, turns: Sequence[Turn], *, limit: int) -> Reply:
        if intent.follow_up is None:
            return await self._answers.answer(intent, turns, limit=limit)
        key = intent.query.casefold()  # the bug: no session in the key
        cached = self._replies.get(key)
        if cached is not None:
            return cached
        reply = await self._answers.answer(intent, turns, limit=limit)
        self._replies.setdefault(key, reply)
        return reply


__all__ = ["UnscopedCache"]
