"""The lean HTTP/1.1 client (``loadtest.lean_http``): the seam's replies and errors, kept-alive
connections of each user's own, chunked and Content-Length bodies, cookies per user, the
nemesis's faults, and the runner choosing it only where it can speak."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web

from loadtest.lean_http import LeanTransport, lean_factory
from loadtest.runner import RunConfig, _network_client, run_async
from loadtest.transport import RequestFault, TransportAborted, TransportError, TransportTimeout
from tests.loadtest.fakes import Always

pytestmark = pytest.mark.anyio

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Server:
    """An aiohttp server on a free port; remembers each request and the client port it came from."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.url = ""

    async def echo(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        peer = request.transport.get_extra_info("peername")[1] if request.transport else None
        self.received.append({"method": request.method, "path": request.path, "peer": peer, "body": body,
                              "rid": request.headers.get("X-Request-ID"), "cookie": request.headers.get("Cookie"),
                              "length": request.headers.get("Content-Length")})
        if request.path == "/sessions/gone":
            return web.json_response({"detail": "no such session"}, status=404)
        if request.path == "/slow":
            await asyncio.sleep(0.3)
        return web.json_response({"method": request.method, "path": request.path,
                                  "rid": request.headers.get("X-Request-ID"),
                                  "body": body.decode() or None}, status=201 if request.method == "POST" else 200)


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    async with _serve(Server(), None) as found:
        yield found


class _serve:
    def __init__(self, server: Server, handler: Handler | None) -> None:
        self.server, self.handler = server, handler

    async def __aenter__(self) -> Server:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handler or self.server.echo)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.server.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
        return self.server

    async def __aexit__(self, *exc: object) -> None:
        await self.runner.cleanup()


async def test_it_speaks_the_four_calls_on_one_kept_alive_connection(server: Server) -> None:
    user = LeanTransport(server.url, timeout=5)
    try:
        reply = await user.recommend({"query": "Songs by Björk", "session_id": "s" * 20}, request_id="r1")
        assert (reply.status, reply.body["method"], reply.body["path"], reply.body["rid"]) == (
            201, "POST", "/recommendations", "r1")
        assert reply.body["body"] == '{"query":"Songs by Björk","session_id":"ssssssssssssssssssss"}'
        assert reply.headers["content-type"].startswith("application/json")
        assert reply.headers["Content-Type"] == reply.headers["CONTENT-TYPE"]   # any case, as HTTP says
        assert (await user.create_session(request_id="r2")).body["path"] == "/sessions"
        assert (await user.read_session("abc", request_id="r3")).body["method"] == "GET"
        assert (await user.delete_session("abc", request_id="r4")).body["method"] == "DELETE"
        missing = await user.read_session("gone", request_id="r5")
        assert (missing.status, missing.body) == (404, {"detail": "no such session"})
    finally:
        await user.aclose()
    assert [r["rid"] for r in server.received] == ["r1", "r2", "r3", "r4", "r5"]
    assert len({r["peer"] for r in server.received}) == 1                       # one connection, kept alive
    assert [r["length"] for r in server.received] == ["63", "0", None, "0", None]   # a bodiless POST says 0


async def test_two_users_never_share_a_connection_or_a_cookie() -> None:
    async def sticky(request: web.Request) -> web.Response:
        response = web.json_response({"cookie": request.headers.get("Cookie"), "peer": request.transport.get_extra_info(
            "peername")[1] if request.transport else None})
        if request.path == "/forget":
            response.del_cookie("sticky")
        else:
            response.set_cookie("sticky", request.headers["X-Request-ID"])
        return response

    async with _serve(Server(), sticky) as server:
        alice, bob = LeanTransport(server.url, timeout=5), LeanTransport(server.url, timeout=5)
        try:
            first = await alice.create_session(request_id="alice-1")
            assert first.body["cookie"] is None
            second = await alice.create_session(request_id="alice-2")
            assert second.body["cookie"] == "sticky=alice-1"
            other = await bob.create_session(request_id="bob-1")
            assert other.body["cookie"] is None and other.body["peer"] != second.body["peer"]
            await alice._send("POST", "/forget", request_id="alice-3")     # Max-Age=0: dropped
            assert (await alice.create_session(request_id="alice-4")).body["cookie"] is None
        finally:
            await alice.aclose()
            await bob.aclose()


