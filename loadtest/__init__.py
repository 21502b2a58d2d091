"""The BeatDebate load and isolation harness.

Put virtual users on a target that speaks the session contract, record every request as
an operation, and check the history for context bleeding and loss::

    from loadtest import RunConfig, load_builtin, run

    result = run(RunConfig(scenarios=load_builtin("refresh"), users=20, duration=10))
    result.verdict.valid   # True, False, or "unknown" when nothing could be checked

Nothing heavy happens at import: each name below is imported on first use (PEP 562), so
that a light module such as ``loadtest.outcome``, which the command line's ``--help``
reads, does not load the runner. ``locust`` is never imported here (it patches the
process), nor is ``loadtest.locustfile``, the part of the harness that imports it.
"""

import importlib as _importlib
from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

if _TYPE_CHECKING:
    from loadtest.history import Expect as Expect
    from loadtest.history import Op as Op
    from loadtest.history import read_history as read_history
    from loadtest.history import write_history as write_history
    from loadtest.live import LiveStats as LiveStats
    from loadtest.personas import DEFAULT_POOL as DEFAULT_POOL
    from loadtest.personas import Persona as Persona
    from loadtest.personas import PersonaError as PersonaError
    from loadtest.personas import load_personas as load_personas
    from loadtest.result import RunResult as RunResult
    from loadtest.result import SkippedPersona as SkippedPersona
    from loadtest.run_config import RunConfig as RunConfig
    from loadtest.runner import run as run
    from loadtest.runner import run_async as run_async
    from loadtest.scenario import Scenario as Scenario
    from loadtest.scenario import ScenarioError as ScenarioError
    from loadtest.scenario import builtin_names as builtin_names
    from loadtest.scenario import load_builtin as load_builtin
    from loadtest.scenario import load_scenario as load_scenario
    from loadtest.scenario import load_scenarios as load_scenarios
    from loadtest.transport import AiohttpTransport as AiohttpTransport
    from loadtest.transport import HttpxTransport as HttpxTransport
    from loadtest.transport import Reply as Reply
    from loadtest.transport import Transport as Transport
    from loadtest.transport import TransportError as TransportError
    from loadtest.transport import TransportTimeout as TransportTimeout

_HOMES: dict[str, str] = {
    "Expect": "loadtest.history",
    "Op": "loadtest.history",
    "read_history": "loadtest.history",
    "write_history": "loadtest.history",
    "LiveStats": "loadtest.live",
    "DEFAULT_POOL": "loadtest.personas",
    "Persona": "loadtest.personas",
    "PersonaError": "loadtest.personas",
    "load_personas": "loadtest.personas",
    "RunResult": "loadtest.result",
    "SkippedPersona": "loadtest.result",
    "RunConfig": "loadtest.run_config",
    "run": "loadtest.runner",
    "run_async": "loadtest.runner",
    "Scenario": "loadtest.scenario",
    "ScenarioError": "loadtest.scenario",
    "builtin_names": "loadtest.scenario",
    "load_builtin": "loadtest.scenario",
    "load_scenario": "loadtest.scenario",
    "load_scenarios": "loadtest.scenario",
    "AiohttpTransport": "loadtest.transport",
    "HttpxTransport": "loadtest.transport",
    "Reply": "loadtest.transport",
    "Transport": "loadtest.transport",
    "TransportError": "loadtest.transport",
    "TransportTimeout": "loadtest.transport",
}

__all__ = [
    "DEFAULT_POOL", "AiohttpTransport", "Expect", "HttpxTransport", "LiveStats", "Op", "Persona",
    "PersonaError", "Reply", "RunConfig", "RunResult", "Scenario", "ScenarioError", "SkippedPersona",
    "Transport", "TransportError", "TransportTimeout", "builtin_names", "load_builtin",
    "load_personas", "load_scenario", "load_scenarios", "read_history", "run", "run_async",
    "write_history",
]


def __getattr__(name: str) -> _Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(_importlib.import_module(home), name)
    globals()[name] = value      # later lookups are plain attribute reads
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
