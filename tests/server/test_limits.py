"""Token buckets per client (``limits.py``): pure, with a manual clock."""

from __future__ import annotations

import pytest
from server_fakes import ManualClock

from beatdebate_server.limits import RateLimited, TokenBuckets


def test_a_burst_then_the_rate() -> None:
    clock = ManualClock()
    buckets = TokenBuckets("turns", rate=2.0, burst=3, clock=clock)
    for _ in range(3):
        buckets.take("a")
    with pytest.raises(RateLimited) as refused:
        buckets.take("a")
    assert refused.value.what == "turns"
    assert refused.value.retry_after == pytest.approx(0.5)
    clock.advance(0.5)
    buckets.take("a")  # one token came back
    with pytest.raises(RateLimited):
        buckets.take("a")


def test_a_refusal_takes_nothing_and_the_bucket_never_overfills() -> None:
    clock = ManualClock()
    buckets = TokenBuckets("sessions", rate=1.0, burst=2, clock=clock)
    buckets.take("a")
    buckets.take("a")
    for _ in range(5):
        with pytest.raises(RateLimited):
            buckets.take("a")
    clock.advance(1.0)
    buckets.take("a")  # refusals did not dig a hole
    clock.advance(1000.0)
    buckets.take("a")
    buckets.take("a")
    with pytest.raises(RateLimited):  # ... nor did a long rest overfill it
        buckets.take("a")


def test_clients_are_apart_and_the_table_is_bounded() -> None:
    clock = ManualClock()
    buckets = TokenBuckets("turns", rate=0.001, burst=1, clock=clock, max_clients=3)
    buckets.take("a")
    buckets.take("b")
    with pytest.raises(RateLimited):
        buckets.take("a")
    buckets.take("c")
    buckets.take("d")  # forgets the least recently used: b
    assert len(buckets) == 3
    buckets.take("b")  # b starts afresh: erring towards letting a client through
    with pytest.raises(RateLimited):
        buckets.take("d")