async def test_a_chunked_answer_and_a_connection_close_answer_are_read_whole() -> None:
    async def chunked(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        for part in (b'{"session_id": "', b"x" * 5000, b'", "n": 1}'):
            await response.write(part)
            await asyncio.sleep(0.01)
        await response.write_eof()
        return response

    async def closing(request: web.Request) -> web.Response:
        response = web.json_response({"peer": request.transport.get_extra_info("peername")[1]
                                      if request.transport else None})
        response.force_close()
        return response

    async with _serve(Server(), chunked) as server:
        user = LeanTransport(server.url, timeout=5)
        reply = await user.recommend({"query": "q"}, request_id="r")
        assert reply.body == {"session_id": "x" * 5000, "n": 1}
        await user.aclose()
    async with _serve(Server(), closing) as server:
        user = LeanTransport(server.url, timeout=5)
        peers = [(await user.create_session(request_id=f"r{i}")).body["peer"] for i in range(3)]
        assert len(set(peers)) == 3          # each answer said Connection: close: a new connection each time
        assert not user._idle                # noqa: SLF001 -- nothing closed is kept for reuse
        await user.aclose()


async def test_a_double_submit_opens_a_second_connection_of_the_users_own(server: Server) -> None:
    user = LeanTransport(server.url, timeout=5)
    try:
        both = await asyncio.gather(user._send("POST", "/slow", request_id="a"),
                                    user._send("POST", "/slow", request_id="b"))
        assert [r.body["rid"] for r in both] == ["a", "b"]
        await user.create_session(request_id="c")
    finally:
        await user.aclose()
    peers = [r["peer"] for r in server.received]
    assert len(set(peers[:2])) == 2 and peers[2] in peers[:2]     # then one of the two is reused


async def test_no_answer_in_time_is_a_timeout_and_the_connection_is_not_reused(server: Server) -> None:
    user = LeanTransport(server.url, timeout=0.05)
    try:
        with pytest.raises(TransportTimeout, match="no answer within 0.05s"):
            await user._send("GET", "/slow", request_id="late")
        assert not user._idle               # noqa: SLF001 -- its answer may still come: never reused
        user._timeout = 5
        assert (await user.create_session(request_id="next")).status == 201
    finally:
        await user.aclose()
    assert server.received[0]["peer"] != server.received[1]["peer"]


async def test_refused_broken_and_garbled_connections_are_transport_errors() -> None:
    refused = LeanTransport("http://127.0.0.1:9", timeout=2)
    with pytest.raises(TransportError) as caught:
        await refused.recommend({"query": "x"}, request_id="r")
    assert not isinstance(caught.value, TransportTimeout) and "cannot connect" in str(caught.value)

    async def answer_with(payload: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(payload)
        await writer.drain()
        writer.close()

    for payload, message in ((b"", "connection lost before the answer"),
                             (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{}", "connection lost before the answer"),
                             (b"SMTP ready\r\n\r\n", "not an HTTP answer")):
        raw = await asyncio.start_server(lambda r, w, p=payload: answer_with(p, r, w), "127.0.0.1", 0)
        port = raw.sockets[0].getsockname()[1]
        user = LeanTransport(f"http://127.0.0.1:{port}", timeout=2)
        try:
            with pytest.raises(TransportError, match=message) as caught:
                await user.create_session(request_id="r")
            assert not isinstance(caught.value, TransportTimeout)
        finally:
            await user.aclose()
            raw.close()


async def test_the_nemesis_cuts_a_request_off_once_it_is_sent_whole(server: Server) -> None:
    faults = Always(RequestFault("abort"))
    user = LeanTransport(server.url, timeout=5, user=3, faults=faults)
    try:
        with pytest.raises(TransportAborted, match="cut off by the harness after it was sent"):
            await user._send("POST", "/slow", request_id="cut-1", body={"query": "More tracks"})
        with pytest.raises(TransportAborted):
            await user._send("GET", "/slow", request_id="cut-2")
        await asyncio.sleep(0.1)
    finally:
        await user.aclose()
    assert [(r["rid"], r["body"]) for r in server.received] == [("cut-1", b'{"query":"More tracks"}'),
                                                               ("cut-2", b"")]   # both whole: may have taken effect
    assert faults.asked == [(3, 1), (3, 2)]


async def test_the_nemesis_timeout_gives_a_request_its_short_timeout(server: Server) -> None:
    user = LeanTransport(server.url, timeout=5, faults=Always(RequestFault("timeout", timeout=0.05)))
    plain = LeanTransport(server.url, timeout=5, faults=Always(None))
    try:
        with pytest.raises(TransportTimeout, match="no answer within 0.05s"):
            await user._send("POST", "/slow", request_id="hurry")
        assert (await plain.create_session(request_id="plain")).status == 201
    finally:
        await user.aclose()
        await plain.aclose()


async def test_the_runner_uses_it_where_it_can_speak_and_a_full_client_elsewhere() -> None:
    assert _network_client(RunConfig(target="http://127.0.0.1:9")) == "lean"
    assert _network_client(RunConfig()) == "lean"                                   # the embedded server
    assert _network_client(RunConfig(target="https://example.test")) == "aiohttp"  # TLS
    assert _network_client(RunConfig(target="http://127.0.0.1:9", client="aiohttp")) == "aiohttp"
    from loadtest.profiles import load_profile

    original = load_profile("beatdebate-original")
    assert _network_client(RunConfig(target="http://127.0.0.1:9", profile=original)) == "aiohttp"
    with pytest.raises(ValueError, match="client must be one of"):
        RunConfig(target="http://127.0.0.1:9", client="curl")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="plain http:// only"):
        lean_factory("https://example.test", timeout=1)


@pytest.mark.slow
async def test_a_run_through_it_passes_a_clean_server_and_fails_a_shared_session() -> None:
    clean = await run_async(RunConfig(users=10, duration=2, think_time=0, ramp_up=0.2, seed=7))
    assert clean.settings["transport"] == "lean" and clean.harness_error is None
    assert clean.requests > 100 and clean.verdict.valid is True and not clean.errors
    broken = await run_async(RunConfig(users=10, duration=2, think_time=0, ramp_up=0.2, seed=7,
                                       defect="shared-session"))
    assert broken.settings["transport"] == "lean" and broken.verdict.valid is False
    assert "foreign-request-id" in broken.verdict.anomalies


def test_the_open_files_limit_is_raised_for_the_users_or_refused_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    import resource

    from loadtest.errors import HarnessFailure
    from loadtest.transport import DESCRIPTORS_SPARE, SOCKETS_WANTED, ensure_file_descriptors

    limits = {"soft": 1024, "hard": 8192}
    monkeypatch.setattr(resource, "getrlimit", lambda which: (limits["soft"], limits["hard"]))
    monkeypatch.setattr(resource, "setrlimit", lambda which, pair: limits.update(soft=pair[0], hard=pair[1]))
    ensure_file_descriptors(200)
    assert limits == {"soft": 1024, "hard": 8192}                        # enough already: untouched
    ensure_file_descriptors(1000)
    assert limits == {"soft": 1000 * SOCKETS_WANTED + DESCRIPTORS_SPARE, "hard": 8192}   # raised to what they want
    ensure_file_descriptors(5000)
    assert limits == {"soft": 8192, "hard": 8192}                        # as far as allowed: one socket each fits
    limits["soft"] = 1024
    with pytest.raises(HarnessFailure, match=r"10,000 users need at least .* at most 8,192 \(hard limit\)"):
        ensure_file_descriptors(10_000)
    assert limits["soft"] == 1024                                        # a refusal changes nothing


async def test_a_run_freezes_its_history_out_of_the_collectors_scans_and_unfreezes_after(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import gc

    import loadtest.runner as runner
    from tests.loadtest.fakes import FakeServer

    monkeypatch.setattr(runner, "_FREEZE_EVERY", 50)
    seen: list[int] = []
    real_freeze = gc.freeze
    monkeypatch.setattr(gc, "freeze", lambda: (real_freeze(), seen.append(gc.get_freeze_count())))
    thresholds = gc.get_threshold()
    result = await run_async(RunConfig(http_transport=FakeServer().transport, users=4, iterations=20,
                                       think_time=0, ramp_up=0, seed=3))
    assert result.requests >= 100 and result.verdict.valid is True
    assert len(seen) == result.requests // 50 and seen[0] > 0    # frozen as the history grew
    assert gc.get_freeze_count() == 0 and gc.get_threshold() == thresholds   # all given back at the end


def test_asking_for_it_where_it_cannot_speak_is_refused_before_anything_runs() -> None:
    from loadtest.profiles import load_profile

    with pytest.raises(ValueError, match="plain http:// only"):
        RunConfig(target="https://example.test", client="lean")
    with pytest.raises(ValueError, match="plain http:// only"):
        RunConfig(target="http://127.0.0.1:9", client="lean", profile=load_profile("beatdebate-original"))
    assert _network_client(RunConfig(target="http://127.0.0.1:9", client="lean")) == "lean"


def test_the_cli_refuses_an_unknown_client_as_a_usage_error() -> None:
    from typer.testing import CliRunner

    from cli import app

    result = CliRunner().invoke(app, ["simulate", "--target", "http://127.0.0.1:9", "--client", "curl"])
    assert result.exit_code == 2
    assert "client must be one of auto, lean, aiohttp, httpx, not 'curl'" in result.output
    refused = CliRunner().invoke(app, ["simulate", "--target", "https://example.test", "--client", "lean"])
    assert refused.exit_code == 2 and "plain http:// only" in refused.output


async def test_a_session_id_with_odd_characters_cannot_write_into_the_request() -> None:
    heads: list[bytes] = []

    async def record(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                heads.append(await reader.readuntil(b"\r\n\r\n"))
            except asyncio.IncompleteReadError:
                return
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
            await writer.drain()

    raw = await asyncio.start_server(record, "127.0.0.1", 0)
    user = LeanTransport(f"http://127.0.0.1:{raw.sockets[0].getsockname()[1]}", timeout=5)
    try:
        assert (await user.read_session("a b\r\nX-Injected: 1", request_id="odd")).body == {}
        assert (await user.read_session("Zürich", request_id="utf8")).body == {}
        assert (await user.read_session("s-_.~9Az", request_id="plain")).body == {}
    finally:
        await user.aclose()
        raw.close()
    lines = [head.split(b"\r\n") for head in heads]
    assert [line[0] for line in lines] == [b"GET /sessions/a%20b%0D%0AX-Injected:%201 HTTP/1.1",
                                           b"GET /sessions/Z%C3%BCrich HTTP/1.1", b"GET /sessions/s-_.~9Az HTTP/1.1"]
    assert not any(line.startswith(b"X-Injected") for head in lines for line in head)
