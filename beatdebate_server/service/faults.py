"""Injected faults in the primary recommender, to exercise the fallback path.

``fault_rate`` makes that share of primary calls raise ``InjectedFault``; ``fault_latency``
delays every primary call by that many seconds (which, past ``primary_timeout``, turns into
a timeout). The random draws come from one ``random.Random(fault_seed)`` that the app
holds, so a run with the same seed and the same request order injects the same faults.
"""

from __future__ import annotations

import asyncio
import random


class InjectedFault(RuntimeError):
    """The primary recommender failed on purpose (``--fault-rate``)."""


class FaultInjector:
    """Decides, per primary call, whether to delay it and whether to fail it."""

    __slots__ = ("rate", "latency", "_rng")

    def __init__(self, *, rate: float = 0.0, latency: float = 0.0, seed: int = 0) -> None:
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"fault rate must be within 0..1, got {rate}")
        if latency < 0:
            raise ValueError(f"fault latency must be >= 0, got {latency}")
        self.rate = rate
        self.latency = latency
        self._rng = random.Random(seed)

    @property
    def active(self) -> bool:
        return self.rate > 0.0 or self.latency > 0.0

    async def before_primary(self) -> None:
        """Delay, then maybe raise ``InjectedFault``. A no-op when no fault is configured."""
        if self.latency > 0.0:
            await asyncio.sleep(self.latency)
        if self.rate > 0.0 and self._rng.random() < self.rate:
            raise InjectedFault("injected primary recommender fault")
