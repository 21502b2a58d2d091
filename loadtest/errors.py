"""The harness's errors: one tree, each kind carrying the exit code it ends a command with.

- ``HarnessError``: the root; a caller maps every error of the harness in one place
  (``except HarnessError as exc: exit(exc.exit_code)``).
- ``UsageError`` (exit 2): what was asked cannot run: a bad flag, duration, threshold,
  scenario or persona file, or options that contradict each other. Nothing was run. It is a
  ``ValueError`` too, so that library callers that catch those keep working.
- ``HarnessFailure`` (exit 4): the harness could not do its job: the target did not answer
  (``TargetUnreachable``), the embedded server did not start.

A violation of isolation is not an error: it is a result (``loadtest.outcome``).
"""

from __future__ import annotations

from typing import ClassVar

from loadtest.outcome import ExitCode


class HarnessError(Exception):
    """Any error the harness raises on purpose; ``exit_code`` ends the command."""

    exit_code: ClassVar[ExitCode] = ExitCode.HARNESS


class UsageError(HarnessError, ValueError):
    """What was asked cannot run; ``str()`` names the option or file and says why."""

    exit_code: ClassVar[ExitCode] = ExitCode.USAGE


class HarnessFailure(HarnessError):
    """The harness could not do its job (not a verdict on the target's isolation)."""

    exit_code: ClassVar[ExitCode] = ExitCode.HARNESS


class TargetUnreachable(HarnessFailure):
    """The target gave no answer (connection refused, timeout)."""


__all__ = ["HarnessError", "HarnessFailure", "TargetUnreachable", "UsageError"]
