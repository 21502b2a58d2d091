"""The original-shape BeatDebate example (``examples/beatdebate_original/app.py``), in-process.

It must answer in the original back end's shape, keep follow-ups inside their own session
when clean, and bleed across sessions with ``bleed=True``, so that the harness's profile for
it can be shown to catch real bleeding.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from beatdebate_server.catalog import Catalog, load_catalog
from loadtest.personas import DEFAULT_POOL

pytestmark = pytest.mark.anyio

APP = Path(__file__).resolve().parents[2] / "examples" / "beatdebate_original" / "app.py"
RECOMMENDATION_FIELDS = {"title", "artist", "album", "confidence", "explanation", "source", "genres",
                         "moods", "preview_url", "spotify_url", "popularity"}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(None)


@pytest.fixture
def serve(original_example: ModuleType, catalog: Catalog) -> Any:
    @asynccontextmanager
    async def serve(*, bleed: bool = False) -> AsyncIterator[httpx.AsyncClient]:
        app = original_example.create_app(bleed, catalog=catalog)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            yield client
    return serve


async def ask(client: httpx.AsyncClient, query: str, session_id: str | None = None,
              **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"query": query, **fields}
    if session_id is not None:
        body["session_id"] = session_id
    response = await client.post("/recommendations", json=body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def tracks(answer: dict[str, Any]) -> list[tuple[str, str]]:
    return [(r["artist"], r["title"]) for r in answer["recommendations"]]


async def test_an_answer_has_every_field_of_the_original_shape(serve: Any) -> None:
    async with serve() as client:
        answer = await ask(client, "Songs by Mk.gee")
    assert set(answer) == {"recommendations", "strategy_used", "reasoning", "session_id",
                           "processing_time", "metadata"}
    assert len(answer["recommendations"]) == 3                    # max_recommendations defaults to 3
    for item in answer["recommendations"]:
        assert set(item) == RECOMMENDATION_FIELDS
        assert item["artist"] == "Mk.gee" and item["source"] == "catalog"
        assert item["preview_url"] is None                         # include_previews defaults to false
        assert 0.0 <= item["confidence"] <= 1.0 and isinstance(item["genres"], list)
        assert item["spotify_url"].startswith("https://open.spotify.com/search/")
    assert answer["strategy_used"]["intent"] == "by_artist"
    assert answer["reasoning"] and all(isinstance(line, str) for line in answer["reasoning"])
    assert isinstance(answer["processing_time"], float)
    metadata = answer["metadata"]
    assert set(metadata) == {"context_decision", "workflow_execution", "query_understanding"}
    assert metadata["context_decision"] == {"is_followup": False, "intent_override": None,
                                            "target_entity": None, "confidence": 1.0}
    assert metadata["workflow_execution"] == {"conversation_history_length": 0,
                                              "recently_shown_tracks_count": 0,
                                              "final_recommendations_count": 3}
    assert metadata["query_understanding"] == {"intent": "by_artist", "artists": ["Mk.gee"], "genres": [],
                                               "moods": [], "original_query": "Songs by Mk.gee"}


async def test_a_missing_id_is_minted_and_an_unknown_one_is_adopted(serve: Any) -> None:
    async with serve() as client:
        first, second = await ask(client, "Songs by Bon Iver"), await ask(client, "Songs by Bon Iver")
        adopted = await ask(client, "Songs by Bon Iver", "made-up-by-the-client")
        empty = await ask(client, "Songs by Bon Iver", "")          # the original read "" as absent
    assert uuid.UUID(first["session_id"]).version == 4 and uuid.UUID(empty["session_id"]).version == 4
    assert first["session_id"] != second["session_id"]
    assert adopted["session_id"] == "made-up-by-the-client"


async def test_follow_ups_stay_in_their_own_session_when_clean(serve: Any) -> None:
    async with serve() as client:
        a = (await ask(client, "Songs by Radiohead"))["session_id"]
        b = (await ask(client, "Songs by Daft Punk"))["session_id"]
        more_a = await ask(client, "More tracks", a)
        more_b = await ask(client, "More tracks", b)
    assert {artist for artist, _ in tracks(more_a)} == {"Radiohead"}
    assert {artist for artist, _ in tracks(more_b)} == {"Daft Punk"}
    assert more_a["metadata"]["context_decision"] == {"is_followup": True, "intent_override": "artist_deep_dive",
                                                      "target_entity": "Radiohead", "confidence": 0.9}
    assert more_a["strategy_used"]["followup_type"] == "more_tracks"


async def test_with_bleed_a_follow_up_resolves_against_another_sessions_query(serve: Any) -> None:
    async with serve(bleed=True) as client:
        a = (await ask(client, "Songs by Radiohead"))["session_id"]
        await ask(client, "Songs by Daft Punk")
        more_a = await ask(client, "More tracks", a)
        context = (await client.get(f"/sessions/{a}/context")).json()
    assert {artist for artist, _ in tracks(more_a)} == {"Daft Punk"}
    assert more_a["metadata"]["context_decision"]["target_entity"] == "Daft Punk"
    assert more_a["metadata"]["query_understanding"]["original_query"] == "Songs by Daft Punk"
    # Everything but the follow-up's context stays per session.
    assert context["context_summary"]["original_query_context"]["artists"] == ["Radiohead"]
    assert more_a["metadata"]["workflow_execution"]["conversation_history_length"] == 1


async def test_follow_ups_page_through_without_repeating_a_track(serve: Any, catalog: Catalog) -> None:
    async with serve() as client:
        first = await ask(client, "Songs by Mk.gee", max_recommendations=5)
        sid = first["session_id"]
        pages = [first] + [await ask(client, "More tracks", sid, max_recommendations=5) for _ in range(3)]
    shown = [track for page in pages for track in tracks(page)]
    mkgee = {(t.artist, t.title) for t in catalog.tracks if t.artist == "Mk.gee"}
    assert [len(tracks(page)) for page in pages] == [5, 5, 1, 0]  # the catalog has 11 Mk.gee tracks
    assert len(shown) == len(set(shown)) and set(shown) == mkgee
    assert [p["metadata"]["workflow_execution"]["recently_shown_tracks_count"] for p in pages] == [0, 5, 10, 11]
    assert "No more tracks for this request." in pages[-1]["reasoning"]


async def test_pages_run_by_popularity_then_title(serve: Any, catalog: Catalog) -> None:
    async with serve() as client:
        answer = await ask(client, "Songs by Radiohead", max_recommendations=10)
    expected = sorted((t for t in catalog.tracks if t.artist == "Radiohead"), key=lambda t: (-t.popularity, t.title))
    assert tracks(answer) == [(t.artist, t.title) for t in expected[:10]]


async def test_the_same_queries_give_the_same_tracks_in_any_session(serve: Any) -> None:
    queries = ["Songs by Björk", "More tracks", "More like these", "jazz music", "More tracks"]
    async with serve() as client:
        one = two = None
        pages: dict[str, list[list[tuple[str, str]]]] = {"one": [], "two": []}
        for query in queries:                       # interleaved, with a third session in between
            first = await ask(client, query, one)
            await ask(client, "Songs by Metallica")
            second = await ask(client, query, two)
            one, two = first["session_id"], second["session_id"]
            pages["one"].append(tracks(first))
            pages["two"].append(tracks(second))
    assert pages["one"] == pages["two"] and all(pages["one"])


async def test_more_like_these_and_more_from_an_artist(serve: Any, catalog: Catalog) -> None:
    async with serve() as client:
        sid = (await ask(client, "Songs by Radiohead"))["session_id"]
        like = await ask(client, "More like these", sid, max_recommendations=10)
        other = await ask(client, "more from Bon Iver", sid)
        again = await ask(client, "More tracks", sid)
    similar = set(catalog.artists["Radiohead"].similar)
    assert tracks(like) and {artist for artist, _ in tracks(like)} <= similar
    assert like["metadata"]["context_decision"]["intent_override"] == "artist_similarity"
    assert {artist for artist, _ in tracks(other)} == {"Bon Iver"}
    assert other["metadata"]["context_decision"]["target_entity"] == "Bon Iver"
    # "more from" names an artist without replacing the session's original context.
    assert {artist for artist, _ in tracks(again)} == {"Radiohead"}


async def test_a_follow_up_with_nothing_to_follow_is_an_empty_answer(serve: Any) -> None:
    async with serve() as client:
        answer = await ask(client, "More tracks")
    assert answer["recommendations"] == []
    assert answer["metadata"]["context_decision"] == {"is_followup": True, "intent_override": None,
                                                      "target_entity": None, "confidence": 0.0}
    assert answer["metadata"]["query_understanding"] is None
    assert "Nothing to follow up on." in answer["reasoning"]


async def test_a_genre_query_and_its_follow_up_stay_in_the_genre(serve: Any) -> None:
    async with serve() as client:
        first = await ask(client, "hip hop music")
        more = await ask(client, "More tracks", first["session_id"])
    assert tracks(first) and tracks(more) and not set(tracks(first)) & set(tracks(more))
    assert all("hip hop" in r["genres"] for r in first["recommendations"] + more["recommendations"])
    assert more["metadata"]["context_decision"]["target_entity"] == "hip hop"
    assert more["metadata"]["context_decision"]["intent_override"] == "style_continuation"


async def test_every_persona_of_the_harness_is_served(serve: Any) -> None:
    async with serve() as client:
        for persona in DEFAULT_POOL:
            artist, genre = persona.fields["artist"], persona.fields["genre"]
            by_artist = await ask(client, f"Songs by {artist}")
            by_genre = await ask(client, f"{genre} music")
            assert tracks(by_artist) and {a for a, _ in tracks(by_artist)} == {artist}, artist
            assert tracks(by_genre) and all(genre in r["genres"] for r in by_genre["recommendations"]), genre


async def test_the_context_route_summarises_one_session(serve: Any) -> None:
    async with serve() as client:
        sid = (await ask(client, "Songs by Miles Davis"))["session_id"]
        await ask(client, "More tracks", sid)
        await ask(client, "Songs by Robyn")               # another session
        context = (await client.get(f"/sessions/{sid}/context")).json()
        unknown = (await client.get("/sessions/never-seen/context")).json()
    assert set(context) == {"session_id", "context_summary", "timestamp"} and context["session_id"] == sid
    history = context["context_summary"]["interaction_history"]
    assert [(i["query"], i["intent"]) for i in history] == [("Songs by Miles Davis", "by_artist"),
                                                            ("More tracks", "by_artist")]
    assert all(i["timestamp"] for i in history)
    assert context["context_summary"]["original_query_context"] == {
        "query": "Songs by Miles Davis", "intent": "by_artist", "artists": ["Miles Davis"], "genres": []}
    assert unknown["context_summary"] is None


async def test_health(serve: Any) -> None:
    async with serve() as client:
        response = await client.get("/health")
    assert response.status_code == 200 and response.json()["status"] == "healthy"


@pytest.mark.parametrize("body", [
    {}, {"query": ""}, {"query": 7}, {"query": "x" * 501}, {"query": "Songs by Robyn", "max_recommendations": 0},
    {"query": "Songs by Robyn", "max_recommendations": 11}, {"query": "Songs by Robyn", "max_recommendations": "x"},
    {"query": "Songs by Robyn", "include_previews": []}, {"query": "Songs by Robyn", "session_id": 7},
    {"query": "Songs by Robyn", "session_id": "s" * 129}, {"query": "Songs by Robyn", "chat_context": "x"},
])
async def test_bad_input_is_a_422_never_a_500(serve: Any, body: dict[str, Any]) -> None:
    async with serve() as client:
        response = await client.post("/recommendations", json=body)
    assert response.status_code == 422


async def test_a_body_that_is_not_json_is_a_422(serve: Any) -> None:
    async with serve() as client:
        response = await client.post("/recommendations", content=b"{not json",
                                     headers={"content-type": "application/json"})
    assert response.status_code == 422


def test_help_runs_without_starting_a_server() -> None:
    result = subprocess.run([sys.executable, str(APP), "--help"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0 and "--bleed" in result.stdout and "--port" in result.stdout
