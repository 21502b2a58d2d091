"""The runner: put virtual users on a target, record every operation, and judge the history.

What it runs is a ``RunConfig`` (``loadtest.run_config``), checked when it is built.

Terms:
- *profile*: how to talk to the target and what its answers can prove (``loadtest.profiles``;
  ``None``: the session contract, every property). Its evidence decides which properties are
  judged; its allow list (with ``allow``/``deny``) which violations are reported without
  failing the run; its ``[run] scenarios`` are the default scenarios of a target that is not ours.
- *target*: a base URL (``RunConfig.target``), an in-process ASGI app (``app``; the caller
  enters its lifespan), an httpx transport such as a leaky ``MockTransport``
  (``http_transport``), or, when none is given, an embedded ``beatdebate serve`` started
  for the run and stopped after it.
- *closed model* (default): ``users`` virtual users, started evenly over ``ramp_up``
  seconds, each looping scenario iterations (thinking between steps) until ``duration``
  ends or it has run ``iterations``.
- *open model* (``arrival_rate``): users *arrive* every ``1/arrival_rate`` seconds for
  ``duration`` whatever the server does; each runs ``iterations`` (default 1) iterations
  and leaves. Requests carry their intended start (see ``users``).
- *stages* (``loadtest.stages``): the load over time, k6's way. ``stages`` (closed model)
  ramps the number of users from stage to stage; users past the count stop at the end of
  their current iteration, never mid-conversation (the newest first). ``arrival_stages``
  ramps the open model's arrival rate. Either sets the run's length, and replaces
  ``users``, ``ramp_up`` and ``duration`` (``arrival_rate`` too); giving both is a
  ``UsageError``. With none of those given, a scenario file's ``stages`` apply.
- *draining*: past the deadline no iteration starts and (closed model) think times are
  skipped, so that running conversations finish (with their history reads) quickly; what
  is still running ``drain_timeout`` seconds later is cancelled and recorded as ``unknown``.
- *nemesis* (``nemesis``): faults planned from the seed and brought during the load
  (``loadtest.nemesis``); the windows they were in force are in the result and the history.
  A server the harness starts is the embedded one or ``server_cmd``; either may come with a
  Redis of the harness's own and a proxy in front of its Redis (``nemesis.stage``).

Every completed operation goes to the incremental checker and to ``LiveStats``; the verdict
is ``checker.finish()``. A run never raises for what a target answers; a harness failure
(target unreachable, embedded server down) is ``RunResult.harness_error``.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import random
import secrets
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from loadtest import defaults
from loadtest.coverage import CoverageTally
from loadtest.errors import HarnessFailure, TargetUnreachable
from loadtest.heap import kept_without_gc_scans
from loadtest.history import FaultWindow, Op, read_fault_windows, read_history, write_history
from loadtest.live import LiveStats
from loadtest.nemesis.actors import Nemesis
from loadtest.nemesis.catalog import CLIENT_FAULTS
from loadtest.nemesis.client import ClientFaults
from loadtest.nemesis.schedule import PlannedFault
from loadtest.nemesis.schedule import plan as plan_faults
from loadtest.nemesis.stage import ServerSpec, server_spec, staged_server
from loadtest.nemesis.stage import Stage as StagedServer
from loadtest.oracle.checker import IncrementalChecker
from loadtest.oracle.model import Verdict
from loadtest.personas import Assigner, Persona
from loadtest.preflight import PROBES, run_preflight
from loadtest.profiles import (
    Profile, allowed_properties, check_property_names, contract_profile, exchange_for, gradio_factory,
)
from loadtest.profiles import evidence as profile_evidence
from loadtest.result import RunResult, SkippedPersona
from loadtest.run_config import DEFAULT_DURATION, RunConfig, in_process
from loadtest.scenario import Scenario
from loadtest.stages import Stage, arrival_times, ramp_steps, user_steps
from loadtest.target import surface_url
from loadtest.transport import (
    RequestFaults, TransportFactory, aiohttp_factory, ensure_file_descriptors, httpx_factory,
)
from loadtest.users import UserSettings, VirtualUser

class _History:
    """The run's ``OpSink``: numbers operations, keeps them, feeds the checker and live stats."""

    def __init__(self, checker: IncrementalChecker, live: LiveStats) -> None:
        self.ops: list[Op] = []
        self.checker_error: BaseException | None = None
        self._checker = checker
        self._live = live
        self._next = 0

    def next_index(self) -> int:
        self._next += 1
        return self._next - 1

    def complete(self, op: Op) -> None:
        self.ops.append(op)
        if len(self.ops) % _FREEZE_EVERY == 0:
            gc.freeze()   # the history so far leaves the collector's scans (``_rare_full_collections``)
        self._live.record(op)
        if self.checker_error is None:
            try:
                self._live.add_anomalies(self._checker.observe(op))
            except Exception as exc:  # a checker bug must not stop the load; judged in batch later
                self.checker_error = exc


