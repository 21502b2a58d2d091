"""The original BeatDebate back end's HTTP shape over the shipped catalog: a target to judge.

It does not speak the session contract: no create or delete routes ("new chat" drops the id),
an id is minted only when absent and an unknown one is used as given, and a track is known by
artist + title. Terms: a session's *original context* is its last non-follow-up query, which
follow-ups ("More tracks", "More like these", "more from <artist>") resolve against; a
*subject* is what a page is drawn from; *shown* is every (artist, title) a session has seen.

``--bleed`` reproduces the original defect: follow-ups resolve against the last original
context of ANY session (one module-level variable, as the original front end's single global
session id caused), while history and shown tracks stay per session.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import time
import unicodedata
import uuid
from itertools import islice
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal, Protocol
from urllib.parse import quote_plus

import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel, Field
from rapidfuzz import fuzz, process

from beatdebate_server.catalog import GENRES, MOODS, Catalog, Track, load_catalog

Intent = Literal["by_artist", "artist_similarity", "genre_mood", "discovery"]
FollowUp = Literal["more_tracks", "more_like_these", "more_from_artist"]
# The original service's follow-up vocabulary (its FollowUpType), by the subject's intent.
_OVERRIDES: dict[Intent, str] = {"by_artist": "artist_deep_dive", "artist_similarity": "artist_similarity",
                                 "genre_mood": "style_continuation", "discovery": "more_content"}


@dataclass(frozen=True)
class Subject:
    query: str
    intent: Intent
    artists: tuple[str, ...] = ()
    genres: tuple[str, ...] = ()
    moods: tuple[str, ...] = ()

    def entities(self) -> dict[str, list[str]]:
        return {"artists": list(self.artists), "genres": list(self.genres), "moods": list(self.moods)}


@dataclass(frozen=True)
class Understanding:
    """A fresh query's subject, or a follow-up (with the artist "more from <artist>" names)."""
    subject: Subject | None
    follow_up: FollowUp | None = None
    artist: str | None = None


@dataclass(frozen=True)
class Interaction:
    timestamp: str
    query: str
    intent: str


@dataclass(frozen=True)
class Session:
    history: tuple[Interaction, ...] = ()
    original: Subject | None = None
    shown: frozenset[tuple[str, str]] = frozenset()


def _key(text: str) -> str:
    """Case-, accent- and punctuation-blind form of a name: "Björk" -> "bjork", "Mk.gee" -> "mk gee"."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9&]+", " ", plain.lower()).strip()


class Library:
    """The catalog, ordered once by popularity then title, so every page is deterministic."""

    def __init__(self, catalog: Catalog) -> None:
        self.ordered = sorted(catalog.tracks, key=lambda t: (-t.popularity, t.title, t.artist))
        self.by_artist: dict[str, list[Track]] = {}
        for track in self.ordered:
            self.by_artist.setdefault(track.artist, []).append(track)
        self.similar = {name: artist.similar for name, artist in catalog.artists.items()}
        self._names: dict[str, str] = {}
        for name in sorted(self.by_artist):
            self._names.setdefault(_key(name), name)
            self._names.setdefault(_key(name).removeprefix("the "), name)   # "beatles songs"

    def find_artist(self, text: str, *, fuzzy: bool = True) -> str | None:
        key = _key(text)
        if key in self._names or not fuzzy:
            return self._names.get(key)
        match = process.extractOne(key, self._names.keys(), scorer=fuzz.ratio, score_cutoff=88)
        return self._names[match[0]] if match else None

    def pool(self, subject: Subject) -> Iterable[Track]:
        if subject.intent == "by_artist":
            return self.by_artist.get(subject.artists[0], ())
        if subject.intent == "artist_similarity":
            near = {n for a in subject.artists for n in self.similar.get(a, ())} - set(subject.artists)
            return (t for t in self.ordered if t.artist in near)
        asked = set(subject.genres + subject.moods)   # empty for discovery: the most popular
        return (t for t in self.ordered if asked <= set(t.genres + t.moods))


_MORE = re.compile(r"(?:give me |show me |some |i want )?more(?: tracks| songs| music| please)*")
_LIKE_THESE = re.compile(r"(?:more|something|songs|tracks) (?:like|similar to) (?:these|this|that|those)(?: \w+)?")
_MORE_FROM = re.compile(r"more (?:tracks |songs |music )?(?:from|by) (?P<name>.+)")
_SUFFIXED = re.compile(r"(?P<name>.+?) (?:songs|tracks|music)")
_THIS_ARTIST = {"this artist", "that artist", "the same artist", "them", "him", "her"}
_ARTIST_PATTERNS: tuple[tuple[re.Pattern[str], Intent], ...] = (
    (re.compile(r"(?:play )?(?:songs|tracks|music|hits) (?:by|from) (?P<name>.+)"), "by_artist"),
    (re.compile(r"(?:songs|tracks|music|artists) (?:like|similar to) (?P<name>.+)"), "artist_similarity"))


def _words(vocabulary: Iterable[str], key: str) -> tuple[str, ...]:
    return tuple(w for w in vocabulary if re.search(rf"(?<![\w&]){re.escape(w)}(?![\w&])", key))


def understand(query: str, library: Library) -> Understanding:
    """Read a query the simple way the original's fallback parser did: patterns, then words."""
    text = re.sub(r"[\s!?.]+$", "", " ".join(query.lower().split()))
    if _MORE.fullmatch(text):
        return Understanding(None, "more_tracks")
    if _LIKE_THESE.fullmatch(text):
        return Understanding(None, "more_like_these")
    if m := _MORE_FROM.fullmatch(text):
        this = m["name"] in _THIS_ARTIST
        named = None if this else library.find_artist(m["name"])
        return Understanding(None, "more_from_artist" if this or named else "more_tracks", named)
    for pattern, intent in _ARTIST_PATTERNS:
        if (m := pattern.fullmatch(text)) and (artist := library.find_artist(m["name"])):
            return Understanding(Subject(query, intent, (artist,)))
    m = _SUFFIXED.fullmatch(text)
    # An exact artist name wins over a genre word inside it; a fuzzy one only after genres.
    if m and (artist := library.find_artist(m["name"], fuzzy=False)):
        return Understanding(Subject(query, "by_artist", (artist,)))
    genres, moods = _words(GENRES, _key(text)), _words(MOODS, _key(text))
    if genres or moods:
        return Understanding(Subject(query, "genre_mood", genres=genres, moods=moods))
    if artist := library.find_artist(m["name"] if m else text):
        return Understanding(Subject(query, "by_artist", (artist,)))
    return Understanding(Subject(query, "discovery"))


