"""A profile's requests, built from its templates for every id placement, and its answers read
into the Op fields the checker reads."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from profile_build import base, profile

from loadtest.exchange import CONTRACT, parse_history, parse_recommendation
from loadtest.history import Anchor, RecordedTurn, TrackSeen
from loadtest.profiles import GradioExchange, ProfileExchange, exchange_for, load_profile
from loadtest.profiles.answer import FOLLOWED_QUERY, ID_SEPARATOR
from loadtest.scenario import QueryStep
from loadtest.transport import HttpxTransport, Reply

STEP = QueryStep("more", "More by {artist}")
FIELDS = {"artist": "Radiohead"}
ANSWER = '''
[answer]
session_id = "session_id"
'''


def _recommend(exchange: Any, session_id: str | None, *, step: QueryStep = STEP, limit: int = 10) -> Any:
    return exchange.recommend(step, FIELDS, rid="r1", session_id=session_id, max_recommendations=limit)


def test_exchange_for_each_kind() -> None:
    assert exchange_for(load_profile("contract")) is CONTRACT
    assert isinstance(exchange_for(load_profile("our-server-by-profile")), ProfileExchange)
    assert isinstance(exchange_for(profile('kind = "gradio"\n[gradio]\napi_name = "/chat"\n')), GradioExchange)


def test_the_id_in_a_body_field_is_left_out_when_there_is_none() -> None:
    exchange = ProfileExchange(profile('''
[recommend]
path = "/ask"
body = { q = "{query}", sid = "{session_id}", n = "{max_recommendations}", note = "user {{artist}}", fixed = true }
''' + ANSWER))
    first, later = _recommend(exchange, None), _recommend(exchange, "abc")
    assert (first.method, first.path, first.route, first.request_id) == ("POST", "/ask", "/ask", "r1")
    assert first.body == {"q": "More by Radiohead", "n": 10, "note": "user {artist}", "fixed": True}
    assert later.body == {"q": "More by Radiohead", "sid": "abc", "n": 10, "note": "user {artist}", "fixed": True}
    assert (first.query, first.session_sent, later.session_sent) == ("More by Radiohead", None, "abc")
    assert first.headers == {"X-Request-ID": "r1", "Content-Type": "application/json"}
    assert first.cookies is None and not exchange.requires_session and exchange.new_session_id() is None


def test_absent_null_sends_the_missing_id_as_null() -> None:
    exchange = ProfileExchange(profile('''
[session]
absent = "null"
[recommend]
path = "/ask"
body = { q = "{query}", sid = "{session_id}" }
''' + ANSWER))
    assert _recommend(exchange, None).body == {"q": "More by Radiohead", "sid": None}


def test_the_id_in_a_header_and_read_back_from_one() -> None:
    exchange = ProfileExchange(profile('''
[recommend]
path = "/ask"
headers = { "X-Session" = "{session_id}", "X-Trace" = "trace-{request_id}", "X-Ctx" = "s={session_id}" }
body = { q = "{query}" }
[answer]
session_header = "X-Session"
'''))
    assert _recommend(exchange, None).extra_headers == {"X-Trace": "trace-r1"}
    later = _recommend(exchange, "abc")
    assert later.extra_headers == {"X-Session": "abc", "X-Trace": "trace-r1", "X-Ctx": "s=abc"}
    assert later.headers["X-Session"] == "abc" and later.headers["X-Request-ID"] == "r1"
    reply = Reply(200, httpx.Headers({"x-session": "minted"}), {"text": "hi"})
    op = exchange.answered(base(_recommend(exchange, None)), reply=reply, completed_at=1.0)
    assert (op.status, op.session) == ("ok", "minted")


def test_the_id_in_a_cookie_goes_to_the_jar_and_a_missing_one_is_dropped() -> None:
    exchange = ProfileExchange(profile('''
[session]
cookie = "sid"
[recommend]
path = "/ask"
body = { q = "{query}" }
'''))
    assert _recommend(exchange, None).cookies == {"sid": None}
    assert _recommend(exchange, "abc").cookies == {"sid": "abc"}
    first = base(_recommend(exchange, None))
    assert exchange.answered(first, reply=Reply(200, {}, {}, {"sid": "minted"}), completed_at=1.0).session == "minted"
    later = base(_recommend(exchange, "abc"))
    assert exchange.answered(later, reply=Reply(200, {}, {}), completed_at=1.0).session == "abc"


def test_the_id_in_the_path_made_by_the_client() -> None:
    exchange = ProfileExchange(profile('''
[session]
minted_by = "client"
[recommend]
path = "/chats/{session_id}/messages"
body = { text = "{query}" }
[delete_session]
path = "/chats/{session_id}"
'''))
    made = exchange.new_session_id()
    assert made is not None and len(made) == 36 and made != exchange.new_session_id()
    request = _recommend(exchange, made)
    assert (request.path, request.route, request.body) == (f"/chats/{made}/messages", "/chats/{session_id}/messages",
                                                            {"text": "More by Radiohead"})
    assert _recommend(exchange, None) is None       # the path cannot name a session there is not
    op = exchange.answered(base(request), reply=Reply(200, {}, {"reply": "ok"}), completed_at=1.0)
    assert (op.status, op.session) == ("ok", made)   # the id carried: the client made it
    delete = exchange.delete_session(made, rid="r2")
    assert delete is not None and (delete.method, delete.path, delete.body) == ("DELETE", f"/chats/{made}", None)
    assert exchange.create_session(rid="r3") is None and exchange.read_history(made, rid="r4") is None


def test_the_id_in_the_path_made_by_the_server_needs_a_create_first() -> None:
    exchange = ProfileExchange(profile('''
[recommend]
path = "/chats/{session_id}/messages"
body = { text = "{query}" }
[create_session]
path = "/chats"
session_id = "chat.id"
''' + ANSWER))
    assert exchange.requires_session
    create = exchange.create_session(rid="r0")
    assert create is not None and (create.method, create.path, create.body, create.session_sent) == ("POST", "/chats", None, None)
    op = exchange.answered(base(create), reply=Reply(201, {}, {"chat": {"id": "c9"}}), completed_at=1.0)
    assert (op.action, op.status, op.session) == ("create_session", "ok", "c9")


def test_max_recommendations_is_capped_at_what_the_service_accepts() -> None:
    exchange = exchange_for(load_profile("beatdebate-original"))
    assert _recommend(exchange, None, limit=50).body["max_recommendations"] == 10
    assert _recommend(exchange, None, step=QueryStep("x", "y", max_recommendations=4)).body["max_recommendations"] == 4


ORIGINAL_ANSWER: dict[str, Any] = {
    "recommendations": [
        {"title": "Creep", "artist": "Radiohead", "album": "Pablo Honey", "confidence": 0.9, "explanation": "…",
         "source": "lastfm", "genres": ["alternative", "rock"], "moods": ["melancholic"], "preview_url": None,
         "spotify_url": None, "popularity": 80},
        {"title": "Reckoner", "artist": "Radiohead", "album": "In Rainbows", "confidence": 0.8, "explanation": "…",
         "source": "lastfm", "genres": [], "moods": None, "preview_url": None, "spotify_url": None, "popularity": 60},
    ],
    "strategy_used": {"intent": "by_artist"},
    "reasoning": ["Followed up on 'Songs by Radiohead'."],
    "session_id": "0b6f6a52-3a4e-4f35-9a50-8c1c0f7a9e11",
    "processing_time": 0.8,
    "metadata": {
        "context_decision": {"is_followup": True, "intent_override": "artist_deep_dive",
                             "target_entity": "Radiohead", "confidence": 0.9},
        "workflow_execution": {"final_recommendations_count": 2},
        "query_understanding": {"intent": "by_artist", "artists": ["Radiohead"], "genres": [], "moods": [],
                                "original_query": "More tracks"},
    },
}


def test_the_original_back_ends_answer_becomes_the_right_op() -> None:
    exchange = exchange_for(load_profile("beatdebate-original"))
    request = _recommend(exchange, None)
    assert request.body == {"query": "More by Radiohead", "max_recommendations": 10, "include_previews": False}
    op = exchange.answered(base(request), reply=Reply(200, {}, ORIGINAL_ANSWER), completed_at=2.0)
    assert (op.status, op.http_status, op.completed_at) == ("ok", 200, 2.0)
    assert op.session == "0b6f6a52-3a4e-4f35-9a50-8c1c0f7a9e11"
    assert (op.kind, op.follow_up) == ("by_artist", "more")
    assert op.entities == {"artists": ("Radiohead",), "genres": (), "moods": ()}
    assert op.tracks == (
        TrackSeen(f"Radiohead{ID_SEPARATOR}Creep", "Radiohead", ("alternative", "rock", "melancholic")),
        TrackSeen(f"Radiohead{ID_SEPARATOR}Reckoner", "Radiohead", ()),
    )
    # What the original does not say stays unsaid: the checker can tell it from "said no".
    assert (op.turn, op.session_created, op.anchor, op.notice, op.text) == (None, None, None, None, None)
    assert op.source == "primary"     # deterministic, no source field: every answer is the primary path


def test_a_first_query_of_the_original_is_no_follow_up() -> None:
    exchange = exchange_for(load_profile("beatdebate-original"))
    answer = {**ORIGINAL_ANSWER, "metadata": {"context_decision": {"is_followup": False}, "query_understanding": None}}
    op = exchange.answered(base(_recommend(exchange, None)), reply=Reply(200, {}, answer), completed_at=1.0)
    assert (op.follow_up, op.entities) == (None, {})


@pytest.mark.parametrize(("reply", "status", "error"), [
    (Reply(422, {}, {"detail": "query too long"}), "fail", "HTTP 422: query too long"),
    (Reply(200, {}, {"recommendations": "not a list", "session_id": "s"}), "unknown", "malformed answer: BadAnswer"),
    (Reply(200, {}, {"recommendations": [{"title": 1.5}], "session_id": "s"}), "unknown", "malformed answer: BadAnswer"),
    (Reply(200, {}, None), "unknown", "malformed answer: BadAnswer: the answer names no session"),
    (Reply(200, {}, {"session_id": "s", "recommendations": []}), "ok", None),
])
def test_bad_answers_are_fail_or_unknown_never_raised(reply: Reply, status: str, error: str | None) -> None:
    exchange = exchange_for(load_profile("beatdebate-original"))
    op = exchange.answered(base(_recommend(exchange, None)), reply=reply, completed_at=1.0)
    assert op.status == status
    assert (op.error or "").startswith(error or "")


def test_followed_query_echo_and_a_text_answer() -> None:
    exchange = ProfileExchange(profile('''
[recommend]
path = "/chat"
body = { message = "{query}", conversation = "{session_id}" }
[answer]
session_id = "conversation"
follow_up = "context.followed_up"
followed_query = "context.on"
text = "messages[?role=='assistant'].content"
'''))
    body = {"conversation": "c1", "context": {"followed_up": "more_tracks", "on": "Songs by Radiohead"},
            "messages": [{"role": "user", "content": "More"}, {"role": "assistant", "content": "Here: cnabcdefghij"}]}
    op = exchange.answered(base(_recommend(exchange, "c1")), reply=Reply(200, {}, body), completed_at=1.0)
    assert (op.follow_up, op.entities, op.text, op.anchor) == (
        "more_tracks", {FOLLOWED_QUERY: ("Songs by Radiohead",)}, "Here: cnabcdefghij", None)


def test_our_server_by_profile_reads_anchor_and_history_as_the_native_parser_does() -> None:
    exchange = exchange_for(load_profile("our-server-by-profile"))
    answer = {"session_id": "s" * 20, "request_id": "r1", "turn": 2, "session_created": False,
              "intent": {"kind": "follow_up", "follow_up": "more_tracks", "entities": {"artists": ["Radiohead"]}},
              "context": {"anchor": {"turn": 1, "request_id": "r0", "query": "Songs by Radiohead", "kind": "by_artist",
                                     "entities": {"artists": ["Radiohead"]}}},
              "recommendations": [{"track_id": "t1", "title": "Creep", "artist": "Radiohead", "tags": ["rock"],
                                   "score": 1.0, "explanation": "…"}],
              "source": "primary", "fallback_reason": None, "notice": "candidates exhausted"}
    op = exchange.answered(base(_recommend(exchange, "s" * 20)), reply=Reply(200, {}, answer), completed_at=1.0)
    native = parse_recommendation(answer)
    assert {name: getattr(op, name) for name in native} == native
    assert op.anchor == Anchor(1, "r0", "Songs by Radiohead", "by_artist", {"artists": ("Radiohead",)})
    history = {"session_id": "s" * 20, "created_at": "…", "last_active_at": "…", "turn_count": 2,
               "turns": [{"turn": 1, "request_id": "r0", "query": "Songs by Radiohead", "intent": {},
                          "anchor_turn": None, "track_ids": ["t0"], "at": "…"},
                         {"turn": 2, "request_id": "r1", "query": "More tracks", "intent": {},
                          "anchor_turn": 1, "track_ids": ["t1"], "at": "…"}]}
    read = exchange.read_history("s" * 20, rid="r2")
    assert read is not None and (read.method, read.path, read.route) == ("GET", f"/sessions/{'s' * 20}", "/sessions/{session_id}")
    op = exchange.answered(base(read), reply=Reply(200, {}, history), completed_at=1.0)
    assert {name: getattr(op, name) for name in parse_history(history)} == parse_history(history)
    assert op.recorded == (RecordedTurn(1, "r0", "Songs by Radiohead", None, ("t0",)),
                           RecordedTurn(2, "r1", "More tracks", 1, ("t1",)))


@pytest.mark.anyio
async def test_a_cookie_carried_session_through_a_real_jar() -> None:
    """The server sets the cookie; the jar carries it; a conversation without an id drops it."""
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        carried = request.headers.get("cookie")
        seen.append(carried)
        if carried is None:
            return httpx.Response(200, json={"text": "new"}, headers={"set-cookie": "sid=minted; Path=/"})
        return httpx.Response(200, json={"text": "again"})

    exchange = ProfileExchange(profile('''
[session]
cookie = "sid"
[recommend]
path = "/ask"
body = { q = "{query}" }
'''))
    transport = HttpxTransport("http://chat.test", timeout=5, transport=httpx.MockTransport(handler))
    first = _recommend(exchange, None)
    reply = await exchange.send(transport, first)
    op = exchange.answered(base(first), reply=reply, completed_at=1.0)
    assert op.session == "minted"
    second = _recommend(exchange, op.session)
    reply = await exchange.send(transport, second)
    assert exchange.answered(base(second), reply=reply, completed_at=1.0).session == "minted"
    await exchange.send(transport, _recommend(exchange, None))       # a new chat: no cookie
    made_up = _recommend(exchange, "0b6f6a52-3a4e-4f35-9a50-8c1c0f7a9e11")
    await exchange.send(transport, made_up)
    await transport.aclose()
    assert seen == [None, "sid=minted", None, "sid=0b6f6a52-3a4e-4f35-9a50-8c1c0f7a9e11"]