def run(config: RunConfig, *, live: LiveStats | None = None) -> RunResult:
    """Run ``config`` to the end and return what it produced (uvloop when importable)."""
    produced: list[RunResult] = []

    async def main() -> None:
        # The result leaves through ``produced``, not as the main task's result: on the way
        # out, asyncio.Runner looks up its SIGINT handler (a partial holding the main task)
        # in an Enum, and the failed lookup formats repr(task), which includes the result:
        # every Op of the run, formatted twice and thrown away (a tenth of the CPU of a 10 s run).
        produced.append(await run_async(config, live=live))

    try:
        import uvloop
    except ImportError:
        asyncio.run(main())
    else:
        uvloop.run(main())
    return produced[0]


async def run_async(config: RunConfig, *, live: LiveStats | None = None) -> RunResult:
    """Run ``config`` in the running loop; see the module doc."""
    with _rare_full_collections():
        return await _run(config, live=live)


async def _run(config: RunConfig, *, live: LiveStats | None) -> RunResult:
    from loadtest.oracle import IncrementalChecker, check

    live = live if live is not None else LiveStats()
    live.planned_duration = config.planned_duration
    live.planned_iterations = config.iterations
    live.phase = "starting"
    seed = config.seed if config.seed is not None else secrets.randbelow(2**31)
    scenarios = config.resolved_scenarios
    run_tag = f"bd{secrets.token_hex(3)}"
    checker = IncrementalChecker(history_limit=config.history_limit, evidence=config.evidence,
                                 allowed=config.allowed)
    history = _History(checker, live)
    coverage = CoverageTally(scenarios)
    wall_start = time.time()
    elapsed = 0.0
    skipped: tuple[SkippedPersona, ...] = ()
    harness_error: str | None = None
    label = config.target or ("in-process" if in_process(config) else "embedded")
    planned = _planned_faults(config, seed)
    client_faults = ClientFaults(planned, seed=seed) if any(p.name in CLIENT_FAULTS for p in planned) else None
    faults: tuple[FaultWindow, ...] = ()
    try:
        if not in_process(config) and config.model == "closed":
            ensure_file_descriptors(config.planned_users or 0)   # before any user connects: a clear error, not N failures
        async with _target(config, faults=client_faults) as reach:
            label, factory = reach.label, reach.factory
            pool = config.pool
            if config.preflight:
                live.phase = "preflight"
                fields = sorted({f for s in scenarios for f in s.needs if f in PROBES})
                found = await run_preflight(pool, fields=fields, factory=factory, run_tag=run_tag,
                                            exchange=exchange_for(config.resolved_profile))
                pool, skipped = found.usable, found.skipped
                if not pool:
                    raise HarnessFailure("no persona fits the target: " + "; ".join(
                        f"{s.persona}: {s.reason}" for s in skipped[:3]))
            live.phase = "running"
            live.started = time.monotonic()
            nemesis = Nemesis(planned, stage=reach.stage, client=client_faults, live=live.faults)
            faulting = asyncio.create_task(nemesis.run(live.started)) if planned else None
            try:
                await _load(config, scenarios=scenarios, pool=pool, seed=seed, run_tag=run_tag,
                            factory=factory, sink=history, live=live, coverage=coverage)
            finally:
                if faulting is not None:   # no fault outlives the load: a stopped worker is continued
                    await nemesis.stop(faulting)
                    faults = tuple(nemesis.windows)
            elapsed = time.monotonic() - live.started
    except HarnessFailure as exc:
        harness_error = f"target unreachable: {exc}" if isinstance(exc, TargetUnreachable) else str(exc)
    except Exception as exc:  # the embedded server did not start, and similar
        harness_error = f"{type(exc).__name__}: {exc}"
    live.phase = "checking"
    ops = sorted(history.ops, key=lambda op: op.index)
    if harness_error is not None and not ops:
        verdict = Verdict(valid="unknown", anomalies={})
    elif history.checker_error is None:
        verdict = checker.finish()
    else:
        verdict = check(ops, history_limit=config.history_limit, evidence=config.evidence,
                        allowed=config.allowed)
    settings = _settings(config, seed=seed, scenarios=scenarios, run_tag=run_tag)
    if config.history_path is not None:
        try:
            write_history(Path(config.history_path), ops, meta={"target": label, "settings": settings},
                          faults=faults)
        except OSError as exc:
            harness_error = harness_error or f"cannot write the history: {exc}"
    live.phase = "done"
    return RunResult(target=label, scenarios=tuple(dict.fromkeys(s.name for s in scenarios)),
                     settings=settings, started_at=wall_start, elapsed=elapsed, ops=ops, verdict=verdict,
                     latency=dict(live.latency), errors=dict(live.errors), skipped_personas=skipped,
                     harness_error=harness_error, coverage=coverage.result(), faults=faults)


