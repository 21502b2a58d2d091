"""The two doors to a turn: ``TurnFastPath`` and the FastAPI route answer alike.

The fast path must take every well-formed request and pass everything else on untouched,
so that errors keep the route's status and shape. A spy on the route's ASGI handler tells
which door answered.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from server_client import ServeApp, ask

from beatdebate_server.http.routers.recommendations import PATH
from beatdebate_server.settings import Settings
from beatdebate_server.store.base import StoreUnavailable
from beatdebate_server.store.memory import MemoryStore

pytestmark = pytest.mark.anyio

# FastAPI decodes ``+json`` types as JSON; the fast path leaves them to the route, which
# makes them a way to send the very same request through the route's door.
THROUGH_THE_ROUTE = {"content-type": "application/vnd.beatdebate+json"}


def spy_on_route(client: httpx.AsyncClient) -> list[str]:
    """Record each request that reaches the FastAPI route's handler; returns the record."""
    app = client.app  # type: ignore[attr-defined]
    route = next(r for r in app.router.routes if getattr(r, "path", None) == PATH)
    reached: list[str] = []
    handler = route.app

    async def spied(scope: Any, receive: Any, send: Any) -> None:
        reached.append(scope["method"])
        await handler(scope, receive, send)

    route.app = spied
    return reached


async def test_well_formed_requests_are_answered_by_the_fast_path(serve_app: ServeApp) -> None:
    async with serve_app() as client:
        reached = spy_on_route(client)
        first = await ask(client, "Songs by Mk.gee")
        more = await ask(client, "More tracks", first["session_id"], max_recommendations=3)
        charset = await client.post(PATH, content=b'{"query": "Jazz for studying"}',
                                    headers={"content-type": "Application/JSON; charset=utf-8"})
        untyped = await client.post(PATH, content=b'{"query": "Jazz for studying"}')
        assert reached == []
    assert more["turn"] == 2 and len(more["recommendations"]) == 3
    assert charset.status_code == 200 and untyped.status_code == 200
    assert charset.json()["intent"] == untyped.json()["intent"]


@pytest.mark.parametrize(("content", "headers"), [
    (b'{"query": ""}', {"content-type": "application/json"}),
    (b'{"query": "x", "max_recommendations": "10"}', {"content-type": "application/json"}),
    (b'{"query": "x",', {"content-type": "application/json"}),
    (b"", {"content-type": "application/json"}),
    (b'{"query": "x"}', {"content-type": "text/plain"}),
])
async def test_everything_else_goes_to_the_route_and_gets_its_answer(
        serve_app: ServeApp, content: bytes, headers: dict[str, str]) -> None:
    async with serve_app() as client:
        reached = spy_on_route(client)
        response = await client.post(PATH, content=content, headers=headers)
    assert reached == ["POST"]
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][0] == "body"


def _comparable(answer: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in answer.items() if key != "session_id"}


async def test_both_doors_give_the_same_answers_and_record_the_same_turns(
        serve_app: ServeApp) -> None:
    conversation = [("Songs by The Beatles", "t1"), ("More tracks", "t2"),
                    ("More like these", "t3"), ("more by this artist", "t4")]
    async with serve_app() as client:
        reached = spy_on_route(client)
        answers: dict[str, list[dict[str, Any]]] = {"fast": [], "route": []}
        histories = {}
        for door, headers in (("fast", {}), ("route", THROUGH_THE_ROUTE)):
            session_id = None
            for query, request_id in conversation:
                body = {"query": query, **({"session_id": session_id} if session_id else {})}
                response = await client.post(PATH, content=httpx.Request(
                    "POST", "/", json=body).content,
                    headers={**headers, "X-Request-ID": request_id})
                assert response.status_code == 200, response.text
                assert response.headers["x-request-id"] == request_id
                answers[door].append(response.json())
                session_id = response.json()["session_id"]
            history = (await client.get(f"/sessions/{session_id}")).json()
            histories[door] = [{k: v for k, v in turn.items() if k != "at"}
                               for turn in history["turns"]]
        assert reached == ["POST"] * len(conversation)
    assert [_comparable(a) for a in answers["fast"]] == [_comparable(a)
                                                         for a in answers["route"]]
    assert histories["fast"] == histories["route"]
    assert [turn["request_id"] for turn in histories["fast"]] == ["t1", "t2", "t3", "t4"]


