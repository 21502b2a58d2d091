"""The Redis turn lock's lease (issue 12, part 4): a turn that outlives its lock must not be
recorded beside the turn that took the lock after it.

The lock is a lease of ``lock_timeout`` seconds. A worker stalled past it (a pause, a long
garbage collection) wakes up believing it still holds the lock, while a turn on another
worker has taken the lock and read the same session. Both would become the same turn
(history ``[1, 2, 2]``, ``turn_count`` 3). The append is fenced twice: a stale holder is
refused while another turn holds the lock, and every append under the lock checks that
the turn count is still the one it read.

``--defect stale-lock-append`` keeps the unfenced append (``defects/stale_lock_append.py``),
so that the nemesis proof can still find the bug (``tests/loadtest/nemesis``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from beatdebate_server.defects.stale_lock_append import StaleLockAppend
from beatdebate_server.session import Session, Turn
from beatdebate_server.store.base import SessionChanged, SessionStore, StoreUnavailable
from beatdebate_server.store.redis import RedisStore

pytestmark = [pytest.mark.anyio, pytest.mark.redis]

LEASE = 0.2   # seconds: the lock's lease in these tests (the server's is 5 s)


@asynccontextmanager
async def instance(url: str, namespace: str, *, stale_lock_append: bool = False,
                   **options: Any) -> AsyncIterator[SessionStore]:
    """One server instance's store; two of them on one namespace are two processes."""
    # ``cache_size=0``: no copy of the session, so every turn takes the lock (the lease is
    # what these tests are about); the optimistic turn has its own test below.
    settings: dict[str, Any] = {"cache_size": 0} | options
    redis_store = RedisStore(url, ttl_seconds=60.0, max_sessions=1000, history_limit=50,
                             namespace=namespace, lock_timeout=LEASE, **settings)
    store: SessionStore = StaleLockAppend(redis_store) if stale_lock_append else redis_store
    await store.start()
    try:
        yield store
    finally:
        await store.close()


def make_turn(n: int, request_id: str) -> Turn:
    return Turn(turn=n, request_id=request_id, query="More tracks", kind="follow_up",
                follow_up="more_tracks", entities={}, anchor_turn=None, track_ids=(request_id,),
                at=1.0)


async def started_session(store: SessionStore) -> str:
    session_id = (await store.create()).session_id
    async with store.turn_lock(session_id):
        assert await store.append_turn(session_id, make_turn(1, "first")) is not None
    return session_id


def turns(session: Session | None) -> list[tuple[int, str]]:
    assert session is not None
    return [(t.turn, t.request_id) for t in session.turns]


async def stale_then_holder(slow: SessionStore, fast: SessionStore,
                            session_id: str) -> tuple[BaseException | None, BaseException | None]:
    """The interleaving of the issue: ``slow`` reads under the lock and stalls past the lease;
    ``fast`` takes the lock and reads; ``slow`` appends; then ``fast`` appends. Returns what
    each append raised (None: it was recorded)."""
    stale_error: BaseException | None = None
    holder_error: BaseException | None = None
    holder_read = asyncio.Event()
    stale_done = asyncio.Event()

    async def stale_turn() -> None:
        nonlocal stale_error
        try:
            async with slow.turn_lock(session_id):
                session = await slow.load(session_id)
                assert session is not None
                await asyncio.sleep(LEASE * 1.5)     # stalled past the lease
                await holder_read.wait()             # the other instance has the lock now
                await slow.append_turn(session_id, make_turn(session.turn_count + 1, "stale"))
        except StoreUnavailable as exc:
            stale_error = exc
        finally:
            stale_done.set()

    async def holder_turn() -> None:
        nonlocal holder_error
        await asyncio.sleep(LEASE * 1.2)             # after the stale turn's lease ran out
        try:
            async with fast.turn_lock(session_id):
                session = await fast.load(session_id)
                assert session is not None
                holder_read.set()
                await stale_done.wait()              # the stale append lands meanwhile
                await fast.append_turn(session_id, make_turn(session.turn_count + 1, "holder"))
        except StoreUnavailable as exc:
            holder_error = exc

    await asyncio.gather(stale_turn(), holder_turn())
    return stale_error, holder_error


async def test_a_stale_holder_is_refused_while_another_turn_holds_the_lock(redis_url: str) -> None:
    async with instance(redis_url, "fenced") as slow, instance(redis_url, "fenced") as fast:
        session_id = await started_session(slow)
        stale_error, holder_error = await stale_then_holder(slow, fast, session_id)
        session = await fast.load(session_id)
    assert isinstance(stale_error, StoreUnavailable)
    assert "lock expired" in str(stale_error)        # a 503 saying why: nothing was written
    assert holder_error is None
    assert turns(session) == [(1, "first"), (2, "holder")]
    assert session is not None and session.turn_count == 2


