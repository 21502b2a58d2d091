"""``beatdebate serve``: settings from env and flags, and what it refuses (exit code 2)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from beatdebate_server.serve import ServeRefused, check_settings, settings_from_options, uvicorn_options
from beatdebate_server.settings import Settings, workers_refusal
from cli import app

runner = CliRunner()


def test_workers_with_the_memory_store_are_refused_with_why_and_what_instead() -> None:
    result = runner.invoke(app, ["serve", "--workers", "4"])
    assert result.exit_code == 2
    output = result.output
    assert "each worker holds its own memory" in output
    assert "--store redis://127.0.0.1:6379/0" in output


def test_workers_from_the_environment_are_refused_too() -> None:
    result = runner.invoke(app, ["serve"], env={"BEATDEBATE_WORKERS": "2"})
    assert result.exit_code == 2
    assert "split sessions between processes" in result.output


@pytest.mark.parametrize(("args", "named"), [
    (["--fault-rate", "1.5"], "--fault-rate"),
    (["--fault-rate", "-0.1"], "--fault-rate"),
    (["--store", "postgres://x"], "--store"),
    (["--defect", "nope"], "--defect"),
    (["--session-ttl", "0"], "--session-ttl"),
    (["--max-sessions", "0"], "--max-sessions"),
])
def test_bad_settings_exit_2_naming_the_flag(args: list[str], named: str) -> None:
    result = runner.invoke(app, ["serve", *args])
    assert result.exit_code == 2
    assert named in result.output


def test_an_unreadable_catalog_exits_2_with_the_catalog_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"title": "x"}\n')
    result = runner.invoke(app, ["serve", "--catalog", str(bad)])
    assert result.exit_code == 2
    assert "cannot load the catalog" in result.output
    assert "bad.jsonl" in result.output


def test_check_settings_refuses_before_loading_anything() -> None:
    with pytest.raises(ServeRefused, match="redis://") as caught:
        check_settings(Settings(workers=3, catalog=Path("/does/not/exist.jsonl")))
    assert caught.value.exit_code == 2
    assert workers_refusal(Settings(workers=3, store="redis://127.0.0.1:6379/0")) is None


def test_flags_win_over_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BEATDEBATE_SESSION_TTL", "60")
    monkeypatch.setenv("BEATDEBATE_DEFECT", "lost-update")
    monkeypatch.setenv("BEATDEBATE_STORE", "redis://127.0.0.1:6379/0")
    settings = Settings(session_ttl=5)
    assert settings.session_ttl == 5
    assert settings.defect == "lost-update"
    assert settings.store_kind == "redis"


def test_settings_travel_to_workers_through_the_environment(
        monkeypatch: pytest.MonkeyPatch) -> None:
    original = Settings(store="redis://127.0.0.1:6379/0", workers=4, session_ttl=12.5,
                        defect="unscoped-cache", fault_rate=0.25, log_format="text")
    for key, value in original.to_env().items():
        monkeypatch.setenv(key, value)
    assert Settings() == original
    assert "BEATDEBATE_CATALOG" not in original.to_env()  # None stays the default


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in __import__("os").environ if k.startswith("BEATDEBATE_")]:
        monkeypatch.delenv(key)
    settings = Settings()
    assert (settings.host, settings.port, settings.workers, settings.store) == (
        "127.0.0.1", 8000, 1, "memory")
    assert (settings.session_ttl, settings.max_sessions, settings.history_limit) == (
        1800, 100_000, 50)
    assert settings.defect is None and settings.log_format == "json"


def test_help_lists_every_defect() -> None:
    result = runner.invoke(app, ["serve", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for name in ("shared-session", "lost-update", "unscoped-cache", "sticky-refresh"):
        assert name in result.output


def test_backlog_and_keep_alive_reach_uvicorn() -> None:
    # 5,000 clients connecting at once overflow uvicorn's default backlog; the flags must
    # arrive at uvicorn.run, not stop at the settings.
    options = uvicorn_options(settings_from_options({"backlog": 4096, "keep_alive": 75}))
    assert (options["backlog"], options["timeout_keep_alive"]) == (4096, 75.0)
    defaults = uvicorn_options(Settings())
    assert (defaults["backlog"], defaults["timeout_keep_alive"]) == (2048, 5.0)
