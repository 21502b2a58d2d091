"""Token buckets per client: how fast one client may start sessions or take turns.

Terms:
- *client*: the string a caller keys by (the HTTP layer uses the peer address, or the
  address a trusted reverse proxy names: ``http/throttle.py``).
- *bucket*: ``burst`` tokens, refilled at ``rate`` tokens per second up to ``burst``; each
  request takes one. An empty bucket refuses with the seconds until a token is back.
- *bounded*: at most ``max_clients`` buckets. Past that, the least recently used bucket is
  forgotten; its client starts again with a full bucket, which errs towards letting a
  client through, never towards refusing one that kept to its rate.

Pure: no I/O, and the clock is a parameter.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

Limited = Literal["sessions", "turns"]


class RateLimited(Exception):
    """A client went past its rate; ``retry_after`` seconds until it may try again."""

    def __init__(self, what: Limited, retry_after: float) -> None:
        super().__init__(f"too many {'new sessions' if what == 'sessions' else 'turns'} "
                         f"from this client")
        self.what = what
        self.retry_after = retry_after


class TokenBuckets:
    """One token bucket per client, for one kind of request."""

    __slots__ = ("_buckets", "_clock", "burst", "max_clients", "rate", "what")

    def __init__(self, what: Limited, *, rate: float, burst: int,
                 clock: Callable[[], float] = time.monotonic,
                 max_clients: int = 65_536) -> None:
        self.what = what
        self.rate = rate
        self.burst = float(burst)
        self.max_clients = max_clients
        self._clock = clock
        # client -> (tokens, when counted); insertion order is least recently used first.
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, client: str) -> None:
        """Take a token for ``client``, or raise ``RateLimited`` (taking nothing)."""
        now = self._clock()
        buckets = self._buckets
        entry = buckets.pop(client, None)  # re-inserted below: most recently used last
        if entry is None:
            tokens = self.burst
            if len(buckets) >= self.max_clients:
                del buckets[next(iter(buckets))]
        else:
            tokens = min(self.burst, entry[0] + (now - entry[1]) * self.rate)
        if tokens >= 1.0:
            buckets[client] = (tokens - 1.0, now)
            return
        buckets[client] = (tokens, now)
        raise RateLimited(self.what, (1.0 - tokens) / self.rate)

    def __len__(self) -> int:
        return len(self._buckets)


__all__ = ["Limited", "RateLimited", "TokenBuckets"]
