"""One contract for every ``SessionStore``: the memory store and the Redis store run the
same tests, so the two cannot drift apart.

The clock is injected. The memory store reads idle time from it alone; Redis forgets a
session by key expiry in real time, so ``Env.advance`` moves the clock *and*, for Redis,
sleeps as long: the TTL tests use a TTL of one second.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass

import pytest

from beatdebate_server.session import Session, Turn, turn_weight
from beatdebate_server.store.base import SessionStore, StoreStats
from beatdebate_server.store.memory import MemoryStore
from beatdebate_server.store.redis import RedisStore

pytestmark = pytest.mark.anyio


class ManualClock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@dataclass
class Env:
    kind: str
    clock: ManualClock
    open: Callable[..., AbstractAsyncContextManager[SessionStore]]

    async def advance(self, seconds: float) -> None:
        self.clock.now += seconds
        if self.kind == "redis":
            await asyncio.sleep(seconds)


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def env(request: pytest.FixtureRequest) -> Env:
    kind: str = request.param
    clock = ManualClock()
    url = request.getfixturevalue("redis_url") if kind == "redis" else ""

    @asynccontextmanager
    async def open_store(*, ttl: float = 60.0, max_sessions: int = 1000,
                         history_limit: int = 50,
                         history_bytes: int = 1 << 20) -> AsyncIterator[SessionStore]:
        store: SessionStore
        if kind == "memory":
            store = MemoryStore(ttl_seconds=ttl, max_sessions=max_sessions,
                                history_limit=history_limit, history_bytes=history_bytes,
                                clock=clock)
        else:
            store = RedisStore(url, ttl_seconds=ttl, max_sessions=max_sessions,
                               history_limit=history_limit, history_bytes=history_bytes,
                               clock=clock, namespace=f"contract-{request.node.name}")
        await store.start()
        try:
            yield store
        finally:
            await store.close()

    return Env(kind, clock, open_store)


def make_turn(n: int, request_id: str | None = None, *, at: float = 0.0,
              query: str | None = None) -> Turn:
    return Turn(turn=n, request_id=request_id or f"req-{n}",
                query=query or f"Songs by Artist {n}",
                kind="by_artist", follow_up=None, entities={"artists": (f"Artist {n}",)},
                anchor_turn=None if n == 1 else 1, track_ids=(f"t{n}a", f"t{n}b"), at=at)


async def test_create_then_load_gives_an_empty_session(env: Env) -> None:
    async with env.open() as store:
        created = await store.create()
        loaded = await store.load(created.session_id)
    assert len(created.session_id) >= 43  # 256 random bits, url-safe
    assert created.created_at == created.last_active_at == env.clock.now
    assert loaded == created
    assert loaded is not None and loaded.turns == [] and loaded.turn_count == 0


async def test_ids_are_fresh_and_unknown_ids_load_nothing(env: Env) -> None:
    async with env.open() as store:
        ids = {(await store.create()).session_id for _ in range(20)}
        assert len(ids) == 20
        assert await store.load("made-up-by-a-client-0000") is None


async def test_append_records_turns_in_order_and_refreshes_activity(env: Env) -> None:
    async with env.open() as store:
        session = await store.create()
        await env.advance(0.001)
        first = await store.append_turn(session.session_id, make_turn(1, at=env.clock.now))
        # Checked at once: a store may return its live session (read-only to the caller),
        # which the next append changes.
        assert first is not None and first.turn_count == 1
        assert first.turns == [make_turn(1, at=env.clock.now)]
        second = await store.append_turn(session.session_id, make_turn(2, at=env.clock.now))
        loaded = await store.load(session.session_id)
    assert second == loaded
    assert loaded is not None
    assert loaded.turn_count == 2
    assert [t.request_id for t in loaded.turns] == ["req-1", "req-2"]
    assert loaded.turns[1] == make_turn(2, at=env.clock.now)  # every field survives the trip
    assert loaded.created_at == session.created_at
    assert loaded.last_active_at == env.clock.now > session.created_at


async def test_history_keeps_the_last_turns_and_counts_them_all(env: Env) -> None:
    async with env.open(history_limit=3) as store:
        session = await store.create()
        for n in range(1, 6):
            await store.append_turn(session.session_id, make_turn(n))
        loaded = await store.load(session.session_id)
    assert loaded is not None
    assert loaded.turn_count == 5
    assert [t.turn for t in loaded.turns] == [3, 4, 5]


async def test_append_to_a_missing_session_records_nothing(env: Env) -> None:
    async with env.open() as store:
        assert await store.append_turn("made-up-by-a-client-0000", make_turn(1)) is None
        assert await store.load("made-up-by-a-client-0000") is None
        assert (await store.stats()).live == 0


async def test_delete_forgets_the_session(env: Env) -> None:
    async with env.open() as store:
        session = await store.create()
        other = await store.create()
        await store.append_turn(session.session_id, make_turn(1))
        assert await store.delete(session.session_id) is True
        assert await store.load(session.session_id) is None
        assert await store.delete(session.session_id) is False
        assert await store.append_turn(session.session_id, make_turn(2)) is None
        assert await store.load(other.session_id) is not None
        assert (await store.stats()).live == 1


async def test_idle_sessions_expire_and_writes_refresh_the_idle_time(env: Env) -> None:
    async with env.open(ttl=1.0) as store:
        kept = await store.create()
        idle = await store.create()
        await env.advance(0.6)
        assert await store.append_turn(kept.session_id, make_turn(1)) is not None
        assert await store.load(idle.session_id) is not None  # a read ...
        await env.advance(0.6)
        assert await store.load(idle.session_id) is None  # ... does not refresh idle time
        assert await store.load(kept.session_id) is not None
        await env.advance(1.1)
        assert await store.load(kept.session_id) is None
        assert await store.append_turn(kept.session_id, make_turn(2)) is None
        stats = await store.stats()
    assert stats.live == 0
    assert stats.expired == 2
    assert stats.created == 2


async def _create_then_tick(store: SessionStore, env: Env) -> Session:
    # Activity times are distinct, as a real clock's are: Redis orders by them alone.
    session = await store.create()
    await env.advance(0.01)
    return session


async def test_the_cap_evicts_the_least_recently_active_session(env: Env) -> None:
    async with env.open(max_sessions=3) as store:
        a, b, c = [await _create_then_tick(store, env) for _ in range(3)]
        await store.append_turn(a.session_id, make_turn(1))  # a is now the most recent
        await env.advance(0.01)
        d = await store.create()
        alive = {s.session_id: await store.load(s.session_id) is not None for s in (a, b, c, d)}
        stats = await store.stats()
    assert alive == {a.session_id: True, b.session_id: False, c.session_id: True,
                     d.session_id: True}
    assert stats == StoreStats(live=3, created=4, expired=0, evicted=1)


async def test_a_flood_of_new_sessions_evicts_none_that_took_a_turn(env: Env) -> None:
    # Issue 16: with a cap of 30, 35 creations evicted a live user's session. Sessions
    # that never took a turn go first, oldest first, whatever the cap.
    async with env.open(max_sessions=30) as store:
        users = [await _create_then_tick(store, env) for _ in range(5)]
        idle = [await _create_then_tick(store, env) for _ in range(10)]  # never took a turn
        for user in users:  # their sessions were new once: now they are in use
            assert await store.append_turn(user.session_id, make_turn(1)) is not None
            await env.advance(0.01)
        flood = [await _create_then_tick(store, env) for _ in range(35)]
        users_alive = [await store.load(u.session_id) is not None for u in users]
        idle_alive = [await store.load(s.session_id) is not None for s in idle]
        flood_alive = [await store.load(s.session_id) is not None for s in flood]
        stats = await store.stats()
    assert users_alive == [True] * 5
    assert idle_alive == [False] * 10
    assert flood_alive == [False] * 10 + [True] * 25  # the newest stay
    assert stats == StoreStats(live=30, created=50, expired=0, evicted=20)


async def test_when_every_session_took_a_turn_the_idle_longest_goes(env: Env) -> None:
    async with env.open(max_sessions=3) as store:
        a, b, c = [await _create_then_tick(store, env) for _ in range(3)]
        for session in (b, a, c):  # b is now the idle-longest
            await store.append_turn(session.session_id, make_turn(1))
            await env.advance(0.01)
        d = await store.create()
        alive = {s.session_id: await store.load(s.session_id) is not None for s in (a, b, c, d)}
    assert alive == {a.session_id: True, b.session_id: False, c.session_id: True,
                     d.session_id: True}


async def test_history_is_trimmed_by_bytes_as_well_as_by_turns(env: Env) -> None:
    # Issue 16: 50 turns of 500-character queries were 52-126 KiB per session. The newest
    # turns whose weights (``turn_weight``) fit the budget are kept; the newest always is.
    async with env.open(history_limit=50, history_bytes=6000) as store:
        session = await store.create()
        sid = session.session_id
        turns = [make_turn(n, query=("ü" if n % 2 else "x") * 500) for n in range(1, 11)]
        for turn in turns:  # as the service does: under the session's turn lock
            async with store.turn_lock(sid):
                await store.load(sid)
                stored = await store.append_turn(sid, turn)
            assert stored is not None
            # Read at once: a store may return its live session, which the next turn changes.
            answered = [t.turn for t in stored.turns]
        loaded = await store.load(sid)
        assert loaded is not None
        kept_turns, count = list(loaded.turns), loaded.turn_count
        huge = make_turn(11, query="ü" * 5000)
        async with store.turn_lock(sid):
            await store.load(sid)
            alone = await store.append_turn(sid, huge)
    kept = 0
    while kept < len(turns) and sum(map(turn_weight, turns[-(kept + 1):])) <= 6000:
        kept += 1
    assert 1 < kept < 10
    assert answered == [t.turn for t in turns[-kept:]]
    assert kept_turns == turns[-kept:] and count == 10
    assert sum(map(turn_weight, kept_turns)) <= 6000
    assert alone is not None and alone.turns == [huge] and alone.turn_count == 11


async def test_turn_lock_serialises_concurrent_turns_of_one_session(env: Env) -> None:
    async with env.open() as store:
        session = await store.create()
        sid = session.session_id
        answers: list[int] = []

        async def take_turn(i: int) -> None:
            async with store.turn_lock(sid):
                current = await store.load(sid)
                assert current is not None
                await asyncio.sleep(0.001)  # the recommender's work: others try meanwhile
                stored = await store.append_turn(sid, make_turn(current.turn_count + 1,
                                                                f"req-{i}"))
                assert stored is not None
                answers.append(stored.turn_count)

        await asyncio.gather(*(take_turn(i) for i in range(30)))
        loaded = await store.load(sid)
    assert loaded is not None
    assert sorted(answers) == list(range(1, 31))
    assert [t.turn for t in loaded.turns] == list(range(1, 31))
    assert sorted(t.request_id for t in loaded.turns) == sorted(f"req-{i}" for i in range(30))


async def test_turn_lock_is_per_session_and_released_on_error(env: Env) -> None:
    async with env.open() as store:
        a, b = await store.create(), await store.create()
        async with store.turn_lock(a.session_id):
            # Another session's lock does not wait for this one.
            async with asyncio.timeout(1.0), store.turn_lock(b.session_id):
                assert await store.load(b.session_id) is not None
        with pytest.raises(RuntimeError, match="boom"):
            async with store.turn_lock(a.session_id):
                raise RuntimeError("boom")
        async with asyncio.timeout(1.0), store.turn_lock(a.session_id):
            loaded = await store.load(a.session_id)
        assert loaded is not None and loaded.session_id == a.session_id


async def test_stats_count_what_happened(env: Env) -> None:
    async with env.open(max_sessions=2) as store:
        assert await store.stats() == StoreStats(live=0, created=0, expired=0, evicted=0)
        for _ in range(5):
            await store.create()
            await env.advance(0.001)
        assert await store.stats() == StoreStats(live=2, created=5, expired=0, evicted=3)


async def test_a_store_answers_ping_when_started(env: Env) -> None:
    async with env.open() as store:
        assert await store.ping() is None
        assert store.kind == env.kind
