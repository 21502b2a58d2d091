"""The Redis store alone: key layout, faults, atomicity, serialisation across processes,
and the redis-py cancellation bug class (CVE-2023-28858).

What every store does is in ``test_store_contract.py``; this holds what only Redis can
get wrong. Faults that stop or freeze a server run on a ``PrivateRedis`` of the test's
own, never on the shared one.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
import pytest
import redis
from private_redis import PrivateRedis
from redis.backoff import NoBackoff
from redis.retry import Retry

from beatdebate_server.service.turn import TURN_ATTEMPTS
from beatdebate_server.session import Turn
from beatdebate_server.store.base import SessionChanged, StoreUnavailable
from beatdebate_server.store.redis import RedisStore

pytestmark = [pytest.mark.anyio, pytest.mark.redis]


@asynccontextmanager
async def opened(url: str, **options: Any) -> AsyncIterator[RedisStore]:
    settings: dict[str, Any] = {"ttl_seconds": 60.0, "max_sessions": 1000, "history_limit": 50}
    store = RedisStore(url, **(settings | options))
    await store.start()
    try:
        yield store
    finally:
        await store.close()


def make_turn(n: int, request_id: str) -> Turn:
    return Turn(turn=n, request_id=request_id, query="More tracks", kind="follow_up",
                follow_up="more_tracks", entities={}, anchor_turn=None, track_ids=("t1",),
                at=1.0)


async def take_turn(store: RedisStore, session_id: str, request_id: str, *,
                    attempts: int = TURN_ATTEMPTS) -> int:
    """What the server does for one turn: lock, load, (work), append, and all again if the
    store says the session changed under an optimistic read; the turn number."""
    for attempt in range(1, attempts + 1):
        try:
            async with store.turn_lock(session_id):
                session = await store.load(session_id)
                assert session is not None
                await asyncio.sleep(0)
                stored = await store.append_turn(session_id, make_turn(session.turn_count + 1,
                                                                       request_id))
                assert stored is not None
                return stored.turn_count
        except SessionChanged:
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")


def recorded(url: str, namespace: str, session_id: str) -> list[dict[str, Any]]:
    client = redis.Redis.from_url(url)
    try:
        return [orjson.loads(raw) for raw in client.lrange(f"{namespace}:t:{session_id}", 0, -1)]
    finally:
        client.close()


def wait_until_busy(port: int) -> None:
    """Return once the server at ``port`` stops answering (it runs DEBUG SLEEP)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        probe = redis.Redis(port=port, socket_timeout=0.05, retry=Retry(NoBackoff(), 0))
        try:
            probe.ping()
        except (redis.TimeoutError, redis.ConnectionError):  # the handshake timed out
            return
        finally:
            probe.close()
        time.sleep(0.005)
    raise AssertionError("the server never became busy")


# -- layout --------------------------------------------------------------------------------


async def test_key_layout_json_values_and_ttl_refresh(redis_url: str) -> None:
    clock_now = [1_000_000.0]
    async with opened(redis_url, ttl_seconds=30, namespace="layout",
                      clock=lambda: clock_now[0]) as store:
        session = await store.create()
        sid = session.session_id
        raw = redis.Redis.from_url(redis_url)
        assert raw.hgetall(f"layout:s:{sid}") == {b"c": b"1000000.0", b"a": b"1000000.0",
                                                   b"n": b"0"}
        assert 29_000 < raw.pttl(f"layout:s:{sid}") <= 30_000
        assert raw.exists(f"layout:t:{sid}") == 0
        raw.pexpire(f"layout:s:{sid}", 5_000)  # as if it had been idle 25 s
        clock_now[0] += 25
        await take_turn(store, sid, "r-1")
        assert 29_000 < raw.pttl(f"layout:s:{sid}") <= 30_000  # a write refreshes both keys
        assert 29_000 < raw.pttl(f"layout:t:{sid}") <= 30_000
        assert raw.exists(f"layout:lock:{sid}") == 0  # released by the append itself
        assert raw.zscore("layout:lru", sid) == 1_000_025.0
        assert raw.hget(f"layout:s:{sid}", "n") == b"1"
        assert orjson.loads(raw.lindex(f"layout:t:{sid}", 0)) == {  # JSON, never pickle
            "turn": 1, "request_id": "r-1", "query": "More tracks", "kind": "follow_up",
            "follow_up": "more_tracks", "entities": {}, "anchor_turn": None,
            "track_ids": ["t1"], "at": 1.0, "source": "primary"}
        raw.close()


