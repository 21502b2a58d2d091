"""Test doubles for the server: a small catalog, a stand-in recommender, a manual clock.

``StandInRecommender`` has the real ``Recommender``'s surface and enough behaviour for
the isolation checks (artist and genre queries, "More tracks" paging without repeats);
server tests use it where they test the server rather than the recommender, and to
make the primary path fail on purpose.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from beatdebate_server.catalog.model import Artist, Catalog, Track
from beatdebate_server.session import Turn

GENRE_WORDS = ("electronic", "rock", "jazz", "ambient", "folk", "pop", "indie")


def make_catalog(*, crowd: int = 0, per_artist: int = 30) -> Catalog:
    """Mk.gee, The Beatles, a few electronic acts, and ``crowd`` synthetic artists."""
    tracks: list[Track] = []
    artists: dict[str, Artist] = {}

    def add(name: str, genres: tuple[str, ...], n: int) -> None:
        artists[name] = Artist(name=name, genres=genres)
        slug = "".join(ch for ch in name.lower() if ch.isalnum())
        for i in range(n):
            tracks.append(Track(track_id=f"{slug}-{i:03d}", title=f"{name} song {i}",
                                artist=name, genres=genres, moods=("calm",),
                                popularity=(i * 37) % 100, album=f"{name} LP",
                                preview_url=f"https://example.test/{slug}/{i}.mp3"))

    add("Mk.gee", ("indie", "alternative"), per_artist)
    add("The Beatles", ("rock", "pop"), per_artist)
    for name in ("Aphex Twin", "Burial", "Four Tet", "Jon Hopkins"):
        add(name, ("electronic",), per_artist)
    add("Miles Davis", ("jazz",), per_artist)
    for i in range(crowd):
        add(f"Crowd Artist {i:03d}", ("folk",), per_artist)
    return Catalog(tracks=tuple(tracks), artists=artists)


@dataclass(frozen=True)
class FakeIntent:
    kind: str
    follow_up: str | None = None
    artists: tuple[str, ...] = ()
    genres: tuple[str, ...] = ()
    query: str = ""

    def entities(self) -> dict[str, tuple[str, ...]]:
        out: dict[str, tuple[str, ...]] = {}
        if self.artists:
            out["artists"] = self.artists
        if self.genres:
            out["genres"] = self.genres
        return out


@dataclass(frozen=True)
class FakePick:
    track: Track
    score: float
    explanation: str


@dataclass(frozen=True)
class FakeAnswer:
    kind: str
    follow_up: str | None
    entities: dict[str, tuple[str, ...]]
    anchor_turn: int | None
    picks: tuple[FakePick, ...]
    notice: str | None = None


@dataclass
class StandInRecommender:
    catalog: Catalog
    fail: bool = False  # True: the primary raises, as a broken recommender would
    calls: list[str] = field(default_factory=list)

    def understand(self, query: str) -> FakeIntent:
        text = query.strip().casefold()
        if text in {"more tracks", "more"}:
            return FakeIntent("follow_up", "more_tracks", query=query)
        if text in {"more like these", "more like this"}:
            return FakeIntent("follow_up", "more_like_these", query=query)
        for name in self.catalog.artists:
            if name.casefold() in text:
                return FakeIntent("by_artist", artists=(name,), query=query)
        genres = tuple(g for g in GENRE_WORDS if g in text)
        if genres:
            return FakeIntent("genre_mood", genres=genres, query=query)
        return FakeIntent("discovery", query=query)

    def recommend(self, intent: FakeIntent, turns: Sequence[Turn], *, limit: int) -> FakeAnswer:
        self.calls.append(intent.query)
        if self.fail:
            raise RuntimeError("stand-in primary failure")
        return self._answer(intent, turns, limit)

    def fallback(self, intent: FakeIntent, turns: Sequence[Turn], *, limit: int) -> FakeAnswer:
        ranked = sorted(self.catalog.tracks, key=lambda t: (-t.popularity, t.track_id))
        picks = tuple(FakePick(t, 0.5, "popular") for t in ranked[:limit])
        return FakeAnswer(intent.kind, intent.follow_up, intent.entities(), None, picks)

    def _answer(self, intent: FakeIntent, turns: Sequence[Turn], limit: int) -> FakeAnswer:
        entities = intent.entities()
        anchor: int | None = None
        seen: set[str] = set()
        if intent.follow_up is not None:
            base = next((t for t in reversed(turns) if t.kind != "follow_up"), None)
            if base is None:
                return FakeAnswer(intent.kind, intent.follow_up, {}, None, (),
                                  notice="Nothing to follow up on yet.")
            anchor, entities = base.turn, dict(base.entities)
            for t in turns:
                if t.turn == base.turn or t.anchor_turn == base.turn:
                    seen.update(t.track_ids)
        artists, genres = entities.get("artists", ()), entities.get("genres", ())
        pool = [t for t in self.catalog.tracks
                if (artists and t.artist in artists) or (genres and set(genres) & set(t.genres))
                or (not artists and not genres)]
        picks = tuple(FakePick(t, 1.0, f"fits {entities}") for t in pool
                      if t.track_id not in seen)[:limit]
        return FakeAnswer(intent.kind, intent.follow_up, entities, anchor, picks)


class ManualClock:
    """A clock that moves only when told: expiry tests without sleeping."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def write_catalog_jsonl(path: Path, *, crowd: int = 0) -> Path:
    """``make_catalog`` as a JSONL file that ``load_catalog`` (and ``serve --catalog``) reads."""
    with path.open("wb") as out:
        for track in make_catalog(crowd=crowd).tracks:
            out.write(orjson.dumps({
                "track_id": track.track_id, "title": track.title, "artist": track.artist,
                "genres": list(track.genres), "moods": list(track.moods),
                "popularity": track.popularity, "album": track.album,
                "preview_url": track.preview_url}) + b"\n")
    return path
