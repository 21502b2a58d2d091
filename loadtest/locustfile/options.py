"""The locustfile's own command-line options, and the scenarios and personas they name.

``add_arguments`` declares them on Locust's parser (``hooks`` registers it for
``init_command_line_parser``); they show in ``locust -f scenarios/locustfile.py --help``
and, where marked, in the web UI's start form. The scenarios and the persona pool are read
with the same loaders as ``beatdebate simulate``.

No Locust import: the preflight's child process and the tests read this module too.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

from loadtest.personas import DEFAULT_POOL, Persona, load_personas
from loadtest.scenario import DEFAULT_BUILTIN, Scenario, load_builtin, load_scenarios


def add_arguments(parser: Any) -> None:
    """Declare the options on Locust's parser (``include_in_web_ui`` is Locust's own keyword)."""
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


def resolve_scenarios(spec: str) -> tuple[Scenario, ...]:
    """``--scenario``: built-in names and TOML files, comma-separated, in the order given
    (empty: the default built-in). Raises ``ScenarioError`` naming the bad one."""
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


def skipped_personas(options: Any) -> list[str]:
    """``--skip-personas``: the names the preflight set aside (a JSON list)."""
    return list(orjson.loads(options.skip_personas or "[]"))


__all__ = ["add_arguments", "resolve_pool", "resolve_scenarios", "skipped_personas"]
