"""Load stages: the number of users, or the arrival rate, over a run, as k6 writes them.

Terms:
- *stage*: ``DURATION:TARGET``, a straight line from where the previous stage ended (the
  first starts from 0) to ``TARGET`` over ``DURATION``. A duration is ``loadtest.units``'
  (``30s``, ``1m``, ``500ms``; a bare number is seconds); ``0s`` jumps at once.
- *user stages* (``--stages "30s:50,1m:200,30s:0"``, the closed model): TARGET is a whole
  number of virtual users. The count of users running is the last whole number the line has
  reached: ramping 0→10 over 2 s starts a user every 0.2 s, the tenth at 2 s; ramping 10→0
  over 2 s asks one to stop every 0.2 s. ``user_steps`` lists those moments.
- *arrival stages* (``--arrival-stages "30s:10/s,1m:100/s"``, the open model): TARGET is
  a rate (``10/s`` or ``10``). Users arrive when the arrivals due so far, the integral of the
  rate from the start, reach a whole number: the n-th (from 0) when n are due
  (``arrival_times``). A constant rate ``r`` is one stage from ``r`` to ``r``: arrivals at
  0, 1/r, 2/r … as the open model always had.
- The stages' durations add up to the run's length: stages replace ``--duration``.

Everything here is pure: text in, numbers out; errors are ``UsageError``s that quote the
stage at fault and show what is accepted.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from loadtest.errors import UsageError
from loadtest.units import DurationError, parse_duration, parse_rate

USER_STAGES_EXAMPLE = "30s:50,1m:200,30s:0"
ARRIVAL_STAGES_EXAMPLE = "30s:10/s,1m:100/s,30s:0/s"
_WHOLE = re.compile(r"^\s*[0-9]+\s*$")


@dataclass(frozen=True, slots=True)
class Stage:
    duration: float   # seconds (0: a jump)
    target: float     # at the stage's end: users (a whole number) or arrivals per second


class StageError(UsageError):
    """Stages that do not follow the grammar or cannot run; the message says which and why."""


def parse_stages(text: str | Sequence[str], *, what: str = "--stages") -> tuple[Stage, ...]:
    """User stages: ``'30s:50,1m:200,30s:0'`` (or the same as a list of ``'30s:50'``)."""
    stages = tuple(_parse(text, what=what, example=USER_STAGES_EXAMPLE, target=_users))
    if max(stage.target for stage in stages) < 1:
        raise StageError(f"{what}: no stage has a user in it (e.g. {USER_STAGES_EXAMPLE!r})")
    return stages


def parse_arrival_stages(text: str | Sequence[str], *, what: str = "--arrival-stages") -> tuple[Stage, ...]:
    """Arrival stages: ``'30s:10/s,1m:100/s'`` (or the same as a list of ``'30s:10/s'``)."""
    stages = tuple(_parse(text, what=what, example=ARRIVAL_STAGES_EXAMPLE, target=parse_rate))
    if max(stage.target for stage in stages) <= 0:
        raise StageError(f"{what}: every rate is 0, so no user would arrive (e.g. {ARRIVAL_STAGES_EXAMPLE!r})")
    return stages


def _users(text: str) -> float:
    if not _WHOLE.match(text):
        raise DurationError(f"{text.strip()!r} is not a whole number of users")
    return float(int(text))


def _parse(text: str | Sequence[str], *, what: str, example: str,
           target: Callable[[str], float]) -> Iterator[Stage]:
    parts = [part for chunk in ([text] if isinstance(text, str) else text) for part in chunk.split(",")]
    if not any(part.strip() for part in parts):
        raise StageError(f"{what} is empty: write stages such as {example!r}")
    total = 0.0
    for number, part in enumerate(parts, start=1):
        duration, colon, value = part.partition(":")
        where = f"{what}: stage {number} ({part.strip()!r})"
        if not colon or not duration.strip() or not value.strip():
            raise StageError(f"{where} is not DURATION:TARGET, as in {example!r}")
        try:
            stage = Stage(parse_duration(duration), target(value))
        except DurationError as exc:
            raise StageError(f"{where}: {exc}") from None
        total += stage.duration
        yield stage
    if total <= 0:
        raise StageError(f"{what}: the stages last no time at all; give at least one a duration ({example!r})")


def total_duration(stages: Sequence[Stage]) -> float:
    """The run's length: the stages' durations added up."""
    return sum(stage.duration for stage in stages)


def peak(stages: Sequence[Stage], *, start: float = 0.0) -> float:
    """The highest users (or rate) the stages reach."""
    return max([start, *(stage.target for stage in stages)])


def level_at(stages: Sequence[Stage], t: float, *, start: float = 0.0) -> float:
    """The line's value at ``t`` seconds (users or rate, unrounded); the last target after the end."""
    begin, value = 0.0, start
    for stage in stages:
        if t < begin + stage.duration:
            return value + (stage.target - value) * (t - begin) / stage.duration
        begin, value = begin + stage.duration, stage.target
    return value


