"""Where violations go under Locust: the reporting process's board, and the master/worker messages.

- the *reporting process* (the master, or the only process) keeps the ``IsolationBoard``,
  configured at each test start with the test's plan (profile, evidence, allowed
  properties): each new violation row is fired as a failed request named
  ``isolation:<property>`` (so it is in the statistics, the CSV and the HTML report; an
  allowed property's as an ``AllowedViolation``) and listed in the Isolation tab (``web``);
  the board's verdict sets the exit code at quit (``loadtest.outcome``'s table: 0 clean or
  only allowed violations, 1 any other violation or nothing checked). HTTP errors alone do
  not decide it.
- a *worker* queues its rows and sends them to the master as ``isolation:rows`` (``{"rows":
  [...]}``) every ``FLUSH_INTERVAL``. When the master stops a test it sends ``isolation:finish``; each worker
  stops its users, runs its checker's ``finish()`` and answers with its last rows and an
  ``isolation:summary``. The master waits for every worker's summary (``collect_verdicts``).

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
from locust.runners import STATE_RUNNING, STATE_SPAWNING, MasterRunner, WorkerRunner
from locust.stats import CSV_STATS_INTERVAL_SEC

from loadtest.isolation_board import IsolationBoard, summary_of
from loadtest.locustfile.options import RunPlan, resolve_plan
from loadtest.locustfile.preflight import set_aside_personas
from loadtest.locustfile.process import ProcessRun
from loadtest.oracle import PROPERTIES, Verdict
from loadtest.outcome import ExitCode

logger = logging.getLogger("beatdebate.locust")

ROWS_MESSAGE = "isolation:rows"
SUMMARY_MESSAGE = "isolation:summary"
FINISH_MESSAGE = "isolation:finish"
FINISH_TIMEOUT = 60.0     # seconds the master waits for every worker's final verdict
FLUSH_INTERVAL = 1.0      # seconds between a worker's batches of rows

board = IsolationBoard()
_current: ProcessRun | None = None


class IsolationViolation(Exception):
    """The failure recorded for an anomaly: ``<class>: <the property's description>``."""


class AllowedViolation(IsolationViolation):
    """The failure recorded for an anomaly of an allowed property: reported, not failing the run."""


def current_run() -> ProcessRun:
    """The test this process runs users for (``start_run`` makes it before users start)."""
    assert _current is not None, "test_start creates the run before users start"
    return _current


def start_run(environment: Environment) -> None:
    """A test starts: a worker makes its share; the reporting process clears the board, runs
    the preflight and, when it runs users itself, makes its share."""
    global _current
    runner = environment.runner
    if isinstance(runner, WorkerRunner):
        _current = _process_run(environment, runner)
        return
    options = environment.parsed_options
    plan = None if options is None else resolve_plan(options)    # checked at init: it resolves
    if plan is not None:
        board.configure(profile=plan.profile.name, scenarios=(s.name for s in plan.scenarios),
                        evidence=plan.evidence, allowed=plan.allowed)
    board.reset()
    set_aside_personas(environment)          # before the master sends its options to workers
    if not isinstance(runner, MasterRunner):
        _current = _process_run(environment, None, plan=plan)


def _process_run(environment: Environment, worker: WorkerRunner | None, *,
                 plan: RunPlan | None = None) -> ProcessRun:
    options = environment.parsed_options
    index = max(worker.worker_index, 0) if worker is not None else 0
    # The master hands its --expect-workers to workers: users interleave across them.
    stride = max(int(options.expect_workers or 1), 1) if worker is not None and options is not None else 1
    return ProcessRun(options, base_url=environment.host or "", worker=_worker_name(environment),
                      worker_index=index, stride=stride, plan=plan)


def _worker_name(environment: Environment) -> str:
    runner = environment.runner
    return f"w{max(runner.worker_index, 0)}" if isinstance(runner, WorkerRunner) else "local"


def listen(environment: Environment) -> None:
    """Register the isolation messages on this process's runner."""
    runner = environment.runner
    if isinstance(runner, WorkerRunner):
        runner.register_message(FINISH_MESSAGE, _on_finish_request, concurrent=True)
        gevent.spawn(_flush_forever, environment)
    elif isinstance(runner, MasterRunner):
        runner.register_message(ROWS_MESSAGE, _on_rows)
        runner.register_message(SUMMARY_MESSAGE, _on_summary)


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


def finish(environment: Environment) -> None:
    """Run the checker's ``finish`` (once per test) and report what it found; a worker
    (re)sends its summary every time it is asked, one that ran nothing says "unknown"."""
    runner = environment.runner
    if _current is None:
        summary = summary_of(Verdict(valid="unknown", anomalies={}), worker=_worker_name(environment))
    elif _current.summary is None:
        rows, summary = _current.finish()
        emit(environment, rows)
        logger.info("isolation verdict (%s): %s, %d violation(s), %s", summary["worker"],
                    summary["valid"], summary["anomalies"], summary["checked"])
    else:
        summary = _current.summary
    if isinstance(runner, WorkerRunner):
        _flush(environment)
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
    board.add_summary({**msg.data, "node": msg.node_id})


def collect_verdicts(runner: MasterRunner) -> None:
    """Ask every worker for its final verdict and wait for them all (at most
    ``FINISH_TIMEOUT``): Locust's quit stops listening to workers half a second after
    telling them to quit, too soon for a checker's ``finish`` on a long history."""
    def missing() -> set[str]:
        answered = {summary.get("node") for summary in board.summaries.values()}
        return {client.id for client in runner.clients.all} - answered

    if not missing():
        return
    runner.send_message(FINISH_MESSAGE)
    deadline = time.monotonic() + FINISH_TIMEOUT
    while missing() and time.monotonic() < deadline:
        gevent.sleep(0.1)
    if missing():
        logger.error("no isolation verdict from worker(s) %s within %.0f s", sorted(missing()),
                     FINISH_TIMEOUT)


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
    if options is not None and options.isolation_json:
        target = Path(options.isolation_json)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(orjson.dumps(board.snapshot(), option=orjson.OPT_INDENT_2))
    logger.info("isolation: %s, %d violation(s) %s -> exit code %d", board.valid,
                sum(board.counts.values()), dict(board.counts), board.exit_code)


__all__ = ["FINISH_MESSAGE", "ROWS_MESSAGE", "SUMMARY_MESSAGE", "AllowedViolation", "IsolationViolation", "board",
           "collect_verdicts", "current_run", "emit", "finish", "listen", "settle", "start_run"]
