"""The fallback recommender: popularity by tag, same answer shape, never a seen track."""

from __future__ import annotations

from beatdebate_server.recommender import Answer, Recommender
from beatdebate_server.recommender.fallback import EXHAUSTED, NO_SUBJECT
from beatdebate_server.session import Turn

from .conftest import record, turn


def ids(answer: Answer) -> list[str]:
    return [p.track.track_id for p in answer.picks]


def ask(recommender: Recommender, query: str, turns: list[Turn], limit: int = 3) -> Answer:
    answer = recommender.fallback(recommender.understand(query), turns, limit=limit)
    record(turns, query, answer)
    return answer


def test_genre_query_gets_the_most_popular_tracks_of_the_genre(recommender: Recommender) -> None:
    answer = ask(recommender, "Jazz for studying", [])
    assert ids(answer) == ["milesdavis-sowhat", "billevans-peacepiece", "billevans-waltzfordebby"]
    assert {p.explanation for p in answer.picks} == {"A simpler pick: popular in jazz"}
    assert (answer.kind, answer.follow_up, dict(answer.entities), answer.anchor_turn) == (
        "contextual", None, {"genres": ("jazz",), "activities": ("studying",)}, None)
    assert answer.picks[0].score == 0.88


def test_every_asked_genre_is_required(recommender: Recommender) -> None:
    answer = ask(recommender, "electronic house", [], limit=10)
    assert ids(answer) == ["daftpunk-onemoretime", "daftpunk-aroundtheworld",
                           "daftpunk-digitallove", "justice-dance", "justice-genesis"]
    assert answer.notice == EXHAUSTED


def test_artist_query_stays_on_the_artist(recommender: Recommender) -> None:
    answer = ask(recommender, "Songs by Mk.gee", [], limit=2)
    assert ids(answer) == ["mkgee-areyoulookingup", "mkgee-howmanymiles"]
    assert answer.picks[0].explanation == "A simpler pick: popular tracks by Mk.gee"


def test_similarity_uses_the_artists_genres(recommender: Recommender) -> None:
    answer = ask(recommender, "music like Radiohead", [], limit=3)
    # alternative or rock, most popular first
    assert ids(answer) == ["thebeatles-herecomesthesun", "radiohead-creep", "thebeatles-letitbe"]


def test_more_tracks_continues_the_anchor_without_repeats(recommender: Recommender) -> None:
    turns: list[Turn] = []
    first = ask(recommender, "Songs by Mk.gee", turns, limit=2)
    more = ask(recommender, "More tracks", turns, limit=2)
    assert ids(more) == ["mkgee-alesis", "mkgee-candy"]
    assert (more.anchor_turn, dict(more.entities)) == (1, dict(first.entities))


def test_follow_up_after_a_primary_genre_turn(recommender: Recommender) -> None:
    turns = [turn(1, "Electronic music", "genre_mood", entities={"genres": ["electronic"]},
                  track_ids=["daftpunk-onemoretime", "massiveattack-teardrop"])]
    answer = recommender.fallback(recommender.understand("more"), turns, limit=2)
    assert ids(answer) == ["aphextwin-avril14th", "björk-hyperballad"]
    assert answer.anchor_turn == 1


def test_more_from_artist_unnamed_uses_the_first_artist_shown(recommender: Recommender) -> None:
    turns = [turn(1, "sad indie", "genre_mood", entities={"genres": ["indie"]},
                  track_ids=["boniver-skinnylove", "dijon-thedress"])]
    answer = recommender.fallback(recommender.understand("more by this artist"), turns, limit=5)
    assert ids(answer) == ["boniver-holocene", "boniver-22oversn"]
    assert dict(answer.entities) == {"artists": ("Bon Iver",)}


def test_no_subject(recommender: Recommender) -> None:
    answer = recommender.fallback(recommender.understand("More like these"), [], limit=3)
    assert (answer.picks, answer.anchor_turn, answer.notice) == ((), None, NO_SUBJECT)


def test_unrecognised_query_gets_popular_tracks(recommender: Recommender) -> None:
    answer = ask(recommender, "asdfgh qwerty", [], limit=2)
    assert ids(answer) == ["thebeatles-herecomesthesun", "radiohead-creep"]
    assert answer.picks[0].explanation == "A simpler pick: popular overall"


def test_fallback_is_deterministic_and_never_repeats(recommender: Recommender) -> None:
    queries = ["Electronic music", "more", "more", "More like these", "more", "surprise me", "more"]
    runs = []
    for _ in range(2):
        turns: list[Turn] = []
        for query in queries:
            ask(recommender, query, turns, limit=3)
        runs.append([t.track_ids for t in turns])
        shown = [i for t in turns for i in t.track_ids]
        assert len(shown) == len(set(shown))
    assert runs[0] == runs[1]
