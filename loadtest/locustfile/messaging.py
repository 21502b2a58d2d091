"""Where violations go under Locust: the reporting process's board, and the master/worker messages.

- the *reporting process* (the master, or the only process) keeps the ``IsolationBoard``,
  configured at each test start with the test's plan (profile, evidence, allowed
  properties): each new violation row is fired as a failed request named
  ``isolation:<property>`` (so it is in the statistics, the CSV and the HTML report; an
  allowed property's as an ``AllowedViolation``) and listed in the Isolation tab (``web``);
  the board's verdict sets the exit code at quit (``loadtest.outcome``'s table: 0 clean or
  only allowed violations, 1 any other violation or nothing checked). HTTP errors alone do
  not decide it.
- a *worker*, in a run judged as a whole (``--isolation-scope whole-history``, the default),
  judges nothing: it streams its operations to the master as ``isolation:ops`` (``{"slot",
  "ops", "count", "origin"}``: ``merged.batch_bytes`` of up to ``BATCH_OPS`` ops) every
  ``OPS_INTERVAL``; the master queues them and its judging greenlet feeds them to the one
  checker of ``merged.MergedHistory``, reporting each new row as above. Should the master
  fall behind (``merged.MAX_BACKLOG``, ``merged.MAX_LAG``) it says so, stops the run and
  exits with the harness's code: it never passes a verdict over part of the history.
- a worker in a ``per-worker`` run judges its own ops and sends its rows as ``isolation:rows``
  (``{"rows": [...]}``) every ``FLUSH_INTERVAL``.
- When the master stops a test it sends ``isolation:finish``; each worker stops its users and
  answers with its last batch (ops or rows) and an ``isolation:summary`` (per-worker: its
  checker's verdict; whole-history: how many ops it sent). The master waits for every
  worker's summary (``collect_verdicts``); then, judged as a whole, it runs the checker's
  ``finish()`` over the merged history. A worker that never answers, or whose ops did not
  all arrive, makes the verdict a harness error (exit 4) unless a violation was proven.

One process holds one test at a time: the current ``ProcessRun`` and the board are this
module's state, as Locust's own event hooks are process-wide.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import gevent
import orjson
from locust.env import Environment
from locust.runners import STATE_MISSING, STATE_RUNNING, STATE_SPAWNING, MasterRunner, WorkerRunner
from locust.stats import CSV_STATS_INTERVAL_SEC

from loadtest.errors import UsageError
from loadtest.history import Op, write_history
from loadtest.isolation_board import IsolationBoard, summary_of
from loadtest.locustfile.merged import MergedHistory, batch_bytes
from loadtest.locustfile.options import PER_WORKER, WHOLE_HISTORY, RunPlan, resolve_plan
from loadtest.locustfile.preflight import set_aside_personas
from loadtest.locustfile.process import ProcessRun
from loadtest.oracle import PROPERTIES, Verdict
from loadtest.outcome import ExitCode

logger = logging.getLogger("beatdebate.locust")

ROWS_MESSAGE = "isolation:rows"
OPS_MESSAGE = "isolation:ops"
SUMMARY_MESSAGE = "isolation:summary"
FINISH_MESSAGE = "isolation:finish"
FINISH_TIMEOUT = 60.0     # seconds the master waits for every worker's final verdict
FLUSH_INTERVAL = 1.0      # seconds between a worker's batches of rows
OPS_INTERVAL = 0.25       # seconds between a worker's batches of ops (whole-history)
BATCH_OPS = 2000          # ops in one isolation:ops message at most

board = IsolationBoard()
_current: ProcessRun | None = None
_merged: MergedHistory | None = None      # the master's, in a run judged as a whole
_answered: dict[str, dict[str, Any]] = {}  # the master's: worker node id -> its final summary
_running: set[int] = set()                  # the master's: indexes of workers seen running users this test


class IsolationViolation(Exception):
    """The failure recorded for an anomaly: ``<class>: <the property's description>``."""