def user_steps(stages: Sequence[Stage]) -> list[tuple[float, int]]:
    """``(seconds, users)`` at each moment the count of users changes (module doc), in order."""
    steps: list[tuple[float, int]] = []
    begin, level = 0.0, 0
    for stage in stages:
        target = int(stage.target)
        if target != level:
            direction = 1 if target > level else -1
            for count in range(level + direction, target + direction, direction):
                steps.append((begin + stage.duration * (count - level) / (target - level), count))
        begin, level = begin + stage.duration, target
    return steps


def ramp_steps(users: int, ramp_up: float) -> list[tuple[float, int]]:
    """The classic ``--users N --ramp-up S`` as ``user_steps``: user n (from 0) starts at n·S/N,
    the first at once; none stops before the run's end."""
    return [(number * ramp_up / users, number + 1) for number in range(users)]


def users_at(stages: Sequence[Stage], t: float) -> int:
    """How many users the stages ask for at ``t`` seconds."""
    count = 0
    for at, level in user_steps(stages):
        if at > t:
            break
        count = level
    return count


def arrivals_due(stages: Sequence[Stage], t: float, *, start: float = 0.0) -> float:
    """Arrivals due by ``t`` seconds: the integral of the rate from 0 to ``t``."""
    begin, value, due = 0.0, start, 0.0
    for stage in stages:
        span = min(max(t - begin, 0.0), stage.duration)
        if span > 0:
            slope = (stage.target - value) / stage.duration
            due += value * span + slope * span * span / 2
        begin, value = begin + stage.duration, stage.target
    return due   # nothing arrives after the last stage


def arrival_times(stages: Sequence[Stage], *, start: float = 0.0) -> Iterator[float]:
    """The intended arrival times, in seconds: the n-th (from 0) when ``n`` arrivals are due
    (module doc); none at or after the stages' end."""
    begin, value, due, number = 0.0, start, 0.0, 0
    for stage in stages:
        if stage.duration <= 0:
            value = stage.target
            continue
        a, b, d = value, stage.target, stage.duration
        curve = (b - a) / (2 * d)              # due(begin + s) = due + a·s + curve·s²
        end = due + (a + b) * d / 2
        while number < end:
            need = number - due
            # The smaller root of curve·s² + a·s - need = 0, written so that it holds for a flat
            # rate (curve = 0), a rising one from 0 (a = 0) and a falling one alike.
            root = math.sqrt(max(a * a + 4 * curve * need, 0.0))
            s = 2 * need / (a + root) if a + root > 0 else 0.0
            if s >= d:                         # rounding at the stage's end: the next stage's
                break
            yield begin + s
            number += 1
        begin, value, due = begin + d, b, end


__all__ = ["ARRIVAL_STAGES_EXAMPLE", "USER_STAGES_EXAMPLE", "Stage", "StageError", "arrival_times",
           "arrivals_due", "level_at", "parse_arrival_stages", "parse_stages", "peak", "ramp_steps",
           "total_duration", "user_steps", "users_at"]
