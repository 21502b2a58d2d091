"""What a run is: ``RunConfig``, checked when it is built.

Construction validates everything that can be known before any load: the target, the
profile, the nemesis, the load shape (users, ramp-up, the open model's rate, stages), the
persona pool against the scenarios' needs. A ``UsageError`` (a ``ValueError``) says what
cannot run and changes nothing. ``runner`` runs what it describes; the terms (closed and open
model, stages, draining) are explained there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from loadtest import defaults
from loadtest.defaults import Through
from loadtest.errors import UsageError
from loadtest.nemesis.rules import check_nemesis
from loadtest.oracle.model import Evidence
from loadtest.personas import DEFAULT_POOL, Persona
from loadtest.profiles import (
    Profile, allowed_properties, chat_page_profile, check_property_names, contract_profile, default_scenarios,
)
from loadtest.profiles import evidence as profile_evidence
from loadtest.scenario import Scenario, ScenarioError, shared_load_shape
from loadtest.stages import Stage, peak, total_duration
from loadtest.target import EmbeddedServer, check_target

DEFAULT_DURATION = defaults.DURATION
NETWORK_CLIENTS = ("auto", "lean", "aiohttp", "httpx")   # RunConfig.client (``runner._network_client``)


@dataclass(frozen=True, kw_only=True)
class RunConfig:
    """What to run. Construction validates: a ``UsageError`` (a ``ValueError``) says what cannot run."""

    target: str | None = None                 # base URL; None: in-process or embedded server
    app: Any = None                           # an ASGI app, driven in-process (lifespan entered by the caller)
    http_transport: Any = None                # an httpx transport (e.g. MockTransport), per-user clients over it
    scenarios: tuple[Scenario, ...] = ()      # () = the built-in mixed-traffic
    personas: tuple[Persona, ...] | None = None   # None = DEFAULT_POOL
    users: int | None = None                  # closed model: concurrent virtual users (None: defaults.USERS)
    ramp_up: float | None = None              # seconds over which they start (None: defaults.RAMP_UP)
    think_time: float = defaults.THINK_TIME   # scale of every think time (0: none)
    arrival_rate: float | None = None         # users per second: the open model
    stages: tuple[Stage, ...] = ()            # closed model: users over time (replace users, ramp_up, duration)
    arrival_stages: tuple[Stage, ...] = ()    # open model: arrival rate over time (replace arrival_rate, duration)
    duration: float | None = None             # seconds of load (default 20 unless iterations is given)
    iterations: int | None = None             # per user
    seed: int | None = None                   # None: a random seed, reported in the result
    timeout: float = defaults.TIMEOUT         # seconds per request
    # HTTP client for a network target; "auto": the lean one where it can speak (``runner._network_client``).
    client: Literal["auto", "lean", "aiohttp", "httpx"] = "auto"
    through: Through = defaults.THROUGH       # "ui": each user is a tab of the chat page (docs/ui.md)
    profile: Profile | None = None            # how the target is spoken to, and what it proves; None: contract
    allow: tuple[str, ...] = ()               # properties reported but not failing (beside the profile's)
    deny: tuple[str, ...] = ()                # properties that fail even where the profile allows them
    max_recommendations: int = 10
    history_limit: int | None = None          # the target's turns kept per session, for the checker
    history_path: Path | None = None          # write the recorded history (JSONL) here
    preflight: bool = True
    drain_timeout: float | None = None        # default: timeout + 5 s
    # The embedded server (used only when no target, app or http_transport is given):
    defect: str | None = None
    store: str = defaults.STORE
    server_workers: int = defaults.SERVER_WORKERS
    server_args: tuple[str, ...] = ()
    server_env: dict[str, str] = field(default_factory=dict)
    # Faults (``loadtest.nemesis``) and a server command of the caller's (instead of the embedded one):
    nemesis: tuple[str, ...] = ()             # fault names; the server's need a server the harness starts
    server_cmd: str | None = None             # started for the run: {port} (required), {redis}

    def __post_init__(self) -> None:
        self._check_stages()   # first: the rest reads the run's length, which stages set
        if sum(x is not None for x in (self.target, self.app, self.http_transport)) > 1:
            raise UsageError("give at most one of target, app, http_transport")
        if self.through not in ("api", "ui") or (self.through == "ui" and in_process(self)):
            raise UsageError("through must be 'api' or 'ui', and 'ui' needs a served chat page "
                             "(a target URL or the embedded server), not an in-process app")
        check_target(url=self.target, own_target=self.target is not None or in_process(self),
                     server=self.embedded_server, through=self.through)
        check_nemesis(self.nemesis, own_target=self.target is not None or in_process(self),
                      server_cmd=self.server_cmd, store=self.store, workers=self.server_workers,
                      defect=self.defect, default_workers=defaults.SERVER_WORKERS,
                      http_client=self.through == "api" and self.resolved_profile.kind != "gradio",
                      duration=self.planned_duration)
        check_property_names((*self.allow, *self.deny))
        kind = self.resolved_profile.kind
        if self.through == "ui" and self.profile is not None and self.profile.kind != "contract":
            raise UsageError("--through ui drives our own chat page; a target profile says how to reach "
                             "its service: give one or the other")
        if kind == "gradio" and in_process(self):
            raise UsageError(f"profile {self.resolved_profile.name!r} talks to a Gradio app: it needs a target URL")
        if self.client not in NETWORK_CLIENTS:
            raise UsageError(f"client must be one of {', '.join(NETWORK_CLIENTS)}, not {self.client!r}")
        if self.client == "lean" and (kind != "contract" or (self.target or "").startswith("https://")):
            raise UsageError("the lean client speaks the contract's calls over plain http:// only: "
                             "use --client aiohttp (or auto) for TLS or a target profile")
        if self.users is not None and self.users < 1:
            raise UsageError("users must be at least 1")
        for name in ("ramp_up", "think_time", "timeout"):
            value = getattr(self, name)
            if value is not None and (value < 0 or (name == "timeout" and value == 0)):
                raise UsageError(f"{name} must be positive")
        if self.arrival_rate is not None and self.arrival_rate <= 0:
            raise UsageError("arrival_rate must be positive (users per second)")
        if self.duration is not None and self.duration <= 0:
            raise UsageError("duration must be positive")
        if self.iterations is not None and self.iterations < 1:
            raise UsageError("iterations must be at least 1")
        pool = self.pool
        if not pool:
            raise UsageError("the persona pool is empty")
        for scenario in self.resolved_scenarios:
            for need in scenario.needs:
                lacking = [p.name for p in pool if need not in p.fields]
                if lacking:
                    raise UsageError(f"scenario {scenario.name!r} needs persona field {need!r}, "
                                     f"which {len(lacking)} persona(s) lack (e.g. {lacking[0]!r})")

    def _check_stages(self) -> None:
        """Stages set the load over time and the run's length: options that set them otherwise conflict."""
        try:
            shared_load_shape(self.scenarios)   # two files with different stages: say which
        except ScenarioError as exc:
            raise UsageError(str(exc)) from exc
        given = {"--users": self.users, "--ramp-up": self.ramp_up, "--duration": self.duration,
                 "--arrival-rate": self.arrival_rate}
        if self.stages and self.arrival_stages:
            raise UsageError("give --stages (users over time) or --arrival-stages (arrivals over time), not both")
        if self.stages or self.arrival_stages:
            found = [name for name, value in given.items() if value is not None]
            if self.stages and self.iterations is not None:   # an arrival's iterations are still its own
                found.append("--iterations")
            if found:
                raise UsageError(f"{'--stages' if self.stages else '--arrival-stages'} sets the load over time and "
                                 f"the run's length: it cannot go with {', '.join(found)} (give one or the other)")
        if self.user_stages and self.iterations is not None:
            raise UsageError("the scenario file's stages set users over time until the stages end: "
                             "--iterations does not go with them")

    @property
    def user_stages(self) -> tuple[Stage, ...]:
        """The closed model's stages: ``stages``, else a scenario file's when no load option is given."""
        return self.stages or (self._file_shape[0] if not self.arrival_stages else ())

    @property
    def rate_stages(self) -> tuple[Stage, ...]:
        """The open model's stages: ``arrival_stages``, else a scenario file's when no load option is given."""
        return self.arrival_stages or (self._file_shape[1] if not self.stages else ())

    @property
    def _file_shape(self) -> tuple[tuple[Stage, ...], tuple[Stage, ...]]:
        if any(value is not None for value in (self.users, self.ramp_up, self.duration, self.arrival_rate)):
            return (), ()   # the command line's load shape wins over the files', as in k6
        return shared_load_shape(self.scenarios)

    @property
    def planned_users(self) -> int | None:
        """The closed model's users (with stages: the most at once); None for the open model."""
        if self.model == "open":
            return None
        if self.user_stages:
            return int(peak(self.user_stages))
        return self.users if self.users is not None else defaults.USERS

    @property
    def embedded_server(self) -> EmbeddedServer:
        return EmbeddedServer(defect=self.defect, store=self.store, workers=self.server_workers)

    @property
    def resolved_profile(self) -> Profile:
        if self.through == "ui":    # our own chat page: a Gradio target, its built-in profile (docs/ui.md)
            return chat_page_profile()
        return self.profile if self.profile is not None else contract_profile()

    @property
    def evidence(self) -> frozenset[Evidence]:
        """What the target's answers can show: the properties needing more are not judged."""
        return profile_evidence(self.resolved_profile)

    @property
    def allowed(self) -> frozenset[str]:
        """Properties whose violations are reported without failing the run."""
        return allowed_properties(self.resolved_profile, allow=self.allow, deny=self.deny)

    @property
    def resolved_scenarios(self) -> tuple[Scenario, ...]:
        """The scenarios asked for; else a foreign target's profile's; else the built-in mix."""
        return default_scenarios(self.resolved_profile, self.scenarios)

    @property
    def pool(self) -> tuple[Persona, ...]:
        return self.personas if self.personas is not None else DEFAULT_POOL

    @property
    def model(self) -> str:
        return "open" if self.arrival_rate is not None or self.rate_stages else "closed"

    @property
    def planned_duration(self) -> float | None:
        if self.user_stages or self.rate_stages:
            return total_duration(self.user_stages or self.rate_stages)
        if self.duration is not None:
            return self.duration
        return DEFAULT_DURATION if self.iterations is None or self.model == "open" else None


def in_process(config: RunConfig) -> bool:
    """Whether the run drives an app in this process (no network, no server of its own)."""
    return config.app is not None or config.http_transport is not None
