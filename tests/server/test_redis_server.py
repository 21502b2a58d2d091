"""The server with the Redis store, end to end: in-process apps, ``serve`` processes and
workers sharing one Redis, Redis faults under traffic, and the gate across processes.

Faults that freeze or stop a Redis run on a ``PrivateRedis`` of the test's own; the
shared server is only ever read and written. The ``serve`` processes use a private one
too: the shared database is flushed by every other test that runs meanwhile.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from server_client import ServeApp, ask
from private_redis import PrivateRedis

from beatdebate_server.settings import Settings
from beatdebate_server.store.redis import RedisStore

pytestmark = [pytest.mark.anyio, pytest.mark.redis]


def redis_app_kwargs(url: str, *, namespace: str, **options: Any) -> dict[str, Any]:
    store = RedisStore(url, ttl_seconds=600, max_sessions=10_000, history_limit=50,
                       namespace=namespace, **options)
    return {"settings": Settings(store=url), "store": store}


async def history(client: httpx.AsyncClient, session_id: str) -> dict[str, Any]:
    response = await client.get(f"/sessions/{session_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def follow_up_tracks(turns: Sequence[dict[str, Any]]) -> list[str]:
    return [track for turn in turns if turn["turn"] > 1 for track in turn["track_ids"]]


# -- in-process ------------------------------------------------------------------------------


async def test_sessions_health_and_history_with_the_redis_store(
        serve_app: ServeApp, redis_url: str) -> None:
    async with serve_app(**redis_app_kwargs(redis_url, namespace="app")) as client:
        health = await client.get("/health")
        assert health.json() == {"status": "ok", "store": "redis", "sessions": 0}
        first = await ask(client, "Songs by Mk.gee", request_id="r-1")
        more = await ask(client, "More tracks", first["session_id"], request_id="r-2")
        assert more["turn"] == 2 and more["context"]["anchor"]["turn"] == 1
        recorded = await history(client, first["session_id"])
        assert recorded["turn_count"] == 2
        assert [(t["turn"], t["request_id"]) for t in recorded["turns"]] == [(1, "r-1"),
                                                                              (2, "r-2")]
        assert (await client.get("/health")).json()["sessions"] == 1
        assert (await client.delete(f"/sessions/{first['session_id']}")).status_code == 204
        assert (await client.get(f"/sessions/{first['session_id']}")).status_code == 404
        assert (await client.get("/health")).json()["sessions"] == 0


async def test_a_frozen_redis_answers_503_then_the_app_recovers_by_itself(
        serve_app: ServeApp, private_redis: PrivateRedis,
        caplog: pytest.LogCaptureFixture) -> None:
    kwargs = redis_app_kwargs(private_redis.url, namespace="outage", socket_timeout=0.3)
    async with serve_app(**kwargs) as client:
        first = await ask(client, "Songs by Mk.gee", request_id="before")
        sid = first["session_id"]
        private_redis.freeze()
        try:
            turn = await client.post("/recommendations", json={"query": "More tracks",
                                                                "session_id": sid},
                                     headers={"X-Request-ID": "during"})
            fresh = await client.post("/recommendations", json={"query": "Songs by Burial"})
            health = await client.get("/health")
            read = await client.get(f"/sessions/{sid}")
        finally:
            private_redis.thaw()
        for response in (turn, fresh, read):
            assert response.status_code == 503
            assert "session store is unavailable" in response.json()["detail"]
        assert health.status_code == 503
        assert health.json()["status"] == "unavailable"
        # Where Redis is goes to the log, never into a public body (issue 16).
        assert health.json()["detail"] == "session store unavailable"
        assert "Redis at redis://127.0.0.1" in caplog.text
        # Back without a restart; the refused turn was not recorded.
        after = await ask(client, "More tracks", sid, request_id="after")
        assert after["turn"] == 2
        recorded = await history(client, sid)
        assert [t["request_id"] for t in recorded["turns"]] == ["before", "after"]
        assert (await client.get("/health")).status_code == 200


async def test_a_stopped_redis_answers_503_and_a_restarted_one_serves_again(
        serve_app: ServeApp, private_redis: PrivateRedis) -> None:
    async with serve_app(**redis_app_kwargs(private_redis.url, namespace="stop")) as client:
        first = await ask(client, "Songs by Mk.gee")
        private_redis.stop()
        refused = await client.post("/recommendations", json={
            "query": "More tracks", "session_id": first["session_id"]})
        assert refused.status_code == 503
        assert "session store is unavailable" in refused.json()["detail"]
        assert (await client.get("/health")).status_code == 503
        private_redis.start()  # an empty Redis: the sessions are gone, the service is back
        again = await ask(client, "More tracks", first["session_id"])
        assert again["session_created"] is True and again["session_id"] != first["session_id"]
        assert (await client.get("/health")).json() == {"status": "ok", "store": "redis",
                                                        "sessions": 1}


async def test_killed_redis_connections_cost_no_request(
        serve_app: ServeApp, private_redis: PrivateRedis) -> None:
    async with serve_app(**redis_app_kwargs(private_redis.url, namespace="kill")) as client:
        first = await ask(client, "Songs by Mk.gee")
        admin = private_redis.client()
        admin.execute_command("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes")
        admin.close()
        more = await ask(client, "More tracks", first["session_id"])  # a 200, not a 503
        assert more["turn"] == 2


async def test_two_apps_sharing_redis_serialise_one_session(
        serve_app: ServeApp, redis_url: str) -> None:
    async with serve_app(**redis_app_kwargs(redis_url, namespace="two")) as one, \
            serve_app(**redis_app_kwargs(redis_url, namespace="two")) as two:
        apps = itertools.cycle([one, two])
        first = await ask(next(apps), "Songs by Mk.gee", request_id="t1",
                          max_recommendations=4)
        sid = first["session_id"]
        for n in range(2, 5):  # alternating instances, one after the other
            answer = await ask(next(apps), "More tracks", sid, request_id=f"t{n}",
                               max_recommendations=2)
            assert answer["turn"] == n and answer["context"]["anchor"]["turn"] == 1
        # A burst of one session's requests, split over both instances at once.
        burst = await asyncio.gather(*(ask(one if i % 2 else two, "More tracks", sid,
                                           request_id=f"b{i}", max_recommendations=2)
                                       for i in range(8)))
        assert sorted(b["turn"] for b in burst) == list(range(5, 13))
        seen_by_one, seen_by_two = await history(one, sid), await history(two, sid)
    assert seen_by_one == seen_by_two
    turns = seen_by_one["turns"]
    assert [t["turn"] for t in turns] == list(range(1, 13))
    assert sorted(t["request_id"] for t in turns) == sorted(
        [f"t{n}" for n in range(1, 5)] + [f"b{i}" for i in range(8)])
    tracks = follow_up_tracks(turns)
    assert len(tracks) == len(set(tracks)) == 22  # each saw the last: no page repeats a track


# -- serve processes ---------------------------------------------------------------------------


def serving_pids(port: int) -> set[int]:
    """The processes on the server side of established connections to ``port``."""
    if shutil.which("ss") is None:
        pytest.fail("this test needs ss (iproute2) to see which worker holds a connection")
    out = subprocess.run(["ss", "-tnpH", "state", "established", f"( sport = :{port} )"],
                         capture_output=True, text=True, check=True).stdout
    return {int(pid) for pid in re.findall(r"pid=(\d+)", out)}


async def test_serve_exits_with_one_clear_line_when_redis_is_unreachable() -> None:
    result = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "beatdebate_server", "--store",
                         "redis://:hunter2@127.0.0.1:1/0", "--port", "0"],
        capture_output=True, text=True, timeout=60)
    output = (result.stdout + result.stderr).strip()
    assert result.returncode != 0
    assert "Traceback" not in output
    assert re.search(r"(?m)^error: .*127\.0\.0\.1:1\b", output), output
    assert "hunter2" not in output          # the URL's password is never printed


async def test_two_workers_serve_one_session_across_processes(
        private_redis: PrivateRedis) -> None:
    from loadtest.embedded import embedded_server

    with embedded_server(workers=2, store=private_redis.url) as base_url:
        port = int(base_url.rsplit(":", 1)[1])
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
            health = await client.get("/health")
            assert health.status_code == 200 and health.json()["store"] == "redis"
            first = await ask(client, "Songs by Mk.gee", max_recommendations=5)
        sid = first["session_id"]
        pids: set[int] = set()
        answers: list[dict[str, Any]] = []
        for round_ in range(10):
            # A burst of one session's requests on 16 fresh connections at once; the
            # kernel hands the connections to both workers (which, it decides: so repeat
            # until both have served some).
            limits = httpx.Limits(max_connections=16, max_keepalive_connections=16)
            async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as burst:
                answers += await asyncio.gather(*(
                    ask(burst, "More tracks", sid, request_id=f"r{round_}-{i}",
                        max_recommendations=1) for i in range(16)))
                pids |= serving_pids(port)
            if len(pids) >= 2 and round_ >= 1:
                break
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
            recorded = await history(client, sid)
    assert len(pids) >= 2, f"every request went to one worker: {pids}"
    last = 1 + len(answers)
    assert sorted(a["turn"] for a in answers) == list(range(2, last + 1))
    assert recorded["turn_count"] == last
    assert [t["turn"] for t in recorded["turns"]] == list(range(max(1, last - 49), last + 1))


# -- faults under traffic ----------------------------------------------------------------------


async def test_a_redis_outage_under_traffic_loses_no_acknowledged_turn(
        private_redis: PrivateRedis) -> None:
    from loadtest.embedded import embedded_server

    acknowledged: dict[str, list[str]] = {}
    refused: list[str] = []
    phase = {"name": "before"}
    ok_by_phase: dict[str, int] = {"before": 0, "during": 0, "after": 0}
    stop = asyncio.Event()

    async def conversation(client: httpx.AsyncClient, user: int) -> None:
        sid: str | None = None
        for n in itertools.count():
            if stop.is_set():
                return
            request_id = f"u{user}-{n}"
            body: dict[str, Any] = {"query": "More tracks" if sid else "Songs by Mk.gee",
                                    "max_recommendations": 1}
            if sid is not None:
                body["session_id"] = sid
            response = await client.post("/recommendations", json=body,
                                         headers={"X-Request-ID": request_id})
            if response.status_code == 503:
                refused.append(request_id)
                await asyncio.sleep(0.05)
                continue
            assert response.status_code == 200, response.text
            answer = response.json()
            if answer["session_created"]:
                sid = answer["session_id"]
            acknowledged.setdefault(answer["session_id"], []).append(request_id)
            ok_by_phase[phase["name"]] += 1

    with embedded_server(store=private_redis.url) as base_url:
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
            users = [asyncio.create_task(conversation(client, u)) for u in range(8)]
            await asyncio.sleep(1.0)
            phase["name"] = "during"
            private_redis.freeze()
            await asyncio.sleep(2.0)
            private_redis.thaw()
            phase["name"] = "after"
            await asyncio.sleep(2.0)
            stop.set()
            await asyncio.gather(*users)
            histories = {sid: await history(client, sid) for sid in acknowledged}
    assert refused, "the outage refused nothing"
    assert ok_by_phase["before"] > 0 and ok_by_phase["after"] > 0
    for sid, request_ids in acknowledged.items():
        recorded = histories[sid]
        # Every acknowledged turn, in order, and nothing else (no 503'd request either).
        assert recorded["turn_count"] == len(request_ids)
        assert [t["request_id"] for t in recorded["turns"]] == request_ids[-50:]
        assert [t["turn"] for t in recorded["turns"]] == list(
            range(max(1, len(request_ids) - 49), len(request_ids) + 1))


# -- the gate across processes ---------------------------------------------------------------


@asynccontextmanager
async def alternating_proxy(targets: Sequence[str]) -> AsyncIterator[str]:
    """An HTTP front that sends each request to the next of ``targets`` in turn."""
    from aiohttp import ClientSession, web

    turn = itertools.cycle(targets)
    forwarded = ("content-type", "x-request-id", "accept")

    async def forward(request: web.Request) -> web.Response:
        async with session.request(request.method, next(turn) + request.path_qs,
                                   data=await request.read(),
                                   headers={k: v for k, v in request.headers.items()
                                            if k.lower() in forwarded}) as answer:
            body = await answer.read()
            headers = {k: v for k, v in answer.headers.items() if k.lower() in forwarded}
            return web.Response(status=answer.status, body=body, headers=headers)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", forward)
    runner = web.AppRunner(app, access_log=None)
    async with ClientSession() as session:
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            await runner.cleanup()


def gate_config(target: str | None = None, **embedded: Any) -> Any:
    from loadtest.runner import RunConfig

    return RunConfig(target=target, users=20, ramp_up=0.5, think_time=0.05, duration=4.0,
                     seed=20261125, **embedded)


@pytest.mark.slow
async def test_the_gate_passes_against_two_workers_sharing_redis(
        private_redis: PrivateRedis) -> None:
    from loadtest.runner import run_async

    result = await run_async(gate_config(store=private_redis.url, server_workers=2))
    assert result.harness_error is None
    assert result.verdict.valid is True, result.verdict.anomalies
    assert len(result.ops) > 100


@pytest.mark.slow
async def test_the_gate_passes_against_two_processes_sharing_redis_alternately(
        private_redis: PrivateRedis) -> None:
    from loadtest.embedded import embedded_server
    from loadtest.runner import run_async

    url = private_redis.url
    with embedded_server(store=url) as one, embedded_server(store=url) as two:
        async with alternating_proxy([one, two]) as front:
            result = await run_async(gate_config(front))
    assert result.harness_error is None
    assert result.verdict.valid is True, result.verdict.anomalies
    assert len(result.ops) > 100


@pytest.mark.slow
async def test_the_gate_fails_two_memory_processes_sharing_traffic() -> None:
    # Why ``serve --workers 2`` is refused with the memory store: each process holds its
    # own sessions, so a conversation's next request lands where it is unknown.
    from loadtest.embedded import embedded_server
    from loadtest.runner import run_async

    with embedded_server() as one, embedded_server() as two:
        async with alternating_proxy([one, two]) as front:
            result = await run_async(gate_config(front))
    assert result.harness_error is None
    assert result.verdict.valid is False
    found = [a for anomalies in result.verdict.anomalies.values() for a in anomalies]
    assert found and {a.cls for a in found} == {"loss"}  # context loss, with witnesses
