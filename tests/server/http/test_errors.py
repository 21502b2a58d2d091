"""Every client mistake is a 4xx naming the problem, and nothing is stored for it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from server_client import ServeApp, ask, live_sessions

from beatdebate_server.session import Session, Turn
from beatdebate_server.settings import Settings
from beatdebate_server.store.base import StoreUnavailable
from beatdebate_server.store.memory import MemoryStore

pytestmark = pytest.mark.anyio


def _locs(response: httpx.Response) -> list[list[Any]]:
    return [error["loc"] for error in response.json()["detail"]]


@asynccontextmanager
async def _unchanged(client: httpx.AsyncClient) -> AsyncIterator[None]:
    """Assert that the block stores nothing: the live-session count stays the same."""
    before = await live_sessions(client)
    yield
    assert await live_sessions(client) == before


@pytest.mark.parametrize(("body", "loc"), [
    ({"query": "x", "session_id": "short"}, ["body", "session_id"]),
    ({"query": "x", "session_id": "has spaces in it, sixteen+"}, ["body", "session_id"]),
    ({"query": "x", "session_id": "a" * 129}, ["body", "session_id"]),
    ({"query": "x", "session_id": 12345678901234567890}, ["body", "session_id"]),
    ({"query": ""}, ["body", "query"]),
    ({"query": "   \t\n "}, ["body", "query"]),
    ({"query": "x" * 501}, ["body", "query"]),
    ({"query": 42}, ["body", "query"]),
    ({}, ["body", "query"]),
    ({"query": "x", "max_recommendations": 0}, ["body", "max_recommendations"]),
    ({"query": "x", "max_recommendations": 51}, ["body", "max_recommendations"]),
    ({"query": "x", "max_recommendations": "10"}, ["body", "max_recommendations"]),
    ({"query": "x", "max_recommendations": 2.5}, ["body", "max_recommendations"]),
    ({"query": "x", "include_previews": "yes"}, ["body", "include_previews"]),
    (["query", "x"], ["body"]),
])
async def test_invalid_recommendation_bodies_are_422_naming_the_field(
        serve_app: ServeApp, body: Any, loc: list[Any]) -> None:
    async with serve_app() as client:
        # A live session, so that "nothing stored" also covers "no turn appended".
        session_id = (await ask(client, "Songs by Mk.gee"))["session_id"]
        async with _unchanged(client):
            response = await client.post("/recommendations", json=body)
        assert response.status_code == 422
        assert loc in _locs(response)
        history = (await client.get(f"/sessions/{session_id}")).json()
        assert history["turn_count"] == 1


async def test_query_is_trimmed_and_500_characters_after_trimming_are_fine(
        serve_app: ServeApp) -> None:
    async with serve_app() as client:
        answer = await ask(client, "  " + "x" * 500 + "  ")
        history = (await client.get(f"/sessions/{answer['session_id']}")).json()
    assert history["turns"][0]["query"] == "x" * 500


async def test_malformed_json_is_422(serve_app: ServeApp) -> None:
    async with serve_app() as client, _unchanged(client):
        response = await client.post("/recommendations", content=b'{"query": "x",',
                                     headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"


async def test_a_body_sent_as_a_form_is_422_saying_to_send_json(serve_app: ServeApp) -> None:
    # What ``curl -d '{"query": "x"}'`` sends: the JSON body under a form content type.
    async with serve_app() as client, _unchanged(client):
        response = await client.post(
            "/recommendations", content=b'{"query": "Songs by Mk.gee"}',
            headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body"]
    assert "Content-Type: application/json" in error["msg"]
    assert "application/x-www-form-urlencoded" in error["msg"]


@pytest.mark.parametrize(("content", "field"), [
    (rb'{"query": "Songs by Radiohead\ud800"}', "query"),
    (rb'{"query": "x", "session_id": "\ud800aaaaaaaaaaaaaaaaaaaaaa"}', "session_id"),
    (rb'{"query": "x", "max_recommendations": "\udfff"}', "max_recommendations"),
])
async def test_a_lone_surrogate_is_422_echoed_in_ascii_escapes(
        serve_app: ServeApp, content: bytes, field: str) -> None:
    # Valid JSON, but no text: stored as a query, it could never be answered back as UTF-8
    # (a later follow-up echoing it as its anchor would fail), and the 422 that echoes the
    # input must still be encodable.
    async with serve_app() as client, _unchanged(client):
        response = await client.post("/recommendations", content=content,
                                     headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.content.isascii()
    assert response.json()["detail"][0]["loc"] == ["body", field]


@pytest.mark.parametrize(("content", "field"), [
    (b'{"query": "x", "max_recommendations": NaN}', "max_recommendations"),
    (b'{"query": "x", "max_recommendations": 1e400}', "max_recommendations"),
    (b'{"query": "x", "max_recommendations": -1e400}', "max_recommendations"),
    (b'{"query": Infinity}', "query"),
    (b'{"query": "x", "include_previews": -Infinity}', "include_previews"),
    (b'{"query": "x", "session_id": NaN}', "session_id"),
])
@pytest.mark.parametrize("content_type", ["application/json", "application/vnd.beatdebate+json"])
async def test_non_finite_numbers_are_422_with_a_request_id(
        serve_app: ServeApp, content: bytes, field: str, content_type: str) -> None:
    # Python's JSON reader takes NaN and Infinity, and 1e400 overflows to infinity; the 422
    # that echoes such an input must still be JSON (issue 16). Both doors: the fast path
    # (application/json) and the route (a +json type).
    async with serve_app() as client, _unchanged(client):
        response = await client.post("/recommendations", content=content,
                                     headers={"content-type": content_type,
                                              "X-Request-ID": "non-finite-1"})
    assert response.status_code == 422
    assert response.headers["x-request-id"] == "non-finite-1"
    assert ["body", field] in _locs(response)
    json.loads(response.content, parse_constant=_refuse_constant)  # strict JSON


def _refuse_constant(name: str) -> None:
    raise AssertionError(f"the body holds {name}, which is not JSON")


async def test_oversized_headers_never_make_a_500(serve_app: ServeApp) -> None:
    # In process there is no server to cap a head (``http/protocol.py`` does that, 431);
    # whatever headers reach the app, the answer is never a 5xx.
    big = {"X-Pad": "p" * 1_000_000, "Cookie": "c=" + "q" * 100_000}
    async with serve_app() as client, _unchanged(client):
        for method, path in (("POST", "/sessions"), ("GET", "/health"), ("GET", "/metrics"),
                             ("GET", "/sessions/" + "A" * 43)):
            response = await client.request(method, path, headers=big)
            assert response.status_code < 500, (method, path, response.status_code)
            if method == "POST":
                await client.delete(f"/sessions/{response.json()['session_id']}")
        response = await client.post("/recommendations", json={"query": "Electronic music"},
                                     headers={"X-Request-ID": "r" * 100_000})
    assert response.status_code == 422


async def test_non_ascii_text_stays_utf8_in_answers_and_errors(serve_app: ServeApp) -> None:
    async with serve_app() as client:
        first = await ask(client, "Songs by Björk")
        more = await ask(client, "More tracks", first["session_id"])
        wrong = await client.post("/recommendations", json={"query": "Björk", "session_id": "é"})
    assert more["context"]["anchor"]["query"] == "Songs by Björk"
    assert wrong.status_code == 422
    assert "é".encode() in wrong.content


@pytest.mark.parametrize("request_id", ["has space", "x" * 129, "semi;colon", "ü"])
async def test_malformed_request_id_is_422_naming_the_header(serve_app: ServeApp,
                                                             request_id: str) -> None:
    async with serve_app() as client, _unchanged(client):
        response = await client.post("/recommendations", json={"query": "Electronic music"},
                                     headers={"X-Request-ID": request_id.encode()})
    assert response.status_code == 422
    assert ["header", "X-Request-ID"] in _locs(response)


async def test_body_over_16_kib_is_413_by_content_length(serve_app: ServeApp) -> None:
    body = b'{"query": "x", "pad": "' + b"p" * 17_000 + b'"}'
    async with serve_app() as client, _unchanged(client):
        response = await client.post("/recommendations", content=body,
                                     headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert "16384" in response.json()["detail"]


async def test_chunked_body_over_16_kib_is_413_by_counting(serve_app: ServeApp) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"query": "x", "pad": "'
        for _ in range(20):
            yield b"p" * 1024
        yield b'"}'

    async with serve_app() as client, _unchanged(client):
        response = await client.post("/recommendations", content=chunks(),
                                     headers={"content-type": "application/json"})
    assert "content-length" not in response.request.headers  # really streamed
    assert response.status_code == 413


async def test_body_just_under_16_kib_is_accepted(serve_app: ServeApp) -> None:
    prefix, suffix = b'{"query": "Electronic music", "pad": "', b'"}'
    body = prefix + b"p" * (16 * 1024 - len(prefix) - len(suffix)) + suffix
    assert len(body) == 16 * 1024
    async with serve_app() as client:
        response = await client.post("/recommendations", content=body,
                                     headers={"content-type": "application/json"})
    assert response.status_code == 200


@pytest.mark.parametrize("method", ["get", "delete"])
async def test_malformed_session_id_in_path_is_422(serve_app: ServeApp, method: str) -> None:
    async with serve_app() as client, _unchanged(client):
        response = await client.request(method.upper(), "/sessions/not-valid!")
    assert response.status_code == 422
    assert ["path", "session_id"] in _locs(response)


async def test_unknown_session_is_404_for_read_and_delete(serve_app: ServeApp) -> None:
    made_up = "A" * 43
    async with serve_app() as client, _unchanged(client):
        assert (await client.get(f"/sessions/{made_up}")).status_code == 404
        response = await client.delete(f"/sessions/{made_up}")
    assert response.status_code == 404
    assert "no such session" in response.json()["detail"]


async def test_unknown_route_is_404_and_wrong_method_is_405(serve_app: ServeApp) -> None:
    async with serve_app() as client:
        assert (await client.get("/nope")).status_code == 404
        assert (await client.get("/recommendations")).status_code == 405
        assert (await client.put("/sessions")).status_code == 405


class _DownStore(MemoryStore):
    """A store whose backing service went away after start-up."""

    down = False

    def _check(self) -> None:
        if self.down:
            raise StoreUnavailable("connection refused")

    async def ping(self) -> None:
        self._check()

    async def create(self) -> Session:
        self._check()
        return await super().create()

    async def load(self, session_id: str) -> Session | None:
        self._check()
        return await super().load(session_id)

    async def append_turn(self, session_id: str, turn: Turn) -> Session | None:
        self._check()
        return await super().append_turn(session_id, turn)


async def test_store_unavailable_is_503_with_detail_and_nothing_written(
        serve_app: ServeApp) -> None:
    store = _DownStore(ttl_seconds=60, max_sessions=100, history_limit=50)
    async with serve_app(Settings(), store=store) as client:
        session_id = (await ask(client, "Songs by Mk.gee"))["session_id"]
        store.down = True
        for response in (
                await client.post("/recommendations", json={"query": "More tracks",
                                                            "session_id": session_id}),
                await client.post("/recommendations", json={"query": "Electronic music"}),
                await client.post("/sessions"),
                await client.get(f"/sessions/{session_id}"),
                await client.get("/health")):
            assert response.status_code == 503
            assert "unavailable" in response.json()["detail"]
        store.down = False
        history = (await client.get(f"/sessions/{session_id}")).json()
        assert history["turn_count"] == 1
        assert await live_sessions(client) == 1


class _AppendFailsStore(MemoryStore):
    """Creates sessions, then loses its backing service exactly when a turn is recorded."""

    async def append_turn(self, session_id: str, turn: Turn) -> Session | None:
        raise StoreUnavailable("connection reset")


async def test_a_failed_first_turn_leaves_no_empty_session(serve_app: ServeApp) -> None:
    store = _AppendFailsStore(ttl_seconds=60, max_sessions=100, history_limit=50)
    async with serve_app(Settings(), store=store) as client, _unchanged(client):
        response = await client.post("/recommendations", json={"query": "Electronic music"})
        assert response.status_code == 503
    assert (await store.stats()).created == 1  # it was created, and removed again
