"""Server settings: ``BEATDEBATE_*`` environment variables, overridden by command-line flags.

``Settings`` is a value: ``create_app(settings)`` reads it once and keeps it on
``app.state``; routes reach it through the ``SettingsDep`` dependency, never a global.
``to_env`` turns settings back into ``BEATDEBATE_*`` variables, which is how
``--workers N`` hands them to uvicorn's worker processes. Each field's description is its
flag's help (``python -m beatdebate_server --help``).

``ServeRefused`` and ``workers_refusal`` say why settings cannot be served. They live here,
below every layer, because the launcher raises them and the chat page (``ui``) refines
them, and neither may import the other. Deliberate defects are named by one table,
``defects/catalog.py``; a name outside it is a validation error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .defects.catalog import DEFECTS
from .redaction import redact_url

LogFormat = Literal["json", "text"]
LogLevel = Literal["debug", "info", "warning", "error"]


class ServeRefused(Exception):
    """The settings cannot be served; ``str()`` says why and what to do instead."""

    exit_code = 2


class Settings(BaseSettings):
    """Everything the server can be told (``beatdebate serve``, ``python -m beatdebate_server``).

    Field names match the flags: ``session_ttl`` is ``--session-ttl``.
    """

    model_config = SettingsConfigDict(env_prefix="BEATDEBATE_", extra="ignore",
                                      validate_default=True)

    host: str = Field(default="127.0.0.1", description="Interface to listen on.")
    port: int = Field(default=8000, ge=0, le=65535, description="TCP port.")
    workers: int = Field(default=1, ge=1, le=64, description=(
        "Worker processes. More than 1 needs a shared (redis://) store."))
    store: str = Field(default="memory", description=(
        "Session store: 'memory' (one process) or a URL such as redis://127.0.0.1:6379/0."))
    session_ttl: float = Field(default=1800.0, gt=0, description=(
        "Idle seconds before a session expires."))
    max_sessions: int = Field(default=100_000, ge=1, description=(
        "Live sessions held at most; the least recently used is evicted."))
    history_limit: int = Field(default=50, ge=1, le=10_000, description=(
        "Turns kept per session (a count of all turns is kept too)."))
    history_bytes: int = Field(default=16_384, ge=1024, description=(
        "Bytes of history kept per session: the newest turns whose queries, request ids "
        "and records fit (the newest turn always stays)."))
    sweep_interval: float = Field(default=30.0, gt=0, description=(
        "Seconds between sweeps for expired sessions (memory store)."))
    catalog: Path | None = Field(default=None, description=(
        "Catalog file (.jsonl/.csv, optionally .gz); none: the shipped catalog."))
    primary_timeout: float = Field(default=0.25, gt=0, description=(
        "Seconds the primary recommender may take before the fallback answers."))
    fault_rate: float = Field(default=0.0, ge=0.0, le=1.0, description=(
        "Share (0..1) of primary calls that fail on purpose, to exercise the fallback."))
    fault_latency: float = Field(default=0.0, ge=0.0, description=(
        "Seconds added to every primary call (past --primary-timeout: a timeout)."))
    fault_seed: int = Field(default=0, description="Seed of the fault injector's random draws.")
    defect: str | None = Field(default=None, description=(
        "Run with a DELIBERATE isolation defect, to prove the checks catch it."))
    log_level: LogLevel = Field(default="info", description="debug, info, warning or error.")
    log_format: LogFormat = Field(default="json", description=(
        "json (one object per line) or text."))
    ui: bool = Field(default=False, description=(
        "Also serve the chat page at /ui (needs the extra: pip install 'beatdebate[ui]'; "
        "docs/ui.md)."))
    # -- abuse (docs/security.md) ------------------------------------------------------
    header_timeout: float = Field(default=10.0, gt=0, le=300, description=(
        "Seconds a client has to send a request's head, from its connection or from the "
        "first byte of its next request; past it: 408 and the connection closed."))
    body_timeout: float = Field(default=10.0, gt=0, le=300, description=(
        "Seconds a client has to send a request's body once its head arrived; past it: "
        "408 and the connection closed."))
    max_header_bytes: int = Field(default=16_384, ge=1024, le=1 << 20, description=(
        "Bytes a request's head (request line and headers) may hold; past it: 431 and the "
        "connection closed."))
    max_connections: int = Field(default=2048, ge=1, description=(
        "Open connections (and requests in progress) at most; beyond: 503."))
    backlog: int = Field(default=2048, ge=1, le=65_535, description=(
        "Listen backlog: connections the kernel queues while workers are busy accepting "
        "(thousands of clients connecting at once need more than the default)."))
    keep_alive: float = Field(default=5.0, gt=0, le=3600, description=(
        "Seconds an idle keep-alive connection stays open (clients that think longer "
        "reconnect)."))
    rate_limit: bool = Field(default=True, description=(
        "Limit new sessions and turns per client (token buckets; 429 with Retry-After). "
        "The harness's embedded server runs with --no-rate-limit."))
    session_rate: float = Field(default=200.0, gt=0, description=(
        "New sessions per second per client, sustained (POST /sessions, and a turn that "
        "starts a session)."))
    session_burst: int = Field(default=5000, ge=1, description=(
        "New sessions a client may start at once before --session-rate applies."))
    turn_rate: float = Field(default=5000.0, gt=0, description=(
        "Turns (POST /recommendations) per second per client, sustained."))
    turn_burst: int = Field(default=10000, ge=1, description=(
        "Turns a client may take at once before --turn-rate applies."))
    client_header: str | None = Field(default=None, description=(
        "Header naming the client for the rate limits, set by a trusted reverse proxy "
        "(X-Forwarded-For: its last address); none: the connection's peer address."))

    @field_validator("store")
    @classmethod
    def _known_store(cls, value: str) -> str:
        if value == "memory" or value.startswith(("redis://", "rediss://", "unix://")):
            return value
        # Redacted: a mistyped scheme may still carry a password (issue 16).
        raise ValueError(f"must be 'memory' or a redis:// URL, got {redact_url(value)!r}")

    @field_validator("client_header", mode="before")
    @classmethod
    def _no_header_spellings(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().lower() in {"", "none"}:
            return None
        return value.strip() if isinstance(value, str) else value

    @field_validator("defect", mode="before")
    @classmethod
    def _no_defect_spellings(cls, value: object) -> object:
        # ``BEATDEBATE_DEFECT=`` or ``none`` means no defect, as the default does.
        if isinstance(value, str) and value.strip().lower() in {"", "none"}:
            return None
        return value

    @field_validator("defect")
    @classmethod
    def _known_defect(cls, value: str | None) -> str | None:
        if value is not None and value not in DEFECTS:
            raise ValueError(f"unknown defect {value!r}; known: {', '.join(DEFECTS)}")
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower_level(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @property
    def store_kind(self) -> Literal["memory", "redis"]:
        return "memory" if self.store == "memory" else "redis"

    def to_env(self) -> dict[str, str]:
        """These settings as ``BEATDEBATE_*`` variables (for uvicorn worker processes).

        A setting that is None is left out: the caller clears inherited ``BEATDEBATE_*``
        variables first, so that absence means the default.
        """
        return {f"BEATDEBATE_{name.upper()}": str(value)
                for name, value in self.model_dump().items() if value is not None}


def workers_refusal(settings: Settings) -> str | None:
    """Why these settings cannot be served as asked, or None if they can."""
    if settings.ui and settings.workers > 1:
        return ("--ui with --workers > 1: Gradio keeps each tab's state in one process, so a "
                "tab's next event may land on a worker that never saw it. Run one worker.")
    if settings.workers > 1 and settings.store_kind == "memory":
        return (
            f"--workers {settings.workers} with the memory store would split sessions between "
            "processes: each worker holds its own memory, so a session's next request may land "
            "on a worker that has never seen it. Use a shared store instead, e.g. "
            "--store redis://127.0.0.1:6379/0, or run one worker."
        )
    return None
