"""``ClientFaults``: which requests a client window hits, decided from the seed."""

from __future__ import annotations

from loadtest.nemesis.client import ClientFaults
from loadtest.nemesis.schedule import PlannedFault
from loadtest.transport import RequestFault

ABORT = PlannedFault("abort", 1.0, 2.0, share=0.25)
TIMEOUT = PlannedFault("timeout", 3.0, 4.0, share=0.5, seconds=0.001)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def faults(seed: int = 7) -> tuple[ClientFaults, Clock]:
    clock = Clock()
    found = ClientFaults([ABORT, PlannedFault("pause-worker", 5.0, 10.1), TIMEOUT], seed=seed, clock=clock)
    return found, clock


def test_nothing_is_hit_before_the_load_starts_nor_outside_a_window() -> None:
    client, clock = faults()
    clock.now = 101.5
    assert all(client.fault_for(user, n) is None for user in range(5) for n in range(20))   # not armed
    client.arm(100.0)
    clock.now = 100.5
    assert all(client.fault_for(user, n) is None for user in range(5) for n in range(20))
    clock.now = 106.0                                    # a server fault's window: not the client's
    assert all(client.fault_for(user, n) is None for user in range(5) for n in range(20))
    assert client.windows == (ABORT, TIMEOUT)


def test_a_window_hits_about_its_share_the_same_requests_for_the_same_seed() -> None:
    client, clock = faults()
    client.arm(100.0)
    clock.now = 101.5
    hits = {(user, n) for user in range(20) for n in range(50) if client.fault_for(user, n) is not None}
    assert 0.2 < len(hits) / 1000 < 0.3
    again, again_clock = faults()
    again.arm(100.0)
    again_clock.now = 101.9
    assert hits == {(user, n) for user in range(20) for n in range(50) if again.fault_for(user, n) is not None}
    other, other_clock = faults(seed=8)
    other.arm(100.0)
    other_clock.now = 101.5
    assert hits != {(user, n) for user in range(20) for n in range(50) if other.fault_for(user, n) is not None}
    assert client.detail(ABORT) == (f"{len(hits)} of 1000 requests picked to be cut off once sent "
                                    "(share 0.25; one answered first is not cut)")


def test_a_timeout_window_gives_its_client_timeout() -> None:
    client, clock = faults()
    client.arm(100.0)
    clock.now = 103.5
    found = [client.fault_for(0, n) for n in range(100)]
    assert {f for f in found if f is not None} == {RequestFault("timeout", timeout=0.001)}
    hit = sum(f is not None for f in found)
    assert client.detail(TIMEOUT) == f"{hit} of 100 requests given a 1 ms client timeout (share 0.5)"