_FULL_COLLECTION_SPACING = 10   # times the interpreter's spacing of full collections
_FREEZE_EVERY = 20_000          # recorded operations between two ``gc.freeze()``
# Runs may overlap (``run_async`` twice in one loop): the first to start spaces the full
# collections out, the last to end restores the thresholds it found.
_spaced_runs = 0
_saved_thresholds: tuple[int, int, int] = (0, 0, 0)


@contextlib.contextmanager
def _rare_full_collections() -> Iterator[None]:
    """Full (oldest-generation) garbage collections a tenth as often during a run.

    The recorded history (every ``Op`` with its tracks, kept by the sink and the checker
    until the run ends) is most of the heap, is acyclic, and grows by some twenty-five
    tracked objects per request; each full collection rescans all of it and, in a run,
    finds next to nothing (a whole run leaves about 1,500 cyclic objects, from imports).
    Measured at 2,500 requests/s (``benchmarks/bench_harness_cost.py``): a sixth of the
    harness's CPU, and pauses of 0.1 to 0.25 s that land inside measured latencies. The
    judging is covered too: re-enabling the collector after ``finish`` would otherwise set
    off one more full pass over the history just judged (a process that then exits pays
    one anyway, in the interpreter's final collection). Young collections, which free the
    HTTP client's short-lived cycles, run as before; the thresholds are restored afterwards.

    Spaced out is not enough past a few hundred thousand objects: with 5,000 users a full
    collection held the interpreter for 0.9 s (the dashboard froze, latencies jumped). So
    every ``_FREEZE_EVERY`` operations ``_History`` moves what is alive into the permanent
    generation (``gc.freeze()``, constant time), which no collection scans: the history
    recorded so far is never rescanned. The price: cyclic garbage that was alive at a freeze
    is freed only when the run ends, where everything is unfrozen."""
    global _spaced_runs, _saved_thresholds
    if _spaced_runs == 0:
        _saved_thresholds = young, middle, old = gc.get_threshold()
        gc.set_threshold(young, middle, old * _FULL_COLLECTION_SPACING)
    _spaced_runs += 1
    try:
        yield
    finally:
        _spaced_runs -= 1
        if _spaced_runs == 0:
            gc.set_threshold(*_saved_thresholds)
            gc.unfreeze()


def _server_spec(config: RunConfig) -> ServerSpec:
    ui = ("--ui",) if config.through == "ui" else ()
    return server_spec(nemesis=config.nemesis, command=config.server_cmd, store=config.store,
                       workers=config.server_workers, defect=config.defect,
                       extra_args=(*config.server_args, *ui), env=config.server_env)


def _own_redis(config: RunConfig) -> bool:
    """Whether the run's server uses a redis-server the harness started (``nemesis.stage``)."""
    return config.target is None and not in_process(config) and _server_spec(config).own_redis


def _planned_faults(config: RunConfig, seed: int) -> tuple[PlannedFault, ...]:
    if not config.nemesis or config.planned_duration is None:   # RunConfig refuses a nemesis without one
        return ()
    return plan_faults(config.nemesis, seed=seed, duration=config.planned_duration)


@dataclass(frozen=True, slots=True)
class _Reach:
    """How the users reach the target, and what the harness started for it (the nemesis acts on it)."""

    label: str
    factory: TransportFactory
    stage: StagedServer | None = None


@contextlib.asynccontextmanager
async def _target(config: RunConfig, *, faults: RequestFaults | None = None) -> AsyncIterator[_Reach]:
    if in_process(config):
        yield _Reach("in-process", httpx_factory(timeout=config.timeout, app=config.app,
                                                 transport=config.http_transport, faults=faults))
        return
    if config.target is not None:
        yield _Reach(config.target, _network_factory(config, config.target, faults=faults))
        return
    async with staged_server(_server_spec(config)) as stage:
        yield _Reach(stage.server.url, _network_factory(config, stage.server.url, faults=faults), stage)


