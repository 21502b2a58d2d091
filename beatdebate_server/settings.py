"""Server settings: ``BEATDEBATE_*`` environment variables, overridden by ``serve`` flags.

``Settings`` is a value: ``create_app(settings)`` reads it once and keeps it on
``app.state``; routes reach it through the ``SettingsDep`` dependency, never a global.
``to_env`` turns settings back into ``BEATDEBATE_*`` variables, which is how
``serve --workers N`` hands them to uvicorn's worker processes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DefectName = Literal["shared-session", "lost-update", "unscoped-cache", "sticky-refresh",
                     "ui-global-session"]
LogFormat = Literal["json", "text"]
LogLevel = Literal["debug", "info", "warning", "error"]

# One line each: shown by ``serve --help`` and logged at start-up when a defect is on.
DEFECTS: dict[str, str] = {
    "shared-session": "one global session for everybody, as the original front end had: "
                      "every request, whatever id it carries, lands in one shared session",
    "lost-update": "a turn is read, awaited and written back whole without the session lock: "
                   "concurrent turns of one session overwrite each other",
    "unscoped-cache": "follow-up answers are cached by query text alone: one session's "
                      "'More tracks' gets another session's page and anchor",
    "sticky-refresh": "a new session inherits the turns of the last deleted one, so a "
                      "refreshed tab keeps its old context",
    "ui-global-session": "the chat page (--ui) keeps ONE session id for every browser tab, as "
                         "the original front end did; the backend itself is clean",
}


class Settings(BaseSettings):
    """Everything ``beatdebate serve`` can be told. Field names match the flags."""

    model_config = SettingsConfigDict(env_prefix="BEATDEBATE_", extra="ignore",
                                      validate_default=True)

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    store: str = "memory"  # "memory" or a redis:// (rediss://, unix://) URL
    session_ttl: float = Field(default=1800.0, gt=0)
    max_sessions: int = Field(default=100_000, ge=1)
    history_limit: int = Field(default=50, ge=1, le=10_000)
    sweep_interval: float = Field(default=30.0, gt=0)
    catalog: Path | None = None  # None: the shipped catalog
    primary_timeout: float = Field(default=0.25, gt=0)
    fault_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    fault_latency: float = Field(default=0.0, ge=0.0)
    fault_seed: int = 0
    defect: DefectName | None = None
    log_level: LogLevel = "info"
    log_format: LogFormat = "json"
    ui: bool = False  # also serve the chat page at /ui (the optional extra "ui"; docs/ui.md)

    @field_validator("store")
    @classmethod
    def _known_store(cls, value: str) -> str:
        if value == "memory" or value.startswith(("redis://", "rediss://", "unix://")):
            return value
        raise ValueError(f"must be 'memory' or a redis:// URL, got {value!r}")

    @field_validator("defect", mode="before")
    @classmethod
    def _no_defect_spellings(cls, value: object) -> object:
        # ``BEATDEBATE_DEFECT=`` or ``none`` means no defect, as the default does.
        if isinstance(value, str) and value.strip().lower() in {"", "none"}:
            return None
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
