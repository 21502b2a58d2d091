"""BeatDebate's isolation scenarios under Locust: many users, one checker, violations as failures.

Run it with ``beatdebate locust [LOCUST ARGS…]`` (which starts a server when no ``--host``
is given) or ``locust -f scenarios/locustfile.py --host URL``; see ``docs/locust.md``.

Every virtual user is a ``FastHttpUser`` with its own client (own cookies, own connections)
and its own session ids. It runs the same TOML scenarios and persona pool as ``beatdebate
simulate`` and turns each exchange into an ``Op`` with ``loadtest.exchange``. Each process
that runs users feeds its ops to one ``IncrementalChecker`` (``loadtest.oracle``); nothing
here judges isolation itself.

Where violations go (``loadtest.isolation_board``):
- a *violation row* per anomaly, with its witness (prose, ops, curl);
- on a worker, rows travel to the master as ``isolation:rows`` messages; when the master
  stops a test it sends ``isolation:finish``, each worker stops its users, runs the
  checker's ``finish()`` and answers with its last rows and an ``isolation:summary``;
- the reporting process (the master, or the only process) keeps the board: each new row is
  fired as a failed request named ``isolation:<property>`` (so it is in the statistics, the
  CSV and the HTML report), listed in the web UI's Isolation tab (``/isolation`` serves the
  board as JSON), and the board's verdict sets the exit code at quit: 0 clean, 1 any
  violation or nothing checked (``loadtest.gate``'s codes). HTTP errors alone do not decide it.

This is the only module of the project that imports Locust (it monkey-patches the process
with gevent); the pure pieces it uses live in ``loadtest``.
"""

from __future__ import annotations

import csv
import io
import itertools
import logging
import random
import secrets
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import gevent
import orjson
from flask import Response, request as flask_request
from locust import FastHttpUser, constant, events, task
from locust.env import Environment
from locust.runners import STATE_RUNNING, STATE_SPAWNING, MasterRunner, WorkerRunner
from locust.stats import CSV_STATS_INTERVAL_SEC

from loadtest import exchange
from loadtest.exchange import Chat, Request
from loadtest.history import Expect, Op
from loadtest.isolation_board import (
    COLUMNS, EXIT_CLEAN, EXIT_VIOLATION, IsolationBoard, row_key, summary_of, violation_row,
)
from loadtest.locust_runner import preflight_command, resolve_pool, resolve_scenarios
from loadtest.oracle import PROPERTIES, Anomaly, IncrementalChecker, Verdict
from loadtest.personas import Assigner, PersonaError
from loadtest.scenario import (
    DEFAULT_BUILTIN, CreateSessionStep, QueryStep, ReadHistoryStep, RefreshStep, Scenario,
    ScenarioError, Step, ThinkStep,
)

logger = logging.getLogger("beatdebate.locust")

TAB = "isolation"
ROWS_MESSAGE = "isolation:rows"
SUMMARY_MESSAGE = "isolation:summary"
FINISH_MESSAGE = "isolation:finish"
FINISH_TIMEOUT = 60.0     # seconds the master waits for every worker's final verdict
FLUSH_INTERVAL = 1.0      # seconds between a worker's batches of rows
TAB_ROWS = 200            # rows the Isolation tab shows (the UI polls them every 2 s)


class IsolationViolation(Exception):
    """The failure recorded for an anomaly: ``<class>: <the property's description>``."""


# ---- command line ----------------------------------------------------------------------

@events.init_command_line_parser.add_listener
def _add_arguments(parser: Any) -> None:
    parser.add_argument("--scenario", default=DEFAULT_BUILTIN, include_in_web_ui=True,
                        help="built-in scenario names or TOML files, comma-separated "
                             f"(default {DEFAULT_BUILTIN})")
    parser.add_argument("--personas", default="", include_in_web_ui=False,
                        help="a persona pool TOML file (default: the built-in pool)")
    parser.add_argument("--seed", type=int, default=0, include_in_web_ui=False,
                        help="seeds persona assignment and each user's choices")
    parser.add_argument("--think-scale", type=float, default=1.0, include_in_web_ui=True,
                        help="multiplies every think time (0: no thinking)")
    parser.add_argument("--history-limit", type=int, default=50, include_in_web_ui=False,
                        help="the target's per-session history limit (turns kept)")
    parser.add_argument("--no-preflight", action="store_true", default=False, include_in_web_ui=False,
                        help="keep every persona, even those the target cannot serve")
    parser.add_argument("--skip-personas", default="[]", include_in_web_ui=False,
                        help="JSON list of persona names to leave out (the preflight sets it)")
    parser.add_argument("--isolation-json", default="", include_in_web_ui=False,
                        help="write the isolation board (verdict and violations) to this JSON file at quit")


