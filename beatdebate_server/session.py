"""The conversation records: a session and its turns (contract, "Sessions").

Terms:
- *session*: one conversation, named by an opaque server-minted id (``ids.py``).
- *turn*: one answered ``POST /recommendations`` in a session, numbered from 1. A session
  keeps its last ``history_limit`` turns and a count of all of them (``turn_count``).
- *anchor*: the earlier turn of the same session that a follow-up was resolved against.
- *weight*: what a turn counts against its session's byte budget (``turn_weight``). A
  session keeps its newest turns up to ``history_limit`` of them *and* up to
  ``history_bytes`` of weight, but always its newest turn (``trim_history``): fifty turns of
  500-character queries were 52-126 KiB per session before (issue 16).

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


# What a turn weighs besides its texts: the record, its entities and the tuple that
# refers to the catalog's own track-id strings (measured: ``bench_session_memory.py``).
TURN_OVERHEAD_BYTES = 128
_TRACK_REF_BYTES = 8


def turn_weight(turn: Turn) -> int:
    """A turn's weight in bytes: its query and request id in UTF-8, a reference per track
    id, and ``TURN_OVERHEAD_BYTES``."""
    query = turn.query
    text = len(query) if query.isascii() else len(query.encode("utf-8", "surrogatepass"))
    return (TURN_OVERHEAD_BYTES + text + len(turn.request_id)
            + _TRACK_REF_BYTES * len(turn.track_ids))


def trim_history(turns: list[Turn], weight: int, *, limit: int, budget: int) -> int:
    """Drop the oldest of ``turns``, in place, until at most ``limit`` are left and their
    weight fits ``budget``; the newest turn always stays. ``weight`` is the weight of
    ``turns`` as given; returns the weight of what is left."""
    drop = 0
    left = len(turns)
    while left > 1 and (left > limit or weight > budget):
        weight -= turn_weight(turns[drop])
        drop += 1
        left -= 1
    if drop:
        del turns[:drop]
    return weight


__all__ = ["TURN_OVERHEAD_BYTES", "Clock", "Session", "Source", "Turn", "find_turn",
           "snapshot", "trim_history", "turn_weight"]
