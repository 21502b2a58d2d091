"""``Nemesis``: it brings each planned fault at its time, takes it back at its end, records the
window; stopped early, it takes back the fault in force and closes its window then."""

from __future__ import annotations

import asyncio
import time

import pytest

from loadtest.history import FaultWindow
from loadtest.live import FAULT_IN_FORCE
from loadtest.nemesis.actors import Nemesis
from loadtest.nemesis.client import ClientFaults
from loadtest.nemesis.schedule import PlannedFault

pytestmark = pytest.mark.anyio

PLAN = (PlannedFault("abort", 0.05, 0.15, share=1.0), PlannedFault("timeout", 0.2, 0.3, share=1.0, seconds=0.001))


async def test_each_window_is_recorded_with_what_it_did() -> None:
    client = ClientFaults(PLAN, seed=1)
    live: list[FaultWindow] = []
    nemesis = Nemesis(PLAN, stage=None, client=client, live=live)
    running = asyncio.create_task(nemesis.run(time.monotonic()))   # the clock both use by default
    await asyncio.sleep(0.1)
    assert client.fault_for(1, 1) is not None            # armed, and inside the abort window
    assert live and live[0].detail == FAULT_IN_FORCE     # the dashboard sees it begin
    await running
    assert [w.name for w in nemesis.windows] == ["abort", "timeout"]
    abort, timeout = nemesis.windows
    assert 0.05 <= abort.start < abort.end and abort.end >= 0.15
    assert abort.detail.startswith("1 of 1 requests picked to be cut off")
    assert timeout.detail.startswith("0 of 0 requests")
    assert live == nemesis.windows                       # each begun window replaced by what it did
    await nemesis.stop(running)                          # nothing left in force: a no-op


async def test_stopping_early_takes_back_the_fault_in_force() -> None:
    plan = (PlannedFault("abort", 0.0, 30.0, share=1.0),)
    client = ClientFaults(plan, seed=1)
    nemesis = Nemesis(plan, stage=None, client=client)
    running = asyncio.create_task(nemesis.run(time.monotonic()))
    await asyncio.sleep(0.05)
    await nemesis.stop(running)
    (window,) = nemesis.windows
    assert window.name == "abort" and window.end < 5.0   # closed when the run ended, not at 30 s


async def test_a_fault_that_cannot_be_brought_says_so_and_the_plan_goes_on() -> None:
    from loadtest.embedded import RunningServer
    from loadtest.nemesis.stage import Stage

    gone = Stage(server=RunningServer(url="http://127.0.0.1:9", pid=2**22 + 12345, port=9, log_path=None))  # type: ignore[arg-type]
    plan = (PlannedFault("pause-worker", 0.0, 0.01), PlannedFault("abort", 0.02, 0.03, share=1.0))
    client = ClientFaults(plan, seed=1)
    nemesis = Nemesis(plan, stage=gone, client=client)
    await nemesis.run(time.monotonic())
    pause, abort = nemesis.windows
    assert pause.name == "pause-worker" and pause.detail.startswith("not brought: NoSuchProcess")
    assert abort.name == "abort"