def _network_client(config: RunConfig) -> str:
    """The HTTP client the users of a network target get. ``auto``: the lean one
    (``loadtest.lean_http``, the cheapest per request) for the contract's calls over plain
    http; aiohttp where a profile's calls need a full client's cookie rules, or for TLS."""
    kind = config.resolved_profile.kind
    if kind == "gradio":
        return "gradio"
    if config.client != "auto":
        return config.client
    plain = config.target is None or config.target.startswith("http://")
    return "lean" if kind == "contract" and plain else "aiohttp"


def _network_factory(config: RunConfig, url: str, *, faults: RequestFaults | None = None) -> TransportFactory:
    client = _network_client(config)
    if client == "gradio":
        return gradio_factory(surface_url(url, config.through), timeout=config.timeout)
    if client == "httpx":
        return httpx_factory(timeout=config.timeout, base_url=url, faults=faults)
    if client == "lean":
        from loadtest.lean_http import lean_factory

        return lean_factory(url, timeout=config.timeout, faults=faults)
    return aiohttp_factory(url, timeout=config.timeout, faults=faults)


async def _load(config: RunConfig, *, scenarios: Sequence[Scenario], pool: Sequence[Persona], seed: int,
                run_tag: str, factory: TransportFactory, sink: _History, live: LiveStats,
                coverage: CoverageTally) -> None:
    started = live.started
    deadline = config.planned_duration
    weights = [s.weight for s in scenarios]
    assign = Assigner(pool, seed=seed)

    def past_deadline() -> bool:
        return deadline is not None and time.monotonic() - started >= deadline

    open_model = config.model == "open"
    # Closed model: past the deadline users stop thinking, to finish fast. Open model: the
    # deadline ends arrivals only; who arrived keeps the schedule (it is what is measured).
    exchange = exchange_for(config.resolved_profile)   # one for all users: it holds no user's state
    settings = UserSettings(run_tag=run_tag, started=started, think_scale=config.think_time,
                            max_recommendations=config.max_recommendations, open_model=open_model,
                            draining=(lambda: False) if open_model else past_deadline, coverage=coverage)

    stopping: set[int] = set()   # closed model: users asked to stop at the end of their iteration (ramp-down)

    async def one_user(number: int, *, arrival: float | None = None, iterations: int | None) -> None:
        if past_deadline() and arrival is None:
            return
        rng = random.Random(f"{seed}:{number}")     # the user's own: reproducible whatever the schedule
        user = VirtualUser(number, transport=factory(number), persona=assign(number), rng=rng,
                           sink=sink, settings=settings, exchange=exchange)
        live.active_users += 1
        try:
            done = 0
            while iterations is None or done < iterations:
                if (past_deadline() and (done or arrival is None)) or number in stopping:
                    break   # draining or ramping down: no new iteration (an arrival runs its first one)
                scenario = rng.choices(scenarios, weights=weights)[0]
                await user.run_iteration(scenario, arrival=arrival if done == 0 else None)
                done += 1
                live.finished_iterations += 1
        finally:
            live.active_users -= 1
            await user.aclose()

    async def until(at: float) -> None:
        wait = at - (time.monotonic() - started)
        if wait > 0:
            await asyncio.sleep(wait)

    tasks: list[asyncio.Task[None]] = []
    if not open_model:
        # Each step sets how many users run from then on: new users start (each with a number of
        # its own, so its conversations are its own), and past the count the newest are asked
        # to stop (``stopping``). The classic ramp-up only ever adds.
        ramp_up = defaults.RAMP_UP if config.ramp_up is None else config.ramp_up
        steps = user_steps(config.user_stages) or ramp_steps(config.planned_users or defaults.USERS, ramp_up)
        running: list[int] = []   # the users not asked to stop, oldest first
        for at, count in steps:
            await until(at)
            if past_deadline():
                break
            while len(running) < count:
                running.append(len(tasks))
                tasks.append(asyncio.create_task(one_user(len(tasks), iterations=config.iterations)))
            while len(running) > count:
                stopping.add(running.pop())
    else:
        # A constant rate is one flat stage: arrivals at 0, 1/rate, 2/rate … (``loadtest.stages``).
        assert deadline is not None
        rate = config.arrival_rate or 0.0
        stages = config.rate_stages or (Stage(deadline, rate),)
        for number, arrival in enumerate(arrival_times(stages, start=0.0 if config.rate_stages else rate)):
            await until(arrival)
            tasks.append(asyncio.create_task(one_user(number, arrival=arrival, iterations=config.iterations or 1)))
    await _finish(tasks, deadline=deadline, started=started,
                  grace=config.drain_timeout if config.drain_timeout is not None else config.timeout + 5.0)


