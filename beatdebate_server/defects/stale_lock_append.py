"""``stale-lock-append``: a turn that outlived its Redis lock is still recorded.

The Redis store's turn lock is a lease of 5 s that nothing renews. A worker stalled past it
(paused, swapped out, in a long collection) wakes up believing it still holds the lock,
while a turn on another worker has taken the lock and read the same session. Before
issue 12 the append let both through: the stale one because no turn had been *recorded*
since it read (the other was still working), the new holder because it held the lock and
checked nothing else. Both became the same turn: a history ``[1, 2, 2]`` with
``turn_count`` 3 (``duplicate-turn``, ``turn-gap``: context loss).

A wrapper around the store, as the other store defects are, but this one cannot work
through the ``SessionStore`` seam alone: the race lives inside the Redis store's append
script. So it owns the old script (``STALE_APPEND``) and has the store run it through
``RedisStore.use_script``; the production store knows nothing of it. The memory store has no
lease (its lock is held for the whole turn, in one process): there, this defect changes
nothing. A stalled worker shows it (``beatdebate gate --server-workers 2 --nemesis
pause-worker``, ``docs/nemesis.md``), and since issue 13 so do two workers alone: the old
script also skips the turn-count check of the optimistic append (a worker's cached copy of
the session, ``docs/redis.md``), so two workers' turns on one session can both land as one
number (``beatdebate gate --server-workers 2 --store redis://…``).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from ..store.base import SessionStore
from ..store.redis_scripts import PRELUDE
from .passthrough import PassThroughStore

# The append script as it was before the fence (issue 12): same keys, arguments and reply
# as ``redis_scripts.APPEND``. The holder's write checks nothing but its token; a stale
# holder's write checks only that no turn was recorded since, whoever holds the lock now.
STALE_APPEND = PRELUDE + """
local token = ARGV[7]
local ours = token ~= '' and redis.call('GET', KEYS[4]) == token
local exists = redis.call('EXISTS', KEYS[1]) == 1
if exists and redis.call('HGET', KEYS[1], 'w') == ARGV[9] then
  local m = redis.call('HMGET', KEYS[1], 'c', 'a', 'n')
  return {1, m[1], m[2], tonumber(m[3]), turns_json()}
end
if token ~= '' and tonumber(ARGV[8]) > 0 and now_ms > tonumber(ARGV[8]) then
  if ours then redis.call('DEL', KEYS[4]) end
  return {-2}
end
if not exists then
  if ours then redis.call('DEL', KEYS[4]) end
  return {0}
end
if ours then
  redis.call('DEL', KEYS[4])
elseif token ~= '' then
  if tonumber(redis.call('HGET', KEYS[1], 'n')) + 1 ~= tonumber(ARGV[2]) then return {-1} end
end
redis.call('RPUSH', KEYS[2], ARGV[1])
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[5]), -1)
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
redis.call('HSET', KEYS[1], 'a', ARGV[3], 'w', ARGV[9])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[6])
if ours then return {2, redis.call('HGET', KEYS[1], 'c'), ARGV[3], n} end
return {1, redis.call('HGET', KEYS[1], 'c'), ARGV[3], n, turns_json()}
"""


@runtime_checkable
class ScriptedStore(Protocol):
    """A store whose operations are scripts that a variant may replace (``RedisStore``)."""

    def use_script(self, name: str, source: str) -> None: ...


class StaleLockAppend(PassThroughStore):
    """The Redis store with its pre-fence append; any other store unchanged."""

    def __init__(self, inner: SessionStore) -> None:
        super().__init__(inner)
        if isinstance(inner, ScriptedStore):
            inner.use_script("append", STALE_APPEND)


__all__ = ["STALE_APPEND", "ScriptedStore", "StaleLockAppend"]