def count_commands(store: RedisStore) -> list[str]:
    """The round trips ``store`` makes from now on: one entry per pipeline sent, naming its
    scripts (a turn alone sends pipelines of one script)."""
    batcher = store._batcher
    assert batcher is not None
    sent: list[str] = []
    execute = batcher._execute

    async def counting(batch: list[Any]) -> list[Any]:
        sent.append("+".join(call[0] for call in batch))
        return await execute(batch)

    batcher._execute = counting  # type: ignore[method-assign]
    return sent


async def test_a_turn_takes_one_round_trip_on_the_worker_that_served_the_last(
        redis_url: str) -> None:
    # (Counted at the server, with everything else the server sends, by the benchmark.)
    async with opened(redis_url, namespace="trips") as store, \
            opened(redis_url, namespace="trips") as other:
        sid = (await store.create()).session_id
        await take_turn(store, sid, "warm-up")
        sent = count_commands(store)
        await take_turn(store, sid, "follow-up")
        assert sent == ["append"]  # the optimistic append, read from this worker's copy
        sent.clear()
        fresh = await store.create()
        await store.append_turn(fresh.session_id, make_turn(1, "first"))
        assert sent == ["create", "append"]  # a new session
        sent.clear()
        async with store.turn_lock("expired-or-made-up-0000"):  # the server's unknown-id path
            assert await store.load("expired-or-made-up-0000") is None
            replacement = await store.create()
            await store.append_turn(replacement.session_id, make_turn(1, "replacement"))
        assert sent == ["lock_load", "create", "append"]  # load (no lock held), create, append
        # Another worker, which never served the session: lock + load, append + unlock.
        other_sent = count_commands(other)
        assert await take_turn(other, sid, "elsewhere") == 3
        assert other_sent == ["lock_load", "append"]  # lock + load, append + unlock
        # Back on the first worker, whose copy is now stale: the append is refused with the
        # session as it is now, and the turn answered again from it goes in.
        sent.clear()
        with pytest.raises(SessionChanged, match="since this turn read it"):
            await take_turn(store, sid, "stale", attempts=1)
        assert await take_turn(store, sid, "again", attempts=1) == 4
        assert sent == ["append", "append"]
        assert [t["request_id"] for t in recorded(redis_url, "trips", sid)] == [
            "warm-up", "follow-up", "elsewhere", "again"]


# -- faults --------------------------------------------------------------------------------


async def test_start_fails_fast_when_redis_is_unreachable() -> None:
    store = RedisStore("redis://:secret@127.0.0.1:1/0", ttl_seconds=60, max_sessions=10,
                       history_limit=5)
    started = time.monotonic()
    with pytest.raises(StoreUnavailable, match=r"127\.0\.0\.1:1") as caught:
        await store.start()
    assert time.monotonic() - started < 5   # fails, not retries: the bound only has to tell a hang apart
    assert "secret" not in str(caught.value)
    with pytest.raises(StoreUnavailable):
        await store.load("never-started-0000")


@pytest.mark.parametrize("url", [
    "redis://:pw-SECRET-1@127.0.0.1:1/5",
    "redis://alice:pw-SECRET-1@127.0.0.1:1/5",
    "redis://127.0.0.1:1/5?password=pw-SECRET-1",
    "redis://127.0.0.1:1/5?username=pw-SECRET-1&password=pw-SECRET-1",
    "redis://pw-SECRET-1@127.0.0.1:1/5",
])
async def test_no_form_of_a_password_reaches_an_error_message(url: str) -> None:
    # Issue 16: ``?password=`` went into /health, the logs and every failed turn's line.
    store = RedisStore(url, ttl_seconds=60, max_sessions=10, history_limit=5)
    with pytest.raises(StoreUnavailable) as caught:
        await store.start()
    assert "pw-SECRET-1" not in str(caught.value)
    assert "127.0.0.1:1" in str(caught.value)  # the operator still learns where


