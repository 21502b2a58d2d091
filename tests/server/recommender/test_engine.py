"""The primary recommender over the fixture catalog: each kind, follow-ups, determinism."""

from __future__ import annotations

import pytest

from beatdebate_server.catalog.model import Track
from beatdebate_server.recommender import Intent, Recommender
from beatdebate_server.recommender.engine import EXHAUSTED, LAST_ONES, NOTHING_RECOGNISED
from beatdebate_server.recommender.followup import NO_SUBJECT
from beatdebate_server.session import Turn

from .conftest import FIXTURE, converse, slug, turn


def ids(answer: object) -> list[str]:
    return [p.track.track_id for p in answer.picks]  # type: ignore[attr-defined]


def by_popularity(tracks: list[Track]) -> list[str]:
    return [t.track_id for t in sorted(tracks, key=lambda t: (-t.popularity, t.track_id))]


def all_ids(turns: list[Turn]) -> list[str]:
    return [track_id for t in turns for track_id in t.track_ids]


# --- first queries ----------------------------------------------------------------------

def test_by_artist_is_the_artists_tracks_by_popularity(recommender: Recommender) -> None:
    [answer] = converse(recommender, ["Songs by Mk.gee"], limit=10)
    assert ids(answer) == ["mkgee-areyoulookingup", "mkgee-howmanymiles", "mkgee-alesis",
                           "mkgee-candy", "mkgee-ryleei"]
    assert (answer.kind, answer.follow_up, dict(answer.entities), answer.anchor_turn) == (
        "by_artist", None, {"artists": ("Mk.gee",)}, None)
    assert {p.explanation for p in answer.picks} == {"By Mk.gee, as you asked"}
    assert answer.notice == LAST_ONES  # five of ten asked for: the artist has no more


def test_popularity_ties_are_broken_by_track_id(recommender: Recommender) -> None:
    [answer] = converse(recommender, ["songs by vulfpeck"], limit=3)
    assert ids(answer) == ["vulfpeck-1612", "vulfpeck-backpocket", "vulfpeck-deantown"]


def test_by_artist_with_a_mood_puts_matching_tracks_first(recommender: Recommender) -> None:
    [answer] = converse(recommender, ["sad radiohead songs"], limit=3)
    assert ids(answer) == ["radiohead-creep", "radiohead-nosurprises", "radiohead-karmapolice"]


def test_artist_similarity_draws_on_similar_artists_not_the_artist(recommender: Recommender) -> None:
    [answer] = converse(recommender, ["music like Radiohead"], limit=6)
    # Thom Yorke, Portishead, Björk alternate in similarity order, each by popularity.
    assert ids(answer) == ["thomyorke-blackswan", "portishead-glorybox", "björk-hyperballad",
                           "thomyorke-suspirium", "portishead-roads", "björk-joga"]
    assert {p.explanation for p in answer.picks} == {"Similar to Radiohead"}


def test_artist_without_declared_similar_gets_genre_neighbours(recommender: Recommender) -> None:
    [answer] = converse(recommender, ["music like Vulfpeck"], limit=5)
    assert answer.picks
    assert all(p.track.artist == "Daft Punk" for p in answer.picks)  # the only other funk act


def test_genre_mood_requires_the_genre_and_ranks_by_matches(recommender: Recommender) -> None:
    [answer] = converse(recommender, ["sad indie"], limit=5)
    # indie and sad first (by popularity), then indie alone (by popularity)
    assert ids(answer) == ["boniver-skinnylove", "dijon-thedress", "low-lullaby",
                           "boniver-holocene", "beachhouse-spacesong"]
    assert answer.picks[0].explanation == "Matches indie, sad"
    assert answer.picks[3].explanation == "Matches indie"
    assert answer.picks[0].score > answer.picks[3].score


def test_contextual_prefers_the_activity(recommender: Recommender) -> None:
    [answer] = converse(recommender, ["Jazz for studying"], limit=4)
    assert ids(answer) == ["milesdavis-sowhat", "billevans-peacepiece", "billevans-waltzfordebby",
                           "billevans-blueingreen"]
    assert all("jazz" in p.track.genres for p in answer.picks)


