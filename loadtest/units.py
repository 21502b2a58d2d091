"""Durations and rates as a person writes them: ``20s``, ``1.5m``, ``500ms``, ``250us``, ``40/s``.

One grammar, one table of units, read by every option that takes a duration (``--duration``)
and by the latency limits of thresholds (``p99<250ms``, ``loadtest.thresholds``):

- a *duration* is a non-negative number followed by an optional unit from ``DURATION_UNITS``
  (``us`` or ``µs``, ``ms``, ``s``, ``m``, ``h``), spaces allowed between them. A bare number
  is in the caller's ``bare`` unit: seconds for a run's length, milliseconds for a
  threshold's limit (as k6 reads it).
- a *rate* is a number of events per second, written ``40`` or ``40/s``.

Errors are ``UsageError``s that say what is accepted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from loadtest.errors import UsageError

DURATION_UNITS: Mapping[str, float] = {"us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
NUMBER = r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
_DURATION = re.compile(rf"^\s*(?P<number>{NUMBER})\s*(?P<unit>[^\s0-9.][^\s]*)?\s*$")
_RATE = re.compile(rf"^\s*(?P<number>{NUMBER})\s*(?:/\s*s)?\s*$")


class DurationError(UsageError):
    """A duration or rate that does not follow the grammar; the message shows what does."""


def to_seconds(number: float, unit: str | None, *, bare: str = "s") -> float:
    """``number`` of ``unit`` (``bare`` when None) in seconds; raises ``DurationError`` for a unit
    that is not in ``DURATION_UNITS``."""
    scale = DURATION_UNITS.get(bare if unit is None else unit)
    if scale is None:
        raise DurationError(f"unit {unit!r} is not a duration ({', '.join(DURATION_UNITS)})")
    return number * scale


def parse_duration(text: str, *, bare: str = "s") -> float:
    """``'20s'``, ``'1.5m'``, ``'500ms'`` or a bare number of ``bare`` units, in seconds."""
    match = _DURATION.match(text)
    if match is None:
        raise DurationError(f"{text!r} is not a duration such as 20s, 1.5m or 500ms")
    try:
        return to_seconds(float(match["number"]), match["unit"], bare=bare)
    except DurationError as exc:
        raise DurationError(f"{text!r}: {exc}") from None


def parse_rate(text: str) -> float:
    """``'40/s'`` or ``'40'``: events per second."""
    match = _RATE.match(text)
    if match is None:
        raise DurationError(f"{text!r} is not a rate such as 20/s")
    return float(match["number"])


__all__ = ["DURATION_UNITS", "NUMBER", "DurationError", "parse_duration", "parse_rate", "to_seconds"]