async def test_an_exhausted_pool_fails_at_once_without_a_second_try(redis_url: str) -> None:
    # Issue 16: an exhausted pool waited for a connection, then (taking that for a dropped
    # connection) dropped the idle ones and waited again: 2 s before its 503.
    async with opened(redis_url, max_connections=1) as store:
        assert store._client is not None
        pool = store._client.connection_pool
        dropped: list[bool] = []
        disconnect = pool.disconnect

        async def spied(inuse_connections: bool = True) -> None:
            dropped.append(inuse_connections)
            await disconnect(inuse_connections=inuse_connections)

        pool.disconnect = spied  # type: ignore[method-assign]
        held = await pool.get_connection()
        try:
            with pytest.raises(StoreUnavailable, match="no free connection"):
                await store.ping()
        finally:
            await pool.release(held)
        assert dropped == []
        await store.ping()  # and the pool serves again once a connection is back


async def test_a_frozen_redis_is_unavailable_then_recovers(private_redis: PrivateRedis) -> None:
    async with opened(private_redis.url, socket_timeout=0.3, namespace="frozen") as store:
        sid = (await store.create()).session_id
        await take_turn(store, sid, "before")
        private_redis.freeze()
        try:
            calls = {
                "ping": store.ping(), "create": store.create(), "load": store.load(sid),
                "delete": store.delete("another-session-0000"), "stats": store.stats(),
                "append": store.append_turn(sid, make_turn(2, "unlocked-during")),
            }
            for name, call in calls.items():
                started = time.monotonic()
                with pytest.raises(StoreUnavailable):
                    await call
                # socket_timeout is 0.3 s; a call that waited on the frozen server would hang:
                # the bound tells the two apart with room for a loaded machine.
                assert time.monotonic() - started < 4.0, name
            with pytest.raises(StoreUnavailable):
                await take_turn(store, sid, "locked-during")
        finally:
            private_redis.thaw()
        await asyncio.sleep(0.2)  # let the frozen server work through what it was sent
        # The client reconnects by itself: no restart of the store.
        assert await take_turn(store, sid, "after") >= 2
        ids = [t["request_id"] for t in recorded(private_redis.url, "frozen", sid)]
    # A turn whose answer timed out is not written later: the lock taken before the freeze
    # was never granted, and a late append under a lock is refused by the script.
    assert "locked-during" not in ids
    assert ids[0] == "before" and ids[-1] == "after"


async def test_a_lock_granted_after_its_taker_left_is_taken_back(
        private_redis: PrivateRedis) -> None:
    # The client goes (its request task is cancelled) while Redis is frozen with the lock
    # request unanswered; Redis grants it when it wakes. The session must not then stall
    # for lock_timeout.
    async with opened(private_redis.url, lock_timeout=5, namespace="left",
                      cache_size=0) as store:  # no copy: every turn takes the lock
        sid = (await store.create()).session_id
        private_redis.freeze()
        try:
            leaving = asyncio.create_task(take_turn(store, sid, "gone"))
            await asyncio.sleep(0.1)
            leaving.cancel()
            with pytest.raises(asyncio.CancelledError):
                await leaving
        finally:
            private_redis.thaw()
        started = time.monotonic()
        assert await take_turn(store, sid, "next") == 1
        assert time.monotonic() - started < 4.0  # not the lock's 5 s (the bound leaves a loaded machine room)


@pytest.mark.parametrize("cache_size", [0, 4096], ids=["locked", "optimistic"])
async def test_a_late_append_under_the_lock_is_refused(private_redis: PrivateRedis,
                                                       cache_size: int) -> None:
    # DEBUG SLEEP keeps the server busy; what was sent meanwhile runs afterwards. Under the
    # Redis lock, the deadline comes from the lock's reading of Redis's clock; optimistic
    # (this worker created the session, so it has a copy), from the last reply's.
    async with opened(private_redis.url, socket_timeout=0.3, namespace="late",
                      cache_size=cache_size) as store:
        sid = (await store.create()).session_id
        sleeper = private_redis.client()
        with pytest.raises(StoreUnavailable):
            async with store.turn_lock(sid):
                session = await store.load(sid)
                assert session is not None
                busy = asyncio.create_task(asyncio.to_thread(sleeper.execute_command,
                                                             "DEBUG", "SLEEP", "1"))
                await asyncio.to_thread(wait_until_busy, private_redis.port)
                await store.append_turn(sid, make_turn(1, "late"))
        await busy
        sleeper.close()
        session = await store.load(sid)
    assert session is not None
    assert session.turn_count == 0 and session.turns == []


