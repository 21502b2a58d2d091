"""The client faults (``abort``, ``timeout``): which request the harness's HTTP clients hit.

``ClientFaults`` is the transports' ``RequestFaults`` (``loadtest.transport``). Inside a
planned ``abort`` or ``timeout`` window it hits a request when a draw made from the seed, the
virtual user and that user's request number falls under the window's share: the same
requests of a user are chosen in every run with the seed, whatever the schedule does with
the others (when they fall in a window still depends on timing, as any load test's does).
Before ``arm`` (the preflight) it hits nothing. It counts what it saw and hit per window,
for the window's ``detail``.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence

from loadtest.nemesis.catalog import CLIENT_FAULTS
from loadtest.nemesis.schedule import PlannedFault
from loadtest.transport import RequestFault

_SCALE = float(2**64)


def _draw(seed: int, user: int, number: int, fault: str) -> float:
    """A uniform number in [0, 1) from its arguments alone."""
    digest = hashlib.blake2b(f"{seed}:{user}:{number}:{fault}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / _SCALE


class ClientFaults:
    """``RequestFaults`` for the client windows of a plan (module doc)."""

    def __init__(self, windows: Sequence[PlannedFault], *, seed: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.windows = tuple(w for w in windows if w.name in CLIENT_FAULTS)
        self.seen = [0] * len(self.windows)     # requests asked about inside each window
        self.hit = [0] * len(self.windows)      # ... and those the window hit
        self._seed = seed
        self._clock = clock
        self._started: float | None = None

    def arm(self, started: float) -> None:
        """Hit requests from now on; ``started`` is the load's start on ``clock``."""
        self._started = started

    def fault_for(self, user: int, number: int) -> RequestFault | None:
        if self._started is None:
            return None
        now = self._clock() - self._started
        for index, window in enumerate(self.windows):
            if window.start <= now < window.end:
                self.seen[index] += 1
                if _draw(self._seed, user, number, window.name) >= window.share:
                    return None
                self.hit[index] += 1
                if window.name == "abort":
                    return RequestFault("abort")
                return RequestFault("timeout", timeout=window.seconds)
        return None

    def detail(self, window: PlannedFault) -> str:
        """What a window did, for its ``FaultWindow.detail``."""
        index = self.windows.index(window)
        if window.name == "abort":
            return (f"{self.hit[index]} of {self.seen[index]} requests picked to be cut off once sent "
                    f"(share {window.share:g}; one answered first is not cut)")
        return (f"{self.hit[index]} of {self.seen[index]} requests given a {window.seconds * 1000:g} ms "
                f"client timeout (share {window.share:g})")


__all__ = ["ClientFaults"]
