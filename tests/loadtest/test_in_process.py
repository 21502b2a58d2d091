"""The harness against the real server in-process: ``create_app`` over ``httpx.ASGITransport``."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes import write_persona_catalog

from loadtest.runner import RunConfig, run_async
from loadtest.scenario import load_builtin


@pytest.mark.anyio
async def test_the_real_server_keeps_users_apart(tmp_path: Path) -> None:
    from beatdebate_server.http.app import create_app
    from beatdebate_server.settings import Settings

    app = create_app(Settings(catalog=write_persona_catalog(tmp_path / "catalog.jsonl")))
    async with app.router.lifespan_context(app):   # ASGITransport sends no lifespan events
        result = await run_async(RunConfig(app=app, users=12, iterations=2, think_time=0, ramp_up=0, seed=9))
    assert result.harness_error is None and result.errors == {}
    assert result.skipped_personas == ()
    assert result.verdict.valid is True, {k: v[0].explanation for k, v in result.verdict.anomalies.items()}
    assert result.verdict.checked.follow_ups > 20
    assert set(result.scenarios) == {s.name for s in load_builtin("mixed-traffic")}


@pytest.mark.anyio
async def test_the_real_server_with_a_defect_is_caught(tmp_path: Path) -> None:
    from beatdebate_server.http.app import create_app
    from beatdebate_server.settings import Settings

    settings = Settings(catalog=write_persona_catalog(tmp_path / "catalog.jsonl"), defect="unscoped-cache")
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        result = await run_async(RunConfig(app=app, users=12, iterations=2, think_time=0, ramp_up=0, seed=9,
                                           scenarios=load_builtin("follow-up-isolation")))
    assert result.verdict.valid is False
    assert any(found[0].cls == "bleeding" for found in result.verdict.anomalies.values())