async def test_a_restarted_redis_is_used_again_without_restarting_the_store(
        private_redis: PrivateRedis) -> None:
    async with opened(private_redis.url, socket_timeout=0.3, namespace="restart") as store:
        await store.create()
        private_redis.stop()
        with pytest.raises(StoreUnavailable):
            await store.create()
        with pytest.raises(StoreUnavailable):
            await store.ping()
        private_redis.start()
        session = await store.create()  # an empty server: the scripts load again by themselves
        assert await take_turn(store, session.session_id, "again") == 1
        assert (await store.stats()).live == 1


async def test_killed_connections_are_replaced(redis_url: str) -> None:
    # CLIENT KILL by id, of this test's own connections only: the server is shared.
    async with opened(f"{redis_url}?client_name=beatdebate-kill-test", namespace="kill") as store:
        sid = (await store.create()).session_id
        await asyncio.gather(*(store.load(sid) for _ in range(5)))  # several pooled connections
        admin = redis.Redis.from_url(redis_url)
        mine = [c["id"] for c in admin.client_list() if c["name"] == "beatdebate-kill-test"]
        assert mine
        for client_id in mine:
            admin.client_kill_filter(_id=client_id)
        admin.close()
        results = await asyncio.gather(*(store.load(sid) for _ in range(5)),
                                       return_exceptions=True)
    assert all(r is not None and not isinstance(r, BaseException) for r in results), results


async def test_a_turn_is_never_half_written(private_redis: PrivateRedis) -> None:
    async with opened(private_redis.url, socket_timeout=0.5, namespace="whole",
                      history_limit=1000) as store:
        sid = (await store.create()).session_id
        acknowledged: list[str] = []
        stop = asyncio.Event()

        async def writer(w: int) -> None:
            for i in range(40):
                try:
                    await take_turn(store, sid, f"w{w}-{i}")
                    acknowledged.append(f"w{w}-{i}")
                except StoreUnavailable:
                    await asyncio.sleep(0.005)

        async def killer() -> None:
            admin = private_redis.client()
            while not stop.is_set():
                await asyncio.sleep(random.uniform(0.001, 0.01))
                admin.execute_command("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes")
            admin.close()

        chaos = asyncio.create_task(killer())
        await asyncio.gather(*(writer(w) for w in range(6)))
        stop.set()
        await chaos
        await asyncio.sleep(0.6)  # any turn still in flight has either run or been refused
        session = await store.load(sid)
    assert session is not None
    turns = [t.turn for t in session.turns]
    ids = [t.request_id for t in session.turns]
    assert turns == list(range(1, len(turns) + 1))  # whole, ordered turns: no gap, no repeat
    assert session.turn_count == len(turns)
    assert len(set(ids)) == len(ids)
    assert set(acknowledged) <= set(ids)  # no acknowledged turn lost
    assert len(acknowledged) > 20  # and the chaos let work through


async def test_a_lock_held_too_long_is_lost_and_its_turn_refused(redis_url: str) -> None:
    async with opened(redis_url, lock_timeout=0.2, namespace="lost", cache_size=0) as slow, \
            opened(redis_url, lock_timeout=0.2, namespace="lost", cache_size=0) as fast:
        sid = (await slow.create()).session_id
        with pytest.raises(StoreUnavailable, match="lock expired"):
            async with slow.turn_lock(sid):
                stale = await slow.load(sid)
                assert stale is not None
                await asyncio.sleep(0.3)  # the lock expires; the other instance takes a turn
                assert await take_turn(fast, sid, "fast") == 1
                await slow.append_turn(sid, make_turn(stale.turn_count + 1, "slow"))
        session = await fast.load(sid)
    assert session is not None
    assert [(t.turn, t.request_id) for t in session.turns] == [(1, "fast")]