class AllowedViolation(IsolationViolation):
    """The failure recorded for an anomaly of an allowed property: reported, not failing the run."""


def current_run() -> ProcessRun:
    """The test this process runs users for (``start_run`` makes it before users start)."""
    assert _current is not None, "test_start creates the run before users start"
    return _current


def scope_of(options: Any) -> str:
    """What a distributed run's verdict covers (``--isolation-scope``)."""
    return getattr(options, "isolation_scope", None) or WHOLE_HISTORY


def check_options(environment: Environment) -> None:
    """At init: refuse what this process cannot do (a ``UsageError``): a history of a
    distributed run that is judged per worker, which nobody holds whole."""
    options = environment.parsed_options
    # Workers too: those of --processes share the master's options, and must not outlive it.
    if options is not None and options.history and scope_of(options) == PER_WORKER \
            and isinstance(environment.runner, (MasterRunner, WorkerRunner)):
        raise UsageError("--history needs --isolation-scope whole-history in a distributed run: with "
                         "per-worker, no process holds the whole history")


def start_run(environment: Environment) -> None:
    """A test starts: a worker makes its share; the reporting process clears the board, runs
    the preflight and, when it runs users itself, makes its share; a master judging the whole
    history makes its ``MergedHistory``."""
    global _current, _merged
    runner = environment.runner
    options = environment.parsed_options
    if isinstance(runner, WorkerRunner):
        _current = _process_run(environment, runner, stream=scope_of(options) == WHOLE_HISTORY)
        return
    plan = None if options is None else resolve_plan(options)    # checked at init: it resolves
    if plan is not None:
        board.configure(profile=plan.profile.name, scenarios=(s.name for s in plan.scenarios),
                        evidence=plan.evidence, allowed=plan.allowed)
    distributed = isinstance(runner, MasterRunner)
    slots = _slots(options) if distributed else 0
    board.reset(scope=scope_of(options) if distributed else WHOLE_HISTORY, workers=slots)
    _answered.clear()
    _running.clear()
    _merged = None
    if distributed and plan is not None and scope_of(options) == WHOLE_HISTORY:
        _merged = MergedHistory(slots=slots, history_limit=int(options.history_limit), evidence=plan.evidence,
                                allowed=plan.allowed, base_url=environment.host or "")
    set_aside_personas(environment)          # before the master sends its options to workers
    if not distributed:
        _current = _process_run(environment, None, plan=plan)


def _slots(options: Any) -> int:
    """How many workers share the user and op numbers: the master's ``--expect-workers``."""
    return max(int(getattr(options, "expect_workers", 1) or 1), 1)


def _process_run(environment: Environment, worker: WorkerRunner | None, *,
                 plan: RunPlan | None = None, stream: bool = False) -> ProcessRun:
    options = environment.parsed_options
    index = max(worker.worker_index, 0) if worker is not None else 0
    # The master hands its --expect-workers to workers: users interleave across them.
    stride = _slots(options) if worker is not None and options is not None else 1
    return ProcessRun(options, base_url=environment.host or "", worker=_worker_name(environment),
                      worker_index=index, stride=stride, plan=plan, stream=stream)


def _worker_name(environment: Environment) -> str:
    runner = environment.runner
    return f"w{max(runner.worker_index, 0)}" if isinstance(runner, WorkerRunner) else "local"


def listen(environment: Environment) -> None:
    """Register the isolation messages on this process's runner."""
    runner = environment.runner
    if isinstance(runner, WorkerRunner):
        runner.register_message(FINISH_MESSAGE, _on_finish_request, concurrent=True)
        gevent.spawn(_flush_forever, environment)
        gevent.spawn(_stream_forever, environment)
    elif isinstance(runner, MasterRunner):
        runner.register_message(ROWS_MESSAGE, _on_rows)
        runner.register_message(OPS_MESSAGE, _on_ops)
        runner.register_message(SUMMARY_MESSAGE, _on_summary)
        gevent.spawn(_judge_forever, environment)


