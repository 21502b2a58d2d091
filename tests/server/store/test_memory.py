"""MemoryStore: idle TTL, LRU eviction, history trimming, turn locks; clock injected, no sleeping."""

from __future__ import annotations

import asyncio
import logging

import pytest
from server_fakes import ManualClock

from beatdebate_server.ids import hash_id, is_well_formed_session_id
from beatdebate_server.session import Turn
from beatdebate_server.store.base import StoreStats
from beatdebate_server.store.memory import MemoryStore

pytestmark = pytest.mark.anyio


def _turn(n: int, request_id: str | None = None) -> Turn:
    return Turn(turn=n, request_id=request_id or f"r{n}", query="q", kind="discovery",
                follow_up=None, entities={}, anchor_turn=None, track_ids=(f"t{n}",), at=0.0)


def _store(clock: ManualClock, **kwargs: int) -> MemoryStore:
    options = {"ttl_seconds": 100, "max_sessions": 1000, "history_limit": 50} | kwargs
    return MemoryStore(clock=clock, **options)  # type: ignore[arg-type]


async def test_create_mints_distinct_well_formed_ids() -> None:
    store = _store(ManualClock())
    ids = {(await store.create()).session_id for _ in range(100)}
    assert len(ids) == 100 and all(is_well_formed_session_id(i) for i in ids)
    assert await store.stats() == StoreStats(live=100, created=100, expired=0, evicted=0)


async def test_append_numbers_trims_and_refreshes_idle_time() -> None:
    clock = ManualClock()
    store = _store(clock, history_limit=3)
    session = await store.create()
    for n in range(1, 6):
        clock.advance(10)
        updated = await store.append_turn(session.session_id, _turn(n))
        assert updated is not None and updated.turn_count == n
    loaded = await store.load(session.session_id)
    assert loaded is not None
    assert [t.turn for t in loaded.turns] == [3, 4, 5]
    assert loaded.turn_count == 5
    assert loaded.last_active_at == clock.now
    assert loaded.created_at == clock.now - 50


async def test_a_session_idle_past_its_ttl_is_expired_on_load() -> None:
    clock = ManualClock()
    store = _store(clock)
    session = await store.create()
    clock.advance(99)
    assert await store.load(session.session_id) is not None  # load does not refresh...
    clock.advance(1)
    assert await store.load(session.session_id) is None  # ...so it expires at the TTL
    assert await store.append_turn(session.session_id, _turn(1)) is None
    assert await store.stats() == StoreStats(live=0, created=1, expired=1, evicted=0)


async def test_activity_keeps_a_session_alive() -> None:
    clock = ManualClock()
    store = _store(clock)
    session = await store.create()
    for n in range(1, 5):
        clock.advance(60)
        assert await store.append_turn(session.session_id, _turn(n)) is not None
    assert (await store.stats()).expired == 0


async def test_sweep_removes_only_expired_sessions() -> None:
    clock = ManualClock()
    store = _store(clock)
    old = [await store.create() for _ in range(3)]
    clock.advance(50)
    young = await store.create()
    await store.append_turn(old[0].session_id, _turn(1))  # active again: not expired
    clock.advance(60)
    assert store.sweep() == 2
    assert await store.load(old[0].session_id) is not None
    assert await store.load(young.session_id) is not None
    assert await store.stats() == StoreStats(live=2, created=4, expired=2, evicted=0)


async def test_the_sweeper_task_runs_and_stops() -> None:
    clock = ManualClock()
    store = MemoryStore(ttl_seconds=10, max_sessions=10, history_limit=5, clock=clock,
                        sweep_interval=0.001)
    await store.start()
    try:
        await store.create()
        clock.advance(11)
        for _ in range(200):  # yield to the sweeper; no wall-clock assertion
            if (await store.stats()).live == 0:
                break
            await asyncio.sleep(0.001)
        assert await store.stats() == StoreStats(live=0, created=1, expired=1, evicted=0)
    finally:
        await store.close()
    assert store._sweeper is None


async def test_past_the_cap_the_least_recently_active_session_is_evicted() -> None:
    clock = ManualClock()
    store = _store(clock, max_sessions=3)
    a, b, c = [await store.create() for _ in range(3)]
    clock.advance(1)
    await store.append_turn(a.session_id, _turn(1))  # a is now the most recent
    d = await store.create()
    assert await store.load(b.session_id) is None  # b was least recently active
    for kept in (a, c, d):
        assert await store.load(kept.session_id) is not None
    assert await store.stats() == StoreStats(live=3, created=4, expired=0, evicted=1)


async def test_a_flood_of_creations_leaves_a_session_in_use_alone() -> None:
    # Issue 16, as reported: --max-sessions 30, one user's session in use, 35 creations.
    clock = ManualClock()
    store = _store(clock, max_sessions=30)
    user = await store.create()
    clock.advance(1)
    await store.append_turn(user.session_id, _turn(1))
    for _ in range(35):
        clock.advance(0.01)
        await store.create()
    assert await store.load(user.session_id) is not None
    assert await store.stats() == StoreStats(live=30, created=36, expired=0, evicted=6)


async def test_delete() -> None:
    store = _store(ManualClock())
    session = await store.create()
    await store.append_turn(session.session_id, _turn(1))
    loaded = await store.load(session.session_id)
    assert loaded is not None and loaded.turn_count == 1 and len(loaded.turns) == 1
    assert await store.delete(session.session_id) is True
    assert await store.delete(session.session_id) is False
    assert await store.load(session.session_id) is None


async def test_turn_lock_serialises_and_is_dropped_when_unused() -> None:
    store = _store(ManualClock())
    session = await store.create()
    order: list[str] = []

    async def turn(name: str) -> None:
        async with store.turn_lock(session.session_id):
            order.append(f"{name}-in")
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            order.append(f"{name}-out")

    await asyncio.gather(turn("a"), turn("b"), turn("c"))
    assert order == ["a-in", "a-out", "b-in", "b-out", "c-in", "c-out"]
    assert store._locks == {}  # no lock kept for an idle session


async def test_a_cancelled_waiter_leaves_no_lock_behind() -> None:
    store = _store(ManualClock())
    held = asyncio.Event()
    release = asyncio.Event()

    async def holder() -> None:
        async with store.turn_lock("s" * 20):
            held.set()
            await release.wait()

    async def waiter() -> None:
        async with store.turn_lock("s" * 20):
            pass

    holding = asyncio.create_task(holder())
    await held.wait()
    waiting = asyncio.create_task(waiter())
    await asyncio.sleep(0)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    release.set()
    await holding
    assert store._locks == {}


async def test_store_logs_hash_ids_never_raw_ids(caplog: pytest.LogCaptureFixture) -> None:
    clock = ManualClock()
    store = _store(clock, max_sessions=1)
    with caplog.at_level(logging.INFO, logger="beatdebate.store"):
        first = await store.create()
        second = await store.create()  # evicts the first
        clock.advance(1000)
        await store.load(second.session_id)  # expires the second
    messages = [r.getMessage() for r in caplog.records]
    assert messages == ["session created", "session created", "session evicted",
                        "session expired"]
    assert [getattr(r, "session") for r in caplog.records] == [
        hash_id(first.session_id), hash_id(second.session_id), hash_id(first.session_id),
        hash_id(second.session_id)]
    assert first.session_id not in caplog.text and second.session_id not in caplog.text