async def test_waiting_for_a_lock_is_bounded(redis_url: str,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    # No clock: a waiter refused once keeps trying until the lock is free (an ordering),
    # and a waiter facing a lock that never expires ends its wait on its own bound.
    async with opened(redis_url, lock_timeout=5, lock_wait=30, namespace="wait",
                      cache_size=0) as patient, \
            opened(redis_url, lock_timeout=5, lock_wait=0.3, namespace="wait",
                   cache_size=0) as impatient:
        sid = (await patient.create()).session_id
        lock_key = f"wait:lock:{sid}"
        raw = redis.Redis.from_url(redis_url)
        raw.set(lock_key, "another-process")  # no expiry: only the waiter's bound ends a wait
        refused = asyncio.Event()
        script = patient._script

        async def watched(name: str, keys: list[str], args: list[Any]) -> Any:
            reply = await script(name, keys, args)
            if name == "lock_load" and args[0] and int(reply[0]) == 0:
                refused.set()  # a try for the lock (a token given), refused: it is held
            return reply

        monkeypatch.setattr(patient, "_script", watched)

        async def one_turn() -> None:
            async with patient.turn_lock(sid):
                pass

        waiter = asyncio.create_task(one_turn())
        await refused.wait()
        assert not waiter.done()  # refused, it waits rather than failing at once ...
        raw.delete(lock_key)
        await waiter  # ... and takes the lock once the holder lets go

        raw.set(lock_key, "another-process")
        with pytest.raises(StoreUnavailable, match="turn lock"):
            async with impatient.turn_lock(sid):
                pass
        assert raw.get(lock_key) == b"another-process"  # gave up, never took it over
        raw.delete(lock_key)
        raw.close()
        assert await take_turn(impatient, sid, "then") == 1
        assert impatient._queues == {} and patient._queues == {}  # nothing left behind


# -- serialisation across processes ------------------------------------------------------

_OTHER_PROCESS = """
import asyncio, sys
from beatdebate_server.service.turn import TURN_ATTEMPTS
from beatdebate_server.store.base import SessionChanged
from beatdebate_server.store.redis import RedisStore
from beatdebate_server.session import Turn

async def main(url, namespace, sid, count):
    store = RedisStore(url, ttl_seconds=60, max_sessions=1000, history_limit=1000,
                       namespace=namespace)
    await store.start()
    async def one(i):
        for attempt in range(1, TURN_ATTEMPTS + 1):  # as the turn service does
            try:
                async with store.turn_lock(sid):
                    session = await store.load(sid)
                    await asyncio.sleep(0)
                    await store.append_turn(sid, Turn(session.turn_count + 1, f"p-{i}", "q",
                                                      "follow_up", None, {}, None, (), 0.0))
                return
            except SessionChanged:
                if attempt == TURN_ATTEMPTS:
                    raise
    await asyncio.gather(*(one(i) for i in range(count)))
    await store.close()

asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])))
"""


async def test_turns_from_two_processes_and_two_clients_are_serialised(redis_url: str) -> None:
    count = 60
    async with opened(redis_url, namespace="procs", history_limit=1000) as one, \
            opened(redis_url, namespace="procs", history_limit=1000) as two:
        sid = (await one.create()).session_id
        other = await asyncio.create_subprocess_exec(
            sys.executable, "-c", _OTHER_PROCESS, redis_url, "procs", sid, str(count),
            env=os.environ | {"PYTHONPATH": os.getcwd()})
        answers = await asyncio.gather(
            *(take_turn(one if i % 2 else two, sid, f"here-{i}") for i in range(count)))
        assert await other.wait() == 0
        session = await one.load(sid)
    assert session is not None
    assert session.turn_count == 2 * count
    assert [t.turn for t in session.turns] == list(range(1, 2 * count + 1))
    assert sorted(t.request_id for t in session.turns) == sorted(
        [f"here-{i}" for i in range(count)] + [f"p-{i}" for i in range(count)])
    assert sorted(answers) == sorted(set(answers))  # no two turns were given one number


# -- the cancellation bug class (CVE-2023-28858) ----------------------------------------


@asynccontextmanager
async def slow_proxy(port: int) -> AsyncIterator[int]:
    """A TCP proxy to Redis that delays and splits replies, so cancellations land mid-read."""
    rng = random.Random(28858)

    async def pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                   *, jitter: bool) -> None:
        try:
            while data := await reader.read(65536):
                while data:
                    cut = rng.randint(1, len(data)) if jitter else len(data)
                    writer.write(data[:cut])
                    data = data[cut:]
                    await writer.drain()
                    if jitter:
                        await asyncio.sleep(rng.uniform(0, 0.002))
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_connection("127.0.0.1", port)
        await asyncio.gather(pump(client_r, server_w, jitter=False),
                             pump(server_r, client_w, jitter=True), return_exceptions=True)

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()