def emit(environment: Environment, rows: list[dict[str, str]]) -> None:
    """Rows found by this process: reported here, or queued for the master."""
    if not rows:
        return
    if isinstance(environment.runner, WorkerRunner):
        current_run().pending += rows
    else:
        _report(environment, rows)


def _report(environment: Environment, rows: list[dict[str, str]]) -> None:
    """On the reporting process: new rows become failures named by property."""
    for row in board.add(rows):
        description = PROPERTIES.get(row["property"], ("", ""))[1]
        failure = (AllowedViolation(f"allowed, not failing the run: {row['cls']}: {description}")
                   if row["property"] in board.allowed else IsolationViolation(f"{row['cls']}: {description}"))
        environment.events.request.fire(
            request_type="ISOLATION", name=f"isolation:{row['property']}", response_time=0,
            response_length=0, exception=failure, context={}, response=None)


def _flush(environment: Environment) -> None:
    runner = environment.runner
    if _current is not None and _current.pending and isinstance(runner, WorkerRunner):
        rows, _current.pending = _current.pending, []
        runner.send_message(ROWS_MESSAGE, {"rows": rows})


def _flush_forever(environment: Environment) -> None:
    while True:
        gevent.sleep(FLUSH_INTERVAL)
        _flush(environment)


def _stream(environment: Environment) -> None:
    """A streaming worker: send the ops completed since the last batch, ``BATCH_OPS`` a message."""
    runner = environment.runner
    if _current is None or not _current.outbox or not isinstance(runner, WorkerRunner):
        return
    ops, _current.outbox = _current.outbox, []
    for start in range(0, len(ops), BATCH_OPS):
        chunk = ops[start:start + BATCH_OPS]
        runner.send_message(OPS_MESSAGE, {"slot": _current.worker_index, "ops": batch_bytes(chunk),
                                          "count": len(chunk), "origin": _current.origin})


def _stream_forever(environment: Environment) -> None:
    while True:
        gevent.sleep(OPS_INTERVAL)
        _stream(environment)


def _on_ops(environment: Environment, msg: Any, **_kwargs: Any) -> None:
    # Only queued here (this runs in Locust's message loop): the judging greenlet judges.
    if _merged is None:
        logger.error("operations from %s, but this master does not judge the whole history", msg.node_id)
        return
    _merged.enqueue(msg.data)
    _check_keeping_up(environment)


def _judge_forever(environment: Environment) -> None:
    """The master's judging greenlet: one batch at a time, yielding between them so that
    Locust's message loop keeps receiving (and the backlog shows)."""
    runner = environment.runner
    while True:
        merged = _merged
        if merged is not None and isinstance(runner, MasterRunner):
            # Workers that ran users: each must deliver all its ops, even one that died unheard.
            _running.update(runner.worker_indexes[client.id] for client in (*runner.clients.running,
                                                                             *runner.clients.spawning)
                            if client.id in runner.worker_indexes)
        try:
            rows = None if merged is None else merged.judge_next()
        except Exception as exc:   # a checker bug: no verdict over the history then, and say why
            logger.exception("isolation: the master's checker failed")
            if merged is not None:
                merged.fail(f"the master's checker failed: {type(exc).__name__}: {exc}")
            rows = None
        if rows is None:
            if merged is not None:
                _check_keeping_up(environment)
            gevent.sleep(0.05)
            continue
        _report(environment, rows)
        gevent.sleep(0)


def _check_keeping_up(environment: Environment) -> None:
    """The master fell behind (or cannot merge): say so, and stop the run: its verdict would
    judge only part of the history."""
    if _merged is None or _merged.error is None or board.error is not None:
        return
    board.fail(_merged.error)
    logger.error("isolation: %s; stopping the run: a verdict over part of the history would claim too much",
                 _merged.error)
    runner = environment.runner
    if runner is not None:
        gevent.spawn(runner.quit)


