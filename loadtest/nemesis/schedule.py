"""The nemesis's plan: which fault, when, on what, for how long. Pure: the seed decides.

Terms:
- *plan*: the ``PlannedFault`` windows of a run, on the ops' clock (seconds since the load
  started). ``plan(names, seed=..., duration=...)`` gives the same plan for the same
  arguments, which is what keeps a run with a nemesis reproducible from ``--seed`` (the
  actors then do what the plan says; which requests a client fault hits is decided per
  request from the seed too, ``loadtest.nemesis.client``).
- *slot*: the run is split into a quiet lead-in (a tenth of it, at least a second), one slot
  per fault asked for, in the order asked, and a quiet tail (so that conversations finish and
  their histories are read after the last fault). A fault repeats inside its slot while it
  fits, one window at a time: windows never overlap, so each witness has one fault around it.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

LOCK_LEASE = 5.0   # seconds: the Redis store's turn lock (RedisStore.lock_timeout), never renewed
# How far past the lease a pause ends: a stale turn's write then lands while the turn that
# took the lock after it is still at work (it must take longer than this).
PAUSE_PAST_LEASE = (0.02, 0.1)
CLIENT_SHARE = 0.2           # abort, timeout: the share of requests hit inside a window
CLIENT_TIMEOUT = 0.001       # timeout: seconds, well under any server's latency
REDIS_DELAY = (0.05, 0.2)    # redis-latency: seconds added to each reply, each way
_GAP = (1.0, 2.0)            # seconds between two windows of one fault
_QUIET = 0.1                 # lead-in and tail, as a share of the run (at least a second each)


@dataclass(frozen=True, slots=True)
class PlannedFault:
    name: str
    start: float            # seconds since the load started
    end: float
    target: int = 0         # server faults: which worker (an index, modulo the workers found)
    share: float = 0.0      # abort, timeout: share of the requests hit
    seconds: float = 0.0    # timeout: the client's timeout; redis-latency: delay each way

    @property
    def length(self) -> float:
        return self.end - self.start


def _lengths(lease: float) -> dict[str, tuple[float, float]]:
    """Each fault's window length, drawn uniformly from (low, high) seconds."""
    return {
        "pause-worker": (lease + PAUSE_PAST_LEASE[0], lease + PAUSE_PAST_LEASE[1]),
        "kill-worker": (2.0, 3.0),       # the kill, then its supervisor's new worker comes up
        "restart-redis": (1.0, 2.0),     # down that long
        "redis-latency": (2.0, 4.0),
        "abort": (2.0, 4.0),
        "timeout": (2.0, 4.0),
    }


def minimum_duration(names: Sequence[str], *, lease: float = LOCK_LEASE) -> float:
    """The shortest run (seconds of load) in which every fault of ``names`` gets a window."""
    if not names:
        return 0.0
    longest = max(_lengths(lease)[name][1] for name in names)
    load = len(names) * longest / (1 - 2 * _QUIET)
    return float(math.ceil(max(load, len(names) * longest + 2.0)))


def plan(names: Sequence[str], *, seed: int, duration: float,
         lease: float = LOCK_LEASE) -> tuple[PlannedFault, ...]:
    """The windows of ``names`` over ``duration`` seconds of load, drawn from ``seed``.

    Raises ``ValueError`` when the run is too short for a fault (``minimum_duration``)."""
    if not names:
        return ()
    needed = minimum_duration(names, lease=lease)
    if duration < needed:
        raise ValueError(f"--nemesis {','.join(names)} needs at least {needed:g} s of load "
                         f"(--duration), for a window of each fault; the run has {duration:g} s")
    rng = random.Random(f"{seed}:nemesis")
    quiet = max(1.0, _QUIET * duration)
    slot = (duration - 2 * quiet) / len(names)
    lengths = _lengths(lease)
    windows: list[PlannedFault] = []
    for index, name in enumerate(names):
        low, high = lengths[name]
        first, last = quiet + index * slot, quiet + (index + 1) * slot
        length = rng.uniform(low, high)
        start = first + rng.uniform(0.0, max(0.0, min(0.5, slot - length)))
        target = 0
        while start + length <= last:
            windows.append(_window(name, start, length, target=target, draw=rng.uniform))
            target += 1   # the next window of a server fault hits the next worker
            start += length + rng.uniform(*_GAP)
            length = rng.uniform(low, high)
    return tuple(windows)


def _window(name: str, start: float, length: float, *, target: int,
            draw: Callable[[float, float], float]) -> PlannedFault:
    end = start + length
    if name in ("abort", "timeout"):
        return PlannedFault(name, start, end, share=CLIENT_SHARE,
                            seconds=CLIENT_TIMEOUT if name == "timeout" else 0.0)
    if name == "redis-latency":
        return PlannedFault(name, start, end, seconds=draw(*REDIS_DELAY))
    return PlannedFault(name, start, end, target=target)


__all__ = ["CLIENT_SHARE", "CLIENT_TIMEOUT", "LOCK_LEASE", "PAUSE_PAST_LEASE", "REDIS_DELAY",
           "PlannedFault", "minimum_duration", "plan"]