def test_activity_alone_is_required(recommender: Recommender, catalog: object) -> None:
    [answer] = converse(recommender, ["music to sleep to"], limit=50)
    sleepy = [t for t in catalog.tracks if "sleep" in t.activities]  # type: ignore[attr-defined]
    assert ids(answer) == by_popularity(sleepy)


def test_discovery_underground_is_least_popular_first(recommender: Recommender) -> None:
    [answer] = converse(recommender, ["something underground"], limit=3)
    assert ids(answer) == ["burial-untrue", "low-sunflower", "low-lullaby"]


def test_discovery_surprise_is_a_fixed_order_over_everything(recommender: Recommender,
                                                             catalog: object) -> None:
    turns: list[Turn] = []
    converse(recommender, ["surprise me"] + ["more"] * 40, limit=5, turns=turns)
    shown = all_ids(turns)
    assert sorted(shown) == sorted(t.track_id for t in catalog.tracks)  # type: ignore[attr-defined]
    assert shown != by_popularity(list(catalog.tracks))  # type: ignore[attr-defined]


def test_unrecognised_query_gets_popular_tracks_and_a_notice(recommender: Recommender) -> None:
    [answer] = converse(recommender, ["asdfgh qwerty"], limit=3)
    assert ids(answer) == ["thebeatles-herecomesthesun", "radiohead-creep", "kendricklamar-humble"]
    assert answer.notice == NOTHING_RECOGNISED


# --- follow-ups ---------------------------------------------------------------------------

def test_more_tracks_after_an_artist_stays_on_the_artist(recommender: Recommender,
                                                          artist_of: dict[str, str]) -> None:
    turns: list[Turn] = []
    answers = converse(recommender, ["Songs by Mk.gee", "More tracks", "More tracks"],
                       limit=2, turns=turns)
    assert [ids(a) for a in answers] == [["mkgee-areyoulookingup", "mkgee-howmanymiles"],
                                         ["mkgee-alesis", "mkgee-candy"], ["mkgee-ryleei"]]
    assert [a.anchor_turn for a in answers] == [None, 1, 1]
    assert [dict(a.entities) for a in answers] == [{"artists": ("Mk.gee",)}] * 3
    assert answers[2].notice == LAST_ONES
    fourth = converse(recommender, ["more"], limit=2, turns=turns)[0]
    assert (ids(fourth), fourth.notice, fourth.anchor_turn) == ([], EXHAUSTED, 1)


def test_more_tracks_after_a_genre_pages_through_exactly_that_genre(recommender: Recommender,
                                                                     catalog: object) -> None:
    turns: list[Turn] = []
    converse(recommender, ["Electronic music"] + ["More tracks"] * 10, limit=4, turns=turns)
    shown = all_ids(turns)
    electronic = [t for t in catalog.tracks if "electronic" in t.genres]  # type: ignore[attr-defined]
    assert shown == by_popularity(electronic)  # no repeats, nothing else, nothing missing
    assert all(t.anchor_turn == 1 for t in turns[1:])


def test_more_tracks_anchors_on_the_latest_subject_not_on_a_more_tracks_turn(
        recommender: Recommender) -> None:
    turns: list[Turn] = []
    answers = converse(recommender, ["Songs by Mk.gee", "more", "Jazz for studying", "more", "more"],
                       limit=2, turns=turns)
    assert [a.anchor_turn for a in answers] == [None, 1, None, 3, 3]
    assert all("jazz" in p.track.genres for a in answers[3:] for p in a.picks)


def test_more_like_these_draws_on_the_last_page(recommender: Recommender) -> None:
    turns: list[Turn] = []
    first, like = converse(recommender, ["Songs by Mk.gee", "More like these"], limit=3,
                           turns=turns)
    assert like.anchor_turn == 1
    entities = dict(like.entities)
    # the page's artist, then its similar artists
    assert entities["artists"] == ("Mk.gee", "Dijon", "Bon Iver")
    assert entities["genres"] == ("indie",)
    assert entities["moods"] == ("dreamy", "calm")
    page_tags = {tag for p in first.picks for tag in p.track.tags}
    for pick in like.picks:
        assert set(pick.track.tags) & page_tags or pick.track.artist in entities["artists"]
        assert pick.track.track_id not in ids(first)
    # indie with one of the page's moods: by those artists first, then anyone's
    assert ids(like) == ["boniver-holocene", "boniver-22oversn", "beachhouse-spacesong"]
    assert like.picks[0].explanation == "Shares indie, calm with your last picks"


