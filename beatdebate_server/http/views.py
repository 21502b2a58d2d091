"""Records to contract JSON: turn outcomes, sessions, turns, anchors and picks as plain data.

The hot path answers with ``orjson`` bytes built from these dicts rather than validating
response models again; ``schemas.py`` documents the same shapes, and the schemathesis
test checks that every answer agrees with ``/openapi.json``. The service hands over
records (``TurnOutcome``, ``Session``); only this module knows the contract's field names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..session import Session, Turn

if TYPE_CHECKING:
    from ..recommender import Pick
    from ..service.turn import TurnOutcome


def iso(at: float) -> str:
    """Epoch seconds as ISO 8601 in UTC, e.g. ``2026-11-25T12:58:15.123456+00:00``."""
    return datetime.fromtimestamp(at, UTC).isoformat()


def entities_view(entities: Mapping[str, Sequence[str]]) -> dict[str, Sequence[str]]:
    # Values stay as recorded (tuples): orjson and pydantic write them as JSON arrays.
    return {key: values for key, values in entities.items() if values}


def anchor_view(turn: Turn) -> dict[str, Any]:
    """``context.anchor``: the earlier turn of this session a follow-up was resolved against."""
    return {"turn": turn.turn, "request_id": turn.request_id, "query": turn.query,
            "kind": turn.kind, "entities": entities_view(turn.entities)}


def picks_view(picks: Sequence[Pick], *, include_previews: bool) -> list[dict[str, Any]]:
    """``recommendations``: one dict per pick, built in one comprehension (the hot path).

    ``tags`` stays a tuple: orjson writes it as the same JSON array, without a copy.
    """
    return [{"track_id": (track := pick.track).track_id, "title": track.title,
             "artist": track.artist, "tags": track.tags, "score": pick.score,
             "explanation": pick.explanation, "album": track.album,
             "popularity": track.popularity,
             "preview_url": track.preview_url if include_previews else None}
            for pick in picks]


def turn_answer_view(outcome: TurnOutcome, *, include_previews: bool) -> dict[str, Any]:
    """The ``200`` body of ``POST /recommendations`` (contract, "Recommendations")."""
    intent, reply = outcome.intent, outcome.reply
    anchor = reply.anchor
    return {
        "session_id": outcome.session_id,
        "request_id": outcome.request_id,
        "turn": outcome.turn,
        "session_created": outcome.session_created,
        "intent": {"kind": intent.kind, "follow_up": intent.follow_up,
                   "entities": intent.entities()},
        "context": {"anchor": None if anchor is None else anchor_view(anchor)},
        "recommendations": picks_view(reply.answer.picks, include_previews=include_previews),
        "source": reply.source,
        "fallback_reason": reply.fallback_reason,
        "notice": outcome.notice,
    }


def turn_view(turn: Turn) -> dict[str, Any]:
    return {"turn": turn.turn, "request_id": turn.request_id, "query": turn.query,
            "intent": {"kind": turn.kind, "follow_up": turn.follow_up,
                       "entities": entities_view(turn.entities)},
            "anchor_turn": turn.anchor_turn, "track_ids": list(turn.track_ids),
            "at": iso(turn.at), "source": turn.source}


def session_created_view(session: Session, *, ttl_seconds: float) -> dict[str, Any]:
    return {"session_id": session.session_id, "created_at": iso(session.created_at),
            "expires_at": iso(session.last_active_at + ttl_seconds)}


def history_view(session: Session, *, ttl_seconds: float) -> dict[str, Any]:
    return {"session_id": session.session_id, "created_at": iso(session.created_at),
            "last_active_at": iso(session.last_active_at),
            "expires_at": iso(session.last_active_at + ttl_seconds),
            "turn_count": session.turn_count,
            "turns": [turn_view(turn) for turn in session.turns]}
