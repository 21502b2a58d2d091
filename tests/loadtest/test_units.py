"""``loadtest.units``: one grammar for durations (options and threshold limits) and rates."""

from __future__ import annotations

import pytest

from loadtest.errors import UsageError
from loadtest.units import DurationError, parse_duration, parse_rate, to_seconds


@pytest.mark.parametrize(("text", "seconds"), [
    ("20s", 20.0), ("1.5m", 90.0), ("500ms", 0.5), ("2h", 7200.0), ("250us", 250e-6), ("250µs", 250e-6),
    ("20", 20.0), (" 3 s ", 3.0), (".5s", 0.5), ("1e3ms", 1.0),
])
def test_durations_in_every_unit(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


def test_a_bare_number_is_in_the_callers_unit() -> None:
    assert parse_duration("250", bare="ms") == pytest.approx(0.25)
    assert to_seconds(2.0, None, bare="ms") == pytest.approx(0.002)
    assert to_seconds(2.0, "m") == 120.0


@pytest.mark.parametrize(("text", "why"), [
    ("soon", "is not a duration such as 20s"), ("-5s", "is not a duration such as 20s"),
    ("5parsecs", "unit 'parsecs' is not a duration (us, µs, ms, s, m, h)"), ("", "is not a duration"),
])
def test_what_is_not_a_duration_is_a_usage_error_saying_why(text: str, why: str) -> None:
    with pytest.raises(DurationError) as caught:
        parse_duration(text)
    assert why in str(caught.value)
    assert isinstance(caught.value, UsageError) and caught.value.exit_code == 2


def test_rates() -> None:
    assert (parse_rate("40/s"), parse_rate("12.5"), parse_rate("3 / s")) == (40.0, 12.5, 3.0)
    with pytest.raises(DurationError, match="not a rate such as 20/s"):
        parse_rate("fast")
