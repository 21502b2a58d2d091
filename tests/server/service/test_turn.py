"""The turn under concurrency: crowds, bursts on one session, determinism, the fallback path."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from server_client import CROWD, ServeApp, ask
from server_fakes import StandInRecommender, make_catalog

from beatdebate_server.settings import Settings

pytestmark = pytest.mark.anyio


async def _session_run(client: Any, index: int) -> tuple[str, list[dict[str, Any]]]:
    artist = f"Crowd Artist {index:03d}"
    answers = [await ask(client, f"Songs by {artist}", request_id=f"u{index}-1",
                         max_recommendations=5)]
    session_id = answers[0]["session_id"]
    for turn in (2, 3):
        answers.append(await ask(client, "More tracks", session_id,
                                 request_id=f"u{index}-{turn}", max_recommendations=5))
    return artist, answers


async def test_a_crowd_of_sessions_stays_apart(serve_app: ServeApp) -> None:
    async with serve_app() as client:
        runs = await asyncio.gather(*(_session_run(client, i) for i in range(CROWD)))
        histories = await asyncio.gather(*(
            client.get(f"/sessions/{answers[0]['session_id']}") for _, answers in runs))

    assert len({answers[0]["session_id"] for _, answers in runs}) == CROWD
    for (artist, answers), history in zip(runs, histories, strict=True):
        index = artist[-3:].lstrip("0") or "0"
        tracks = [t for a in answers for t in a["recommendations"]]
        assert {t["artist"] for t in tracks} == {artist}
        ids = [t["track_id"] for t in tracks]
        assert len(ids) == len(set(ids)) == 15  # no repeats across the follow-up pages
        for answer in answers[1:]:
            anchor = answer["context"]["anchor"]
            assert (anchor["turn"], anchor["request_id"]) == (1, f"u{int(index)}-1")
        recorded = history.json()
        assert recorded["turn_count"] == 3
        assert [(t["turn"], t["request_id"]) for t in recorded["turns"]] == [
            (n, f"u{int(index)}-{n}") for n in (1, 2, 3)]
        assert [tid for t in recorded["turns"] for tid in t["track_ids"]] == ids


async def test_a_burst_on_one_session_becomes_ordered_distinct_turns(
        serve_app: ServeApp) -> None:
    async with serve_app() as client:
        session_id = (await ask(client, "Songs by Mk.gee", request_id="first",
                                max_recommendations=2))["session_id"]
        burst = await asyncio.gather(*(
            ask(client, "More tracks", session_id, request_id=f"burst-{i}",
                max_recommendations=2) for i in range(10)))
        history = (await client.get(f"/sessions/{session_id}")).json()

    assert sorted(a["turn"] for a in burst) == list(range(2, 12))
    assert history["turn_count"] == 11
    assert [t["turn"] for t in history["turns"]] == list(range(1, 12))
    assert {t["request_id"] for t in history["turns"][1:]} == {f"burst-{i}" for i in range(10)}
    by_turn = {a["turn"]: a["request_id"] for a in burst}
    assert [t["request_id"] for t in history["turns"][1:]] == [by_turn[n] for n in range(2, 12)]
    ids = [tid for t in history["turns"] for tid in t["track_ids"]]
    assert len(ids) == len(set(ids)) == 22


async def test_a_burst_on_a_fresh_session_starts_at_turn_one(serve_app: ServeApp) -> None:
    async with serve_app() as client:
        session_id = (await client.post("/sessions")).json()["session_id"]
        burst = await asyncio.gather(*(ask(client, "Electronic music", session_id)
                                       for _ in range(10)))
    assert sorted(a["turn"] for a in burst) == list(range(1, 11))
    assert not any(a["session_created"] for a in burst)


async def test_same_queries_give_same_tracks_whatever_others_do(serve_app: ServeApp) -> None:
    queries = ["Songs by The Beatles", "More tracks", "More like these"]

    async def conversation() -> list[list[str]]:
        pages: list[list[str]] = []
        session_id = None
        for query in queries:
            answer = await ask(client, query, session_id)
            session_id = answer["session_id"]
            pages.append([t["track_id"] for t in answer["recommendations"]])
        return pages

    async def noise(i: int) -> None:
        answer = await ask(client, "Songs by The Beatles")
        await ask(client, "More tracks", answer["session_id"])
        await ask(client, f"Songs by Crowd Artist {i:03d}", answer["session_id"])

    async with serve_app() as client:
        results = await asyncio.gather(conversation(), *(noise(i) for i in range(20)),
                                       conversation())
    first, second = results[0], results[-1]
    assert first == second
    assert all(page for page in first)


async def test_a_failing_primary_falls_back_and_says_why(serve_app: ServeApp) -> None:
    recommender = StandInRecommender(make_catalog(), fail=True)
    async with serve_app(recommender=recommender) as client:
        answer = await ask(client, "Songs by Mk.gee")
        metrics = (await client.get("/metrics")).text
    assert answer["source"] == "fallback"
    assert answer["fallback_reason"] == "primary_error"
    assert answer["recommendations"]
    assert 'beatdebate_fallback_answers_total{reason="primary_error"} 1.0' in metrics


async def test_fault_rate_one_always_falls_back(serve_app: ServeApp) -> None:
    async with serve_app(Settings(fault_rate=1.0)) as client:
        answers = [await ask(client, "Electronic music") for _ in range(3)]
        history = (await client.get(f"/sessions/{answers[0]['session_id']}")).json()
    assert {(a["source"], a["fallback_reason"]) for a in answers} == {
        ("fallback", "primary_error")}
    assert history["turns"][0]["source"] == "fallback"


async def test_fault_latency_past_the_budget_is_a_timeout(serve_app: ServeApp) -> None:
    async with serve_app(Settings(fault_latency=0.2, primary_timeout=0.01)) as client:
        answer = await ask(client, "Electronic music")
    assert (answer["source"], answer["fallback_reason"]) == ("fallback", "primary_timeout")


async def test_fault_rate_draws_are_seeded(serve_app: ServeApp) -> None:
    async def sources(seed: int) -> list[str]:
        async with serve_app(Settings(fault_rate=0.5, fault_seed=seed)) as client:
            return [(await ask(client, "Electronic music"))["source"] for _ in range(16)]

    first, again = await sources(7), await sources(7)
    assert first == again
    assert {"primary", "fallback"} == set(first)
