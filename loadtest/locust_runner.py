"""``beatdebate locust``: run the Locust scenarios as a subprocess, against a server.

Locust monkey-patches the interpreter with gevent when it is imported, so this module
never imports it, nor ``loadtest.locustfile`` (which does): it builds a ``python -m locust
-f scenarios/locustfile.py …`` command line, passes every argument it does not own
straight through, and waits for the exit code.

Terms:
- *passthrough arguments*: everything after ``beatdebate locust`` that is not one of the
  wrapper's own options; Locust (and the locustfile's custom arguments such as
  ``--scenario``) parses them.
- *embedded server*: when the arguments name no ``--host`` (and the process is not a
  ``--worker``, which gets its host from the master), a real ``beatdebate serve``
  subprocess is started on a free port for the duration of the run, as ``simulate`` does.
  ``--defect``, ``--store`` and ``--server-workers`` configure it, by the rules that
  ``simulate`` and ``gate`` follow (``loadtest.target``).
- *target profile*: ``--profile``, ``--allow`` and ``--deny``, as ``simulate`` takes them,
  reach the locustfile as its own options ``--target-profile`` (Locust has a ``--profile``
  of its own, a label for test runs), ``--allow`` and ``--deny`` (``profile_args``); the
  locustfile checks them before any load (a usage error, exit 2).

The exit code is Locust's, which the locustfile sets from the isolation verdict with the
codes of ``loadtest.outcome``: 0 every property held (or only allowed ones were violated), 1 a
violation or nothing checked, 2 a usage error (see ``docs/locust.md``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from pathlib import Path

import scenarios
from loadtest import defaults
from loadtest.embedded import EmbeddedServerError, embedded_server
from loadtest.errors import HarnessFailure, UsageError
from loadtest.target import EmbeddedServer, check_target

# What Locust loads: a file of the installed ``scenarios`` package, wherever the command runs.
LOCUSTFILE = Path(scenarios.__file__).resolve().parent / "locustfile.py"

# How long a child gets to write its reports after Ctrl-C before it is terminated.
_INTERRUPT_GRACE = 30.0


def option_value(args: Sequence[str], *names: str) -> str | None:
    """The value of the last ``--name VALUE`` / ``--name=VALUE`` in ``args``, or None."""
    found: str | None = None
    for position, arg in enumerate(args):
        for name in names:
            if arg == name and position + 1 < len(args):
                found = args[position + 1]
            elif name.startswith("--") and arg.startswith(name + "="):
                found = arg.split("=", 1)[1]
            elif not name.startswith("--") and arg.startswith(name) and len(arg) > len(name):
                found = arg[len(name):]   # short option glued to its value: -Hhttp://…
    return found


def has_flag(args: Sequence[str], *names: str) -> bool:
    return any(arg in names for arg in args)


def needs_server(args: Sequence[str], env: Mapping[str, str]) -> bool:
    """True when nobody named a target: no ``--host``, no ``LOCUST_HOST``, not a worker."""
    if option_value(args, "-H", "--host") or env.get("LOCUST_HOST"):
        return False
    return not has_flag(args, "--worker")


def build_command(args: Sequence[str], *, host: str | None = None,
                  python: str = sys.executable, locustfile: Path = LOCUSTFILE) -> list[str]:
    """The Locust command line: our locustfile (unless ``-f`` names another), ``host``
    (when given), then ``args`` unchanged."""
    command = [python, "-m", "locust"]
    if option_value(args, "-f", "--locustfile") is None:
        command += ["-f", str(locustfile)]
    if host is not None:
        command += ["--host", host]
    return [*command, *args]


def profile_args(profile: str | None = None, *, allow: Sequence[str] = (), deny: Sequence[str] = ()) -> list[str]:
    """The locustfile's options for a target profile and the properties allowed or denied. A
    profile file is named by its absolute path: Locust's workers get the master's options,
    whatever their working directory."""
    out: list[str] = []
    if profile:
        out += ["--target-profile", str(Path(profile).resolve()) if Path(profile).is_file() else profile]
    for option, names in (("--allow", allow), ("--deny", deny)):
        for name in names:
            out += [option, name]
    return out


def check_history_scope(args: Sequence[str]) -> None:
    """Refuse ``--history`` of a distributed run judged ``--isolation-scope per-worker`` (a
    ``UsageError``): no process holds its whole history. Refused here, before Locust starts:
    refused by the locustfile at init, the workers ``--processes`` forked would wait for
    their master in vain."""
    distributed = option_value(args, "--processes") is not None or has_flag(args, "--master", "--worker")
    if distributed and option_value(args, "--history") and option_value(args, "--isolation-scope") == "per-worker":
        raise UsageError("--history needs --isolation-scope whole-history in a distributed run: with "
                         "per-worker, no process holds the whole history")


def run_locust(args: Sequence[str], *, defect: str | None = None, store: str = defaults.STORE,
               server_workers: int = defaults.SERVER_WORKERS, profile: str | None = None,
               allow: Sequence[str] = (), deny: Sequence[str] = (), env: Mapping[str, str] | None = None) -> int:
    """Run Locust with ``args`` (and the target profile's options, ``profile_args``), starting
    the embedded server when no target is named.

    ``defect``, ``store`` and ``server_workers`` configure the embedded server; a
    ``UsageError`` refuses ``--history`` that no process could write (``check_history_scope``),
    and refuses them with a ``--host`` (they would silently do nothing) and a
    defect of the chat page (Locust drives only the API). A ``HarnessFailure`` says the
    embedded server did not start. Returns Locust's exit code.
    """
    args = [*args, *profile_args(profile, allow=allow, deny=deny)]
    check_history_scope(args)
    environ = dict(os.environ if env is None else env)
    embedded = needs_server(args, environ)
    server = EmbeddedServer(defect=defect, store=store, workers=server_workers)
    # Locust checks its own --host; the rules here are the embedded server's.
    check_target(url=None, own_target=not embedded, server=server, through="api",
                 own_target_flag="--host or --worker")
    with ExitStack() as stack:
        host = None
        if embedded:
            try:
                host = stack.enter_context(embedded_server(workers=server.workers, store=server.store,
                                                           defect=server.defect))
            except EmbeddedServerError as exc:
                raise HarnessFailure(str(exc)) from exc
        return _wait(subprocess.Popen(build_command(args, host=host), env=environ))


def _wait(child: subprocess.Popen[bytes]) -> int:
    """Wait for ``child``. SIGTERM is passed on (Locust then shuts down gracefully: final
    verdict, reports, exit code); on Ctrl-C, which the child gets too, it is given time to
    write its reports. Either way the embedded server is stopped after the child."""
    def forward(_signum: int, _frame: object) -> None:
        child.send_signal(signal.SIGTERM)

    in_main = threading.current_thread() is threading.main_thread()   # signal handlers live there
    previous = signal.signal(signal.SIGTERM, forward) if in_main else None
    try:
        return child.wait()
    except KeyboardInterrupt:
        try:
            return child.wait(timeout=_INTERRUPT_GRACE)
        except subprocess.TimeoutExpired:
            child.send_signal(signal.SIGTERM)
            return child.wait()
    finally:
        if in_main:
            signal.signal(signal.SIGTERM, previous)