async def test_cancelled_commands_never_answer_a_later_request(redis_url: str) -> None:
    port, database = (int(part) for part in redis_url.rsplit(":", 1)[1].split("/"))
    rng = random.Random(7)
    async with slow_proxy(port) as proxy_port:
        url = f"redis://127.0.0.1:{proxy_port}/{database}"
        # 50 commands at once on 16 connections through a slow proxy: they queue for the
        # pool, which (fail-fast by default, issue 16) must wait as long as a reply may take.
        async with opened(url, namespace="cve", socket_timeout=5, max_connections=16,
                          pool_timeout=5) as store:
            sessions = [(await store.create()).session_id for _ in range(20)]
            for i, sid in enumerate(sessions):
                await store.append_turn(sid, make_turn(1, f"own-{i}"))
            assert store._client is not None
            client = store._client
            await client.mset({f"cve:key:{i}": f"value-{i}" for i in range(200)})

            async def get(i: int) -> None:
                assert await client.get(f"cve:key:{i}") == f"value-{i}".encode()

            async def load(i: int) -> None:
                session = await store.load(sessions[i])
                assert session is not None and session.session_id == sessions[i]
                assert [t.request_id for t in session.turns] == [f"own-{i}"]

            # Cancel many commands at random points: before sending, mid-send, mid-reply.
            cancelled = 0
            for _ in range(15):
                tasks = [asyncio.create_task(get(i)) for i in rng.sample(range(200), 40)]
                tasks += [asyncio.create_task(load(i)) for i in rng.sample(range(20), 10)]
                for task in tasks:
                    asyncio.get_running_loop().call_later(rng.uniform(0, 0.004), task.cancel)
                for outcome in await asyncio.gather(*tasks, return_exceptions=True):
                    if isinstance(outcome, asyncio.CancelledError):
                        cancelled += 1
                    else:
                        assert outcome is None  # an answer that arrived was its own
            assert cancelled > 100
            # Every later request gets its own answer, on whatever connection it is given.
            await asyncio.gather(*(get(i) for i in range(200)), *(load(i) for i in range(20)))


async def test_calls_made_together_share_one_pipeline_and_keep_their_own_replies(
        redis_url: str) -> None:
    async with opened(redis_url, namespace="batch") as store:
        sessions = [(await store.create()).session_id for _ in range(8)]
        sent = count_commands(store)
        stored = await asyncio.gather(*(store.append_turn(sid, make_turn(1, f"own-{i}"))
                                        for i, sid in enumerate(sessions)))
        assert sent == ["+".join(["append"] * 8)]   # one round trip for the eight
        for i, (sid, session) in enumerate(zip(sessions, stored, strict=True)):
            assert session is not None and session.session_id == sid
            assert [t.request_id for t in session.turns] == [f"own-{i}"]
        # One call failing in Redis fails that call alone.
        sent.clear()
        good = store._script("stats", [store._lru], ["0"])
        bad = store._script("stats", [store._lru], ["not-a-number"])
        outcomes = await asyncio.gather(good, bad, return_exceptions=True)
        assert sent == ["stats+stats"]
        assert isinstance(outcomes[1], StoreUnavailable) and not isinstance(outcomes[0],
                                                                             BaseException)


