"""The defaults of a run and of the gate, in one place that is cheap to import.

``RunConfig``, ``GateConfig`` and the command line (whose ``--help`` shows them) all read
these, so that a default cannot differ between the library and the command that calls it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

Through = Literal["api", "ui"]   # how virtual users reach the target: its HTTP API, or its chat page

# A run (``beatdebate simulate``, ``RunConfig``)
USERS = 50                  # closed model: concurrent virtual users
RAMP_UP = 2.0               # seconds over which the closed model starts its users
THINK_TIME = 1.0            # scale of every think time (0: none)
DURATION = 20.0             # seconds of load, unless a number of iterations is given
TIMEOUT = 10.0              # seconds per request
THROUGH: Through = "api"

# The embedded server (a run without a target of its own)
STORE = "memory"
SERVER_WORKERS = 1

# The gate (``beatdebate gate``, ``GateConfig``)
GATE_USERS = 100
GATE_MIN_USERS = 100        # the gate's verdict is one with at least this many users (docs/gate.md)
GATE_SEED = 20261125
GATE_DURATION = 20.0        # seconds of load across all scenarios
GATE_JSON = Path("reports/gate.json")
GATE_JUNIT = Path("reports/gate.junit.xml")
# Judged on every gate run unless the caller gives a threshold on the same metric (docs/gate.md,
# "Default thresholds"): a gate must not pass a service that fails its requests (errors), nor
# one whose conversations mostly stopped before their follow-ups, where isolation is judged
# (coverage: each scenario's share of planned follow-ups checked, loadtest.coverage).
GATE_THRESHOLDS: tuple[str, ...] = ("errors<1%", "coverage>=90%")
