"""The locustfile's own command-line options, and what they name: the target profile, the
scenarios, the personas and the properties allowed to fail.

``add_arguments`` declares them on Locust's parser (``hooks`` registers it for
``init_command_line_parser``); they show in ``locust -f scenarios/locustfile.py --help``
and, where marked, in the web UI's start form. The scenarios, the persona pool and the
profile are read with the same loaders as ``beatdebate simulate``.

Terms:
- *plan* (``RunPlan``): what one test runs against its target and how its checkers judge
  it: the profile (``--target-profile``; Locust's own ``--profile`` is a test-run label), the
  scenarios, the evidence the profile's answers show and the properties allowed to fail.
  Every process resolves the same plan from the same options (workers get the master's).

No Locust import: the preflight's child process and the tests read this module too.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from loadtest.errors import UsageError
from loadtest.oracle import Evidence
from loadtest.personas import DEFAULT_POOL, Persona, load_personas
from loadtest.profiles import (
    Profile, allowed_properties, check_property_names, contract_profile, default_scenarios, evidence,
)
from loadtest.scenario import DEFAULT_BUILTIN, Scenario, ScenarioError, load_builtin, load_scenarios
from loadtest.simulation import resolve_profile


# What a distributed run's verdict covers (``--isolation-scope``): see ``messaging``.
WHOLE_HISTORY = "whole-history"
PER_WORKER = "per-worker"
SCOPES = (WHOLE_HISTORY, PER_WORKER)


@dataclass(frozen=True, kw_only=True)
class RunPlan:
    """What one test runs, and how it is judged (module doc)."""

    profile: Profile
    scenarios: tuple[Scenario, ...]
    evidence: frozenset[Evidence]     # what the profile's answers show: other properties are not checkable
    allowed: frozenset[str]           # properties whose violations are reported without failing the run


def add_arguments(parser: Any) -> None:
    """Declare the options on Locust's parser (``include_in_web_ui`` is Locust's own keyword)."""
    parser.add_argument("--scenario", default="", include_in_web_ui=True,
                        help="built-in scenario names or TOML files, comma-separated (default: the target "
                             f"profile's [run] scenarios, else {DEFAULT_BUILTIN})")
    # Not in the start form: a profile typed there would skip the checks made at start-up.
    parser.add_argument("--target-profile", default="", include_in_web_ui=False,
                        help="how to talk to the target and what its answers prove: contract (default), a "
                             "built-in profile name or a profile TOML file (docs/profiles.md)")
    parser.add_argument("--allow", action="append", default=None, include_in_web_ui=False,
                        help="report this property's violations without failing the run; repeatable")
    parser.add_argument("--deny", action="append", default=None, include_in_web_ui=False,
                        help="fail on this property even where the profile allows it; repeatable")
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
    parser.add_argument("--isolation-scope", default=WHOLE_HISTORY, choices=SCOPES, include_in_web_ui=False,
                        help="distributed runs: whole-history (workers stream their operations to the master, "
                             "whose one checker judges them all) or per-worker (each worker judges only its "
                             "own: properties spanning workers go unchecked)")
    parser.add_argument("--history", default="", include_in_web_ui=False,
                        help="write the run's whole history (JSONL, as `simulate --history`) to this file at "
                             "quit, for `beatdebate check`; on the master of a distributed run, the merged one")


def resolve_plan(options: Any) -> RunPlan:
    """The plan that ``options`` name. Raises ``UsageError`` naming the bad profile (file, line,
    key), scenario or property; nothing has been run then."""
    profile = resolve_locust_profile(options.target_profile)
    allow, deny = property_names(options.allow), property_names(options.deny)
    check_property_names((*allow, *deny))
    try:
        scenarios = resolve_scenarios(options.scenario, profile=profile)
    except ScenarioError as exc:      # its message names the file, line and field
        raise UsageError(str(exc)) from exc
    return RunPlan(profile=profile, scenarios=scenarios, evidence=evidence(profile),
                   allowed=allowed_properties(profile, allow=allow, deny=deny))


def resolve_locust_profile(name_or_path: str | None) -> Profile:
    """``--target-profile`` (empty: the contract). A ``UsageError`` when it does not load, or
    when it is a Gradio app's: ``gradio_client`` runs its own asyncio loop and threads, which
    Locust's gevent-patched process cannot drive."""
    profile = resolve_profile(name_or_path or None) or contract_profile()
    if profile.kind == "gradio":
        raise UsageError(f"profile {profile.name!r} talks to a Gradio app, whose client (asyncio and threads) "
                         "cannot run under Locust's gevent: judge it with `beatdebate simulate` or `gate` "
                         f"--profile {name_or_path}")
    return profile


def property_names(values: Iterable[str] | None) -> tuple[str, ...]:
    """``--allow`` / ``--deny`` values: repeatable, each may also be comma-separated."""
    return tuple(name.strip() for value in values or () for name in value.split(",") if name.strip())


def resolve_scenarios(spec: str, *, profile: Profile | None = None) -> tuple[Scenario, ...]:
    """``--scenario``: built-in names and TOML files, comma-separated, in the order given.
    Empty: a foreign target's profile's ``[run] scenarios``, else the default built-in (as
    ``loadtest.runner.RunConfig.resolved_scenarios``). Raises ``ScenarioError`` naming the bad one."""
    found: list[Scenario] = []
    for item in (part.strip() for part in spec.split(",")):
        if item:
            path = Path(item)
            found += load_scenarios(path) if item.endswith(".toml") or path.is_file() else load_builtin(item)
    return default_scenarios(profile or contract_profile(), tuple(found))


def resolve_pool(path: str, *, skip: Sequence[str] = ()) -> tuple[Persona, ...]:
    """``--personas`` (empty: the built-in pool) without the personas named in ``skip``."""
    pool = load_personas(Path(path)) if path else DEFAULT_POOL
    return tuple(persona for persona in pool if persona.name not in set(skip))


def skipped_personas(options: Any) -> list[str]:
    """``--skip-personas``: the names the preflight set aside (a JSON list)."""
    return list(orjson.loads(options.skip_personas or "[]"))


__all__ = ["PER_WORKER", "SCOPES", "WHOLE_HISTORY", "RunPlan", "add_arguments", "allowed_properties", "property_names", "resolve_locust_profile",
           "resolve_plan", "resolve_pool", "resolve_scenarios", "skipped_personas"]
