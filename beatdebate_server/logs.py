"""Structured logs: one JSON object per line (or readable text), never a raw session id.

Fields that a call passes in ``extra`` (``request_id``, ``session``, ``route``, ...) become
keys of the JSON object. A session appears only as ``hash_id(session_id)`` under
``session``; paths are logged by route template (``/sessions/{session_id}``), which is
also why uvicorn's access log, which prints raw paths, is switched off. Every URL in a
line (message, extras, traceback) has its credentials masked (``redaction.py``): a store
URL's password must not reach a log whichever code or library wrote it (issue 16).
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import Any

import orjson

from .redaction import redact_text

# Attributes every LogRecord has; anything else on a record came from ``extra``.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message", "asctime", "taskName", "color_message"}


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {key: redact_text(value) if isinstance(value, str) else value
            for key, value in record.__dict__.items() if key not in _STANDARD}


class JsonFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__()
        self._second = -1
        self._second_text = ""

    def _timestamp(self, created: float) -> str:
        """``2026-11-25T13:08:52.918+00:00``; the part up to the second is cached."""
        whole = int(created)
        if whole != self._second:
            self._second = whole
            self._second_text = datetime.fromtimestamp(whole, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        return f"{self._second_text}.{int((created - whole) * 1000):03d}+00:00"

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": self._timestamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": redact_text(record.getMessage()),
        }
        entry.update(_extras(record))
        if record.exc_info:
            entry["exc"] = redact_text(self.formatException(record.exc_info))
        return orjson.dumps(entry, default=str).decode()


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        extras = " ".join(f"{key}={value}" for key, value in _extras(record).items())
        line = (f"{datetime.fromtimestamp(record.created, UTC):%H:%M:%S} "
                f"{record.levelname:<7} {record.name}: {redact_text(record.getMessage())}")
        if extras:
            line = f"{line}  {extras}"
        if record.exc_info:
            line = f"{line}\n{redact_text(self.formatException(record.exc_info))}"
        return line


def configure_logging(*, level: str = "info", fmt: str = "json") -> None:
    """Send ``beatdebate.*`` and uvicorn's logs to stderr in ``fmt``; silence access logs."""
    # Thread and process names are never logged: skip looking them up for every record.
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    # Nor are source file and line: ``None`` here is logging's own switch (see its source)
    # for skipping the caller-frame walk, the costliest step of a call such as the "session
    # created" line that a quarter of the benchmark's requests write.
    logging._srcfile = None
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    numeric = getattr(logging, level.upper())
    for name in ("beatdebate", "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(numeric)
        logger.propagate = False
    access = logging.getLogger("uvicorn.access")
    access.handlers[:] = []
    access.disabled = True  # paths carry session ids; requests are logged by template


def uvicorn_log_config(*, level: str = "info", fmt: str = "json") -> dict[str, Any]:
    """A ``logging.config`` dict for ``uvicorn.run``: the same formatters, in every worker."""
    formatter = f"{__name__}.{'JsonFormatter' if fmt == 'json' else 'TextFormatter'}"
    handler = {"class": "logging.StreamHandler", "formatter": "default",
               "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": {"()": formatter}},
        "handlers": {"default": handler},
        "loggers": {
            "beatdebate": {"handlers": ["default"], "level": level.upper(), "propagate": False},
            "uvicorn": {"handlers": ["default"], "level": level.upper(), "propagate": False},
            "uvicorn.error": {"handlers": [], "level": level.upper(), "propagate": True},
            "uvicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
        },
    }
