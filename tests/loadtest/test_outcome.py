"""``loadtest.outcome`` and ``loadtest.errors``: one exit-code table, and errors that carry their code."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from loadtest.errors import HarnessError, HarnessFailure, TargetUnreachable, UsageError
from loadtest.outcome import MEANINGS, ExitCode, IsolationOutcome, exit_code, exit_codes_help
from loadtest.thresholds import ThresholdError
from loadtest.units import DurationError


@dataclass(frozen=True)
class Judged:
    passed: bool


@pytest.mark.parametrize(("isolation", "thresholds", "code"), [
    ("pass", (), ExitCode.OK),
    ("pass", (Judged(True),), ExitCode.OK),
    ("pass", (Judged(True), Judged(False)), ExitCode.THRESHOLD),
    ("fail", (Judged(False),), ExitCode.ISOLATION),     # isolation outranks a threshold
    ("unknown", (), ExitCode.ISOLATION),                # nothing checked never passes
    ("error", (Judged(False),), ExitCode.HARNESS),
])
def test_the_table(isolation: IsolationOutcome, thresholds: tuple[Judged, ...], code: ExitCode) -> None:
    assert exit_code(isolation, thresholds) == code


def test_the_codes_a_pipeline_reads() -> None:
    assert [int(code) for code in ExitCode] == [0, 1, 2, 3, 4]
    assert set(MEANINGS) == set(ExitCode)
    assert exit_codes_help((ExitCode.OK, ExitCode.USAGE)) == (
        f"Exit codes: 0 {MEANINGS[ExitCode.OK]}; 2 {MEANINGS[ExitCode.USAGE]}.")


def test_every_error_carries_its_code_from_the_table() -> None:
    assert [error.exit_code for error in (UsageError, ThresholdError, DurationError)] == [ExitCode.USAGE] * 3
    assert [error.exit_code for error in (HarnessFailure, TargetUnreachable)] == [ExitCode.HARNESS] * 2
    assert all(issubclass(error, HarnessError) for error in (UsageError, ThresholdError, HarnessFailure))
    assert issubclass(UsageError, ValueError)    # library callers that catch ValueError keep working