def resolve(understanding: Understanding, anchor: Subject | None) -> Subject | None:
    """The subject a follow-up pages through, or None when there is nothing to follow up on."""
    if understanding.follow_up == "more_from_artist":
        artist = understanding.artist or (anchor.artists[0] if anchor and anchor.artists else None)
        if artist is not None:
            return Subject(anchor.query if anchor else "", "by_artist", (artist,))
    if anchor is not None and understanding.follow_up == "more_like_these" and anchor.intent == "by_artist":
        return replace(anchor, intent="artist_similarity")
    return anchor


def take_turn(session: Session, understanding: Understanding, anchor: Subject | None, library: Library,
              *, limit: int, query: str, at: str) -> tuple[Session, Subject | None, tuple[Track, ...]]:
    """One answered query, purely: the session after it, the subject paged and the page."""
    subject = understanding.subject or resolve(understanding, anchor)
    pool = library.pool(subject) if subject is not None else ()
    tracks = tuple(islice((t for t in pool if (t.artist, t.title) not in session.shown), limit))
    after = Session(history=session.history + (Interaction(at, query, subject.intent if subject else "discovery"),),
                    original=understanding.subject or session.original,
                    shown=session.shown | {(t.artist, t.title) for t in tracks})
    return after, subject, tracks


def _recommendation(track: Track, subject: Subject, *, previews: bool) -> dict[str, Any]:
    why = {"by_artist": f"A {track.artist} track, as asked.",
           "artist_similarity": f"{track.artist} is close to {', '.join(subject.artists)}."}
    return {"title": track.title, "artist": track.artist, "album": track.album,
            "confidence": round(0.5 + track.popularity / 200, 3), "source": "catalog",
            "explanation": why.get(subject.intent, f"Tagged {', '.join(track.tags)}; popular with listeners."),
            "genres": list(track.genres), "moods": list(track.moods),
            "preview_url": track.preview_url if previews else None,
            "spotify_url": "https://open.spotify.com/search/" + quote_plus(f"{track.artist} {track.title}"),
            "popularity": track.popularity}


