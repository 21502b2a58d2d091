"""``beatdebate locust``: run the Locust scenarios as a subprocess, against a server.

Locust monkey-patches the interpreter with gevent when it is imported, so this module
never imports it: it builds a ``python -m locust -f scenarios/locustfile.py …`` command
line, passes every argument it does not own straight through, and waits for the exit code.

Terms:
- *passthrough arguments*: everything after ``beatdebate locust`` that is not one of the
  wrapper's own options; Locust (and the locustfile's custom arguments such as
  ``--scenario``) parses them.
- *embedded server*: when the arguments name no ``--host`` (and the process is not a
  ``--worker``, which gets its host from the master), a real ``beatdebate serve``
  subprocess is started on a free port for the duration of the run, as ``simulate`` does.

The exit code is Locust's, which the locustfile sets from the isolation verdict: 0 clean,
1 an isolation violation, 3 nothing could be checked (see ``docs/locust.md``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from pathlib import Path

import scenarios

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


def run_locust(args: Sequence[str], *, defect: str | None = None, store: str = "memory",
               server_workers: int = 1, env: Mapping[str, str] | None = None) -> int:
    """Run Locust with ``args``, starting the embedded server when no target is named.

    ``defect``, ``store`` and ``server_workers`` configure the embedded server; they are
    an error when a ``--host`` is given, because they would silently do nothing.
    Returns Locust's exit code.
    """
    environ = dict(os.environ if env is None else env)
    embedded = needs_server(args, environ)
    if not embedded and (defect is not None or store != "memory" or server_workers != 1):
        raise ValueError("--defect, --store and --server-workers configure the embedded "
                         "server; they cannot be used with --host or --worker")
    with ExitStack() as stack:
        host = None
        if embedded:
            from loadtest.embedded import embedded_server

            host = stack.enter_context(embedded_server(workers=server_workers, store=store,
                                                       defect=defect))
        return _wait(subprocess.Popen(build_command(args, host=host), env=environ))


def _wait(child: subprocess.Popen[bytes]) -> int:
    """Wait for ``child``; on Ctrl-C (which the child gets too) let it write its reports."""
    try:
        return child.wait()
    except KeyboardInterrupt:
        try:
            return child.wait(timeout=_INTERRUPT_GRACE)
        except subprocess.TimeoutExpired:
            child.send_signal(signal.SIGTERM)
            return child.wait()
