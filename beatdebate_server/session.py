"""The conversation records: a session and its turns (contract, "Sessions").

Terms:
- *session*: one conversation, named by an opaque server-minted id (``ids.py``).
- *turn*: one answered ``POST /recommendations`` in a session, numbered from 1. A session
  keeps its last ``history_limit`` turns and a count of all of them (``turn_count``).
- *anchor*: the earlier turn of the same session that a follow-up was resolved against.

This is the domain core: the recommender reads a session's turns, the stores keep them,
the service records them. It imports nothing else of the package, so every layer above
may depend on it and it on none of them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

Clock = Callable[[], float]  # wall-clock seconds since the epoch; injected so tests need not sleep
Source = Literal["primary", "fallback"]  # which recommender path answered a turn


@dataclass(frozen=True, slots=True)
class Turn:
    """One recorded turn. ``entities`` holds only non-empty keys (artists, genres, moods, activities)."""

    turn: int
    request_id: str
    query: str
    kind: str
    follow_up: str | None
    entities: Mapping[str, tuple[str, ...]]
    anchor_turn: int | None
    track_ids: tuple[str, ...]
    at: float
    source: Source = "primary"


# Not frozen, unlike the other records: the memory store appends to its own session in
# place (copying the turn list on every turn was a measurable share of the hot path).
@dataclass(slots=True)
class Session:
    session_id: str
    created_at: float
    last_active_at: float
    turn_count: int = 0
    turns: list[Turn] = field(default_factory=list)  # the last ``history_limit`` turns, oldest first


def snapshot(session: Session) -> Session:
    """A copy of ``session`` that its holder may change without touching the original."""
    return Session(session_id=session.session_id, created_at=session.created_at,
                   last_active_at=session.last_active_at, turn_count=session.turn_count,
                   turns=list(session.turns))


def find_turn(turns: Sequence[Turn], number: int | None) -> Turn | None:
    """The turn numbered ``number`` among ``turns`` (None for None, or if it was trimmed)."""
    if number is None:
        return None
    for turn in reversed(turns):
        if turn.turn == number:
            return turn
    return None


__all__ = ["Clock", "Session", "Source", "Turn", "find_turn", "snapshot"]
