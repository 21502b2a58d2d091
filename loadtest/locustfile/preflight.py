"""The preflight under Locust: set aside, before any load, the personas the target cannot serve.

``loadtest.preflight`` asks the target once per persona subject; a persona whose answer does
not fit is skipped, not failed. It is asyncio code, which does not mix with the gevent that
Locust patches in, so the Locust process runs it in a child process, ``python -m
loadtest.locustfile.preflight --host URL --scenario SPEC [--personas PATH] [--target-profile
NAME|PATH]``, which asks through the profile's exchange (``loadtest.profiles.exchange_for``)
and prints ``{"usable": [names], "skipped": [{"persona", "reason"}]}`` as JSON. The master
runs it once per test (workers get the list with the master's options, as ``--skip-personas``).

No Locust import: this module is also that child process.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import secrets
import subprocess
import sys
from collections.abc import Sequence
from typing import Any, Protocol

import orjson

from loadtest.defaults import TIMEOUT
from loadtest.errors import TargetUnreachable
from loadtest.locustfile.options import resolve_locust_profile, resolve_pool, resolve_scenarios
from loadtest.outcome import ExitCode
from loadtest.preflight import PROBES, run_preflight
from loadtest.profiles import exchange_for
from loadtest.transport import aiohttp_factory

logger = logging.getLogger("beatdebate.locust")

_found: dict[tuple[str, str, str, str], list[str]] = {}   # (host, scenario, personas, profile) -> skipped names


class LocustEnvironment(Protocol):
    """What the preflight reads of Locust's ``Environment``."""

    @property
    def host(self) -> str | None: ...

    @property
    def parsed_options(self) -> Any: ...


def preflight(base_url: str, *, scenario_spec: str, personas: str = "", profile: str = "",
              timeout: float = TIMEOUT) -> dict[str, Any]:
    """Probe ``base_url`` through ``profile``'s exchange (empty: the contract):
    ``{"usable": [names], "skipped": [{"persona", "reason"}]}``. Raises ``TargetUnreachable``
    when it does not answer."""
    target = resolve_locust_profile(profile)
    scenarios = resolve_scenarios(scenario_spec, profile=target)
    fields = sorted({f for s in scenarios for f in s.needs if f in PROBES})
    found = asyncio.run(run_preflight(resolve_pool(personas), fields=fields,
                                      factory=aiohttp_factory(base_url, timeout=timeout),
                                      run_tag=f"lp{secrets.token_hex(3)}", exchange=exchange_for(target)))
    return {"usable": [p.name for p in found.usable],
            "skipped": [{"persona": s.persona, "reason": s.reason} for s in found.skipped]}


def preflight_command(base_url: str, *, scenario_spec: str, personas: str = "", profile: str = "") -> list[str]:
    """The child process's command line (``--target-profile`` only when a profile is named)."""
    return [sys.executable, "-m", "loadtest.locustfile.preflight", "--host", base_url,
            "--scenario", scenario_spec, "--personas", personas,
            *(["--target-profile", profile] if profile else [])]


def set_aside_personas(environment: LocustEnvironment) -> None:
    """Run the preflight (once per host, scenarios and pool) and put the personas it sets
    aside in ``--skip-personas``. A preflight that fails, or that leaves no persona, keeps
    every persona in: the run then shows what the target does with them."""
    options = environment.parsed_options
    if options is None or options.no_preflight or not environment.host:
        return
    key = (environment.host, options.scenario, options.personas, options.target_profile)
    if key not in _found:
        done = subprocess.run(preflight_command(environment.host, scenario_spec=options.scenario,
                                                personas=options.personas, profile=options.target_profile),
                              capture_output=True, text=True, check=False)
        if done.returncode != ExitCode.OK:
            logger.warning("preflight failed, every persona stays in: %s", done.stderr.strip()[-500:])
            return
        found = orjson.loads(done.stdout)
        for skipped in found["skipped"]:
            logger.warning("persona %s set aside: %s", skipped["persona"], skipped["reason"])
        if not found["usable"]:
            logger.error("no persona fits the target; every persona stays in")
            return
        _found[key] = [skipped["persona"] for skipped in found["skipped"]]
    options.skip_personas = orjson.dumps(_found[key]).decode()


def main(argv: Sequence[str] | None = None) -> int:
    """The child process: the preflight's JSON on stdout; when the target does not answer,
    the reason on stderr and the harness's exit code for it."""
    parser = argparse.ArgumentParser(prog="python -m loadtest.locustfile.preflight")
    parser.add_argument("--host", required=True)
    parser.add_argument("--scenario", default="")
    parser.add_argument("--personas", default="")
    parser.add_argument("--target-profile", default="")
    options = parser.parse_args(argv)
    try:
        found = preflight(options.host, scenario_spec=options.scenario, personas=options.personas,
                          profile=options.target_profile)
    except TargetUnreachable as exc:
        print(f"target unreachable: {exc}", file=sys.stderr)
        return exc.exit_code
    sys.stdout.write(orjson.dumps(found).decode() + "\n")
    return ExitCode.OK


if __name__ == "__main__":
    raise SystemExit(main())