def _skipped(options: Any) -> list[str]:
    return list(orjson.loads(options.skip_personas or "[]"))


_preflights: dict[tuple[str, str, str], list[str]] = {}   # (host, scenario, personas) -> skipped


def _run_preflight(environment: Environment) -> None:
    """Set aside the personas the target cannot serve (``loadtest.preflight``, run in a child
    process: it is asyncio code). Workers get the list with the master's options."""
    options = environment.parsed_options
    if options is None or options.no_preflight or not environment.host:
        return
    key = (environment.host, options.scenario, options.personas)
    if key not in _preflights:
        done = subprocess.run(preflight_command(environment.host, scenario_spec=options.scenario,
                                                personas=options.personas),
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            logger.warning("preflight failed, every persona stays in: %s", done.stderr.strip()[-500:])
            return
        found = orjson.loads(done.stdout)
        for skipped in found["skipped"]:
            logger.warning("persona %s set aside: %s", skipped["persona"], skipped["reason"])
        if not found["usable"]:
            logger.error("no persona fits the target; every persona stays in")
            return
        _preflights[key] = [skipped["persona"] for skipped in found["skipped"]]
    options.skip_personas = orjson.dumps(_preflights[key]).decode()


# ---- one process's share of a run -------------------------------------------------------

class _Run:
    """What one process that runs users keeps for one test: its scenarios, its ops, its checker."""

    def __init__(self, environment: Environment) -> None:
        options = environment.parsed_options
        runner = environment.runner
        on_worker = isinstance(runner, WorkerRunner)
        self.worker_index = max(runner.worker_index, 0) if on_worker else 0
        self.worker = f"w{self.worker_index}" if on_worker else "local"
        # The master hands its --expect-workers to workers: users interleave across them.
        self.stride = max(int(options.expect_workers or 1), 1) if on_worker else 1
        self.scenarios = resolve_scenarios(options.scenario)
        self.weights = [scenario.weight for scenario in self.scenarios]
        self.seed = int(options.seed)
        self.think_scale = float(options.think_scale)
        self.assign = Assigner(resolve_pool(options.personas, skip=_skipped(options)), seed=self.seed)
        self.base_url = environment.host or ""
        self.tag = f"lc{secrets.token_hex(3)}{self.worker}"   # unique X-Request-ID prefix
        self.started = time.monotonic()
        self.checker = IncrementalChecker(history_limit=int(options.history_limit))
        self.ops: dict[int, Op] = {}
        self.sent: set[str] = set()             # row keys already reported
        self.pending: list[dict[str, str]] = []  # rows not yet sent to the master
        self.summary: dict[str, Any] | None = None   # set by finish()
        self._indexes = itertools.count()
        self._users = itertools.count()

    def now(self) -> float:
        return time.monotonic() - self.started

    def next_index(self) -> int:
        return next(self._indexes)

    def next_user(self) -> int:
        # Interleaved across workers so that users of different workers get different personas.
        return next(self._users) * self.stride + self.worker_index

    def complete(self, op: Op) -> list[dict[str, str]]:
        """Record ``op``; the rows of the anomalies it proves now."""
        self.ops[op.index] = op
        return self._rows(self.checker.observe(op))

    @property
    def finished(self) -> bool:
        return self.summary is not None

    def finish(self) -> tuple[list[dict[str, str]], dict[str, Any]]:
        """The checker's verdict: rows not reported yet, and this process's summary."""
        verdict = self.checker.finish()
        self.summary = summary_of(verdict, worker=self.worker)
        rows = self._rows(a for found in verdict.anomalies.values() for a in found)
        return rows, self.summary

    def _rows(self, anomalies: Iterable[Anomaly]) -> list[dict[str, str]]:
        """Rows for the anomalies not reported yet (``finish`` repeats what ``observe`` found)."""
        rows = []
        for anomaly in anomalies:
            key = row_key(anomaly, worker=self.worker)
            if key not in self.sent:
                self.sent.add(key)
                rows.append(violation_row(anomaly, self.ops, base_url=self.base_url, worker=self.worker))
        return rows


_run: _Run | None = None
_board = IsolationBoard()


def _report(environment: Environment, rows: list[dict[str, str]]) -> None:
    """On the reporting process: new rows become failures named by property."""
    for row in _board.add(rows):
        description = PROPERTIES.get(row["property"], ("", ""))[1]
        environment.events.request.fire(
            request_type="ISOLATION", name=f"isolation:{row['property']}", response_time=0,
            response_length=0, exception=IsolationViolation(f"{row['cls']}: {description}"),
            context={}, response=None)


def _emit(environment: Environment, rows: list[dict[str, str]]) -> None:
    """Rows found by this process: reported here, or queued for the master."""
    if not rows:
        return
    if isinstance(environment.runner, WorkerRunner):
        assert _run is not None
        _run.pending += rows
    else:
        _report(environment, rows)


def _flush(environment: Environment) -> None:
    if _run is not None and _run.pending and isinstance(environment.runner, WorkerRunner):
        rows, _run.pending = _run.pending, []
        environment.runner.send_message(ROWS_MESSAGE, rows)


def _finish(environment: Environment) -> None:
    """Run the checker's ``finish`` (once per test) and report what it found; a worker
    (re)sends its summary every time it is asked, one that ran nothing says "unknown"."""
    runner = environment.runner
    if _run is None:
        worker = f"w{max(runner.worker_index, 0)}" if isinstance(runner, WorkerRunner) else "local"
        summary = summary_of(Verdict(valid="unknown", anomalies={}), worker=worker)
    elif _run.summary is None:
        rows, summary = _run.finish()
        _emit(environment, rows)
        logger.info("isolation verdict (%s): %s, %d violation(s), %s", summary["worker"],
                    summary["valid"], summary["anomalies"], summary["checked"])
    else:
        summary = _run.summary
    if isinstance(runner, WorkerRunner):
        _flush(environment)
        runner.send_message(SUMMARY_MESSAGE, summary)
    else:
        _board.add_summary(summary)


# ---- events ------------------------------------------------------------------------------

@events.init.add_listener
def _on_init(environment: Environment, **_kwargs: Any) -> None:
    options = environment.parsed_options
    if options is not None:
        try:                                # fail fast, before any load, on a bad file or name
            resolve_scenarios(options.scenario)
            resolve_pool(options.personas)
        except (ScenarioError, PersonaError) as exc:
            logger.error("%s", exc)
            raise SystemExit(2) from None       # a usage error, as gate and simulate say
    runner = environment.runner
    if isinstance(runner, WorkerRunner):
        runner.register_message(FINISH_MESSAGE, _on_finish_request, concurrent=True)
        gevent.spawn(_flush_forever, environment)
    elif isinstance(runner, MasterRunner):
        runner.register_message(ROWS_MESSAGE, _on_rows)
        runner.register_message(SUMMARY_MESSAGE, _on_summary)
    if environment.web_ui is not None:
        _extend_web_ui(environment)


def _flush_forever(environment: Environment) -> None:
    while True:
        gevent.sleep(FLUSH_INTERVAL)
        _flush(environment)


def _on_finish_request(environment: Environment, msg: Any, **_kwargs: Any) -> None:
    # The master is stopping: stop our users (their in-flight requests become unknown ops),
    # then judge everything and answer. Stopping first means no op escapes the verdict.
    if environment.runner.state in (STATE_RUNNING, STATE_SPAWNING):
        environment.runner.stop()           # fires test_stop, which finishes and answers
    else:
        _finish(environment)                # answers again (or "unknown": it ran nothing)


def _on_rows(environment: Environment, msg: Any, **_kwargs: Any) -> None:
    _report(environment, list(msg.data))


def _on_summary(environment: Environment, msg: Any, **_kwargs: Any) -> None:
    _board.add_summary({**msg.data, "node": msg.node_id})


@events.test_start.add_listener
def _on_test_start(environment: Environment, **_kwargs: Any) -> None:
    global _run
    if isinstance(environment.runner, WorkerRunner):
        _run = _Run(environment)
        return
    _board.reset()
    _run_preflight(environment)            # before the master sends its options to workers
    if not isinstance(environment.runner, MasterRunner):
        _run = _Run(environment)


@events.test_stopping.add_listener
def _on_test_stopping(environment: Environment, **_kwargs: Any) -> None:
    if isinstance(environment.runner, MasterRunner):
        _collect_verdicts(environment.runner)


def _collect_verdicts(runner: MasterRunner) -> None:
    """Ask every worker for its final verdict and wait for them all (at most
    ``FINISH_TIMEOUT``): Locust's quit stops listening to workers half a second after
    telling them to quit, too soon for a checker's ``finish`` on a long history."""
    def missing() -> set[str]:
        answered = {summary.get("node") for summary in _board.summaries.values()}
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


@events.test_stop.add_listener
def _on_test_stop(environment: Environment, **_kwargs: Any) -> None:
    if not isinstance(environment.runner, MasterRunner):
        _finish(environment)


@events.quitting.add_listener
def _on_quitting(environment: Environment, **_kwargs: Any) -> None:
    runner = environment.runner
    if isinstance(runner, WorkerRunner):
        # A worker's own code says only whether its checker found something; the master decides.
        found = _run is not None and bool(_run.sent)   # rows found here, whatever the master said
        environment.process_exit_code = EXIT_VIOLATION if found else EXIT_CLEAN
        return
    if isinstance(runner, MasterRunner):
        _collect_verdicts(runner)           # quitting without a stop (SIGTERM, --run-time in UI mode)
    else:
        _finish(environment)
    environment.process_exit_code = _board.exit_code
    options = environment.parsed_options
    if options is not None and options.csv_prefix:
        # Locust's CSV writer rewrites its files every CSV_STATS_INTERVAL_SEC and does not
        # write again at exit: give it one more turn, so that violations found by the final
        # verdict are in the CSV files too.
        gevent.sleep(CSV_STATS_INTERVAL_SEC + 0.2)
    if options is not None and options.isolation_json:
        target = Path(options.isolation_json)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(orjson.dumps(_board.snapshot(), option=orjson.OPT_INDENT_2))
    logger.info("isolation: %s, %d violation(s) %s -> exit code %d", _board.valid,
                sum(_board.counts.values()), dict(_board.counts), _board.exit_code)


# ---- the Isolation tab -------------------------------------------------------------------

def _extend_web_ui(environment: Environment) -> None:
    """The Isolation tab: Locust 2.x's extended tabs, filled from ``/stats/requests``
    (which the UI polls) and mirrored as JSON at ``/isolation`` and CSV at ``/isolation/csv``."""
    web_ui = environment.web_ui
    assert web_ui is not None
    web_ui.template_args["extended_tabs"] = [{"title": "Isolation", "key": TAB}]
    web_ui.template_args["extended_tables"] = [
        {"key": TAB, "structure": [{"key": key, "title": title} for key, title in COLUMNS]}]
    web_ui.template_args["extended_csv_files"] = [
        {"href": "./isolation/csv", "title": "Download isolation violations CSV"}]

    @web_ui.app.after_request
    def _add_isolation_rows(response: Response) -> Response:
        if not flask_request.path.endswith("/stats/requests") or response.status_code != 200:
            return response
        payload = orjson.loads(response.get_data())
        payload["extended_stats"] = [{"key": TAB, "data": _board.shown(TAB_ROWS)}]
        response.set_data(orjson.dumps(payload))
        return response

    @web_ui.app.route("/isolation")
    def _isolation_json() -> Response:
        return Response(orjson.dumps(_board.snapshot()), mimetype="application/json")

    @web_ui.app.route("/isolation/csv")
    def _isolation_csv() -> Response:
        out = io.StringIO()
        writer = csv.writer(out)
        keys = [key for key, _ in COLUMNS]
        writer.writerow(keys)
        writer.writerows([row.get(key, "") for key in keys] for row in _board.rows)
        return Response(out.getvalue(), mimetype="text/csv",
                        headers={"Content-Disposition": "attachment; filename=isolation.csv"})


# ---- the virtual user --------------------------------------------------------------------

class ConversationUser(FastHttpUser):
    """One person with one browser tab at a time: runs scenario iterations, one after another."""

    wait_time = constant(0)            # scenarios pace themselves with think steps
    network_timeout = 30.0
    connection_timeout = 10.0

    def on_start(self) -> None:
        assert _run is not None, "test_start creates the run before users start"
        self.proc = _run
        self.number = self.proc.next_user()
        self.persona = self.proc.assign(self.number)
        self.rng = random.Random(f"{self.proc.seed}-{self.number}")
        self.chat = Chat(self.number)
        self.sent_requests = 0

    @task
    def iteration(self) -> None:
        scenario = self.rng.choices(self.proc.scenarios, weights=self.proc.weights)[0]
        subject = self.persona.subject(scenario.needs)
        for _ in range(scenario.conversations):
            self.chat.new_conversation()
            for step in scenario.steps:
                self._step(scenario, subject, step)

    def _step(self, scenario: Scenario, subject: dict[str, str], step: Step) -> None:
        # The same rules as loadtest.users.VirtualUser, step for step.
        session = self.chat.session
        if isinstance(step, QueryStep):
            self._query(scenario, subject, step)
        elif isinstance(step, ThinkStep):
            seconds = self.rng.uniform(step.low, step.high) * self.proc.think_scale
            if seconds > 0:
                gevent.sleep(seconds)
        elif isinstance(step, ReadHistoryStep):
            if session is not None:
                self._call(scenario, subject, step.name,
                           lambda rid: exchange.read_history_request(session, rid=rid))
        elif isinstance(step, RefreshStep):
            # A page reload / "New chat": the old session is deleted, a new conversation begins.
            if session is not None:
                self._call(scenario, subject, step.name,
                           lambda rid: exchange.delete_session_request(session, rid=rid))
            self.chat.new_conversation()
        elif isinstance(step, CreateSessionStep):
            self._call(scenario, subject, step.name, lambda rid: exchange.create_session_request(rid=rid))

    def _query(self, scenario: Scenario, subject: dict[str, str], step: QueryStep) -> None:
        chat = self.chat
        if step.session == "made-up":
            chat.new_conversation(_made_up_id())   # well-formed, never minted by the server
        elif step.session == "expired":
            expired = self._expired_id(scenario, subject, step.name)
            chat.new_conversation(expired)
        session = chat.session

        def build(rid: str) -> Request:
            return exchange.recommend_request(step, self.persona.fields, rid=rid, session_id=session)

        if step.concurrent == 1:
            self._call(scenario, subject, step.name, build, expect=step.expect)
            return
        # A double submit: N copies at once on one session, each its own request id.
        copies = [gevent.spawn(self._call, scenario, subject, step.name, build, expect=step.expect)
                  for _ in range(step.concurrent)]
        try:
            gevent.joinall(copies)
        finally:
            gevent.killall(copies)

    def _expired_id(self, scenario: Scenario, subject: dict[str, str], step: str) -> str:
        """An id this user obtained and then deleted; minted on the spot when there is none."""
        chat = self.chat
        if not chat.deleted:
            chat.new_conversation()
            self._call(scenario, subject, step, lambda rid: exchange.create_session_request(rid=rid))
            session = chat.session
            if session is not None:
                self._call(scenario, subject, step,
                           lambda rid: exchange.delete_session_request(session, rid=rid))
        return chat.deleted[-1] if chat.deleted else _made_up_id()

    def _call(self, scenario: Scenario, subject: dict[str, str], step: str,
              build: Callable[[str], Request], *, expect: Expect = Expect()) -> None:
        """Send one request and record it as one op (``loadtest.exchange`` makes the op)."""
        self.sent_requests += 1
        request = build(exchange.request_id(self.proc.tag, self.number, self.sent_requests))
        base = exchange.op_base(request, index=self.proc.next_index(), user=self.number,
                                conversation=self.chat.name, scenario=scenario.name, step=step,
                                invoked_at=self.proc.now(), subject=subject, expect=expect)
        name = request.route + (" (follow-up)" if expect.follow_up else "")
        data = None if request.body is None else orjson.dumps(request.body)
        try:
            with self.client.request(request.method, request.path, name=name, data=data,
                                     headers=request.headers, catch_response=True) as response:
                completed = self.proc.now()
                if response.status_code == 0:
                    op = exchange.unanswered(base, error=_error_text(response.error))
                else:
                    op = exchange.answered(base, status=response.status_code,
                                           body=_json(response.content), completed_at=completed)
                if op.status == "ok":
                    response.success()
                else:
                    response.failure(op.error or op.status)
        except gevent.GreenletExit:
            # The run was stopped mid-request: it may have taken effect; say so, then stop.
            self._record(exchange.unanswered(base, error="cancelled: run stopped"))
            raise
        self.chat.adopt(op)
        self._record(op)

    def _record(self, op: Op) -> None:
        if self.proc.finished:
            return                      # after the verdict: not judged, so not recorded
        _emit(self.environment, self.proc.complete(op))


def _made_up_id() -> str:
    """A well-formed UUID that a client made up (the contract's "made up by the client")."""
    return str(uuid.uuid4())


def _json(content: bytes | None) -> Any:
    if not content:
        return None
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        return None


def _error_text(error: BaseException | None) -> str:
    if isinstance(error, (TimeoutError, socket.timeout, gevent.Timeout)):
        return f"timeout: {error}"
    return f"connection: {type(error).__name__}: {error}"
