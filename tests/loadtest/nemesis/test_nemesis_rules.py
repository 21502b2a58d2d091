"""What a run must be for the faults it asks for: refused before any load (exit 2), naming the
options; and the command line takes ``--nemesis`` and ``--server-cmd``."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from cli import app
from loadtest.errors import UsageError
from loadtest.runner import RunConfig


@pytest.mark.parametrize(("options", "said"), [
    ({"target": "http://127.0.0.1:9", "nemesis": ("pause-worker",)}, "pause-worker acts on a server the harness starts"),
    ({"nemesis": ("kill-worker",)}, "--server-workers 2 or more"),
    ({"nemesis": ("restart-redis",), "store": "redis://127.0.0.1:6379/0"}, "never yours: leave --store out"),
    ({"nemesis": ("redis-latency",), "store": "rediss://example:6380/0"}, "relays plain redis:// connections"),
    ({"nemesis": ("abort",), "duration": None, "iterations": 2}, "a run of a set length"),
    ({"nemesis": ("pause-worker", "abort"), "duration": 9.0}, "needs at least 13 s of load"),
    ({"server_cmd": "beatdebate serve"}, "put {port} in it"),
    ({"server_cmd": "beatdebate serve --port {port}", "target": "http://127.0.0.1:9"}, "give one or the other"),
    ({"server_cmd": "beatdebate serve --port {port}", "defect": "lost-update"}, "put them in the command"),
    ({"server_cmd": "beatdebate serve --port {port}", "nemesis": ("redis-latency",)}, "put {redis} where"),
])
def test_a_run_that_cannot_bring_its_faults_is_refused(options: dict[str, Any], said: str) -> None:
    base: dict[str, Any] = {"duration": 20.0}
    with pytest.raises(UsageError, match=said.replace("{", r"\{").replace("}", r"\}")):
        RunConfig(**{**base, **options})


def test_runs_that_can_bring_their_faults_are_accepted() -> None:
    accepted = [
        RunConfig(target="http://127.0.0.1:9", duration=20.0, nemesis=("abort", "timeout")),   # client faults: any target
        RunConfig(duration=20.0, nemesis=("pause-worker",)),                                  # one worker, memory
        RunConfig(duration=20.0, nemesis=("kill-worker",), server_workers=2, store="redis://127.0.0.1:6379/0"),
        RunConfig(duration=20.0, server_cmd="beatdebate serve --port {port} --store {redis}",
                  nemesis=("pause-worker", "redis-latency"), store="redis://127.0.0.1:6379/0"),
    ]
    assert [config.nemesis for config in accepted] == [
        ("abort", "timeout"), ("pause-worker",), ("kill-worker",), ("pause-worker", "redis-latency")]


@pytest.mark.parametrize("command", ["simulate", "gate"])
def test_the_command_line_refuses_an_unknown_fault_with_exit_2(command: str) -> None:
    done = CliRunner().invoke(app, [command, "--nemesis", "pause-worker,nap", "--duration", "20s"])
    assert done.exit_code == 2
    assert "no fault 'nap'" in done.output


@pytest.mark.parametrize("command", ["simulate", "gate"])
def test_the_command_line_checks_the_faults_before_running(command: str) -> None:
    done = CliRunner().invoke(app, [command, "--nemesis", "kill-worker", "--duration", "20s"])
    assert done.exit_code == 2
    assert "--server-workers 2 or more" in done.output
