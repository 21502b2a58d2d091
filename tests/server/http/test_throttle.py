"""Per-client rate limits on new sessions and on turns: ``429`` with ``Retry-After``
(issue 16, finding 5). Rates are tiny here, so that no token comes back during a test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from server_client import ServeApp, ask

from beatdebate_server.http.app import create_app
from beatdebate_server.settings import Settings

pytestmark = pytest.mark.anyio

SLOW = 0.001  # tokens per second: none comes back while a test runs
THROUGH_THE_ROUTE = {"content-type": "application/vnd.beatdebate+json"}


def _is_429(response: httpx.Response) -> bool:
    if response.status_code != 429:
        return False
    assert int(response.headers["retry-after"]) >= 1
    assert "x-request-id" in response.headers
    assert "rate limit" in response.json()["detail"]
    return True


@asynccontextmanager
async def _clients(app: Any, *addresses: str) -> AsyncIterator[list[httpx.AsyncClient]]:
    """One client per peer address, all on one app (its lifespan entered)."""
    async with app.router.lifespan_context(app):
        clients = [httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(a, 4000)),
                                     base_url="http://test") for a in addresses]
        try:
            yield clients
        finally:
            for client in clients:
                await client.aclose()


async def test_new_sessions_past_the_burst_are_429_with_retry_after(serve_app: ServeApp) -> None:
    settings = Settings(session_rate=SLOW, session_burst=2)
    async with serve_app(settings) as client:
        answers = [await client.post("/sessions") for _ in range(3)]
        health = (await client.get("/health")).json()
    assert [a.status_code for a in answers[:2]] == [201, 201]
    assert _is_429(answers[2])
    assert health["sessions"] == 2


@pytest.mark.parametrize("headers", [{}, THROUGH_THE_ROUTE], ids=["fast-path", "route"])
async def test_turns_past_the_burst_are_429_and_record_nothing(
        serve_app: ServeApp, headers: dict[str, str]) -> None:
    settings = Settings(turn_rate=SLOW, turn_burst=3)
    async with serve_app(settings) as client:
        first = await ask(client, "Songs by Mk.gee")
        sid = first["session_id"]
        body = httpx.Request("POST", "/", json={"query": "More tracks",
                                                "session_id": sid}).content
        answers = [await client.post("/recommendations", content=body, headers=headers)
                   for _ in range(3)]
        history = (await client.get(f"/sessions/{sid}")).json()
    assert [a.status_code for a in answers[:2]] == [200, 200]
    assert _is_429(answers[2])
    assert history["turn_count"] == 3


async def test_a_turn_that_starts_a_session_spends_a_new_session_token(
        serve_app: ServeApp) -> None:
    # Otherwise POST /recommendations without an id (or with a made-up one) would be a
    # way around the limit on new sessions.
    settings = Settings(session_rate=SLOW, session_burst=1)
    async with serve_app(settings) as client:
        first = await ask(client, "Songs by Mk.gee")
        fresh = await client.post("/recommendations", json={"query": "Electronic music"})
        made_up = await client.post("/recommendations", json={"query": "Electronic music",
                                                               "session_id": "M" * 43})
        more = await ask(client, "More tracks", first["session_id"])
        health = (await client.get("/health")).json()
    assert _is_429(fresh) and _is_429(made_up)
    assert more["turn"] == 2
    assert health["sessions"] == 1


async def test_each_client_has_its_own_buckets(shared_recommender: Any) -> None:
    app = create_app(Settings(session_rate=SLOW, session_burst=1),
                     recommender=shared_recommender)
    async with _clients(app, "10.0.0.1", "10.0.0.2") as (one, two):
        assert (await one.post("/sessions")).status_code == 201
        assert _is_429(await one.post("/sessions"))
        assert (await two.post("/sessions")).status_code == 201


async def test_behind_a_trusted_proxy_the_client_is_its_forwarded_address(
        shared_recommender: Any) -> None:
    app = create_app(Settings(session_rate=SLOW, session_burst=1,
                              client_header="X-Forwarded-For"),
                     recommender=shared_recommender)
    async with _clients(app, "10.0.0.9") as (proxy,):
        # The proxy appends the address it saw: the last one is the one to trust.
        alice = {"X-Forwarded-For": "203.0.113.7"}
        spoofing_bob = {"X-Forwarded-For": "203.0.113.7, 198.51.100.4"}
        assert (await proxy.post("/sessions", headers=alice)).status_code == 201
        assert _is_429(await proxy.post("/sessions", headers=alice))
        assert (await proxy.post("/sessions", headers=spoofing_bob)).status_code == 201
        # Without the header, the client is the peer (here the proxy) itself.
        assert (await proxy.post("/sessions")).status_code == 201
        assert _is_429(await proxy.post("/sessions"))


async def test_no_rate_limit_turns_the_limits_off(serve_app: ServeApp) -> None:
    settings = Settings(rate_limit=False, session_rate=SLOW, session_burst=1,
                        turn_rate=SLOW, turn_burst=1)
    async with serve_app(settings) as client:
        created = [(await client.post("/sessions")).status_code for _ in range(5)]
        turns = [(await client.post("/recommendations", json={"query": "Electronic music"})
                  ).status_code for _ in range(5)]
    assert created == [201] * 5 and turns == [200] * 5