async def test_scripts_flushed_from_redis_are_loaded_again(private_redis: PrivateRedis) -> None:
    async with opened(private_redis.url, namespace="flushed") as store:
        sid = (await store.create()).session_id
        raw = private_redis.client()
        raw.script_flush()  # as a restart does
        raw.close()
        assert await take_turn(store, sid, "after-flush") == 1


async def test_calls_wait_for_a_slow_pipeline_only_briefly(private_redis: PrivateRedis) -> None:
    # Calls made while a pipeline is on the wire wait for it, to go together; but a slow
    # Redis must not queue them behind it: past ``HOLD`` they go on another connection.
    from beatdebate_server.store.redis_batch import HOLD

    assert HOLD <= 0.05
    async with opened(private_redis.url, namespace="hold", socket_timeout=3) as store:
        batcher = store._batcher
        assert batcher is not None
        sleeper = private_redis.client()
        busy = asyncio.create_task(asyncio.to_thread(sleeper.execute_command,
                                                     "DEBUG", "SLEEP", "0.6"))
        await asyncio.to_thread(wait_until_busy, private_redis.port)
        sent = batcher.pipelines
        first = asyncio.create_task(store.stats())
        await asyncio.sleep(0.1)
        assert batcher.pipelines == sent + 1 and not first.done()   # on the wire, stuck
        second = asyncio.create_task(store.stats())
        await asyncio.sleep(0.1)
        assert batcher.pipelines == sent + 2 and not second.done()  # went without waiting
        await asyncio.gather(first, second, busy)
        sleeper.close()


# -- the turn service over two workers' stores (issue 13) ---------------------------------


def turn_service(store: RedisStore) -> Any:
    from server_fakes import StandInRecommender, make_catalog

    from beatdebate_server.service.answers import Answers
    from beatdebate_server.service.faults import FaultInjector
    from beatdebate_server.service.turn import TurnService

    recommender = StandInRecommender(make_catalog())
    return TurnService(store=store, recommender=recommender,  # type: ignore[arg-type]
                       answers=Answers(recommender, faults=FaultInjector(),  # type: ignore[arg-type]
                                       primary_timeout=5.0))


def tracks_of(outcome: Any) -> list[str]:
    return [pick.track.track_id for pick in outcome.reply.answer.picks]


async def test_an_overtaken_turn_is_answered_again_and_sees_the_turn_before_it(
        redis_url: str) -> None:
    from beatdebate_server.service.turn import TurnRequest

    async with opened(redis_url, namespace="service") as a, \
            opened(redis_url, namespace="service") as b:
        one, two = turn_service(a), turn_service(b)
        first = await one.take_turn(TurnRequest("Songs by Mk.gee", None, 3, "r1"))
        sid = first.session_id
        other = await two.take_turn(TurnRequest("More tracks", sid, 3, "r2"))  # locked: no copy
        sent = count_commands(a)
        again = await one.take_turn(TurnRequest("More tracks", sid, 3, "r3"))  # a's copy: turn 1
        assert sent == ["append", "append"]  # refused (overtaken), then answered again
        assert (first.turn, other.turn, again.turn) == (1, 2, 3)
        assert not set(tracks_of(again)) & set(tracks_of(other))  # it saw turn 2's page
        session = await b.load(sid)
    assert session is not None
    assert [t.request_id for t in session.turns] == ["r1", "r2", "r3"]


async def test_a_turn_overtaken_every_time_gives_up_after_its_attempts(redis_url: str) -> None:
    from beatdebate_server.service.turn import TURN_ATTEMPTS, TurnRequest

    class AlwaysOvertaken(RedisStore):
        appends = 0

        async def append_turn(self, session_id: str, turn: Turn) -> Any:
            self.appends += 1
            raise SessionChanged("overtaken")

    store = AlwaysOvertaken(redis_url, ttl_seconds=60.0, max_sessions=1000, history_limit=50,
                            namespace="overtaken")
    await store.start()
    try:
        sid = (await store.create()).session_id
        with pytest.raises(SessionChanged):
            await turn_service(store).take_turn(TurnRequest("More tracks", sid, 3, "r1"))
        assert store.appends == TURN_ATTEMPTS
    finally:
        await store.close()
