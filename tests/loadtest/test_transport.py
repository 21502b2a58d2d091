"""The transport seam: replies for any status, typed errors for no answer, one cookie jar per user."""

from __future__ import annotations

import httpx
import pytest
from aiohttp import web

from loadtest.transport import AiohttpTransport, HttpxTransport, TransportError, TransportTimeout


def _echo(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/slow":
        raise httpx.ReadTimeout("slow", request=request)
    if request.url.path == "/sessions/gone":
        return httpx.Response(404, json={"detail": "no such session"})
    return httpx.Response(200, json={"path": request.url.path, "method": request.method,
                                     "rid": request.headers["x-request-id"],
                                     "body": request.content.decode() or None})


@pytest.mark.anyio
async def test_httpx_transport_speaks_the_four_calls() -> None:
    t = HttpxTransport("http://x", timeout=1, transport=httpx.MockTransport(_echo))
    reply = await t.recommend({"query": "hi"}, request_id="r1")
    assert (reply.status, reply.body["method"], reply.body["path"], reply.body["rid"]) == (200, "POST", "/recommendations", "r1")
    assert reply.body["body"] == '{"query":"hi"}'
    assert (await t.create_session(request_id="r2")).body["path"] == "/sessions"
    assert (await t.read_session("abc", request_id="r3")).body["method"] == "GET"
    assert (await t.delete_session("abc", request_id="r4")).body["method"] == "DELETE"
    missing = await t.read_session("gone", request_id="r5")
    assert (missing.status, missing.body) == (404, {"detail": "no such session"})
    await t.aclose()


@pytest.mark.anyio
async def test_httpx_transport_raises_typed_errors() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    slow = HttpxTransport("http://x", timeout=1, transport=httpx.MockTransport(_echo))
    with pytest.raises(TransportTimeout):
        await slow._send("GET", "/slow", request_id="r")
    dead = HttpxTransport("http://x", timeout=1, transport=httpx.MockTransport(refuse))
    with pytest.raises(TransportError) as caught:
        await dead.create_session(request_id="r")
    assert not isinstance(caught.value, TransportTimeout)


@pytest.mark.anyio
async def test_aiohttp_transport_keeps_one_cookie_jar_per_user() -> None:
    async def sessions(request: web.Request) -> web.Response:
        response = web.json_response({"session_id": "s" * 20, "cookie": request.cookies.get("sticky"),
                                      "rid": request.headers.get("X-Request-ID")}, status=201)
        response.set_cookie("sticky", request.headers["X-Request-ID"])
        return response

    app = web.Application()
    app.router.add_post("/sessions", sessions)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    alice = AiohttpTransport(f"http://127.0.0.1:{port}", timeout=5)
    bob = AiohttpTransport(f"http://127.0.0.1:{port}", timeout=5)
    try:
        first = await alice.create_session(request_id="alice-1")
        assert (first.status, first.body["cookie"], first.body["rid"]) == (201, None, "alice-1")
        assert (await alice.create_session(request_id="alice-2")).body["cookie"] == "alice-1"
        assert (await bob.create_session(request_id="bob-1")).body["cookie"] is None   # no shared jar
    finally:
        await alice.aclose()
        await bob.aclose()
        await runner.cleanup()


@pytest.mark.anyio
async def test_aiohttp_transport_on_a_closed_port_raises_transport_error() -> None:
    t = AiohttpTransport("http://127.0.0.1:9", timeout=2)
    with pytest.raises(TransportError):
        await t.recommend({"query": "x"}, request_id="r")
    await t.aclose()
