"""The recommender the server calls: understand a query, then answer it from the session's turns.

``recommend`` is a pure function of (catalog, intent, the session's own turns, limit): no
clock, no randomness, no state that outlives a call. Two sessions that send the same
queries in the same order get the same track ids in the same order (contract,
"Determinism"); every order is broken by ``track_id``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import islice

from beatdebate_server.catalog.model import Catalog
from beatdebate_server.session import Turn

from . import fallback as _fallback
from .candidates import Candidate, asks_nothing, candidates
from .followup import NO_SUBJECT, resolve, seen_ranks
from .index import CatalogIndex
from .intent import parse
from .model import Answer, Intent, Pick
from .names import ArtistNames

NOTHING_RECOGNISED = ("No artist, genre, mood or activity recognised in that: "
                      "here are popular tracks.")
EXHAUSTED = "No more tracks for this request."
LAST_ONES = "These are the last tracks for this request."


class Recommender:
    """Builds every index once; then each call walks pre-sorted lists and stops early."""

    def __init__(self, catalog: Catalog) -> None:
        self.index = CatalogIndex(catalog)
        self.names = ArtistNames(self.index.artist_names)

    def understand(self, query: str) -> Intent:
        """The intent of one query (artist names resolved against this catalog)."""
        return parse(query, self.names)

    def recommend(self, intent: Intent, turns: Sequence[Turn], *, limit: int) -> Answer:
        """A page of at most ``limit`` tracks never shown in ``turns``, and the subject behind it.

        For a follow-up, the subject is resolved against ``turns`` (oldest first) alone.
        """
        _check_limit(limit)
        resolution = resolve(self.index, intent, turns)
        subject = resolution.subject
        if subject is None:
            return Answer(intent.kind, intent.follow_up, {}, None, (), NO_SUBJECT)
        seen = seen_ranks(self.index, turns)
        picks = self._take(candidates(self.index, subject, seen), limit)
        notice = None
        if len(picks) < limit:
            notice = EXHAUSTED if not picks else LAST_ONES
        elif intent.kind != "follow_up" and asks_nothing(subject):
            notice = NOTHING_RECOGNISED
        anchor = resolution.anchor
        return Answer(intent.kind, intent.follow_up, dict(subject.entities),
                      None if anchor is None else anchor.turn, picks, notice)

    def fallback(self, intent: Intent, turns: Sequence[Turn], *, limit: int) -> Answer:
        """The simpler popularity-by-tag answer (see ``fallback.py``); same shape as ``recommend``."""
        _check_limit(limit)
        return _fallback.recommend(self.index, intent, turns, limit=limit)

    def _take(self, stream: Iterator[Candidate], limit: int) -> tuple[Pick, ...]:
        tracks = self.index.tracks
        return tuple([Pick(tracks[rank], score, explanation)
                      for rank, score, explanation in islice(stream, limit)])


def _check_limit(limit: int) -> None:
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