def test_more_like_these_calmer_prefers_calm(recommender: Recommender) -> None:
    turns: list[Turn] = []
    answers = converse(recommender, ["Electronic music", "like these but calmer"], limit=3,
                       turns=turns)
    calmer = answers[1]
    assert calmer.entities["moods"] == ("calm", "chill")
    assert calmer.entities["activities"] == ("sleep",)
    assert all({"calm", "chill", "sleep"} & set(p.track.tags) for p in calmer.picks)
    assert all("electronic" in p.track.genres for p in calmer.picks)


def test_more_tracks_after_more_like_these_continues_its_list(recommender: Recommender) -> None:
    long_turns: list[Turn] = []
    converse(recommender, ["Songs by Mk.gee"], limit=3, turns=long_turns)
    [long] = converse(recommender, ["More like these"], limit=6, turns=long_turns)
    paged_turns: list[Turn] = []
    converse(recommender, ["Songs by Mk.gee", "More like these", "More tracks"], limit=3,
             turns=paged_turns)
    assert paged_turns[2].anchor_turn == 2
    assert list(paged_turns[1].track_ids + paged_turns[2].track_ids) == ids(long)
    assert paged_turns[2].entities == paged_turns[1].entities


def test_more_from_artist_unnamed_takes_the_most_frequent_artist(recommender: Recommender) -> None:
    intent = recommender.understand("more by this artist")
    page = ["boniver-skinnylove", "mkgee-alesis", "boniver-holocene", "mkgee-candy"]
    turns = [turn(1, "indie", "genre_mood", entities={"genres": ["indie"]}, track_ids=page)]
    answer = recommender.recommend(intent, turns, limit=5)
    # a tie (two each): the first shown, Bon Iver; its unseen track only
    assert (dict(answer.entities), ids(answer), answer.anchor_turn) == (
        {"artists": ("Bon Iver",)}, ["boniver-22oversn"], 1)
    assert answer.picks[0].explanation == "More from Bon Iver"


def test_more_from_a_named_artist(recommender: Recommender) -> None:
    turns: list[Turn] = []
    answers = converse(recommender, ["sad indie", "more from Mk.gee", "more"], limit=3,
                       turns=turns)
    assert answers[1].anchor_turn == 1  # the last page
    assert all(p.track.artist == "Mk.gee" for a in answers[1:] for p in a.picks)
    assert answers[2].anchor_turn == 2
    assert len(set(all_ids(turns))) == len(all_ids(turns))


@pytest.mark.parametrize("query", ["More tracks", "More like these", "more by this artist"])
def test_no_subject_in_the_session(recommender: Recommender, query: str) -> None:
    answer = recommender.recommend(recommender.understand(query), [], limit=5)
    assert (answer.kind, answer.anchor_turn, answer.picks, dict(answer.entities), answer.notice) == (
        "follow_up", None, (), {}, NO_SUBJECT)


def test_more_from_a_named_artist_in_an_empty_session_still_answers(recommender: Recommender) -> None:
    answer = recommender.recommend(recommender.understand("more from Mk.gee"), [], limit=2)
    assert (answer.anchor_turn, ids(answer)) == (None, ["mkgee-areyoulookingup", "mkgee-howmanymiles"])


def test_no_track_repeats_within_a_session(recommender: Recommender) -> None:
    turns: list[Turn] = []
    queries = ["Songs by Radiohead", "music like Radiohead", "more", "More like these",
               "something calmer", "more", "Electronic music", "more", "more by this artist",
               "surprise me", "more"]
    converse(recommender, queries, limit=4, turns=turns)
    shown = all_ids(turns)
    assert len(shown) == len(set(shown)) > 20


