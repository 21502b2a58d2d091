"""The transports under the nemesis: a request cut off once it is out, a request given a short
timeout; both may have taken effect, so both come back as errors the user records as unknown."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aiohttp import web

from loadtest.transport import (
    AiohttpTransport,
    HttpxTransport,
    RequestFault,
    TransportAborted,
    TransportTimeout,
)
from tests.loadtest.fakes import Always

pytestmark = pytest.mark.anyio


@pytest.fixture
async def slow_server() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    """A server that reads each request whole, records it, then takes 0.3 s to answer."""
    received: list[dict[str, Any]] = []

    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        received.append({"path": request.path, "rid": request.headers.get("X-Request-ID"), "body": body})
        await asyncio.sleep(0.3)
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}", received
    finally:
        await runner.cleanup()


async def test_an_aborted_request_is_sent_whole_then_cut_off(slow_server: tuple[str, list[dict[str, Any]]]) -> None:
    url, received = slow_server
    faults = Always(RequestFault("abort"))
    user = AiohttpTransport(url, timeout=5, user=3, faults=faults)
    try:
        with pytest.raises(TransportAborted, match="cut off by the harness after it was sent"):
            await user.recommend({"query": "More tracks", "session_id": "s" * 20}, request_id="cut-1")
        with pytest.raises(TransportAborted):
            await user.read_session("s" * 20, request_id="cut-2")
        await asyncio.sleep(0.1)
    finally:
        await user.aclose()
    # The server got both requests whole: they may have taken effect.
    assert [r["rid"] for r in received] == ["cut-1", "cut-2"]
    assert received[0]["body"] == b'{"query":"More tracks","session_id":"ssssssssssssssssssss"}'
    assert faults.asked == [(3, 1), (3, 2)]                  # per user, numbered from 1


async def test_a_timeout_fault_gives_the_request_its_short_timeout(
        slow_server: tuple[str, list[dict[str, Any]]]) -> None:
    url, _ = slow_server
    user = AiohttpTransport(url, timeout=5, faults=Always(RequestFault("timeout", timeout=0.05)))
    try:
        with pytest.raises(TransportTimeout, match="no answer within 0.05s"):
            await user.create_session(request_id="hurry")
    finally:
        await user.aclose()


async def test_without_a_fault_the_request_is_answered(slow_server: tuple[str, list[dict[str, Any]]]) -> None:
    url, _ = slow_server
    user = AiohttpTransport(url, timeout=5, faults=Always(None))
    try:
        assert (await user.create_session(request_id="plain")).body == {"ok": True}
        assert (await user.send("POST", "/x", request_id="plain-2", body={"a": 1})).status == 200
    finally:
        await user.aclose()


async def test_in_process_an_aborted_request_cancels_the_apps_work() -> None:
    started, finished = asyncio.Event(), asyncio.Event()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        started.set()
        await asyncio.sleep(0.3)
        finished.set()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    user = HttpxTransport("http://t", timeout=5, transport=httpx.ASGITransport(app=app),
                          faults=Always(RequestFault("abort")))
    with pytest.raises(TransportAborted):
        await user.recommend({"query": "x"}, request_id="r")
    assert started.is_set() and not finished.is_set()       # it was being served when cut off
    timed = HttpxTransport("http://t", timeout=5, transport=httpx.ASGITransport(app=app),
                           faults=Always(RequestFault("timeout", timeout=0.01)))
    with pytest.raises(TransportTimeout):
        await timed.recommend({"query": "x"}, request_id="r2")
    await user.aclose()
    await timed.aclose()
