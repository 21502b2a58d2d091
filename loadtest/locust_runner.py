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

- *preflight*: ``loadtest.preflight`` asks the target once per persona subject before any
  load and sets aside the personas it cannot serve (not a violation). It is asyncio code, so
  the locustfile runs it here, in a child process: ``python -m loadtest.locust_runner
  preflight --host URL --scenario SPEC [--personas PATH]`` prints JSON.

The exit code is Locust's, which the locustfile sets from the isolation verdict with the
codes of ``loadtest.gate``: 0 every property held, 1 a violation or nothing checked (see
``docs/locust.md``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import orjson

import scenarios
from loadtest.personas import DEFAULT_POOL, Persona, load_personas
from loadtest.scenario import DEFAULT_BUILTIN, Scenario, load_builtin, load_scenarios

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


# ---- what the locustfile runs: scenarios, personas, preflight -------------------------------

def resolve_scenarios(spec: str) -> tuple[Scenario, ...]:
    """``--scenario``: built-in names and TOML files, comma-separated (empty: the default
    built-in). Raises ``ScenarioError`` naming the bad one."""
    found: list[Scenario] = []
    for item in (part.strip() for part in spec.split(",")):
        if item:
            path = Path(item)
            found += load_scenarios(path) if item.endswith(".toml") or path.is_file() else load_builtin(item)
    return tuple(found) or load_builtin(DEFAULT_BUILTIN)


def resolve_pool(path: str, *, skip: Sequence[str] = ()) -> tuple[Persona, ...]:
    """``--personas`` (empty: the built-in pool) without the personas named in ``skip``."""
    pool = load_personas(Path(path)) if path else DEFAULT_POOL
    return tuple(persona for persona in pool if persona.name not in set(skip))


def preflight(base_url: str, *, scenario_spec: str, personas: str = "",
              timeout: float = 10.0) -> dict[str, Any]:
    """Probe ``base_url`` with ``loadtest.preflight``: ``{"usable": [names], "skipped":
    [{"persona", "reason"}]}``. Raises ``TargetUnreachable`` when it does not answer."""
    from loadtest.preflight import PROBES, run_preflight
    from loadtest.transport import aiohttp_factory

    fields = sorted({f for s in resolve_scenarios(scenario_spec) for f in s.needs if f in PROBES})
    found = asyncio.run(run_preflight(resolve_pool(personas), fields=fields,
                                      factory=aiohttp_factory(base_url, timeout=timeout),
                                      run_tag=f"lp{secrets.token_hex(3)}"))
    return {"usable": [p.name for p in found.usable],
            "skipped": [{"persona": s.persona, "reason": s.reason} for s in found.skipped]}


def preflight_command(base_url: str, *, scenario_spec: str, personas: str = "") -> list[str]:
    return [sys.executable, "-m", "loadtest.locust_runner", "preflight", "--host", base_url,
            "--scenario", scenario_spec, "--personas", personas]


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m loadtest.locust_runner preflight …``: the preflight's JSON on stdout;
    exit 2 (and the reason on stderr) when the target does not answer."""
    from loadtest.preflight import TargetUnreachable

    parser = argparse.ArgumentParser(prog="python -m loadtest.locust_runner")
    parser.add_argument("command", choices=["preflight"])
    parser.add_argument("--host", required=True)
    parser.add_argument("--scenario", default="")
    parser.add_argument("--personas", default="")
    options = parser.parse_args(argv)
    try:
        found = preflight(options.host, scenario_spec=options.scenario, personas=options.personas)
    except TargetUnreachable as exc:
        print(f"target unreachable: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(orjson.dumps(found).decode() + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
