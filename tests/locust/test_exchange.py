"""``loadtest.exchange``: requests built for steps, answers turned into ops, the chat's ids."""

from __future__ import annotations

from loadtest import exchange
from loadtest.history import Anchor, Expect, Op, RecordedTurn, TrackSeen
from loadtest.scenario import QueryStep

EXPECT = Expect(follow_up="more_tracks", anchor="first")
STEP = QueryStep(name="more", query="More from {artist}", expect=EXPECT, max_recommendations=5)
PERSONA = {"artist": "Burial", "genre": "electronic"}


def base(request: exchange.Request) -> dict[str, object]:
    return exchange.op_base(request, index=7, user=3, conversation="u3.c2", scenario="chat",
                            step="more", invoked_at=1.5, subject={"artist": "Burial"}, expect=EXPECT)


def test_a_query_step_fills_placeholders_and_carries_the_session_only_when_there_is_one() -> None:
    request = exchange.recommend_request(STEP, PERSONA, rid="run-u3-4", session_id="s" * 20)
    assert (request.method, request.path, request.route, request.session_sent) == (
        "POST", "/recommendations", "/recommendations", "s" * 20)
    assert request.body == {"query": "More from Burial", "max_recommendations": 5,
                            "include_previews": False, "session_id": "s" * 20}
    assert request.headers == {"X-Request-ID": "run-u3-4", "Content-Type": "application/json"}
    fresh = exchange.recommend_request(QueryStep(name="q", query="jazz"), {}, rid="r", session_id=None)
    assert fresh.body == {"query": "jazz", "max_recommendations": 10, "include_previews": False}


def test_session_calls_name_the_route_without_the_id() -> None:
    read = exchange.read_history_request("abc" * 6, rid="r1")
    delete = exchange.delete_session_request("abc" * 6, rid="r2")
    assert (read.method, read.path, read.route, read.body) == ("GET", f"/sessions/{'abc' * 6}", "/sessions/{id}", None)
    assert (delete.method, delete.route, delete.headers) == ("DELETE", "/sessions/{id}", {"X-Request-ID": "r2"})
    assert exchange.request_id("lc1", 3, 4) == "lc1-u3-4"


def test_an_ok_recommendation_answer_becomes_an_ok_op_with_everything_it_said() -> None:
    request = exchange.recommend_request(STEP, PERSONA, rid="r", session_id="S" * 20)
    body = {"session_id": "S" * 20, "request_id": "r", "turn": 2, "session_created": False,
            "intent": {"kind": "follow_up", "follow_up": "more_tracks", "entities": {"artists": ["Burial"]}},
            "context": {"anchor": {"turn": 1, "request_id": "r0", "query": "Songs by Burial", "kind": "by_artist",
                                   "entities": {"artists": ["Burial"]}}},
            "recommendations": [{"track_id": "t1", "title": "Archangel", "artist": "Burial",
                                 "tags": ["electronic"], "score": 0.9, "explanation": "…"}],
            "source": "primary", "fallback_reason": None}
    op = exchange.answered(base(request), status=200, body=body, completed_at=2.0)
    assert op == Op(index=7, user=3, conversation="u3.c2", scenario="chat", step="more", action="recommend",
                    status="ok", invoked_at=1.5, completed_at=2.0, request_id="r", session_sent="S" * 20,
                    session="S" * 20, http_status=200, query="More from Burial", subject={"artist": "Burial"},
                    expect=EXPECT, turn=2, session_created=False, kind="follow_up", follow_up="more_tracks",
                    entities={"artists": ("Burial",)},
                    anchor=Anchor(1, "r0", "Songs by Burial", "by_artist", {"artists": ("Burial",)}),
                    tracks=(TrackSeen("t1", "Burial", ("electronic",)),), source="primary")


def test_errors_fail_malformed_answers_and_silence_are_unknown() -> None:
    request = exchange.recommend_request(STEP, PERSONA, rid="r", session_id=None)
    failed = exchange.answered(base(request), status=503, body={"detail": "store down"}, completed_at=2.0)
    assert (failed.status, failed.http_status, failed.error) == ("fail", 503, "HTTP 503: store down")
    malformed = exchange.answered(base(request), status=200, body={"turn": 1}, completed_at=2.0)
    assert malformed.status == "unknown" and malformed.error.startswith("malformed answer: KeyError")
    silent = exchange.unanswered(base(request), error="timeout: 30 s")
    assert (silent.status, silent.completed_at, silent.error) == ("unknown", None, "timeout: 30 s")


def test_history_reads_and_deletes() -> None:
    read = exchange.read_history_request("S" * 20, rid="r")
    body = {"session_id": "S" * 20, "turn_count": 1,
            "turns": [{"turn": 1, "request_id": "r0", "query": "q", "anchor_turn": None, "track_ids": ["t1"]}]}
    op = exchange.answered(base(read), status=200, body=body, completed_at=2.0)
    assert (op.turn_count, op.recorded) == (1, (RecordedTurn(1, "r0", "q", None, ("t1",)),))
    gone = exchange.answered(base(exchange.delete_session_request("S" * 20, rid="r")), status=204, body=None,
                             completed_at=2.0)
    assert (gone.status, gone.session) == ("ok", "S" * 20)


def test_the_chat_adopts_answered_ids_and_remembers_deleted_ones() -> None:
    chat = exchange.Chat(4)
    chat.new_conversation()
    assert (chat.name, chat.session) == ("u4.c1", None)
    request = exchange.create_session_request(rid="r")
    created = exchange.answered(base(request), status=201, body={"session_id": "A" * 20}, completed_at=1.0)
    chat.adopt(created)
    assert chat.session == "A" * 20
    chat.adopt(exchange.answered(base(exchange.delete_session_request("A" * 20, rid="r")), status=404,
                                 body=None, completed_at=1.0))
    assert (chat.session, chat.deleted) == ("A" * 20, [])      # a failed delete changes nothing
    chat.adopt(exchange.answered(base(exchange.delete_session_request("A" * 20, rid="r")), status=204,
                                 body=None, completed_at=1.0))
    assert (chat.session, chat.deleted) == (None, ["A" * 20])
    chat.new_conversation("B" * 20)
    assert (chat.name, chat.session) == ("u4.c2", "B" * 20)