def finish(environment: Environment) -> None:
    """Run the checker's ``finish`` (once per test) and report what it found; a worker
    (re)sends its summary every time it is asked, one that ran nothing says "unknown"."""
    runner = environment.runner
    if _current is None and isinstance(runner, WorkerRunner) and scope_of(environment.parsed_options) == WHOLE_HISTORY:
        summary = {"worker": _worker_name(environment), "valid": "unknown", "streamed": 0,   # it ran no user
                   "slot": max(runner.worker_index, 0)}
    elif _current is None:
        summary = summary_of(Verdict(valid="unknown", anomalies={}), worker=_worker_name(environment))
    elif _current.stream:
        if _current.summary is None:
            _current.finish()
            logger.info("isolation: %s streamed %d op(s) to the master", _current.worker, _current.streamed)
        summary = {**(_current.summary or {}), "slot": _current.worker_index}
    elif _current.summary is None:
        rows, summary = _current.finish()
        emit(environment, rows)
        logger.info("isolation verdict (%s): %s, %d violation(s), %s", summary["worker"],
                    summary["valid"], summary["anomalies"], summary["checked"])
    else:
        summary = _current.summary
    if isinstance(runner, WorkerRunner):
        _flush(environment)
        _stream(environment)                # the last ops go before the summary that counts them
        runner.send_message(SUMMARY_MESSAGE, summary)
    else:
        board.add_summary(summary)


def _on_finish_request(environment: Environment, msg: Any, **_kwargs: Any) -> None:
    # The master is stopping: stop our users (their in-flight requests become unknown ops),
    # then judge everything and answer. Stopping first means no op escapes the verdict.
    runner = environment.runner
    if runner is not None and runner.state in (STATE_RUNNING, STATE_SPAWNING):
        runner.stop()                       # fires test_stop, which finishes and answers
    else:
        finish(environment)                 # answers again (or "unknown": it ran nothing)


def _on_rows(environment: Environment, msg: Any, **_kwargs: Any) -> None:
    _report(environment, list(msg.data["rows"]))


def _on_summary(environment: Environment, msg: Any, **_kwargs: Any) -> None:
    summary = {**msg.data, "node": msg.node_id}
    _answered[msg.node_id] = summary
    if "streamed" in summary:               # a streaming worker: its last op has arrived before this
        if _merged is not None:
            _merged.close(int(summary["slot"]), int(summary["streamed"]))
    else:
        board.add_summary(summary)


def collect_verdicts(runner: MasterRunner) -> None:
    """Ask every worker for its final verdict and wait for them all (at most
    ``FINISH_TIMEOUT``): Locust's quit stops listening to workers half a second after
    telling them to quit, too soon for a checker's ``finish`` on a long history."""
    def missing() -> set[str]:
        # A worker Locust already counts as missing (no heartbeat for 3 s) will not answer:
        # waiting out FINISH_TIMEOUT for it changes nothing, as the whole-history verdict
        # already names a worker that ran and sent no final batch.
        return {client.id for client in runner.clients.all if client.state != STATE_MISSING} - set(_answered)

    if missing() and (_merged is None or _merged.error is None):
        runner.send_message(FINISH_MESSAGE)
        deadline = time.monotonic() + FINISH_TIMEOUT
        while missing() and time.monotonic() < deadline:
            gevent.sleep(0.1)
        if missing():
            logger.error("no isolation verdict from worker(s) %s within %.0f s", sorted(missing()),
                         FINISH_TIMEOUT)
    if _merged is not None and _merged.summary is None:
        _judge_whole(runner, _merged)


