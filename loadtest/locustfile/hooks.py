"""Every Locust event the isolation checks listen to, in one place.

Importing this module registers the listeners on Locust's process-wide ``events`` (the
locustfile imports it); each listener hands over to ``options``, ``messaging`` or ``web``:

- ``init_command_line_parser``: the locustfile's options (``options.add_arguments``);
- ``init``: refuse a bad target profile (or a Gradio one), property name, scenario or persona
  file, or ``--history`` of a run judged per worker, before any load (a usage error, exit 2),
  register the isolation messages, add the Isolation tab;
- ``test_start``: the preflight and this process's share of the test (``messaging.start_run``);
- ``test_stopping`` (master): gather every worker's final verdict;
- ``test_stop``: judge what this process saw (``messaging.finish``);
- ``quitting``: the exit code from the isolation verdict, and the board's files.
"""

from __future__ import annotations

import logging
from typing import Any

from locust import events
from locust.env import Environment
from locust.runners import MasterRunner

from loadtest.errors import UsageError
from loadtest.locustfile import messaging
from loadtest.locustfile.options import add_arguments, resolve_plan, resolve_pool
from loadtest.locustfile.web import extend_web_ui
from loadtest.personas import PersonaError

logger = logging.getLogger("beatdebate.locust")


@events.init_command_line_parser.add_listener
def _on_parser(parser: Any) -> None:
    add_arguments(parser)


@events.init.add_listener
def _on_init(environment: Environment, **_kwargs: Any) -> None:
    options = environment.parsed_options
    if options is not None:
        try:                                # fail fast, before any load, on a bad file or name
            resolve_plan(options)
            resolve_pool(options.personas)
            messaging.check_options(environment)
        except (UsageError, PersonaError) as exc:
            logger.error("%s", exc)
            raise SystemExit(UsageError.exit_code) from None   # a usage error, as gate and simulate say
    messaging.listen(environment)
    if environment.web_ui is not None:
        extend_web_ui(environment, messaging.board)


@events.test_start.add_listener
def _on_test_start(environment: Environment, **_kwargs: Any) -> None:
    messaging.start_run(environment)


@events.test_stopping.add_listener
def _on_test_stopping(environment: Environment, **_kwargs: Any) -> None:
    if isinstance(environment.runner, MasterRunner):
        messaging.collect_verdicts(environment.runner)


@events.test_stop.add_listener
def _on_test_stop(environment: Environment, **_kwargs: Any) -> None:
    if not isinstance(environment.runner, MasterRunner):
        messaging.finish(environment)


@events.quitting.add_listener
def _on_quitting(environment: Environment, **_kwargs: Any) -> None:
    messaging.settle(environment)
