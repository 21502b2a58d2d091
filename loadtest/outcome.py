"""Outcomes and exit codes: the one table that ``simulate``, ``check``, ``gate`` and ``locust`` exit by.

Terms:
- *isolation outcome*: what a run proved about isolation, as ``loadtest.report.status.outcome``
  decides it: ``pass``, ``fail`` (a violation), ``unknown`` (nothing could be checked) or
  ``error`` (the harness failed before it could judge).
- *exit code*: the process's status for a pipeline, from the isolation outcome and the
  thresholds:

  ====  ==========================================================================
  0     all held: every isolation property and every threshold
  1     isolation violated (bleeding or loss), or nothing was checked
  2     usage error: a bad flag, threshold, scenario or persona file (nothing ran)
  3     a threshold breached while isolation held
  4     the target was unreachable or the harness failed
  ====  ==========================================================================

A proven violation outranks a harness failure (its witnesses are recorded answers), and
isolation outranks a threshold: a run that bled and was also slow exits 1.

This module imports nothing of the harness, so that the command line's ``--help`` can print
the table without loading the runner.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import IntEnum
from typing import Literal, Protocol

# The values of ``loadtest.report.status.Outcome``; a type checker flags a caller whose
# outcome has a state this table does not know.
IsolationOutcome = Literal["pass", "fail", "unknown", "error"]


class ExitCode(IntEnum):
    OK = 0
    ISOLATION = 1
    USAGE = 2
    THRESHOLD = 3
    HARNESS = 4


MEANINGS: Mapping[ExitCode, str] = {
    ExitCode.OK: "all held (every isolation property, and every threshold given)",
    ExitCode.ISOLATION: "isolation violated (bleeding or loss), or nothing was checked",
    ExitCode.USAGE: "usage error (a bad flag, threshold, scenario or persona file: nothing was run)",
    ExitCode.THRESHOLD: "a threshold breached (isolation held)",
    ExitCode.HARNESS: "target unreachable or the harness failed",
}


class Judged(Protocol):
    """A judged threshold (``loadtest.thresholds.ThresholdResult``): did it pass?"""

    @property
    def passed(self) -> bool: ...


def exit_code(isolation: IsolationOutcome, thresholds: Iterable[Judged] = ()) -> ExitCode:
    """The exit code of a run whose isolation outcome is ``isolation`` and whose thresholds
    were judged as ``thresholds`` (see the module doc for the table)."""
    if isolation in ("fail", "unknown"):
        return ExitCode.ISOLATION
    if isolation == "error":
        return ExitCode.HARNESS
    return ExitCode.THRESHOLD if any(not item.passed for item in thresholds) else ExitCode.OK


def exit_codes_help(codes: Iterable[ExitCode] = tuple(ExitCode)) -> str:
    """The table as one line of a command's ``--help``: ``Exit codes: 0 all held (…); 1 …``."""
    return "Exit codes: " + "; ".join(f"{int(code)} {MEANINGS[code]}" for code in codes) + "."


__all__ = ["MEANINGS", "ExitCode", "IsolationOutcome", "Judged", "exit_code", "exit_codes_help"]
