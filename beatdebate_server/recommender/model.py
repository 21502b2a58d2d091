"""The recommender's records: what a query means, and what comes back.

Terms:
- *intent*: what one query asks for, before the session is consulted. A first query names
  its subject (an artist, genres, moods, activities); a *follow-up* (``kind="follow_up"``)
  refers to the session's earlier turns ("More tracks", "More like these").
- *subject*: what a page of tracks is drawn from: a kind (or follow-up) plus entities and
  modifiers. A follow-up's subject is resolved against the session's own turns.
- *answer*: one page of picks plus the resolved subject (``entities``) and the number of
  the turn it was resolved against (``anchor_turn``). The server records ``kind``,
  ``follow_up``, ``entities``, ``anchor_turn`` and the picks' ids as the turn.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from beatdebate_server.catalog.model import ACTIVITIES, GENRES, MOODS, Track

Kind = Literal["by_artist", "artist_similarity", "genre_mood", "contextual", "discovery",
               "follow_up"]
FollowUp = Literal["more_tracks", "more_like_these", "more_from_artist"]
Modifier = Literal["calmer", "energetic", "happier", "sadder", "darker", "dreamier",
                   "underground", "surprise"]

KINDS: tuple[Kind, ...] = ("by_artist", "artist_similarity", "genre_mood", "contextual",
                           "discovery", "follow_up")
FOLLOW_UPS: tuple[FollowUp, ...] = ("more_tracks", "more_like_these", "more_from_artist")
ENTITY_KEYS: tuple[str, ...] = ("artists", "genres", "moods", "activities")

Entities = Mapping[str, tuple[str, ...]]


_VOCABULARY: dict[str, frozenset[str]] = {
    "genres": frozenset(GENRES), "moods": frozenset(MOODS), "activities": frozenset(ACTIVITIES),
}


def clean_entities(entities: Mapping[str, Iterable[str]]) -> dict[str, tuple[str, ...]]:
    """Only the non-empty known keys, in ``ENTITY_KEYS`` order, values as tuples.

    Accepts lists too (a turn read back from Redis or JSON carries lists), and drops any
    genre, mood or activity outside the catalog's vocabularies.
    """
    out: dict[str, tuple[str, ...]] = {}
    for key in ENTITY_KEYS:
        given = entities.get(key)
        if not given:  # most keys are absent: skip them before building anything
            continue
        allowed = _VOCABULARY.get(key)
        values = tuple(str(v) for v in given if allowed is None or v in allowed)
        if values:
            out[key] = values
    return out


@dataclass(frozen=True, slots=True)
class Intent:
    """What one query asks for; canonical catalog names and vocabulary words only."""

    kind: Kind
    follow_up: FollowUp | None = None
    artists: tuple[str, ...] = ()
    genres: tuple[str, ...] = ()
    moods: tuple[str, ...] = ()
    activities: tuple[str, ...] = ()
    modifiers: tuple[Modifier, ...] = ()
    query: str = ""
    # ``entities()`` cleaned once, here: the server caches intents by query text and asks
    # each one for its entities on every turn (to resolve it, and to answer with them).
    _entities: dict[str, tuple[str, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_entities", clean_entities({
            "artists": self.artists, "genres": self.genres, "moods": self.moods,
            "activities": self.activities}))

    def entities(self) -> dict[str, tuple[str, ...]]:
        """The recognised entities, only the non-empty keys among artists/genres/moods/activities.

        A fresh dict each call (the caller may keep or change it); the cleaning is done once.
        """
        return dict(self._entities)


@dataclass(frozen=True, slots=True)
class Pick:
    """One recommended track, its score (higher is better, 0..1) and why it was picked."""

    track: Track
    score: float
    explanation: str


@dataclass(frozen=True)
class Answer:
    """One page of picks and the subject it was drawn from.

    ``entities`` is the *resolved* subject (for a follow-up, the subject it continues);
    ``anchor_turn`` is the number of the session's own earlier turn it was resolved
    against, or None (a first query, or a follow-up with nothing to follow up on).
    """

    kind: Kind
    follow_up: FollowUp | None
    entities: Entities
    anchor_turn: int | None
    picks: tuple[Pick, ...]
    notice: str | None = None

    @property
    def track_ids(self) -> tuple[str, ...]:
        return tuple(pick.track.track_id for pick in self.picks)


@dataclass(frozen=True, slots=True)
class Subject:
    """What a page is drawn from: a kind (or follow-up kind), entities and modifiers.

    Every candidate list is a function of a subject alone, so a later "More tracks" can
    recompute an earlier turn's list from what that turn recorded.
    """

    kind: Kind
    follow_up: FollowUp | None
    entities: dict[str, tuple[str, ...]] = field(default_factory=dict)
    modifiers: tuple[Modifier, ...] = ()

    def get(self, key: str) -> tuple[str, ...]:
        return self.entities.get(key, ())
