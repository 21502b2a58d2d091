"""The nemesis at work: it does what the plan says, when it says, and records each window.

``Nemesis(plan, stage=..., client=...)`` runs alongside the load (``run``). For each planned
window, in order, it waits for the window's start, brings the fault (an *actor* per fault:
stop a worker, kill one, crash Redis, slow the proxy; the client faults act by themselves
in the transports, ``ClientFaults``), waits for the window's end, takes the fault back, and
records a ``FaultWindow`` with the times it really began and ended and what it did. When the
run ends first (``stop``), the fault in force is taken back at once and its window ends then:
no worker is left stopped, no Redis left down. ``live`` (the dashboard's ``LiveStats``)
sees a window as soon as it begins. A fault that cannot be brought (the server is gone) or
taken back cleanly says so in its window's detail, and the run goes on: the windows are
what the report shows, so a fault that did not happen cannot pass for one that did.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from loadtest.history import FaultWindow
from loadtest.live import FAULT_IN_FORCE
from loadtest.nemesis import processes
from loadtest.nemesis.catalog import CLIENT_FAULTS
from loadtest.nemesis.client import ClientFaults
from loadtest.nemesis.schedule import LOCK_LEASE, PlannedFault
from loadtest.nemesis.stage import Stage

Revert = Callable[[], Awaitable[str]]   # takes a fault back; says what was done
_CLIENT = CLIENT_FAULTS


@dataclass
class _InForce:
    planned: PlannedFault
    start: float
    revert: Revert
    live_index: int | None


class Nemesis:
    """Runs ``plan`` against ``stage`` and ``client`` (module doc); ``windows`` holds what it did."""

    def __init__(self, plan: Sequence[PlannedFault], *, stage: Stage | None, client: ClientFaults | None,
                 live: list[FaultWindow] | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.plan = tuple(plan)
        self.windows: list[FaultWindow] = []
        self._stage = stage
        self._client = client
        self._live = live
        self._clock = clock
        self._started = 0.0
        self._in_force: _InForce | None = None

    async def run(self, started: float) -> None:
        """Do the plan; ``started`` is the load's start on ``clock`` (the ops' zero)."""
        self._started = started
        if self._client is not None:
            self._client.arm(started)
        for planned in self.plan:
            await self._sleep_until(planned.start)
            try:
                revert = await self._bring(planned)
            except Exception as exc:   # e.g. the server is gone: say so in the window, go on
                at = round(self._now(), 3)
                self.windows.append(FaultWindow(planned.name, at, at, f"not brought: {type(exc).__name__}: {exc}"))
                continue
            live_index = None
            if self._live is not None:
                live_index = len(self._live)
                self._live.append(FaultWindow(planned.name, self._now(), self._now() + planned.length,
                                              FAULT_IN_FORCE))
            # A client fault hits requests from its planned start (``ClientFaults``), whenever
            # this loop wakes: its window is the plan's.
            began = planned.start if planned.name in _CLIENT else self._now()
            self._in_force = _InForce(planned, began, revert, live_index)
            # Its full length from when it really began (finding a worker takes a moment): a
            # pause must outlast the lock lease.
            await self._sleep_until(max(planned.end, began + planned.length))
            await self._take_back()

    async def stop(self, task: asyncio.Task[None]) -> None:
        """End ``task`` (this nemesis's ``run``): the fault in force is taken back, its window
        closed now. Re-raises what ``run`` raised, but not its cancellation."""
        if not task.done():
            task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        finally:
            await self._take_back()

    async def _take_back(self) -> None:
        in_force, self._in_force = self._in_force, None
        if in_force is None:
            return
        try:
            detail = await in_force.revert()
        except Exception as exc:
            detail = f"not taken back cleanly: {type(exc).__name__}: {exc}"
        planned = in_force.planned
        end = min(self._now(), planned.end) if planned.name in _CLIENT else self._now()
        window = FaultWindow(planned.name, round(in_force.start, 3), round(end, 3), detail)
        self.windows.append(window)
        if self._live is not None and in_force.live_index is not None:
            self._live[in_force.live_index] = window

    def _now(self) -> float:
        return self._clock() - self._started

    async def _sleep_until(self, at: float) -> None:
        wait = at - self._now()
        if wait > 0:
            await asyncio.sleep(wait)

    async def _bring(self, planned: PlannedFault) -> Revert:
        if planned.name in _CLIENT:
            client = self._client
            assert client is not None

            async def counted() -> str:
                return client.detail(planned)
            return counted
        stage = self._stage
        assert stage is not None, f"{planned.name} needs a server the harness started"
        return await _ACTORS[planned.name](planned, stage, self._now)


# -- the actors: bring one fault, return how to take it back -----------------------------------

Actor = Callable[[PlannedFault, Stage, Callable[[], float]], Awaitable[Revert]]


async def _workers(stage: Stage) -> processes.ServerProcesses:
    return await asyncio.to_thread(processes.find_workers, stage.server.pid, stage.server.port)


async def _pause_worker(planned: PlannedFault, stage: Stage, now: Callable[[], float]) -> Revert:
    found = await _workers(stage)
    worker = found.workers[planned.target % len(found.workers)]
    supervisor = found.supervisors.get(worker)
    began = now()
    processes.pause(worker, supervisor)

    async def resume() -> str:
        stopped = now() - began
        await asyncio.to_thread(processes.resume, worker, supervisor)
        alongside = f" (its supervisor pid {supervisor} stopped alongside)" if supervisor else ""
        return (f"worker pid {worker} of {len(found.workers)} stopped for {stopped:.2f} s, past the "
                f"{LOCK_LEASE:g} s lock lease{alongside}")
    return resume


async def _kill_worker(planned: PlannedFault, stage: Stage, now: Callable[[], float]) -> Revert:
    found = await _workers(stage)
    if not found.supervisors:
        async def nothing() -> str:
            return "one server process and no supervisor to replace it: nothing killed"
        return nothing
    worker = found.workers[planned.target % len(found.workers)]
    processes.kill(worker)

    async def replaced() -> str:
        after = await _workers(stage)
        new = sorted(set(after.workers) - set(found.workers))
        then = f"pid {', '.join(map(str, new))} took its place" if new else "not replaced yet"
        return f"worker pid {worker} of {len(found.workers)} killed (SIGKILL); {then}"
    return replaced


async def _restart_redis(planned: PlannedFault, stage: Stage, now: Callable[[], float]) -> Revert:
    redis = stage.redis
    assert redis is not None, "restart-redis needs the harness's own Redis"
    pid = redis.pid
    began = now()
    await asyncio.to_thread(redis.crash)

    async def restart() -> str:
        down = now() - began
        await asyncio.to_thread(redis.start)
        return (f"redis-server pid {pid} killed (SIGKILL), down {down:.2f} s, restarted as pid {redis.pid} "
                "from its append-only file")
    return restart


async def _redis_latency(planned: PlannedFault, stage: Stage, now: Callable[[], float]) -> Revert:
    proxy = stage.proxy
    assert proxy is not None, "redis-latency needs the harness's proxy"
    dropped = proxy.degrade(planned.seconds)

    async def restore() -> str:
        proxy.restore()
        return (f"Redis replies delayed {planned.seconds * 1000:.0f} ms each way; {dropped} open connection(s) "
                "dropped at the start")
    return restore


_ACTORS: dict[str, Actor] = {
    "pause-worker": _pause_worker,
    "kill-worker": _kill_worker,
    "restart-redis": _restart_redis,
    "redis-latency": _redis_latency,
}

__all__ = ["Nemesis"]
