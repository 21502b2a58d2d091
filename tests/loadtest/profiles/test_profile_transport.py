"""``send``, the transports' generic call for profiles: headers, body, and the user's own cookie
jar (set, replaced, dropped), on aiohttp against a real local server and on httpx."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from loadtest.transport import AiohttpTransport, HttpxTransport, Reply

Seen = list[dict[str, Any]]
SEEN = web.AppKey("seen", list)


async def _echo(request: web.Request) -> web.Response:
    seen: Seen = request.app[SEEN]
    raw = await request.read()
    seen.append({"method": request.method, "path": request.path, "cookie": request.headers.get("Cookie"),
                 "rid": request.headers.get("X-Request-ID"), "x": request.headers.get("X-Conversation"),
                 "body": orjson.loads(raw) if raw else None})
    response = web.json_response({"ok": True})
    if request.headers.get("Cookie") is None:
        response.set_cookie("sid", "minted")
    return response


@pytest.fixture
async def server() -> AsyncIterator[tuple[str, Seen]]:
    app = web.Application()
    app[SEEN] = []
    app.router.add_route("*", "/{tail:.*}", _echo)
    async with TestServer(app, host="127.0.0.1") as running:
        yield str(running.make_url("")).rstrip("/"), app[SEEN]


async def _exercise(send: Callable[..., Any]) -> list[Reply]:
    return [
        await send("POST", "/chat", request_id="r1", body={"q": "hi"}, headers={"X-Conversation": "c1"}),
        await send("POST", "/chat", request_id="r2", body={"q": "again"}),
        await send("GET", "/chat", request_id="r3", cookies={"sid": None}),          # a new chat: dropped
        await send("POST", "/chat", request_id="r4", cookies={"sid": "made-up"}),    # replaced, not added
    ]


@pytest.mark.anyio
async def test_aiohttp_send_keeps_the_users_cookie_jar(server: tuple[str, Seen]) -> None:
    url, seen = server
    transport = AiohttpTransport(url, timeout=5)
    replies = await _exercise(transport.send)
    await transport.aclose()
    assert [r.status for r in replies] == [200] * 4 and replies[1].body == {"ok": True}
    assert replies[0].cookies == {"sid": "minted"} and replies[1].cookies == {}
    assert [(s["method"], s["rid"], s["x"], s["body"]) for s in seen] == [
        ("POST", "r1", "c1", {"q": "hi"}), ("POST", "r2", None, {"q": "again"}),
        ("GET", "r3", None, None), ("POST", "r4", None, None)]
    assert [s["cookie"] for s in seen] == [None, "sid=minted", None, "sid=made-up"]


@pytest.mark.anyio
async def test_httpx_send_keeps_the_users_cookie_jar() -> None:
    seen: Seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append({"cookie": request.headers.get("cookie"), "x": request.headers.get("x-conversation")})
        headers = {} if request.headers.get("cookie") else {"set-cookie": "sid=minted; Path=/"}
        return httpx.Response(200, json={"ok": True}, headers=headers)

    transport = HttpxTransport("http://chat.test", timeout=5, transport=httpx.MockTransport(handler))
    replies = await _exercise(transport.send)
    await transport.aclose()
    assert replies[0].cookies == {"sid": "minted"} and replies[1].body == {"ok": True}
    assert [s["cookie"] for s in seen] == [None, "sid=minted", None, "sid=made-up"]
    assert seen[0]["x"] == "c1"
