"""The app end to end in-process: the design note's three scenarios, sessions, health, metrics."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from server_client import ServeApp, ask, live_sessions
from server_fakes import ManualClock, write_catalog_jsonl

from beatdebate_server.http.app import create_app
from beatdebate_server.ids import is_well_formed_session_id
from beatdebate_server.settings import Settings

pytestmark = pytest.mark.anyio


async def test_concurrent_new_sessions_get_distinct_ids_and_fitting_answers(
        serve_app: ServeApp) -> None:
    # Design note, scenario 1: three tabs at once.
    async with serve_app() as client:
        radio, electro, jazz = await asyncio.gather(
            ask(client, "Songs by Mk.gee"), ask(client, "Electronic music"),
            ask(client, "Songs by Miles Davis"))
        ids = {radio["session_id"], electro["session_id"], jazz["session_id"]}
        assert len(ids) == 3 and all(is_well_formed_session_id(i) for i in ids)
        assert all(r["session_created"] and r["turn"] == 1 for r in (radio, electro, jazz))
        assert {t["artist"] for t in radio["recommendations"]} == {"Mk.gee"}
        assert all("electronic" in t["tags"] for t in electro["recommendations"])
        assert {t["artist"] for t in jazz["recommendations"]} == {"Miles Davis"}
        assert await live_sessions(client) == 3


async def test_follow_up_isolation_between_tabs(serve_app: ServeApp) -> None:
    # Design note, scenario 2: each tab's "More tracks" follows up on its own first query.
    async with serve_app() as client:
        tab1 = await ask(client, "Songs by Mk.gee", request_id="tab1-turn1")
        tab2 = await ask(client, "Electronic music", request_id="tab2-turn1")
        more1 = await ask(client, "More tracks", tab1["session_id"], request_id="tab1-turn2")
        more2 = await ask(client, "More tracks", tab2["session_id"], request_id="tab2-turn2")

    assert more1["session_id"] == tab1["session_id"] and more1["turn"] == 2
    assert {t["artist"] for t in more1["recommendations"]} == {"Mk.gee"}
    assert more1["context"]["anchor"]["request_id"] == "tab1-turn1"
    assert more1["context"]["anchor"]["turn"] == 1
    assert more1["context"]["anchor"]["query"] == "Songs by Mk.gee"
    assert more1["intent"] == {"kind": "follow_up", "follow_up": "more_tracks", "entities": {}}

    assert more2["session_id"] == tab2["session_id"] and more2["turn"] == 2
    assert more2["recommendations"]
    assert all("electronic" in t["tags"] for t in more2["recommendations"])
    assert "Mk.gee" not in {t["artist"] for t in more2["recommendations"]}
    assert more2["context"]["anchor"]["request_id"] == "tab2-turn1"

    first_page = {t["track_id"] for t in tab1["recommendations"]}
    assert first_page.isdisjoint(t["track_id"] for t in more1["recommendations"])


async def test_refresh_starts_a_session_without_the_old_context(serve_app: ServeApp) -> None:
    # Design note, scenario 3: DELETE is "refresh"; the next session has nothing to follow.
    async with serve_app() as client:
        first = await ask(client, "Songs by The Beatles")
        like = await ask(client, "More like these", first["session_id"])
        assert like["context"]["anchor"]["turn"] == 1
        assert (await client.delete(f"/sessions/{first['session_id']}")).status_code == 204
        assert (await client.get(f"/sessions/{first['session_id']}")).status_code == 404

        fresh = await ask(client, "More tracks")
        assert fresh["session_created"] is True
        assert fresh["session_id"] != first["session_id"]
        assert fresh["turn"] == 1
        assert fresh["context"]["anchor"] is None
        assert "The Beatles" not in {t["artist"] for t in fresh["recommendations"]}
        history = (await client.get(f"/sessions/{fresh['session_id']}")).json()
        assert [t["query"] for t in history["turns"]] == ["More tracks"]


async def test_unknown_well_formed_id_starts_a_new_session_under_a_new_id(
        serve_app: ServeApp) -> None:
    made_up = "0f8fad5b-d9cb-469f-a165-70867728950e"
    async with serve_app() as client:
        answer = await ask(client, "More tracks", made_up)
        assert answer["session_created"] is True
        assert answer["session_id"] != made_up
        assert answer["notice"] and "new session" in answer["notice"]
        assert answer["context"]["anchor"] is None
        assert (await client.get(f"/sessions/{made_up}")).status_code == 404
        assert await live_sessions(client) == 1


async def test_post_sessions_then_history_records_every_turn(serve_app: ServeApp) -> None:
    async with serve_app(Settings(session_ttl=600)) as client:
        created = await client.post("/sessions")
        assert created.status_code == 201
        body = created.json()
        assert set(body) == {"session_id", "created_at", "expires_at"}
        session_id = body["session_id"]
        await ask(client, "Songs by Mk.gee", session_id, request_id="req-1")
        await ask(client, "More tracks", session_id, request_id="req-2")
        history = (await client.get(f"/sessions/{session_id}")).json()

    assert history["turn_count"] == 2
    assert [(t["turn"], t["request_id"], t["anchor_turn"]) for t in history["turns"]] == [
        (1, "req-1", None), (2, "req-2", 1)]
    assert history["turns"][0]["intent"]["kind"] == "by_artist"
    assert all(len(t["track_ids"]) == 10 for t in history["turns"])


async def test_request_id_is_echoed_in_header_and_body(serve_app: ServeApp) -> None:
    async with serve_app() as client:
        given = await client.post("/recommendations", json={"query": "Electronic music"},
                                  headers={"X-Request-ID": "abc.DEF:123-x_y"})
        minted = await client.post("/recommendations", json={"query": "Electronic music"})
    assert given.headers["x-request-id"] == "abc.DEF:123-x_y"
    assert given.json()["request_id"] == "abc.DEF:123-x_y"
    assert minted.headers["x-request-id"] == minted.json()["request_id"]
    assert len(minted.json()["request_id"]) >= 16


async def test_include_previews_and_max_recommendations(serve_app: ServeApp) -> None:
    async with serve_app() as client:
        with_previews = await ask(client, "Songs by Mk.gee", max_recommendations=3)
        without = await ask(client, "Songs by Mk.gee", max_recommendations=50,
                            include_previews=False)
    assert len(with_previews["recommendations"]) == 3
    assert all(t["preview_url"] for t in with_previews["recommendations"])
    assert all(t["preview_url"] is None for t in without["recommendations"])
    track = with_previews["recommendations"][0]
    assert {"track_id", "title", "artist", "tags", "score", "explanation", "album",
            "popularity"} <= set(track)


async def test_health_reports_store_and_live_sessions(serve_app: ServeApp) -> None:
    async with serve_app() as client:
        assert (await client.get("/health")).json() == {"status": "ok", "store": "memory",
                                                         "sessions": 0}
        await client.post("/sessions")
        await ask(client, "Electronic music")
        assert (await client.get("/health")).json()["sessions"] == 2


async def test_metrics_count_sessions_turns_latency_and_fallbacks(serve_app: ServeApp) -> None:
    async with serve_app() as client:
        first = await ask(client, "Songs by Mk.gee")
        await ask(client, "More tracks", first["session_id"])
        await client.post("/sessions")
        await client.get(f"/sessions/{first['session_id']}")
        response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert "beatdebate_sessions_live 2.0" in text
    assert "beatdebate_sessions_created_total 2.0" in text
    assert "beatdebate_sessions_expired_total 0.0" in text
    assert "beatdebate_sessions_evicted_total 0.0" in text
    assert 'beatdebate_turns_total{kind="by_artist"} 1.0' in text
    assert 'beatdebate_turns_total{kind="follow_up"} 1.0' in text
    assert ('beatdebate_request_duration_seconds_count{method="POST",route="/recommendations",'
            'status="200"} 2.0') in text
    # Paths are labelled by template: no session id ever becomes a label value.
    assert 'route="/sessions/{session_id}"' in text
    assert first["session_id"] not in text


async def test_openapi_documents_the_contract(serve_app: ServeApp) -> None:
    async with serve_app() as client:
        schema = (await client.get("/openapi.json")).json()
        docs = await client.get("/docs")
    assert docs.status_code == 200
    paths = schema["paths"]
    assert set(paths) >= {"/sessions", "/sessions/{session_id}", "/recommendations",
                          "/health", "/metrics"}
    post = paths["/recommendations"]["post"]
    assert {"200", "413", "422", "503"} <= set(post["responses"])
    assert {"404", "422"} <= set(paths["/sessions/{session_id}"]["get"]["responses"])
    assert {"204", "404"} <= set(paths["/sessions/{session_id}"]["delete"]["responses"])
    assert "201" in paths["/sessions"]["post"]["responses"]
    request = schema["components"]["schemas"]["RecommendationRequest"]["properties"]
    assert set(request) == {"query", "session_id", "max_recommendations", "include_previews"}
    response = schema["components"]["schemas"]["RecommendationResponse"]["properties"]
    assert set(response) == {"session_id", "request_id", "turn", "session_created", "intent",
                             "context", "recommendations", "source", "fallback_reason",
                             "notice"}


async def test_an_expired_session_is_gone_and_its_id_is_not_reused(serve_app: ServeApp) -> None:
    clock = ManualClock()
    async with serve_app(Settings(session_ttl=60), clock=clock) as client:
        old = await ask(client, "Songs by Mk.gee")
        clock.advance(61)
        assert (await client.get(f"/sessions/{old['session_id']}")).status_code == 404
        again = await ask(client, "More tracks", old["session_id"])
        metrics = (await client.get("/metrics")).text
    assert again["session_created"] is True and again["session_id"] != old["session_id"]
    assert again["context"]["anchor"] is None and again["notice"]
    assert "beatdebate_sessions_expired_total 1.0" in metrics


async def test_past_max_sessions_the_least_recent_is_evicted(serve_app: ServeApp) -> None:
    clock = ManualClock()
    async with serve_app(Settings(max_sessions=2), clock=clock) as client:
        first = await ask(client, "Songs by Mk.gee")
        clock.advance(1)
        second = await ask(client, "Electronic music")
        clock.advance(1)
        await ask(client, "More tracks", first["session_id"])  # first is recent again
        clock.advance(1)
        await ask(client, "Songs by The Beatles")  # evicts second
        assert (await client.get(f"/sessions/{second['session_id']}")).status_code == 404
        assert (await client.get(f"/sessions/{first['session_id']}")).status_code == 200
        metrics = (await client.get("/metrics")).text
        assert await live_sessions(client) == 2
    assert "beatdebate_sessions_evicted_total 1.0" in metrics


async def test_the_lifespan_loads_the_catalog_named_by_the_settings(tmp_path: Path) -> None:
    catalog = write_catalog_jsonl(tmp_path / "catalog.jsonl")
    app = create_app(Settings(catalog=catalog))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            answer = await ask(client, "Songs by Miles Davis")
    assert {t["artist"] for t in answer["recommendations"]} == {"Miles Davis"}
    assert all(t["track_id"].startswith("milesdavis-") for t in answer["recommendations"])
