"""The Lua scripts of the Redis store: each operation is one script, so one round trip,
and atomic (Redis runs a script whole, with nothing in between).

Arguments and replies are documented above each script; ``store/redis.py`` (the client
half) explains the key layout and why each script does what it does. ``{ns}`` is the
namespace; scripts that evict name their victims' keys from it, which is why the store
wants one Redis, not a Cluster.
"""

from __future__ import annotations

_NOW_MS = "local _t = redis.call('TIME'); local now_ms = _t[1] * 1000 + math.floor(_t[2] / 1000)\n"
# The turns as one JSON array: one bulk string to parse instead of one per turn.
_TURNS_JSON = ("local function turns_json() return '[' .. "
               "table.concat(redis.call('LRANGE', KEYS[2], 0, -1), ',') .. ']' end\n")
# What a script's body may call (``now_ms``, ``turns_json()``): for a variant of a script
# (``RedisStore.use_script``), which must keep its keys, arguments and reply.
PRELUDE = _NOW_MS + _TURNS_JSON

# KEYS: s, t, lock. ARGV: token ('' = just load), lock_ms.
# -> {0, lock pttl} (held by another) | {1, redis_now_ms} (no session: not locked)
#    | {1, redis_now_ms, c, a, n, turns} (locked, when a token was given)
LOCK_LOAD = _NOW_MS + _TURNS_JSON + """
if ARGV[1] ~= '' then
  if not redis.call('SET', KEYS[3], ARGV[1], 'NX', 'PX', ARGV[2]) then
    if redis.call('GET', KEYS[3]) ~= ARGV[1] then
      return {0, redis.call('PTTL', KEYS[3])}
    end
    redis.call('PEXPIRE', KEYS[3], ARGV[2])
  end
end
local meta = redis.call('HMGET', KEYS[1], 'c', 'a', 'n')
if not meta[1] then
  -- No such session: nothing to serialise, so no lock to hold (or to release later).
  if ARGV[1] ~= '' then redis.call('DEL', KEYS[3]) end
  return {1, now_ms}
end
return {1, now_ms, meta[1], meta[2], meta[3], turns_json()}
"""

# KEYS: s, t, lru, lock. ARGV: turn json, turn number, now, ttl_ms, history_limit, id,
# token ('' = not under the lock), deadline_ms (0 = none), write tag (one per append),
# mode ('cas' = optimistic: checked against what this turn read, see below; '' = unchecked,
# a session's first turn or a caller outside any turn).
# -> {1, c, a, n, turns, now_ms} | {2, c, a, n, now_ms}: written under our lock or on the
#    count this turn read, so the caller knows the turns (those it read, and this one)
#    | {0} session gone | {-1} lock lost to another turn | {-2} too late
#    | {-3} another turn was recorded since the holder read the session
#    | {-4, c, a, n, turns, now_ms} optimistic, and another turn was recorded since this
#    one read: here is the session now, answer again | {-5} optimistic, and another turn
#    holds the lock: take it and answer again
# (``now_ms``, Redis's clock, is last, so that a variant that leaves it out still parses.)
# The write tag makes a resend idempotent: the session remembers the last one it took.
# The fence (issue 12): the lock is a lease, and a worker stalled past it still believes it
# holds it. Its append is refused while another turn holds the lock (that turn has read the
# session and will write the same turn number), and every append under the lock, the
# holder's too, is refused unless the turn count is still the one it read.
# The optimistic append (issue 13) takes no lock: it is written only if the turn count is
# still the one its turn read and nobody holds the lock (a locked turn has read the session
# and will write that number). A turn count names one history: ids are never reused and
# every write bumps the count.
APPEND = _NOW_MS + _TURNS_JSON + """
local token = ARGV[7]
local cas = ARGV[10] == 'cas'
local holder = redis.call('GET', KEYS[4])
local ours = token ~= '' and holder == token
local exists = redis.call('EXISTS', KEYS[1]) == 1
if exists and redis.call('HGET', KEYS[1], 'w') == ARGV[9] then
  local m = redis.call('HMGET', KEYS[1], 'c', 'a', 'n')
  return {1, m[1], m[2], tonumber(m[3]), turns_json(), now_ms}
end
if tonumber(ARGV[8]) > 0 and now_ms > tonumber(ARGV[8]) then
  if ours then redis.call('DEL', KEYS[4]) end
  return {-2}
end
if not exists then
  if ours then redis.call('DEL', KEYS[4]) end
  return {0}
end
if cas then
  if holder then return {-5} end
  local m = redis.call('HMGET', KEYS[1], 'c', 'a', 'n')
  if tonumber(m[3]) + 1 ~= tonumber(ARGV[2]) then
    return {-4, m[1], m[2], tonumber(m[3]), turns_json(), now_ms}
  end
elseif ours then
  redis.call('DEL', KEYS[4])
elseif holder and token ~= '' then
  return {-1}  -- our lease ran out and another turn holds the lock: it read what we read
end
if token ~= '' and tonumber(redis.call('HGET', KEYS[1], 'n')) + 1 ~= tonumber(ARGV[2]) then
  if ours then return {-3} end
  return {-1}  -- our lease ran out and another turn went in meanwhile
end
redis.call('RPUSH', KEYS[2], ARGV[1])
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[5]), -1)
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
redis.call('HSET', KEYS[1], 'a', ARGV[3], 'w', ARGV[9])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[6])
if ours or cas then return {2, redis.call('HGET', KEYS[1], 'c'), ARGV[3], n, now_ms} end
return {1, redis.call('HGET', KEYS[1], 'c'), ARGV[3], n, turns_json(), now_ms}
"""