async def test_the_holder_checks_the_turn_count_it_read(redis_url: str) -> None:
    # A turn recorded without the lock while a holder works (a writer that skips the lock)
    # must not be doubled by the holder's append.
    async with instance(redis_url, "counted") as store:
        session_id = await started_session(store)
        with pytest.raises(StoreUnavailable, match="since this turn read it"):
            async with store.turn_lock(session_id):
                session = await store.load(session_id)
                assert session is not None
                await _append_without_the_lock(redis_url, session_id, make_turn(2, "unlocked"))
                await store.append_turn(session_id, make_turn(session.turn_count + 1, "holder"))
        after = await store.load(session_id)
        assert turns(after) == [(1, "first"), (2, "unlocked")]
        async with store.turn_lock(session_id):          # the lock was released with the refusal
            assert await store.load(session_id) is not None


async def _append_without_the_lock(url: str, session_id: str, turn: Turn) -> None:
    async with instance(url, "counted") as other:
        assert await other.append_turn(session_id, turn) is not None


async def test_a_stale_holder_alone_still_records_its_turn(redis_url: str) -> None:
    # Its lease ran out but nobody took the lock nor wrote: nothing to fence, the turn counts.
    async with instance(redis_url, "alone") as store:
        session_id = await started_session(store)
        async with store.turn_lock(session_id):
            session = await store.load(session_id)
            assert session is not None
            await asyncio.sleep(LEASE * 1.5)
            stored = await store.append_turn(session_id, make_turn(2, "late"))
        assert turns(stored) == [(1, "first"), (2, "late")]


async def test_the_stale_lock_append_defect_records_one_turn_number_twice(redis_url: str) -> None:
    # The behaviour before the fix, kept as ``--defect stale-lock-append``: the issue's
    # history [1, 2, 2] with turn_count 3.
    async with instance(redis_url, "defect", stale_lock_append=True) as slow, \
            instance(redis_url, "defect", stale_lock_append=True) as fast:
        session_id = await started_session(slow)
        stale_error, holder_error = await stale_then_holder(slow, fast, session_id)
        session = await fast.load(session_id)
    assert stale_error is None and holder_error is None
    assert turns(session) == [(1, "first"), (2, "stale"), (2, "holder")]
    assert session is not None and session.turn_count == 3


async def test_an_optimistic_turn_overtaken_by_a_locked_one_is_refused_then_answered_again(
        redis_url: str) -> None:
    # The same interleaving when the slow worker reads its own copy (issue 13: no lock, one
    # round trip): its append finds the lock held by the turn that read after it and is
    # refused, so [1, 2, 2] cannot happen; answered again, it comes after that turn.
    async with instance(redis_url, "optimistic", cache_size=4096) as slow, \
            instance(redis_url, "optimistic") as fast:
        session_id = await started_session(slow)      # ``slow`` now has a copy
        stale_error, holder_error = await stale_then_holder(slow, fast, session_id)
        assert isinstance(stale_error, SessionChanged)
        assert holder_error is None
        async with slow.turn_lock(session_id):        # the turn service's second attempt
            again = await slow.load(session_id)
            assert again is not None and again.turn_count == 2   # it sees the holder's turn
            await slow.append_turn(session_id, make_turn(3, "stale"))
        session = await fast.load(session_id)
    assert turns(session) == [(1, "first"), (2, "holder"), (3, "stale")]


async def test_an_optimistic_turn_never_doubles_a_number_the_defect_doubles(
        redis_url: str) -> None:
    # Two workers with copies of one session both answer turn 2 from them. The fenced
    # append records one and refuses the other; the pre-fence script (``--defect
    # stale-lock-append``), which checks nothing without a token, records both.
    for defect, expected in ((False, [(1, "first"), (2, "a")]),
                             (True, [(1, "first"), (2, "a"), (2, "b")])):
        namespace = f"copies-{defect}"
        async with instance(redis_url, namespace, cache_size=4096, stale_lock_append=defect) as a, \
                instance(redis_url, namespace, cache_size=4096, stale_lock_append=defect) as b:
            session_id = await started_session(a)
            assert await b.load(session_id) is not None   # ``b`` has a copy too
            async with a.turn_lock(session_id), b.turn_lock(session_id):
                read_a, read_b = await a.load(session_id), await b.load(session_id)
                assert read_a is not None and read_b is not None
                assert read_a.turn_count == read_b.turn_count == 1
                await a.append_turn(session_id, make_turn(2, "a"))
                if defect:
                    await b.append_turn(session_id, make_turn(2, "b"))
                else:
                    with pytest.raises(SessionChanged):
                        await b.append_turn(session_id, make_turn(2, "b"))
            assert turns(await a.load(session_id)) == expected