def test_turns_read_back_with_lists_and_unknown_ids_work(recommender: Recommender) -> None:
    # A turn from Redis/JSON carries lists; an id the catalog lost is ignored.
    turns = [Turn(turn=1, request_id="r1", query="Songs by Mk.gee", kind="by_artist",
                  follow_up=None, entities={"artists": ["Mk.gee"]}, anchor_turn=None,
                  track_ids=["mkgee-areyoulookingup", "gone-forever"], at=0.0)]  # type: ignore[arg-type]
    answer = recommender.recommend(recommender.understand("more"), turns, limit=1)
    assert (ids(answer), answer.anchor_turn) == (["mkgee-howmanymiles"], 1)


# --- determinism ----------------------------------------------------------------------------

def test_two_sessions_with_the_same_queries_get_the_same_ids(recommender: Recommender) -> None:
    queries = ["Songs by Mk.gee", "More tracks", "More like these", "music like Radiohead",
               "more", "something underground", "surprise me", "more", "like these but calmer",
               "more by this artist", "Jazz for studying", "more"]
    first: list[Turn] = []
    second: list[Turn] = []
    for query in queries:  # interleaved, as concurrent sessions would be
        converse(recommender, [query], limit=3, turns=first)
        converse(recommender, ["Electronic music"], limit=2, turns=[])  # someone else
        converse(recommender, [query], limit=3, turns=second)
    assert [t.track_ids for t in first] == [t.track_ids for t in second]
    assert [dict(t.entities) for t in first] == [dict(t.entities) for t in second]


def test_a_fresh_recommender_gives_the_same_answers(catalog: object) -> None:
    queries = ["sad indie", "more", "More like these", "surprise me", "more"]
    one = [ids(a) for a in converse(Recommender(catalog), queries)]  # type: ignore[arg-type]
    two = [ids(a) for a in converse(Recommender(catalog), queries)]  # type: ignore[arg-type]
    assert one == two


def test_limit_must_be_positive(recommender: Recommender) -> None:
    with pytest.raises(ValueError):
        recommender.recommend(Intent("genre_mood", genres=("jazz",)), [], limit=0)


def test_fixture_has_every_artist_indexed(recommender: Recommender) -> None:
    assert set(recommender.index.artist_names) == set(FIXTURE)
    assert recommender.index.rank_of[f"{slug('The Beatles')}-{slug('Here Comes the Sun')}"] == 0


_REPLAY = """
import json, sys
sys.path.insert(0, {tests!r})
from recommender.conftest import converse, make_catalog
from beatdebate_server.recommender import Recommender
answers = converse(Recommender(make_catalog()), {queries!r}, limit=3)
print(json.dumps([[p.track.track_id for p in a.picks] for a in answers]))
"""


def test_answers_do_not_depend_on_the_process_hash_seed() -> None:
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    queries = ["music like Radiohead", "more", "More like these", "surprise me", "more",
               "like these but calmer", "more by this artist"]
    script = _REPLAY.format(tests=str(Path(__file__).parents[1]), queries=queries)
    runs = []
    for seed in ("1", "2"):
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                              env={**os.environ, "PYTHONHASHSEED": seed}, check=True, timeout=60)
        runs.append(json.loads(done.stdout))
    assert runs[0] == runs[1]
    assert sum(len(page) for page in runs[0]) > 10


@pytest.mark.parametrize("queries", [
    ["sad indie"], ["Jazz for studying", "more"], ["music like Radiohead", "more"],
    ["Songs by Mk.gee", "More like these", "more"], ["something underground"],
    ["Electronic music", "like these but calmer"], ["sad radiohead songs"],
])
def test_scores_never_rise_along_a_candidate_list(recommender: Recommender,
                                                  queries: list[str]) -> None:
    turns: list[Turn] = []
    answers = converse(recommender, queries, limit=4, turns=turns)
    pages = [[p.score for p in a.picks] for a in answers]
    if answers[-1].follow_up == "more_tracks":  # the last two pages are one list
        pages[-2:] = [pages[-2] + pages[-1]]
    for scores in pages:
        assert scores and scores == sorted(scores, reverse=True)
        assert all(0 <= s <= 1 for s in scores)
