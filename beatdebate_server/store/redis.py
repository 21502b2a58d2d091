"""The Redis session store: sessions shared by every worker and every instance.

Key layout (``ns`` is the ``namespace``, default ``beatdebate``; ``id`` a session id):

- ``{ns}:s:{id}`` hash, the session's meta: ``c`` created_at, ``a`` last_active_at
  (epoch seconds from the store's clock), ``n`` turn_count (every turn ever recorded).
- ``{ns}:t:{id}`` list, the last ``history_limit`` turns as JSON (orjson), oldest first.
  Absent until the first turn.
- ``{ns}:lock:{id}`` string, the turn lock: a random owner token, ``PX lock_timeout``.
- ``{ns}:lru`` sorted set, member ``id``, score last_active_at: the live-session count and
  the least-recently-active order for the ``max_sessions`` cap.
- ``{ns}:fresh`` sorted set, member ``id``, score created_at: sessions created within the
  TTL, in creation order, for evicting those that never took a turn first. A member that
  took a turn since is dropped from it lazily, when ``create`` meets it.

Terms:
- *idle TTL*: every write ``PEXPIRE``s both session keys to ``ttl_seconds``, so Redis
  itself forgets an idle session. Its ``lru`` member is pruned later (``create`` and
  ``stats`` drop members idle past the TTL); ``expired`` counts what this process pruned.
- *eviction*: past ``max_sessions``, ``create`` drops the sessions that never took a turn
  (oldest first), then the least recently active ones (issue 16: a flood of new sessions
  must not evict people who are using theirs).
- *byte budget*: a turn appended under the turn lock (every turn the service takes on an
  existing session) keeps the newest turns that fit ``history_bytes`` as well as
  ``history_limit`` (``session.turns_within``); the store knows the turns it loaded with the
  lock, so the budget costs no round trip.
- *round trip*: every operation is one Lua script (``redis_scripts.py``), so one round
  trip, and atomic: a turn is appended, trimmed, counted, re-expired and LRU-touched
  together or not at all. Scripts called at about the same moment share one pipelined
  write (``redis_batch.py``: redis-py's per-command CPU is most of a turn's cost).
- *optimistic turn* (issue 13): each worker keeps the sessions it served last (``cache_size``).
  A turn on one of them reads that copy (no round trip) and its append is written only if
  the session's turn count is still the copy's and no turn holds the Redis lock; else
  ``SessionChanged``, and the turn service answers the turn again from the session the
  refusal sent back. One round trip per turn in the steady state.
- *locked turn*: without a copy (another worker served the session last), or overtaken
  twice or by a locked turn, a turn takes the Redis lock with its read ("lock + load")
  and drops it with its append ("append + unlock"): two round trips, and nothing overtakes
  it (an optimistic append refuses while the lock is held). A new session: create, append.

The scripts build the keys of evicted sessions from the namespace, which a Redis
Cluster would reject: this store wants one Redis (or a Sentinel-managed primary).
Redis >= 5 is needed (scripts call ``TIME`` before writing). Values are JSON, never pickle.

Every ``redis`` error becomes ``StoreUnavailable`` here (the app maps it to 503). A
command is sent again only after Redis closed its connection (it then ran whole or not at
all, and every script is idempotent); never after a timeout, since it may still run. An
append under the lock carries a deadline and Redis refuses it past that deadline, so a
turn whose answer timed out is not recorded later behind the client's back.

The lock is a *lease* (``lock_timeout``, 5 s) that nothing renews: a worker stalled past
it (paused, swapped out, in a long collection) wakes up still "holding" it. The append is
fenced (issue 12): a stale holder is refused while another turn holds the lock, and every
append under the lock is refused unless the session's turn count is still the one it read.
A stale turn thus gets a 503 (nothing written), never a turn number another turn also gets.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
import secrets
import time
from collections import OrderedDict
from contextvars import ContextVar
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import orjson
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.commands.core import AsyncScript
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from ..ids import hash_id, mint_session_id
from ..redaction import redact_text, redact_url
from ..session import Clock, Session, Turn, trim_history, turn_weight
from .base import SessionChanged, StoreKind, StoreStats, StoreUnavailable
from .redis_batch import ScriptBatcher
from .redis_scripts import SCRIPTS

log = logging.getLogger("beatdebate.store")

# -- the turn lock ------------------------------------------------------------------------
#
# The second of two concurrent turns must *see* the first (its page repeats no track of
# it: contract, "Sessions"). Inside one process, turns of a session queue on an
# asyncio.Lock, so this worker's copy of a session is never overtaken from inside. Across
# processes, two ways (docs/redis.md, "Serialising"):
# - optimistic (a copy is at hand): no Redis lock; the append checks the turn count
#   against the copy's in the same script that writes (a compare-and-set at no extra round
#   trip), and on a mismatch the service answers the turn again (``SessionChanged``). Not
#   WATCH/MULTI: that is three round trips and pins a pooled connection for the turn.
# - locked (no copy, or overtaken): the Redis lock, taken by the script that reads and
#   released by the one that appends, so two round trips; nothing overtakes it. Waiting
#   is a bounded poll with jittered backoff, one poller per session per process.

@dataclass(slots=True)
class _Held:
    """The turn lock this task holds: read by ``load`` and ``append_turn`` of its store."""

    store: RedisStore
    session_id: str
    token: str
    redis_ms: int  # Redis's clock when the lock was taken ...
    mono: float  # ... and ours, to tell Redis by when an append must have run
    session: Session | None  # read with the lock (None: there is no such session)
    turns: list[Turn]  # its turns as read then, kept for the append's answer
    unread: bool = True  # ``load`` has not yet taken ``session``
    released: bool = False  # the lock was released (optimistic: the append was sent)
    optimistic: bool = False  # read from this worker's copy, no Redis lock: see the store



_held: ContextVar[_Held | None] = ContextVar("beatdebate_redis_turn_lock", default=None)
# How often this task's turn on a session was overtaken (``SessionChanged``): from two on,
# or once another turn held the lock, the turn answered again takes the Redis lock, which
# nobody can overtake. Per task, so per request: one turn's bad luck locks no other turn.
_overtaken: ContextVar[tuple[str, int] | None] = ContextVar("beatdebate_redis_overtaken",
                                                            default=None)
LOCK_AFTER_OVERTAKEN = 2


@dataclass(slots=True)
class _LocalQueue:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


class _TurnLock:
    """``RedisStore.turn_lock``: a lock on one session that holds across processes."""

    __slots__ = ("_store", "_session_id", "_queue", "_held", "_reset")

    def __init__(self, store: RedisStore, session_id: str) -> None:
        self._store = store
        self._session_id = session_id

    async def __aenter__(self) -> None:
        store, session_id = self._store, self._session_id
        queue = store._queues.get(session_id)
        if queue is None:
            queue = store._queues[session_id] = _LocalQueue()
        queue.users += 1
        self._queue = queue
        deadline = time.monotonic() + store.lock_wait
        try:
            if queue.users == 1:  # nobody else holds it or waits: taken at once, no timer
                await queue.lock.acquire()
            else:
                try:
                    async with asyncio.timeout(store.lock_wait):
                        await queue.lock.acquire()
                except TimeoutError:
                    raise StoreUnavailable("timed out waiting for a session's turn lock") \
                        from None
            try:
                overtaken = _overtaken.get()
                held = None if overtaken is not None and overtaken[0] == session_id \
                    and overtaken[1] >= LOCK_AFTER_OVERTAKEN else store._optimistic(session_id)
                self._held = held if held is not None else await store._acquire(
                    session_id, deadline)
            except BaseException:
                queue.lock.release()
                raise
        except BaseException:
            self._leave()
            raise
        self._reset = _held.set(self._held)

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        held = self._held
        _held.reset(self._reset)
        try:
            if not held.released and not held.optimistic:
                await self._store._release(held)
        finally:
            self._queue.lock.release()
            self._leave()

    def _leave(self) -> None:
        self._queue.users -= 1
        if self._queue.users == 0 and self._store._queues.get(self._session_id) is self._queue:
            del self._store._queues[self._session_id]


# -- the store ------------------------------------------------------------------------------


class RedisStore:
    """A ``SessionStore`` in Redis: one client per process, created by ``start``."""

    kind: StoreKind = "redis"

    def __init__(self, url: str, *, ttl_seconds: float, max_sessions: int, history_limit: int,
                 clock: Clock = time.time, namespace: str = "beatdebate",
                 lock_timeout: float = 5.0, lock_wait: float | None = None,
                 socket_timeout: float = 1.0, connect_timeout: float = 1.0,
                 max_connections: int = 64, pool_timeout: float = 0.1,
                 health_check_interval: float = 30.0, history_bytes: int | None = None,
                 cache_size: int = 4096) -> None:
        self.url = url
        self.ttl_seconds = ttl_seconds
        self.max_sessions = max_sessions
        self.history_limit = history_limit
        self.history_bytes = history_bytes
        self.namespace = namespace
        self.lock_timeout = lock_timeout
        self.lock_wait = 2 * lock_timeout if lock_wait is None else lock_wait
        self.socket_timeout = socket_timeout
        self.connect_timeout = connect_timeout
        self.max_connections = max_connections
        self.pool_timeout = pool_timeout
        self.health_check_interval = health_check_interval
        self._clock = clock
        self._prefix = f"{namespace}:"
        self._lru = f"{namespace}:lru"
        self._fresh = f"{namespace}:fresh"
        self._ttl_ms = max(1, round(ttl_seconds * 1000))
        self._lock_ms = max(1, round(lock_timeout * 1000))
        self._client: Redis | None = None
        self._batcher: ScriptBatcher | None = None
        self._scripts: dict[str, AsyncScript] = {}
        self._sources: dict[str, str] = dict(SCRIPTS)   # what ``start`` registers (``use_script``)
        self._queues: dict[str, _LocalQueue] = {}
        # The sessions this worker served last, newest last, at most ``cache_size``: what an
        # optimistic turn reads (module docstring, "optimistic turn").
        self.cache_size = cache_size
        self._cache: OrderedDict[str, Session] = OrderedDict()
        # Redis's clock minus ours (ms, ``time.monotonic``), as of the last reply that
        # carried it: an append's deadline in Redis's clock without a round trip to ask.
        self._offset_ms: float | None = None
        self._releasers: set[asyncio.Task[None]] = set()
        # An append's write tag (a resend's idempotency) need only differ from any other
        # append's on the session: a random prefix per store and a count, not a fresh
        # random string per append (reading the OS's entropy cost ~3 % of a request's CPU).
        self._tag_prefix = secrets.token_hex(6)
        self._tags = itertools.count()
        self._created = 0
        self._expired = 0
        self._evicted = 0

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Connect (one pool per process) and check that Redis answers."""
        if self._client is not None:
            return
        pool = BlockingConnectionPool.from_url(
            # ``timeout``: how long a command waits for a free pooled connection. Short, so
            # that an exhausted pool (Redis slow, every connection busy) is a prompt 503.
            self.url, max_connections=self.max_connections, timeout=self.pool_timeout,
            socket_timeout=self.socket_timeout, socket_connect_timeout=self.connect_timeout,
            health_check_interval=self.health_check_interval,
            protocol=2,  # RESP2: its replies are the simpler parse, for hiredis or redis-py
            # redis-py's own retries off: ``_call`` decides what may be sent again. A
            # command that timed out may still run, so it is never resent (a 503).
            retry=Retry(NoBackoff(), 0))
        client = Redis.from_pool(pool)
        self._scripts = {name: client.register_script(source)
                         for name, source in self._sources.items()}
        self._batcher = ScriptBatcher(client, self._sources)
        self._client = client
        try:
            await self.ping()
            await self._call(self._load_scripts)  # no NOSCRIPT round trip on first use
            seconds, micros = await self._call(lambda client: client.time())
            self._observe(seconds * 1000 + micros // 1000)
        except StoreUnavailable:
            self._client = None
            await client.aclose()
            raise

    async def _load_scripts(self, client: Redis) -> None:
        async with client.pipeline(transaction=False) as pipe:
            for script in self._scripts.values():
                pipe.script_load(script.script)
            await pipe.execute()

    async def close(self) -> None:
        for task in list(self._releasers):
            task.cancel()
        await asyncio.gather(*self._releasers, return_exceptions=True)
        batcher, self._batcher = self._batcher, None
        if batcher is not None:
            await batcher.close()
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    async def ping(self) -> None:
        await self._call(lambda client: client.ping())

    # -- sessions ------------------------------------------------------------------------

    async def create(self) -> Session:
        now = self._clock()
        session_id = mint_session_id()
        reply = await self._script("create", [self._key("s", session_id), self._lru,
                                              self._fresh],
                                   [session_id, repr(now), self._ttl_ms, self.max_sessions,
                                    self._prefix, repr(now - self.ttl_seconds)])
        self._created += 1
        self._expired += int(reply[0])
        self._evicted += int(reply[1])
        log.info("session created", extra={"session": hash_id(session_id)})
        for evicted in reply[2:]:
            self._cache.pop(evicted.decode(), None)
            log.info("session evicted", extra={"session": hash_id(evicted.decode()),
                                               "reason": "max_sessions"})
        session = Session(session_id=session_id, created_at=now, last_active_at=now)
        self._remember(session)  # read-only for the caller (``SessionStore.load``)
        return session

    async def load(self, session_id: str) -> Session | None:
        held = _held.get()
        if held is not None and held.store is self and held.session_id == session_id \
                and held.unread:
            # Read together with taking the lock: one round trip instead of two.
            held.unread = False
            return held.session
        reply = await self._script("lock_load", self._keys(session_id), ["", self._lock_ms])
        self._observe(int(reply[1]))
        return self._adopt(session_id, reply[2:])

    async def append_turn(self, session_id: str, turn: Turn) -> Session | None:
        held = _held.get()
        token, mode, keep = "", "", self.history_limit
        deadline_ms = self._deadline_ms()
        if held is not None and held.store is self and held.session_id == session_id \
                and not held.released:
            keep = self._keep(held.turns, turn)  # the byte budget, from the turns read
            if held.optimistic:
                mode = "cas"
            else:
                # Append and unlock in one script. It refuses to write once we would have
                # given up waiting for its answer, so a 503 from a timeout means "not
                # recorded". The deadline is the lock's own clock reading plus our time.
                token = held.token
                elapsed_ms = (time.monotonic() - held.mono) * 1000
                deadline_ms = int(held.redis_ms + elapsed_ms + self.socket_timeout * 900)
        keys = [*self._keys(session_id)[:2], self._lru, self._key("lock", session_id)]
        try:
            reply = await self._script("append", keys, [
                orjson.dumps(_turn_record(turn)), turn.turn, repr(self._clock()),
                self._ttl_ms, keep, session_id, token, deadline_ms,
                f"{self._tag_prefix}{next(self._tags):x}", mode])
        except BaseException:
            self._cache.pop(session_id, None)  # written or not, we cannot tell: read afresh
            raise
        if held is not None and (token or mode):
            held.released = True  # released by the script on every path but "lock lost"
        status = int(reply[0])
        if status > 0:
            _overtaken.set(None)
        if status == 2 and held is not None:
            # Written on the count this turn read (under our lock, or optimistically): the
            # turns are the ones read plus this one, with no need to send them all back.
            created, active, count = reply[1:4]
            self._observe_reply(reply, 4)
            stored = Session(session_id=session_id, created_at=float(created),
                             last_active_at=float(active), turn_count=int(count),
                             turns=[*held.turns, turn][-keep:])
            self._remember(stored)
            return stored
        if status == 1:
            self._observe_reply(reply, 5)
            return self._adopt(session_id, reply[1:5])
        if status == -4:
            # Optimistic, and overtaken: remember the session as it is now, so the turn
            # answered again reads it without another round trip.
            self._observe_reply(reply, 5)
            self._adopt(session_id, reply[1:5])
            _overtaken_again(session_id, 1)
            raise SessionChanged("another turn of this session was recorded since this turn "
                                 "read it; nothing was written")
        self._cache.pop(session_id, None)
        if status == -5:
            _overtaken_again(session_id, LOCK_AFTER_OVERTAKEN)  # wait for the lock: take it
            raise SessionChanged("another turn of this session holds its lock; nothing was "
                                 "written")
        if status == 0 and mode:
            _overtaken_again(session_id, LOCK_AFTER_OVERTAKEN)
            # Gone since this worker last served it (deleted, evicted or expired elsewhere):
            # the turn answered again reads that and starts a new session, as any turn on
            # an unknown id does, rather than reporting a session that "vanished".
            raise SessionChanged("the session ended since this worker last served it; "
                                 "nothing was written")
        if status == -1:
            raise StoreUnavailable("the session's turn lock expired before the turn was "
                                   "recorded and another turn went in; nothing was written")
        if status == -2:
            raise StoreUnavailable("Redis ran the turn too late to answer in time; "
                                   "nothing was written")
        if status == -3:
            raise StoreUnavailable("another turn of this session was recorded since this turn "
                                   "read it; nothing was written")
        return None

    async def delete(self, session_id: str) -> bool:
        self._cache.pop(session_id, None)
        existed = await self._script("delete", [*self._keys(session_id)[:2], self._lru],
                                     [session_id])
        if existed:
            log.info("session deleted", extra={"session": hash_id(session_id)})
        return bool(existed)

    def turn_lock(self, session_id: str) -> _TurnLock:
        return _TurnLock(self, session_id)

    def use_script(self, name: str, source: str) -> None:
        """Run ``source`` for the operation ``name`` in place of its script in
        ``redis_scripts.SCRIPTS``, with the same keys, arguments and reply (a body may use
        ``redis_scripts.PRELUDE``). The one seam through which a variant of this store
        changes one operation, as a deliberate defect does (``defects/``), without a second
        store. Call it before ``start``."""
        if name not in self._sources:
            raise ValueError(f"no script {name!r}; known: {', '.join(self._sources)}")
        if self._client is not None:
            raise RuntimeError("use_script must be called before start")
        self._sources[name] = source

    async def stats(self) -> StoreStats:
        live, pruned = await self._script("stats", [self._lru],
                                          [repr(self._clock() - self.ttl_seconds)])
        self._expired += int(pruned)
        return StoreStats(live=int(live), created=self._created, expired=self._expired,
                          evicted=self._evicted)

    # -- the optimistic turn ----------------------------------------------------------------

    def _optimistic(self, session_id: str) -> _Held | None:
        """A turn on the copy of the session this worker last served, or None (no copy,
        or expired by our clock): then take the Redis lock."""
        session = self._cache.get(session_id)
        if session is None:
            return None
        if session.last_active_at <= self._clock() - self.ttl_seconds:
            del self._cache[session_id]  # Redis has dropped it by now: read to find out
            return None
        return _Held(self, session_id, "", redis_ms=0, mono=0.0, session=session,
                     turns=session.turns, optimistic=True)

    def _adopt(self, session_id: str, fields: list[Any]) -> Session | None:
        """The session a script's reply read (``_session``), made this worker's copy; a session
        that is gone drops the copy."""
        session = _session(session_id, fields)
        if session is None:
            self._cache.pop(session_id, None)
        else:
            self._remember(session)
        return session

    def _remember(self, session: Session) -> None:
        """Keep ``session`` as this worker's copy, unless the copy is already newer (a
        read that raced an append)."""
        cache, session_id = self._cache, session.session_id
        kept = cache.get(session_id)
        if kept is not None and kept.turn_count > session.turn_count:
            return
        cache[session_id] = session
        cache.move_to_end(session_id)
        if len(cache) > self.cache_size:
            cache.popitem(last=False)

    def _observe(self, redis_ms: int) -> None:
        # Paired with the moment the answer came back, which errs early: a deadline made
        # from it is never later in Redis's clock than the caller's timeout.
        self._offset_ms = redis_ms - time.monotonic() * 1000

    def _observe_reply(self, reply: list[Any], at: int) -> None:
        if len(reply) > at:  # a variant script (``use_script``) may not send Redis's clock
            self._observe(int(reply[at]))

    def _deadline_ms(self) -> int:
        """When an append sent now must have run, in Redis's clock (0: no deadline yet)."""
        if self._offset_ms is None:
            return 0
        return int(time.monotonic() * 1000 + self._offset_ms + self.socket_timeout * 900)

    # -- the lock --------------------------------------------------------------------------

    async def _acquire(self, session_id: str, deadline: float) -> _Held:
        """Take the session's Redis lock (reading the session with it), or raise."""
        token = secrets.token_hex(16)
        keys = self._keys(session_id)
        backoff = 0.002
        while True:
            try:
                reply = await self._script("lock_load", keys, [token, self._lock_ms])
            except BaseException:
                # Unanswered (Redis down or slow, or our client gone: cancelled), the script
                # may still run and grant the lock to nobody: take it back as soon as Redis
                # answers, rather than stall the session for lock_timeout.
                self._release_later(keys[2], token)
                raise
            now = time.monotonic()
            if int(reply[0]) == 1:
                # Pairing Redis's clock with the time the answer came back errs early:
                # an append's deadline (below) is never later than the caller's timeout.
                self._observe(int(reply[1]))
                session = self._adopt(session_id, reply[2:])
                return _Held(self, session_id, token, redis_ms=int(reply[1]), mono=now,
                             session=session, released=session is None,
                             turns=[] if session is None else list(session.turns))
            if now >= deadline:
                raise StoreUnavailable("timed out waiting for a session's turn lock")
            # Sleep about the backoff, never past the holder's expiry nor our deadline.
            pause = min(backoff * random.uniform(0.5, 1.5),  # noqa: S311 (jitter, not secrets)
                        max(int(reply[1]), 1) / 1000, deadline - now)
            await asyncio.sleep(pause)
            backoff = min(backoff * 2, 0.02)

    async def _release(self, held: _Held) -> None:
        held.released = True
        key = self._key("lock", held.session_id)
        try:
            await self._script("unlock", [key], [held.token])
        except StoreUnavailable:  # the turn's own outcome stands; the lock goes later
            self._release_later(key, held.token)
        except BaseException:  # cancelled while releasing
            self._release_later(key, held.token)
            raise

    def _release_later(self, key: str, token: str) -> None:
        """Keep trying to release a lock (compare-and-delete) until it would expire anyway."""
        task = asyncio.create_task(self._release_until_expiry(key, token))
        self._releasers.add(task)
        task.add_done_callback(self._releasers.discard)

    async def _release_until_expiry(self, key: str, token: str) -> None:
        give_up = time.monotonic() + self.lock_timeout
        pause = 0.05
        while time.monotonic() < give_up:
            await asyncio.sleep(pause)
            try:
                await self._script("unlock", [key], [token])
                return
            except StoreUnavailable:
                pause = min(pause * 2, 1.0)

    # -- plumbing --------------------------------------------------------------------------

    def _keep(self, loaded: list[Turn], turn: Turn) -> int:
        """How many turns a session keeps once ``turn`` follows ``loaded``: at most
        ``history_limit``, and those that fit ``history_bytes``."""
        if self.history_bytes is None:
            return self.history_limit
        turns = [*loaded, turn]
        trim_history(turns, sum(map(turn_weight, turns)), limit=self.history_limit,
                     budget=self.history_bytes)
        return len(turns)

    def _key(self, kind: str, session_id: str) -> str:
        return f"{self._prefix}{kind}:{session_id}"

    def _keys(self, session_id: str) -> list[str]:
        return [self._key("s", session_id), self._key("t", session_id),
                self._key("lock", session_id)]

    async def _script(self, name: str, keys: list[str], args: list[Any]) -> Any:
        batcher = self._batcher
        if batcher is None:
            raise StoreUnavailable("the Redis store is not started")
        # Pipelined with the calls other turns make at the same moment (``redis_batch``).
        return await self._call(lambda client: batcher.run(name, keys, args))

    async def _call(self, command: Any) -> Any:
        client = self._client
        if client is None:
            raise StoreUnavailable("the Redis store is not started")
        try:
            try:
                return await command(client)
            except RedisConnectionError as exc:
                if _pool_exhausted(exc):
                    # Not a dropped connection: every one is busy. Trying again would only
                    # wait as long once more (issue 16: 2 s before the 503).
                    raise StoreUnavailable(
                        f"Redis at {redact_url(self.url)}: no free connection in the pool "
                        f"({self.max_connections} busy for {self.pool_timeout} s)") from exc
                # A pooled connection that Redis closed (a restart, CLIENT KILL, its idle
                # ``timeout``): the command either never ran or ran whole, and every script
                # is safe to send again (appends carry a write tag). Drop the other idle
                # connections, likely dead the same way, and try once more on a fresh one.
                await client.connection_pool.disconnect(inuse_connections=False)
                return await command(client)
        except (RedisError, OSError) as exc:
            raise StoreUnavailable(f"Redis at {redact_url(self.url)} is unavailable: "
                                   f"{type(exc).__name__}: {redact_text(str(exc))}") from exc


def _overtaken_again(session_id: str, by: int) -> None:
    before = _overtaken.get()
    count = before[1] if before is not None and before[0] == session_id else 0
    _overtaken.set((session_id, count + by))


def _turn_record(turn: Turn) -> dict[str, Any]:
    return {"turn": turn.turn, "request_id": turn.request_id, "query": turn.query,
            "kind": turn.kind, "follow_up": turn.follow_up,
            "entities": {key: list(values) for key, values in turn.entities.items()},
            "anchor_turn": turn.anchor_turn, "track_ids": list(turn.track_ids),
            "at": turn.at, "source": turn.source}


def _turn(data: dict[str, Any]) -> Turn:
    return Turn(turn=data["turn"], request_id=data["request_id"], query=data["query"],
                kind=data["kind"], follow_up=data["follow_up"],
                entities={key: tuple(values) for key, values in data["entities"].items()},
                anchor_turn=data["anchor_turn"], track_ids=tuple(data["track_ids"]),
                at=data["at"], source=data["source"])


def _session(session_id: str, fields: list[Any]) -> Session | None:
    """A session from a script's ``c, a, n, turns`` (the turns one JSON array; None when
    ``fields`` is empty: no such session)."""
    if not fields:
        return None
    created, active, count, turns = fields
    return Session(session_id=session_id, created_at=float(created),
                   last_active_at=float(active), turn_count=int(count),
                   turns=[_turn(data) for data in orjson.loads(turns)])


def _pool_exhausted(exc: RedisConnectionError) -> bool:
    """Whether redis-py gave up waiting for a pooled connection (``BlockingConnectionPool``
    raises ``ConnectionError("No connection available.")`` from its wait's timeout)."""
    return isinstance(exc.__cause__, TimeoutError) and "No connection available" in str(exc)
