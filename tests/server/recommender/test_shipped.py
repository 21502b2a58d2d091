"""The recommender over the shipped catalog: real names, real tags, the contract's examples."""

from __future__ import annotations

import pytest

from beatdebate_server.catalog import Catalog, load_catalog
from beatdebate_server.recommender import Recommender
from beatdebate_server.session import Turn

from .conftest import converse

NAMED = ["Radiohead", "Mk.gee", "The Beatles", "Björk", "Bon Iver", "Aphex Twin", "Bill Evans",
         "Kendrick Lamar"]


@pytest.fixture(scope="module")
def shipped() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="module")
def real(shipped: Catalog) -> Recommender:
    return Recommender(shipped)


def test_the_named_artists_are_there(shipped: Catalog) -> None:
    assert set(NAMED) <= set(shipped.artists)


@pytest.mark.parametrize(("query", "artist"), [
    ("Songs by Radiohead", "Radiohead"), ("radiohead tracks", "Radiohead"),
    ("play some Björk", "Björk"), ("bjork", "Björk"), ("mk gee", "Mk.gee"),
    ("mkgee", "Mk.gee"), ("beatles", "The Beatles"), ("songs by bon iver", "Bon Iver"),
    ("aphex twin", "Aphex Twin"), ("Bill Evans", "Bill Evans"),
    ("kendrick lamar songs", "Kendrick Lamar"), ("beyonce", "Beyoncé"), ("rosalia", "Rosalía"),
    ("motorhead", "Motörhead"), ("sigur ros", "Sigur Rós"), ("jay z", "Jay-Z"), ("2pac", "2Pac"),
    ("anderson paak", "Anderson .Paak"), ("weeknd", "The Weeknd"), ("bach", "Johann Sebastian Bach"),
    ("songs by Sleep", "Sleep"), ("songs by air", "Air"), ("dr dre", "Dr. Dre"),
])
def test_artist_names_resolve(real: Recommender, query: str, artist: str) -> None:
    intent = real.understand(query)
    assert (intent.kind, intent.artists) == ("by_artist", (artist,))


@pytest.mark.parametrize("query", ["house", "soul", "funk", "jazz", "rock music", "pop",
                                   "chill", "sad songs", "party", "ambient", "blues", "latin"])
def test_vocabulary_words_are_not_artists_in_the_real_catalog(real: Recommender, query: str) -> None:
    intent = real.understand(query)
    assert intent.artists == ()
    assert intent.kind in ("genre_mood", "contextual")


@pytest.mark.parametrize(("query", "kind"), [
    ("music to sleep to", "contextual"), ("sleep", "contextual"),
    ("play something underground", "discovery"), ("underground hip hop", "discovery"),
    ("play something after midnight", "genre_mood"), ("low energy music", "genre_mood"),
    ("dance music", "contextual"), ("soul music", "genre_mood"),
])
def test_band_names_that_are_words_do_not_take_over(real: Recommender, query: str, kind: str) -> None:
    intent = real.understand(query)
    assert (intent.kind, intent.artists) == (kind, ())


def test_more_tracks_after_an_artist_pages_through_only_that_artist(
        real: Recommender, shipped: Catalog) -> None:
    turns: list[Turn] = []
    converse(real, ["Songs by Mk.gee"] + ["More tracks"] * 10, limit=5, turns=turns)
    shown = [i for t in turns for i in t.track_ids]
    mine = sorted((t for t in shipped.tracks if t.artist == "Mk.gee"),
                  key=lambda t: (-t.popularity, t.track_id))
    assert shown == [t.track_id for t in mine]


def test_more_tracks_after_a_genre_stays_in_the_genre(real: Recommender, shipped: Catalog) -> None:
    turns: list[Turn] = []
    converse(real, ["Electronic music", "More tracks", "More tracks", "More tracks"], limit=10,
             turns=turns)
    by_id = {t.track_id: t for t in shipped.tracks}
    shown = [i for t in turns for i in t.track_ids]
    assert len(shown) == len(set(shown)) == 40
    assert all("electronic" in by_id[i].genres for i in shown)


def test_similarity_never_returns_the_artist(real: Recommender, shipped: Catalog) -> None:
    turns: list[Turn] = []
    converse(real, ["music like Radiohead", "more", "more"], limit=10, turns=turns)
    by_id = {t.track_id: t for t in shipped.tracks}
    similar = set(shipped.artists["Radiohead"].similar)
    shown = [by_id[i] for t in turns for i in t.track_ids]
    assert shown and all(t.artist in similar for t in shown)


def test_contextual_and_follow_ups_fit(real: Recommender, shipped: Catalog) -> None:
    turns: list[Turn] = []
    answers = converse(real, ["Jazz for studying", "More like these", "like these but calmer",
                              "more by this artist", "more"], limit=10, turns=turns)
    assert all("jazz" in p.track.genres for p in answers[0].picks)
    assert answers[0].picks[0].track.activities and "studying" in answers[0].picks[0].track.tags
    assert [a.anchor_turn for a in answers] == [None, 1, 2, 3, 4]
    artist = answers[3].entities["artists"][0]
    assert all(p.track.artist == artist for a in answers[3:] for p in a.picks)
    shown = [i for t in turns for i in t.track_ids]
    assert len(shown) == len(set(shown))


def test_same_queries_same_ids(real: Recommender) -> None:
    queries = ["sad indie", "more", "More like these", "surprise me", "more", "music like Björk"]
    assert ([a.picks for a in converse(real, queries, limit=10)]
            == [a.picks for a in converse(real, queries, limit=10)])
