"""``/health`` and ``/metrics`` when the store is down: no secret, no address, no exception
text in a public body, and ``/metrics`` keeps answering (issue 16)."""

from __future__ import annotations

import pytest
from server_client import ServeApp, ask

from beatdebate_server.session import Session
from beatdebate_server.settings import Settings
from beatdebate_server.store.base import StoreStats, StoreUnavailable
from beatdebate_server.store.memory import MemoryStore

pytestmark = pytest.mark.anyio

# What a Redis store's failure says (to the log): it names where Redis is.
INTERNAL = ("Redis at redis://10.9.8.7:6390/5 is unavailable: ConnectionError: Error 111 "
            "connecting to 10.9.8.7:6390. Connection refused.")


class _DownStore(MemoryStore):
    down = False

    def _check(self) -> None:
        if self.down:
            raise StoreUnavailable(INTERNAL)

    async def ping(self) -> None:
        self._check()

    async def stats(self) -> StoreStats:
        self._check()
        return await super().stats()

    async def create(self) -> Session:
        self._check()
        return await super().create()


def _down_store() -> _DownStore:
    return _DownStore(ttl_seconds=60, max_sessions=100, history_limit=50)


async def test_health_when_the_store_is_down_names_no_address_and_no_exception(
        serve_app: ServeApp) -> None:
    store = _down_store()
    async with serve_app(Settings(), store=store) as client:
        store.down = True
        health = await client.get("/health")
        created = await client.post("/sessions")
        turn = await client.post("/recommendations", json={"query": "Electronic music"})
    assert health.status_code == 503
    assert health.json() == {"status": "unavailable", "store": "memory",
                             "detail": "session store unavailable"}
    for response in (health, created, turn):
        assert response.status_code == 503
        for secret in ("10.9.8.7", "6390", "redis://", "ConnectionError", "refused"):
            assert secret not in response.text, (response.request.url, response.text)


async def test_metrics_answer_while_the_store_is_down(serve_app: ServeApp) -> None:
    store = _down_store()
    async with serve_app(Settings(), store=store) as client:
        await ask(client, "Songs by Mk.gee")
        up = await client.get("/metrics")
        store.down = True
        down = await client.get("/metrics")
    assert up.status_code == 200 and "beatdebate_store_up 1.0" in up.text
    assert down.status_code == 200
    assert "beatdebate_store_up 0.0" in down.text
    # The last counts the store gave stay visible; the request counters too.
    assert "beatdebate_sessions_created_total 1.0" in down.text
    assert 'beatdebate_turns_total{kind="by_artist"} 1.0' in down.text
