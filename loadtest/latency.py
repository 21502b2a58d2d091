"""Latency histograms (HDR), mergeable without loss.

Values are recorded in microseconds, from one microsecond to one hour, at three significant
digits; percentiles come back in seconds, unrounded.
"""

from __future__ import annotations

from hdrh.histogram import HdrHistogram

_LOWEST_US = 1
_HIGHEST_US = 3_600_000_000
_SIGNIFICANT_DIGITS = 3
PERCENTILES: tuple[float, ...] = (50.0, 90.0, 99.0, 99.9)


class LatencyHistogram:
    def __init__(self) -> None:
        self._hdr = HdrHistogram(_LOWEST_US, _HIGHEST_US, _SIGNIFICANT_DIGITS)

    def record(self, seconds: float) -> None:
        micros = min(max(int(seconds * 1_000_000), _LOWEST_US), _HIGHEST_US)
        self._hdr.record_value(micros)

    def merge(self, other: LatencyHistogram) -> LatencyHistogram:
        self._hdr.add(other._hdr)
        return self

    @property
    def count(self) -> int:
        return int(self._hdr.get_total_count())

    def percentile(self, pct: float) -> float:
        """The value at ``pct`` (0..100) in seconds; 0.0 for an empty histogram."""
        return self._hdr.get_value_at_percentile(pct) / 1_000_000 if self.count else 0.0

    @property
    def max(self) -> float:
        return self._hdr.get_max_value() / 1_000_000 if self.count else 0.0

    def percentiles(self, pcts: tuple[float, ...] = PERCENTILES) -> dict[float, float]:
        """Several percentiles (seconds) in one pass over the counts: ``percentile`` for each,
        a few times cheaper. For a dashboard that asks several times a second."""
        if not self.count:
            return {pct: 0.0 for pct in pcts}
        found = self._hdr.get_percentile_to_value_dict(list(pcts))
        return {pct: found[pct] / 1_000_000 for pct in pcts}

    def summary(self) -> dict[str, float]:
        """``{"count", "p50", "p90", "p99", "p99.9", "max"}`` with latencies in seconds."""
        out: dict[str, float] = {"count": self.count}
        for pct in PERCENTILES:
            out[f"p{pct:g}"] = self.percentile(pct)
        out["max"] = self.max
        return out