def _judge_whole(runner: MasterRunner, merged: MergedHistory) -> None:
    """The final verdict over the merged history. Every worker that ran (connected now, or
    heard from) must have sent all its ops, or the verdict is not whole."""
    expected = _running | {runner.worker_indexes[client.id] for client in runner.clients.all
                           if client.id in runner.worker_indexes}
    rows, summary = merged.finish(expected)
    _report(runner.environment, rows)
    # What each worker said it streamed, and the CPU time its process used to produce it.
    summary["streams"] = sorted(({key: answer.get(key) for key in ("worker", "streamed", "cpu_seconds")}
                                 for answer in _answered.values() if "streamed" in answer),
                                key=lambda stream: str(stream["worker"]))
    board.add_summary(summary)
    board.workers = max(len(expected | set(merged.received) | set(merged.closed)), board.workers)
    if merged.error is not None:
        board.fail(merged.error)
        logger.error("isolation: %s", merged.error)
    logger.info("isolation (whole history): %d op(s) from %d worker(s) judged in %.2f s of CPU; "
                "backlog at most %d op(s), lag at most %.2f s", len(merged.ops), len(merged.received),
                merged.judging_seconds, merged.max_backlog_seen, merged.max_lag_seen)


def settle(environment: Environment) -> None:
    """At quit: the process's exit code from the isolation verdict, and the board's files."""
    runner = environment.runner
    if isinstance(runner, WorkerRunner):
        # A worker's own code says only whether its checker found something that fails the run
        # (a property not allowed); the master decides.
        found = _current is not None and _current.violated > 0   # rows found here, whatever the master said
        environment.process_exit_code = ExitCode.ISOLATION if found else ExitCode.OK
        return
    if isinstance(runner, MasterRunner):
        collect_verdicts(runner)            # quitting without a stop (SIGTERM, --run-time in UI mode)
    else:
        finish(environment)
    environment.process_exit_code = board.exit_code
    options = environment.parsed_options
    if options is not None and options.csv_prefix:
        # Locust's CSV writer rewrites its files every CSV_STATS_INTERVAL_SEC and does not
        # write again at exit: give it one more turn, so that violations found by the final
        # verdict are in the CSV files too.
        gevent.sleep(CSV_STATS_INTERVAL_SEC + 0.2)
    if options is not None and options.history:
        _write_history(environment, Path(options.history))
    if options is not None and options.isolation_json:
        target = Path(options.isolation_json)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(orjson.dumps(board.snapshot(), option=orjson.OPT_INDENT_2))
    logger.info("isolation: %s, %d violation(s) %s -> exit code %d", board.valid,
                sum(board.counts.values()), dict(board.counts), board.exit_code)


def _write_history(environment: Environment, path: Path) -> None:
    """``--history``: the whole history (merged on a master), as ``simulate --history`` writes
    it, with what ``beatdebate check`` needs to judge it as this run did."""
    ops: list[Op]
    if _merged is not None:
        ops = _merged.history()
    elif _current is not None and not _current.stream:
        ops = [_current.ops[index] for index in sorted(_current.ops)]
    else:
        return
    options = environment.parsed_options
    plan = resolve_plan(options)
    settings = {"tool": "locust", "scope": board.scope, "workers": board.workers,
                "history_limit": int(options.history_limit), "profile": plan.profile.name,
                "evidence": sorted(plan.evidence), "allowed": sorted(plan.allowed),
                "scenario_weights": {s.name: s.weight for s in plan.scenarios}, "seed": int(options.seed)}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_history(path, ops, meta={"target": environment.host or "", "settings": settings})
    except OSError as exc:
        board.fail(f"cannot write the history: {exc}")
        environment.process_exit_code = board.exit_code
        logger.error("isolation: cannot write the history %s: %s", path, exc)


__all__ = ["FINISH_MESSAGE", "ROWS_MESSAGE", "SUMMARY_MESSAGE", "AllowedViolation", "IsolationViolation", "board",
           "collect_verdicts", "current_run", "emit", "finish", "listen", "settle", "start_run"]