# KEYS: s, lru, fresh. ARGV: id, now, ttl_ms, max_sessions, key prefix ('{ns}:'), idle cutoff.
# -> {expired, evicted, evicted ids...}
# Past the cap, sessions that never took a turn go first, oldest first, then the idle-longest
# (issue 16: a flood of new sessions must not evict people using theirs). ``fresh`` holds
# every session created within the TTL by creation time; one that has taken a turn since
# (``n`` > 0) is dropped from it when met, and stays in ``lru`` order.
CREATE = """
redis.call('HSET', KEYS[1], 'c', ARGV[2], 'a', ARGV[2], 'n', 0)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
local expired = redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[6])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. ARGV[6])
local excess = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[4])
local out = {0, 0}
local function evict(m)
  redis.call('ZREM', KEYS[2], m)
  redis.call('ZREM', KEYS[3], m)
  if redis.call('DEL', ARGV[5] .. 's:' .. m, ARGV[5] .. 't:' .. m) > 0 then
    table.insert(out, m)
  else
    expired = expired + 1
  end
  excess = excess - 1
end
local i = 0
while excess > 0 do
  local m = redis.call('ZRANGE', KEYS[3], i, i)[1]
  if not m then break end
  if m == ARGV[1] then
    i = i + 1
  else
    local n = redis.call('HGET', ARGV[5] .. 's:' .. m, 'n')
    if n == '0' then
      evict(m)
    else
      redis.call('ZREM', KEYS[3], m)
      if not n and redis.call('ZREM', KEYS[2], m) == 1 then
        expired = expired + 1
        excess = excess - 1
      end
    end
  end
end
if excess > 0 then
  for _, m in ipairs(redis.call('ZRANGE', KEYS[2], 0, excess)) do
    if excess == 0 then break end
    if m ~= ARGV[1] then evict(m) end
  end
end
out[1] = expired
out[2] = #out - 2
return out
"""

# KEYS: s, t, lru. ARGV: id. -> 1 if the session existed
DELETE = """
local existed = redis.call('EXISTS', KEYS[1])
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('ZREM', KEYS[3], ARGV[1])
return existed
"""

# KEYS: lru. ARGV: idle cutoff. -> {live, pruned}
STATS = """
local pruned = redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1])
return {redis.call('ZCARD', KEYS[1]), pruned}
"""

# Compare-and-delete: release the lock only if it still holds our token.
UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

# By the name the store calls them.
SCRIPTS: dict[str, str] = {"lock_load": LOCK_LOAD, "append": APPEND, "create": CREATE,
                           "delete": DELETE, "stats": STATS, "unlock": UNLOCK}