def render(before: Session, follow_up: FollowUp | None, subject: Subject | None, tracks: tuple[Track, ...],
           *, session_id: str, previews: bool, seconds: float) -> dict[str, Any]:
    """The original service's JSON answer; ``before`` is the session the turn was given."""
    intent = subject.intent if subject else "discovery"
    reasoning = [f"Understood as {follow_up or intent}."]
    if follow_up:
        reasoning.append(f"Followed up on {subject.query!r}." if subject else "Nothing to follow up on.")
    return {
        "recommendations": [_recommendation(t, subject, previews=previews) for t in tracks if subject],
        "strategy_used": {"intent": intent, "followup_type": follow_up,
                          "entities": (subject or Subject("", "discovery")).entities()},
        "reasoning": reasoning + ([] if tracks or not subject else ["No more tracks for this request."]),
        "session_id": session_id,
        "processing_time": seconds,
        "metadata": {
            "context_decision": {
                "is_followup": follow_up is not None,
                "intent_override": _OVERRIDES[subject.intent] if follow_up and subject else None,
                "target_entity": next(iter(subject.artists + subject.genres + subject.moods), None)
                if follow_up and subject else None,
                "confidence": (0.9 if subject else 0.0) if follow_up else 1.0},
            "workflow_execution": {"conversation_history_length": len(before.history),
                                   "recently_shown_tracks_count": len(before.shown),
                                   "final_recommendations_count": len(tracks)},
            "query_understanding": None if subject is None else {
                "intent": intent, **subject.entities(), "original_query": subject.query},
        },
    }


class ContextSource(Protocol):
    """Where follow-ups find their original context: the seam the --bleed defect replaces."""
    def anchor(self, session: Session) -> Subject | None: ...
    def remember(self, subject: Subject) -> None: ...


class OwnSession:
    """Clean: a session's follow-ups resolve against its own original context (kept in it)."""
    def anchor(self, session: Session) -> Subject | None:
        return session.original

    def remember(self, subject: Subject) -> None:
        pass


# --bleed only: the one "last context" of the whole process, shared by every user.
_last_context: Subject | None = None


class AnySession:
    """Bleeding: follow-ups resolve against the last original query of any session."""
    def anchor(self, session: Session) -> Subject | None:
        return _last_context

    def remember(self, subject: Subject) -> None:
        global _last_context
        _last_context = subject


class RecommendationRequest(BaseModel):
    query: str = Field(min_length=1, max_length=500)
    session_id: str | None = Field(default=None, max_length=128)   # "" counts as absent, as it did
    max_recommendations: int = Field(default=3, ge=1, le=10)
    include_previews: bool = False
    chat_context: dict[str, Any] | None = None   # sent by the original front end; not used


def _utc_now() -> datetime:
    return datetime.now(UTC)


def create_app(bleed: bool = False, *, catalog: Catalog | None = None,
               clock: Callable[[], datetime] = _utc_now) -> FastAPI:
    """The app, with in-memory sessions; nothing listens until a server runs it."""
    library = Library(catalog if catalog is not None else load_catalog(None))
    contexts: ContextSource = AnySession() if bleed else OwnSession()
    sessions: dict[str, Session] = {}
    lock = asyncio.Lock()   # one lock for all sessions: a turn reads, pages and writes back whole
    app = FastAPI(title="BeatDebate (original shape)", version="1.0.0")

    @app.post("/recommendations")
    async def recommend(body: RecommendationRequest) -> dict[str, Any]:
        started = time.perf_counter()
        session_id = body.session_id or str(uuid.uuid4())   # an unknown id is adopted as given
        understanding = understand(body.query, library)
        async with lock:
            before = sessions.get(session_id, Session())
            after, subject, tracks = take_turn(before, understanding, contexts.anchor(before), library,
                                               limit=body.max_recommendations, query=body.query,
                                               at=clock().isoformat())
            if understanding.subject is not None:
                contexts.remember(understanding.subject)
            sessions[session_id] = after
        return render(before, understanding.follow_up, subject, tracks, session_id=session_id,
                      previews=body.include_previews, seconds=time.perf_counter() - started)

    @app.get("/sessions/{session_id}/context")
    async def read_context(session_id: str) -> dict[str, Any]:
        async with lock:
            session = sessions.get(session_id)
        original = session.original if session else None
        summary = None if session is None else {
            "interaction_history": [{"timestamp": i.timestamp, "query": i.query, "intent": i.intent}
                                    for i in session.history],
            "original_query_context": None if original is None else {
                "query": original.query, "intent": original.intent,
                "artists": list(original.artists), "genres": list(original.genres)}}
        return {"session_id": session_id, "context_summary": summary, "timestamp": clock().isoformat()}

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "healthy", "timestamp": clock().isoformat(), "version": "1.0.0",
                "components": {"recommendation_engine": "active"}, "sessions": len(sessions)}

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description="The original BeatDebate back end's shape, over the shipped catalog.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--bleed", action="store_true",
                        help="follow-ups resolve against the last query of ANY session (the original bug)")
    args = parser.parse_args()
    # No access log: its lines would carry session ids in the context route's path.
    uvicorn.run(create_app(args.bleed), host=args.host, port=args.port, access_log=False)


if __name__ == "__main__":
    main()
