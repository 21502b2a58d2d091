"""The nemesis: faults the harness brings during a run (``--nemesis NAME[,NAME…]``).

Faults are where bleeding lives: the March 2023 chat-history leak came from requests
cancelled at the wrong moment, and a lock lease that outlives a stalled worker doubles a
turn. A clean run finds neither. The nemesis plans fault windows from the run's seed
(``schedule``), brings each one (``actors``: on the harness's own HTTP clients, on the
processes of a server the harness started, between that server and its Redis), and records
each as a ``FaultWindow`` in the run's result and history, so that a witness found inside
a window is explained by it (``loadtest.oracle.explain.fault_note``).

- ``catalog``: the faults by name (``FAULTS``), ``parse_nemesis``, ``nemesis_help``; cheap.
- ``schedule``: ``plan(names, seed=..., duration=...)``, pure.
- ``rules``: ``check_nemesis``, what a run must be for the faults it asks for.
- ``client``: ``ClientFaults``, the transports' ``RequestFaults`` (``abort``, ``timeout``).
- ``stage``: ``staged_server``, the server (and Redis, and proxy) the harness starts.
- ``processes``, ``redis_server``, ``redis_proxy``: the I/O the actors use.
- ``actors``: ``Nemesis``, which does the plan and records the windows.

``docs/nemesis.md`` says what each fault can reveal and how to read a witness inside a window.
This ``__init__`` re-exports the cheap, pure part only.
"""

from loadtest.history import FaultWindow as FaultWindow
from loadtest.nemesis.catalog import FAULTS as FAULTS
from loadtest.nemesis.catalog import FaultInfo as FaultInfo
from loadtest.nemesis.catalog import nemesis_help as nemesis_help
from loadtest.nemesis.catalog import parse_nemesis as parse_nemesis
from loadtest.nemesis.schedule import PlannedFault as PlannedFault
from loadtest.nemesis.schedule import minimum_duration as minimum_duration
from loadtest.nemesis.schedule import plan as plan

__all__ = ["FAULTS", "FaultInfo", "FaultWindow", "PlannedFault", "minimum_duration", "nemesis_help",
           "parse_nemesis", "plan"]