async def test_a_chunked_body_is_answered_by_the_fast_path(serve_app: ServeApp) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"query": "Songs'
        yield b' by Mk.gee"}'

    async with serve_app() as client:
        reached = spy_on_route(client)
        response = await client.post(PATH, content=chunks(),
                                     headers={"content-type": "application/json"})
        assert reached == []
    assert response.status_code == 200
    assert {t["artist"] for t in response.json()["recommendations"]} == {"Mk.gee"}


class _RefusingStore(MemoryStore):
    async def append_turn(self, session_id: str, turn: Any) -> Any:
        raise StoreUnavailable("refused for the test")


async def test_a_store_failure_on_the_fast_path_is_the_routes_503(serve_app: ServeApp) -> None:
    store = _RefusingStore(ttl_seconds=60, max_sessions=100, history_limit=50)
    async with serve_app(Settings(), store=store) as client:
        reached = spy_on_route(client)
        fast = await client.post(PATH, json={"query": "Songs by Mk.gee"})
        routed = await client.post(PATH, content=b'{"query": "Songs by Mk.gee"}',
                                   headers=THROUGH_THE_ROUTE)
        assert reached == ["POST"]
        sessions = (await client.get("/health")).json()["sessions"]
    assert fast.status_code == routed.status_code == 503
    assert fast.json() == routed.json()
    assert fast.headers["retry-after"] == routed.headers["retry-after"] == "1"
    assert sessions == 0


async def _send_cut_short(app: Any, body: bytes, *, headers: list[tuple[bytes, bytes]]) -> list[
        dict[str, Any]]:
    """One request whose client went away before its body arrived whole: the body's first
    part, then ``http.disconnect``. Returns what the app sent back (to nobody)."""
    messages = [{"type": "http.request", "body": body, "more_body": True},
                {"type": "http.disconnect"}]

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "POST", "scheme": "http", "path": PATH, "raw_path": PATH.encode(),
             "query_string": b"", "root_path": "", "headers": headers,
             "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8000), "state": {}}
    await app(scope, receive, send)
    return sent


@pytest.mark.parametrize(("door", "headers"), [
    # Content-Length longer than what came: the fast path (application/json) ...
    ("fast", [(b"content-type", b"application/json"), (b"content-length", b"100")]),
    # ... and chunked (no length): counted by the middleware, then the fast path.
    ("fast", [(b"content-type", b"application/json")]),
    # The route, with a declared length and chunked.
    ("route", [(b"content-type", b"application/vnd.beatdebate+json"),
               (b"content-length", b"100")]),
    ("route", [(b"content-type", b"application/vnd.beatdebate+json")]),
])
async def test_a_body_cut_short_by_its_client_never_takes_a_turn(
        serve_app: ServeApp, door: str, headers: list[tuple[bytes, bytes]]) -> None:
    # What arrived is a whole JSON object: read as the body, it would be a turn (issue 16).
    async with serve_app() as client:
        session_id = (await ask(client, "Songs by Mk.gee"))["session_id"]
        reached = spy_on_route(client)
        for body in (b'{"query": "Electronic music"}',
                     b'{"query": "More tracks", "session_id": "' + session_id.encode() + b'"}'):
            await _send_cut_short(client.app, body,  # type: ignore[attr-defined]
                                  headers=headers)
        history = (await client.get(f"/sessions/{session_id}")).json()
        health = (await client.get("/health")).json()
    assert history["turn_count"] == 1
    assert health["sessions"] == 1
    if door == "fast":
        assert reached == []
