"""``python -m beatdebate_server``: the launcher's command line (the options of ``serve``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import beatdebate_server.__main__ as launcher
from beatdebate_server.defects.catalog import DEFECTS
from beatdebate_server.settings import Settings


def test_help_works_from_anywhere_and_lists_every_option_and_defect(tmp_path: Path) -> None:
    # From an empty directory: the installed package, not a checkout, is what runs.
    done = subprocess.run([sys.executable, "-m", "beatdebate_server", "--help"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    for name in Settings.model_fields:
        assert "--" + name.replace("_", "-") in done.stdout
    assert "--no-ui" in done.stdout
    for name in DEFECTS:
        assert name in done.stdout


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[Settings]:
    """What ``main`` would serve, instead of serving it."""
    calls: list[Settings] = []
    monkeypatch.setattr(launcher, "serve", calls.append)
    for key in [k for k in __import__("os").environ if k.startswith("BEATDEBATE_")]:
        monkeypatch.delenv(key)
    return calls


def test_flags_become_settings_and_win_over_the_environment(
        served: list[Settings], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BEATDEBATE_SESSION_TTL", "60")
    monkeypatch.setenv("BEATDEBATE_STORE", "redis://127.0.0.1:6379/0")
    code = launcher.main(["--session-ttl", "5", "--ui", "--defect", "lost-update",
                          "--catalog", "my.jsonl", "--port", "0"])
    assert code == 0
    [settings] = served
    assert (settings.session_ttl, settings.ui, settings.defect) == (5.0, True, "lost-update")
    assert settings.catalog == Path("my.jsonl") and settings.port == 0
    assert settings.store == "redis://127.0.0.1:6379/0"  # from the environment
    assert launcher.main(["--no-ui"]) == 0
    assert served[-1].ui is False


@pytest.mark.parametrize(("args", "named"), [
    (["--fault-rate", "1.5"], "--fault-rate"),
    (["--defect", "nope"], "--defect"),
    (["--session-ttl", "0"], "--session-ttl"),
])
def test_bad_values_exit_2_naming_the_flag(served: list[Settings],
                                           capsys: pytest.CaptureFixture[str],
                                           args: list[str], named: str) -> None:
    assert launcher.main(args) == 2
    assert named in capsys.readouterr().err
    assert served == []


def test_settings_that_cannot_be_served_exit_2_with_why(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in __import__("os").environ if k.startswith("BEATDEBATE_")]:
        monkeypatch.delenv(key)
    assert launcher.main(["--workers", "2"]) == 2  # refused before loading or listening
    assert "each worker holds its own memory" in capsys.readouterr().err


def test_every_setting_has_a_flag_with_help() -> None:
    actions: dict[str, Any] = {action.dest: action for action in launcher.build_parser()._actions}
    for name, field in Settings.model_fields.items():
        assert name in actions and field.description
        assert field.description in actions[name].help