async def _finish(tasks: list[asyncio.Task[None]], *, deadline: float | None, started: float, grace: float) -> None:
    """Wait for the users; past ``deadline + grace``, cancel the stragglers (their requests in
    flight are recorded as ``unknown`` by the users themselves)."""
    if not tasks:
        return
    if deadline is None:
        await asyncio.gather(*tasks)
        return
    remaining = max(0.0, started + deadline + grace - time.monotonic())
    _, pending = await asyncio.wait(tasks, timeout=remaining)
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.gather(*pending, return_exceptions=True)
    for task in tasks:
        error = None if task.cancelled() else task.exception()
        if error is not None:
            raise error


def check_history(path: Path, *, history_limit: int | None = None, profile: Profile | None = None,
                  allow: Sequence[str] = (), deny: Sequence[str] = ()) -> RunResult:
    """Judge a recorded history offline (``beatdebate check``): the same verdict as the run
    that recorded it, as a ``RunResult`` so that the same reports apply. The run's history
    limit, evidence (its profile's) and allowed properties come from the file's header unless
    given here (``profile``: its evidence and allow list; ``allow``/``deny`` on top).
    Raises ``HistoryFormatError`` for a file that is not a history."""
    from loadtest.oracle import check

    faults = read_fault_windows(Path(path))
    with Path(path).open("rb") as stream:
        recorded = orjson.loads(stream.readline() or b"{}").get("settings") or {}
    if history_limit is None:   # judge with the limit the run was judged with
        history_limit = recorded.get("history_limit")
    check_property_names((*allow, *deny))
    if profile is not None:
        evidence, allowed = profile_evidence(profile), allowed_properties(profile, allow=allow, deny=deny)
    else:   # as the run judged it (a history from before profiles: the contract, nothing allowed)
        evidence = frozenset(recorded.get("evidence") or profile_evidence(contract_profile()))
        allowed = (frozenset(recorded.get("allowed") or ()) | frozenset(allow)) - frozenset(deny)
    with kept_without_gc_scans():   # the history is kept until the process ends (``loadtest.heap``)
        ops = read_history(Path(path))
        verdict = check(ops, history_limit=history_limit, evidence=evidence, allowed=allowed)
    stats = LiveStats()
    for op in ops:
        stats.record(op)
    ends = [op.completed_at or op.invoked_at for op in ops]
    return RunResult(target=f"history {path}", scenarios=tuple(dict.fromkeys(op.scenario for op in ops)),
                     settings={"history": str(path)}, started_at=0.0,
                     elapsed=max(ends) - min(op.invoked_at for op in ops) if ops else 0.0,
                     ops=ops, verdict=verdict, latency=dict(stats.latency),
                     errors=dict(stats.errors), faults=faults)


def _settings(config: RunConfig, *, seed: int, scenarios: Sequence[Scenario], run_tag: str) -> dict[str, Any]:
    return {
        "model": config.model, "users": config.planned_users,
        "arrival_rate": config.arrival_rate,
        "ramp_up": None if config.user_stages or config.model == "open" else (
            config.ramp_up if config.ramp_up is not None else defaults.RAMP_UP),
        "stages": _stages_text(config.user_stages), "arrival_stages": _stages_text(config.rate_stages, rate=True),
        "think_time": config.think_time,
        "duration": config.planned_duration, "iterations": config.iterations, "seed": seed,
        "timeout": config.timeout, "run_tag": run_tag, "history_limit": config.history_limit,
        "scenario_weights": {s.name: s.weight for s in scenarios},
        "personas": len(config.pool), "defect": config.defect,
        "store": "redis (the harness's own)" if _own_redis(config) else config.store,
        "server_workers": config.server_workers,
        "transport": "httpx" if in_process(config) else _network_client(config), "through": config.through,
        # What ``beatdebate check`` needs to judge the history again as this run did.
        "profile": config.resolved_profile.name, "profile_source": config.resolved_profile.source,
        "evidence": sorted(config.evidence),
        "allowed": sorted(config.allowed),
        "nemesis": list(config.nemesis), "server_cmd": config.server_cmd,
    }


def _stages_text(stages: Sequence[Stage], *, rate: bool = False) -> str | None:
    """Stages as they are written (``2s:10,2s:0``), for the report's settings; None when there are none."""
    unit = "/s" if rate else ""
    return ",".join(f"{s.duration:g}s:{s.target:g}{unit}" for s in stages) or None


__all__ = ["DEFAULT_DURATION", "RunConfig", "check_history", "run", "run_async"]
