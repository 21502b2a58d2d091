"""The store defects on both stores: they reach sessions through the ``SessionStore`` seam
alone, so they break the memory store and the Redis store the same way."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from beatdebate_server.defects.lost_update import LostUpdate
from beatdebate_server.defects.sticky_refresh import StickyRefresh
from beatdebate_server.session import Turn
from beatdebate_server.store.base import SessionStore
from beatdebate_server.store.memory import MemoryStore

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def inner(request: pytest.FixtureRequest) -> AsyncIterator[SessionStore]:
    store: SessionStore
    if request.param == "memory":
        store = MemoryStore(ttl_seconds=60, max_sessions=100, history_limit=50)
    else:
        from beatdebate_server.store.redis import RedisStore

        store = RedisStore(request.getfixturevalue("redis_url"), ttl_seconds=60,
                           max_sessions=100, history_limit=50,
                           namespace=f"defects-{request.node.name}")
    await store.start()
    try:
        yield store
    finally:
        await store.close()


def make_turn(n: int, request_id: str | None = None) -> Turn:
    return Turn(turn=n, request_id=request_id or f"req-{n}", query=f"query {n}",
                kind="by_artist", follow_up=None, entities={"artists": (f"Artist {n}",)},
                anchor_turn=None, track_ids=(f"t{n}",), at=0.0)


async def test_lost_update_drops_the_turn_written_second_though_it_was_answered(
        inner: SessionStore) -> None:
    store = LostUpdate(inner)
    sid = (await store.create()).session_id
    await store.append_turn(sid, make_turn(1))
    # Two turns read the session without a lock (nesting shows the lock is no lock) ...
    async with store.turn_lock(sid), store.turn_lock(sid):
        first, second = await store.load(sid), await store.load(sid)
    assert first is not None and second is not None
    assert first.turn_count == second.turn_count == 1
    # ... and both write turn 2: the second one is acknowledged, and lost.
    assert await store.append_turn(sid, make_turn(first.turn_count + 1, "first")) is not None
    assert await store.append_turn(sid, make_turn(second.turn_count + 1, "second")) is not None
    loaded = await inner.load(sid)
    assert loaded is not None
    assert loaded.turn_count == 2
    assert [t.request_id for t in loaded.turns] == ["req-1", "first"]


async def test_lost_update_keeps_one_of_a_burst_and_its_reads_stay_stale(
        inner: SessionStore) -> None:
    store = LostUpdate(inner)
    sid = (await store.create()).session_id
    stale = await store.load(sid)
    assert stale is not None
    await asyncio.gather(*(store.append_turn(sid, make_turn(1, f"burst-{i}")) for i in range(5)))
    assert stale.turn_count == 0 and stale.turns == []  # a copy: the writes did not touch it
    loaded = await inner.load(sid)
    assert loaded is not None
    assert loaded.turn_count == 1 and len(loaded.turns) == 1  # four acknowledged turns lost


async def test_sticky_refresh_gives_the_next_new_session_the_deleted_ones_turns(
        inner: SessionStore) -> None:
    store = StickyRefresh(inner)
    old = (await store.create()).session_id
    for n in (1, 2):
        await store.append_turn(old, make_turn(n, f"old-{n}"))
    assert await store.delete(old) is True
    fresh = await store.create()
    clean = await store.create()

    assert fresh.session_id != old and await inner.load(old) is None
    assert fresh.turn_count == 2
    assert [t.request_id for t in fresh.turns] == ["old-1", "old-2"]
    loaded = await inner.load(fresh.session_id)
    assert loaded is not None and [t.request_id for t in loaded.turns] == ["old-1", "old-2"]
    assert clean.turn_count == 0 and clean.turns == []  # only the next session inherits
