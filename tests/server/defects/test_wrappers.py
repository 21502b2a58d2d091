"""Each deliberate defect breaks an isolation check that the clean server passes.

Every test runs a scenario the clean server passes (``http/test_app``, ``service/test_turn``)
against ``--defect NAME`` and asserts the specific wrong outcome: that is what makes the
checks worth having. The defects are wrappers (``defects/wrappers.py``) that the app
composes only when one is on: with none, the production objects serve unwrapped.
"""

from __future__ import annotations

import asyncio
import logging

import pytest
from server_client import ServeApp, ask

from beatdebate_server.defects.catalog import DEFECTS
from beatdebate_server.defects.wrappers import NO_DEFECT, Wrappers, wrappers_for
from beatdebate_server.service.turn import TurnService
from beatdebate_server.settings import Settings
from beatdebate_server.store.memory import MemoryStore

pytestmark = pytest.mark.anyio


async def test_shared_session_puts_everybody_in_one_session(serve_app: ServeApp) -> None:
    async with serve_app(Settings(defect="shared-session")) as client:
        tab1 = await ask(client, "Songs by Mk.gee", request_id="tab1-turn1")
        tab2 = await ask(client, "Electronic music", request_id="tab2-turn1")
        more1 = await ask(client, "More tracks", tab1["session_id"], request_id="tab1-turn2")
        history = (await client.get(f"/sessions/{tab1['session_id']}")).json()

    assert tab1["session_id"] == tab2["session_id"]  # the defect: one id for everybody
    assert more1["context"]["anchor"]["request_id"] == "tab2-turn1"  # foreign anchor
    assert "Mk.gee" not in {t["artist"] for t in more1["recommendations"]}  # bleeding
    assert "tab2-turn1" in [t["request_id"] for t in history["turns"]]  # foreign request id


async def test_lost_update_loses_concurrent_turns(serve_app: ServeApp) -> None:
    async with serve_app(Settings(defect="lost-update")) as client:
        session_id = (await ask(client, "Songs by Mk.gee", max_recommendations=2))["session_id"]
        burst = await asyncio.gather(*(
            ask(client, "More tracks", session_id, request_id=f"burst-{i}",
                max_recommendations=2) for i in range(10)))
        history = (await client.get(f"/sessions/{session_id}")).json()

    turns = [a["turn"] for a in burst]
    assert len(set(turns)) < len(turns)  # two answers claim one turn number
    assert history["turn_count"] < 11  # acknowledged turns are missing: context loss
    pages = [tuple(t["track_id"] for t in a["recommendations"]) for a in burst]
    assert len(set(pages)) < len(pages)  # and the same page was served twice


async def test_unscoped_cache_serves_another_sessions_page_and_anchor(
        serve_app: ServeApp) -> None:
    async with serve_app(Settings(defect="unscoped-cache")) as client:
        tab1 = await ask(client, "Songs by Mk.gee", request_id="tab1-turn1")
        tab2 = await ask(client, "Electronic music", request_id="tab2-turn1")
        await ask(client, "More tracks", tab1["session_id"], request_id="tab1-turn2")
        more2 = await ask(client, "More tracks", tab2["session_id"], request_id="tab2-turn2")

    assert tab1["session_id"] != tab2["session_id"]  # the ids are fine...
    assert more2["context"]["anchor"]["request_id"] == "tab1-turn1"  # ...the anchor is not
    assert {t["artist"] for t in more2["recommendations"]} == {"Mk.gee"}  # foreign content


async def test_sticky_refresh_carries_the_deleted_sessions_context(serve_app: ServeApp) -> None:
    async with serve_app(Settings(defect="sticky-refresh")) as client:
        first = await ask(client, "Songs by The Beatles", request_id="old-1")
        await ask(client, "More like these", first["session_id"], request_id="old-2")
        assert (await client.delete(f"/sessions/{first['session_id']}")).status_code == 204
        fresh = await ask(client, "More tracks")

    assert fresh["session_created"] is True
    assert fresh["context"]["anchor"] is not None  # a fresh session has something to follow
    assert fresh["context"]["anchor"]["request_id"] in {"old-1", "old-2"}  # the old tab's
    assert fresh["turn"] == 3


@pytest.mark.parametrize("name", sorted(DEFECTS))
async def test_a_defect_is_announced_loudly_at_start_up(
        serve_app: ServeApp, caplog: pytest.LogCaptureFixture, name: str) -> None:
    with caplog.at_level(logging.WARNING, logger="beatdebate"):
        async with serve_app(Settings(defect=name)):
            pass
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("DELIBERATE DEFECT" in m and name in m for m in warnings)
    # The warning says what the defect breaks, in the catalog's words.
    assert any(DEFECTS[name].description in m for m in warnings)


def test_no_defect_is_the_clean_no_op() -> None:
    clean = wrappers_for(None)
    assert clean is NO_DEFECT and clean == Wrappers()
    store = MemoryStore(ttl_seconds=60, max_sessions=10, history_limit=5)
    assert clean.wrap_store(store) is store  # nothing in between: no layer per request
    assert all(isinstance(wrappers_for(name), Wrappers) for name in DEFECTS)
    with pytest.raises(ValueError, match="unknown defect"):
        wrappers_for("nope")


def test_every_backend_defect_takes_a_wrap_point() -> None:
    backend = [info.name for info in DEFECTS.values() if info.surface == "api"]
    assert backend, "the catalog names the API defects"
    for name in backend:
        assert wrappers_for(name) != NO_DEFECT, name


async def test_the_clean_app_serves_the_production_objects(serve_app: ServeApp) -> None:
    async with serve_app() as client:
        state = client.app.state  # type: ignore[attr-defined]
        assert type(state.service) is TurnService
        assert type(state.store) is MemoryStore
