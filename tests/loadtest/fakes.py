"""A tiny contract server for harness tests, served through ``httpx.MockTransport``.

``FakeServer()`` keeps sessions apart as the contract says; ``FakeServer(leaky=True)``
puts every request in one global session (the original front end's bug), so a run
against it must fail with bleeding. ``blocking_delay`` stalls the event loop per request
(a server that cannot keep up, for the open model's intended start times). ``unavailable``
answers that share of ``POST /recommendations`` with 503 and records nothing, as the contract
says a server whose store is down does (a seeded, reproducible choice). ``http_fakes`` serves
it over real HTTP, for tests that need a URL.
"""

from __future__ import annotations

import random
import re
import secrets
import time
from typing import Any

import httpx
import orjson

from loadtest.personas import DEFAULT_POOL
from loadtest.transport import RequestFault

GENRE_OF = {p.fields["artist"]: p.fields["genre"] for p in DEFAULT_POOL}
_SESSION_PATH = re.compile(r"^/sessions/([^/]+)$")


def _tracks(artist: str) -> list[dict[str, Any]]:
    key = re.sub(r"\W", "", artist.lower())
    return [{"track_id": f"t-{key}-{i}", "title": f"Song {i}", "artist": artist,
             "tags": [GENRE_OF[artist], "calm"], "score": 1.0, "explanation": "fake"} for i in range(40)]


class FakeServer:
    def __init__(self, *, leaky: bool = False, blocking_delay: float = 0.0,
                 unknown_artists: frozenset[str] = frozenset(), unavailable: float = 0.0, seed: int = 0) -> None:
        self.leaky = leaky
        self.blocking_delay = blocking_delay
        self.unknown_artists = unknown_artists
        self.unavailable = unavailable
        self.sessions: dict[str, dict[str, Any]] = {}
        self.requests = 0
        self.unavailable_answers = 0
        self._rng = random.Random(seed)
        self._global: str | None = None

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    async def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        if self.blocking_delay:
            time.sleep(self.blocking_delay)   # deliberately blocks the loop: a stalled server
        rid = request.headers.get("x-request-id", secrets.token_hex(8))
        path = request.url.path
        if request.method == "POST" and path == "/sessions":
            sid = self._new()
            return httpx.Response(201, json={"session_id": sid, "created_at": "now", "expires_at": "later"})
        if request.method == "POST" and path == "/recommendations":
            if self.unavailable and self._rng.random() < self.unavailable:
                self.unavailable_answers += 1
                return httpx.Response(503, json={"detail": "session store unavailable"})
            return self._recommend(orjson.loads(request.content), rid)
        found = _SESSION_PATH.match(path)
        if found:
            session = self.sessions.get(found.group(1))
            if session is None:
                return httpx.Response(404, json={"detail": "no such session"})
            if request.method == "DELETE":
                del self.sessions[found.group(1)]
                return httpx.Response(204)
            turns = [{k: t[k] for k in ("turn", "request_id", "query", "intent", "anchor_turn", "track_ids", "at")}
                     for t in session["turns"]]
            return httpx.Response(200, json={"session_id": found.group(1), "created_at": "now",
                                             "last_active_at": "now", "turn_count": len(turns), "turns": turns})
        return httpx.Response(404, json={"detail": "not found"})

    def _new(self) -> str:
        if self.leaky and self._global is not None and self._global in self.sessions:
            return self._global
        sid = secrets.token_urlsafe(32)
        self.sessions[sid] = {"turns": []}
        if self.leaky:
            self._global = sid
        return sid

    def _recommend(self, body: dict[str, Any], rid: str) -> httpx.Response:
        asked = body.get("session_id")
        created = asked not in self.sessions or (self.leaky and asked != self._global)
        sid = self._new() if created else asked
        if self.leaky:
            created = asked != sid
        session = self.sessions[sid]
        query: str = body["query"]
        size = body.get("max_recommendations", 10)
        follow_up = {"more tracks": "more_tracks", "more like these": "more_like_these"}.get(query.lower())
        anchor = None
        notice = None
        if follow_up is None:
            artist = query.removeprefix("Songs by ") if query.startswith("Songs by ") else None
            if artist is not None:
                kind, candidates = "by_artist", [] if artist in self.unknown_artists else _tracks(artist)
            else:
                genre = query.removesuffix(" music").lower()
                kind = "genre_mood"
                candidates = [t for a, g in GENRE_OF.items() if g == genre for t in _tracks(a)]
            page = candidates[:size]
            turn = {"candidates": candidates, "served": len(page)}
        else:
            kind = "follow_up"
            anchors = [t for t in session["turns"] if t["intent"]["follow_up"] is None]
            if not anchors:
                page, turn, notice = [], {}, "nothing to follow up on"
            else:
                anchor = anchors[-1]
                page = anchor["candidates"][anchor["served"]:anchor["served"] + size]
                anchor["served"] += len(page)
                turn = {}
        number = len(session["turns"]) + 1
        intent = {"kind": kind, "follow_up": follow_up, "entities": {}}
        turn.update(turn=number, request_id=rid, query=query, intent=intent,
                    anchor_turn=anchor["turn"] if anchor else None,
                    track_ids=[t["track_id"] for t in page], at="now")
        session["turns"].append(turn)
        answer = {
            "session_id": sid, "request_id": rid, "turn": number, "session_created": created,
            "intent": intent, "recommendations": page, "source": "primary", "fallback_reason": None,
            "context": {"anchor": None if anchor is None else {
                "turn": anchor["turn"], "request_id": anchor["request_id"], "query": anchor["query"],
                "kind": anchor["intent"]["kind"], "entities": {}}},
            "notice": notice,
        }
        return httpx.Response(200, json=answer, headers={"x-request-id": rid})


def write_persona_catalog(path: Any) -> Any:
    """A catalog (user JSONL format) with 40 tracks for each default persona's artist, tagged
    with the persona's genre: the real server then serves every persona, whatever the
    shipped catalog holds."""
    pool = DEFAULT_POOL
    with open(path, "wb") as out:
        for i, persona in enumerate(pool):
            artist, genre = persona.fields["artist"], persona.fields["genre"]
            similar = [pool[(i + 1) % len(pool)].fields["artist"], pool[i - 1].fields["artist"]]
            for n in range(40):
                out.write(orjson.dumps({"title": f"{artist} song {n}", "artist": artist, "genres": [genre],
                                        "moods": ["calm"], "similar_artists": similar,
                                        "popularity": 40 + n % 50}) + b"\n")
    return path


class Always:
    """``RequestFaults`` that hits every request with one fault, and remembers who asked."""

    def __init__(self, fault: RequestFault | None) -> None:
        self.fault = fault
        self.asked: list[tuple[int, int]] = []

    def fault_for(self, user: int, number: int) -> RequestFault | None:
        self.asked.append((user, number))
        return self.fault


def artist_then_more(shape: str = "", *, name: str = "artist-then-more") -> str:
    """A scenario file's text: "Songs by {artist}", then "More tracks" anchored on it, with
    ``shape`` (a load shape such as ``stages = "2s:10"``, or nothing) after its name."""
    return f"""name = "{name}"
{shape}
[[steps]]
name = "first"
query = "Songs by {{artist}}"
expect = {{ kind = "by_artist", anchor = "none", content = ["artist"] }}

[[steps]]
query = "More tracks"
expect = {{ follow_up = "more_tracks", anchor = "first", content = ["artist"] }}
"""
