"""The answer to one turn: the primary recommender within its time budget, or the fallback.

The primary runs within ``primary_timeout``; when it fails or runs out of time (for real,
or through ``--fault-rate``/``--fault-latency``) the fallback answers, and the reply says
so in ``source`` and ``fallback_reason``.

``Answering`` is a seam of the turn service: ``Answers`` is the production one, and a
deliberate defect may wrap it (``defects/unscoped_cache.py``) when the app is built.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from ..session import Source, Turn, find_turn
from .faults import FaultInjector

if TYPE_CHECKING:
    from ..recommender import Answer, Intent, Recommender

log = logging.getLogger("beatdebate.server")


@dataclass(frozen=True, slots=True)
class Reply:
    """What answers a turn: the recommender's ``answer``, the session's own turn it was
    resolved against (``anchor``, the response's ``context.anchor``), and which path answered."""

    answer: Answer
    anchor: Turn | None
    source: Source
    fallback_reason: str | None


class Answering(Protocol):
    async def answer(self, intent: Intent, turns: Sequence[Turn], *, limit: int) -> Reply:
        """The reply to ``intent`` given the session's own ``turns`` (oldest first)."""
        ...


class Answers:
    """The production ``Answering``: the primary recommender, else its fallback."""

    def __init__(self, recommender: Recommender, *, faults: FaultInjector,
                 primary_timeout: float) -> None:
        self._recommender = recommender
        self._faults = faults
        self._primary_timeout = primary_timeout

    async def answer(self, intent: Intent, turns: Sequence[Turn], *, limit: int) -> Reply:
        recommender = self._recommender
        try:
            if not self._faults.active:
                # Nothing awaits in here, so a timeout could not interrupt it anyway.
                answer = recommender.recommend(intent, turns, limit=limit)
                return Reply(answer, find_turn(turns, answer.anchor_turn), "primary", None)
            async with asyncio.timeout(self._primary_timeout):
                await self._faults.before_primary()
                answer = recommender.recommend(intent, turns, limit=limit)
                return Reply(answer, find_turn(turns, answer.anchor_turn), "primary", None)
        except TimeoutError:
            reason = "primary_timeout"
        except Exception:
            log.warning("primary recommender failed; answering from the fallback",
                        exc_info=True)
            reason = "primary_error"
        answer = recommender.fallback(intent, turns, limit=limit)
        return Reply(answer, find_turn(turns, answer.anchor_turn), "fallback", reason)


__all__ = ["Answering", "Answers", "Reply"]
