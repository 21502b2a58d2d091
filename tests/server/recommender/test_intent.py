"""Query understanding, table-driven: query → kind, follow_up, key entities, modifiers."""

from __future__ import annotations

from typing import Any

import pytest

from beatdebate_server.recommender import Intent, Recommender
from beatdebate_server.recommender.vocabulary import name_key, normalize

A, G, M, X = "artists", "genres", "moods", "activities"

# query, kind, follow_up, entities (exactly), modifiers
ROWS: list[tuple[str, str, str | None, dict[str, tuple[str, ...]], tuple[str, ...]]] = [
    # by_artist
    ("Songs by Radiohead", "by_artist", None, {A: ("Radiohead",)}, ()),
    ("radiohead tracks", "by_artist", None, {A: ("Radiohead",)}, ()),
    ("play some Björk", "by_artist", None, {A: ("Björk",)}, ()),
    ("play some bjork", "by_artist", None, {A: ("Björk",)}, ()),
    ("BJORK", "by_artist", None, {A: ("Björk",)}, ()),
    ("Songs by Mk.gee", "by_artist", None, {A: ("Mk.gee",)}, ()),
    ("mk gee", "by_artist", None, {A: ("Mk.gee",)}, ()),
    ("mkgee songs", "by_artist", None, {A: ("Mk.gee",)}, ()),
    ("MK.GEE please", "by_artist", None, {A: ("Mk.gee",)}, ()),
    ("beatles", "by_artist", None, {A: ("The Beatles",)}, ()),
    ("the beatles hits", "by_artist", None, {A: ("The Beatles",)}, ()),
    ("tracks by the beatles", "by_artist", None, {A: ("The Beatles",)}, ()),
    ("best of the beatles", "by_artist", None, {A: ("The Beatles",)}, ()),
    ("radiohed", "by_artist", None, {A: ("Radiohead",)}, ()),
    ("songs by radiohed", "by_artist", None, {A: ("Radiohead",)}, ()),
    ("songs by bon ivor", "by_artist", None, {A: ("Bon Iver",)}, ()),
    ("Bill Evans", "by_artist", None, {A: ("Bill Evans",)}, ()),
    ("I want to hear Kendrick Lamar", "by_artist", None, {A: ("Kendrick Lamar",)}, ()),
    ("songs by kendrick", "by_artist", None, {A: ("Kendrick Lamar",)}, ()),
    ("kendrick", "by_artist", None, {A: ("Kendrick Lamar",)}, ()),
    ("aphex twin music", "by_artist", None, {A: ("Aphex Twin",)}, ()),
    ("put on some daft punk", "by_artist", None, {A: ("Daft Punk",)}, ()),
    ("songs by Low", "by_artist", None, {A: ("Low",)}, ()),
    ("Beach House songs", "by_artist", None, {A: ("Beach House",)}, ()),
    ("sad radiohead songs", "by_artist", None, {A: ("Radiohead",), M: ("sad",)}, ()),
    ("Radiohead and Björk songs", "by_artist", None, {A: ("Radiohead", "Björk")}, ()),
    ("songs by radiohead and portishead", "by_artist", None, {A: ("Radiohead", "Portishead")}, ()),
    ("gimme some vulfpeck", "by_artist", None, {A: ("Vulfpeck",)}, ()),
    # artist_similarity
    ("music like Radiohead", "artist_similarity", None, {A: ("Radiohead",)}, ()),
    ("artists similar to Bon Iver", "artist_similarity", None, {A: ("Bon Iver",)}, ()),
    ("sounds like Burial", "artist_similarity", None, {A: ("Burial",)}, ()),
    ("anything similar to bon iver", "artist_similarity", None, {A: ("Bon Iver",)}, ()),
    ("bands like the beatles", "artist_similarity", None, {A: ("The Beatles",)}, ()),
    ("something in the style of mk gee", "artist_similarity", None, {A: ("Mk.gee",)}, ()),
    ("i like radiohead", "artist_similarity", None, {A: ("Radiohead",)}, ()),
    ("music like radiohead and bjork", "artist_similarity", None, {A: ("Radiohead", "Björk")}, ()),
    ("songs that sound like Portishead", "artist_similarity", None, {A: ("Portishead",)}, ()),
    ("fans of aphex twin", "artist_similarity", None, {A: ("Aphex Twin",)}, ()),
    ("music like radiohead for studying", "artist_similarity", None,
     {A: ("Radiohead",), X: ("studying",)}, ()),
    ("similar to massive attack", "artist_similarity", None, {A: ("Massive Attack",)}, ()),
    # genre_mood
    ("Electronic music", "genre_mood", None, {G: ("electronic",)}, ()),
    ("sad indie", "genre_mood", None, {G: ("indie",), M: ("sad",)}, ()),
    ("upbeat funk", "genre_mood", None, {G: ("funk",), M: ("upbeat",)}, ()),
    ("house music", "genre_mood", None, {G: ("house",)}, ()),
    ("deep house", "genre_mood", None, {G: ("house",)}, ()),
    ("soul", "genre_mood", None, {G: ("soul",)}, ()),
    ("some soul please", "genre_mood", None, {G: ("soul",)}, ()),
    ("play some house", "genre_mood", None, {G: ("house",)}, ()),
    ("hip-hop", "genre_mood", None, {G: ("hip hop",)}, ()),
    ("rap", "genre_mood", None, {G: ("hip hop",)}, ()),
    ("R&B slow jams", "genre_mood", None, {G: ("r&b",)}, ()),
    ("rnb", "genre_mood", None, {G: ("r&b",)}, ()),
    ("melancholic jazz", "genre_mood", None, {G: ("jazz",), M: ("melancholic",)}, ()),
    ("dark ambient electronica", "genre_mood", None, {G: ("ambient", "electronic"), M: ("dark",)}, ()),
    ("chill", "genre_mood", None, {M: ("chill",)}, ()),
    ("mellow folk", "genre_mood", None, {G: ("folk",), M: ("calm",)}, ()),
    ("happy pop songs", "genre_mood", None, {G: ("pop",), M: ("happy",)}, ()),
    ("low energy music", "genre_mood", None, {M: ("calm",)}, ()),
    ("more jazz", "genre_mood", None, {G: ("jazz",)}, ()),
    ("jazz hip hop", "genre_mood", None, {G: ("jazz", "hip hop")}, ()),
    ("heavy metal", "genre_mood", None, {G: ("metal",)}, ()),
    ("dreamy indie rock", "genre_mood", None, {G: ("indie", "rock"), M: ("dreamy",)}, ()),
    ("asdfgh qwerty", "genre_mood", None, {}, ()),
    ("what's good", "genre_mood", None, {}, ()),
    # contextual
    ("Jazz for studying", "contextual", None, {G: ("jazz",), X: ("studying",)}, ()),
    ("workout hip hop", "contextual", None, {G: ("hip hop",), X: ("workout",)}, ()),
    ("music to sleep to", "contextual", None, {X: ("sleep",)}, ()),
    ("songs for the gym", "contextual", None, {X: ("workout",)}, ()),
    ("something to help me focus", "contextual", None, {X: ("focus",)}, ()),
    ("road trip rock", "contextual", None, {G: ("rock",), X: ("driving",)}, ()),
    ("party music", "contextual", None, {X: ("party",)}, ()),
    ("calm music for studying", "contextual", None, {M: ("calm",), X: ("studying",)}, ()),
    ("electronic music for running", "contextual", None, {G: ("electronic",), X: ("running",)}, ()),
    ("music to work out to", "contextual", None, {X: ("workout",)}, ()),
    ("relaxing ambient", "contextual", None, {G: ("ambient",), X: ("relaxing",)}, ()),
    # discovery
    ("something underground", "discovery", None, {}, ("underground",)),
    ("surprise me", "discovery", None, {}, ("surprise",)),
    ("something new", "discovery", None, {}, ("surprise",)),
    ("hidden gems", "discovery", None, {}, ("underground",)),
    ("underground electronic", "discovery", None, {G: ("electronic",)}, ("underground",)),
    ("play me something random", "discovery", None, {}, ("surprise",)),
    ("obscure jazz", "discovery", None, {G: ("jazz",)}, ("underground",)),
    # follow_up: more_tracks
    ("More tracks", "follow_up", "more_tracks", {}, ()),
    ("more", "follow_up", "more_tracks", {}, ()),
    ("More!", "follow_up", "more_tracks", {}, ()),
    ("show me more", "follow_up", "more_tracks", {}, ()),
    ("another batch", "follow_up", "more_tracks", {}, ()),
    ("keep going", "follow_up", "more_tracks", {}, ()),
    ("next", "follow_up", "more_tracks", {}, ()),
    ("next page please", "follow_up", "more_tracks", {}, ()),
    ("ok, give me more songs", "follow_up", "more_tracks", {}, ()),
    ("can you show me some more tracks", "follow_up", "more_tracks", {}, ()),
    ("more of the same", "follow_up", "more_tracks", {}, ()),
    ("continue", "follow_up", "more_tracks", {}, ()),
    # follow_up: more_like_these
    ("More like these", "follow_up", "more_like_these", {}, ()),
    ("similar to these", "follow_up", "more_like_these", {}, ()),
    ("like these but calmer", "follow_up", "more_like_these", {}, ("calmer",)),
    ("something calmer", "follow_up", "more_like_these", {}, ("calmer",)),
    ("more songs like this", "follow_up", "more_like_these", {}, ()),
    ("more of these", "follow_up", "more_like_these", {}, ()),
    ("same vibe", "follow_up", "more_like_these", {}, ()),
    ("something similar", "follow_up", "more_like_these", {}, ()),
    ("like those but darker", "follow_up", "more_like_these", {}, ("darker",)),
    ("more like these but more upbeat", "follow_up", "more_like_these", {}, ("energetic",)),
    ("a bit calmer please", "follow_up", "more_like_these", {}, ("calmer",)),
    # follow_up: more_from_artist
    ("more from Mk.gee", "follow_up", "more_from_artist", {A: ("Mk.gee",)}, ()),
    ("more from mk gee", "follow_up", "more_from_artist", {A: ("Mk.gee",)}, ()),
    ("more by this artist", "follow_up", "more_from_artist", {}, ()),
    ("more from them", "follow_up", "more_from_artist", {}, ()),
    ("other songs by this band", "follow_up", "more_from_artist", {}, ()),
    ("what else do they have", "follow_up", "more_from_artist", {}, ()),
    ("more radiohead", "follow_up", "more_from_artist", {A: ("Radiohead",)}, ()),
    ("more songs by the beatles", "follow_up", "more_from_artist", {A: ("The Beatles",)}, ()),
    ("another one by bjork", "follow_up", "more_from_artist", {A: ("Björk",)}, ()),
]


def _row_id(row: tuple[Any, ...]) -> str:
    return str(row[0])


def test_the_table_is_big_enough() -> None:
    assert len(ROWS) >= 80
    assert len({row[0] for row in ROWS}) == len(ROWS)  # no row repeats another


@pytest.mark.parametrize("row", ROWS, ids=_row_id)
def test_understand(recommender: Recommender, row: tuple[Any, ...]) -> None:
    query, kind, follow_up, entities, modifiers = row
    intent = recommender.understand(query)
    assert (intent.kind, intent.follow_up, intent.entities(), intent.modifiers) == (
        kind, follow_up, entities, modifiers)
    assert intent.query == query


def test_intent_entities_keeps_only_non_empty_keys() -> None:
    intent = Intent("genre_mood", genres=("jazz",), moods=())
    assert intent.entities() == {"genres": ("jazz",)}
    assert list(Intent("by_artist", artists=("X",), genres=("rock",), moods=("sad",),
                       activities=("focus",)).entities()) == [A, G, M, X]


@pytest.mark.parametrize("query", ["house", "soul", "funk", "rock music", "chill", "sleep"])
def test_vocabulary_words_never_become_artists(recommender: Recommender, query: str) -> None:
    assert recommender.understand(query).artists == ()


def test_normalize_and_keys() -> None:
    assert normalize("  Björk —  Jóga!  ") == "bjork joga"
    assert name_key("Mk.gee") == name_key("mk gee") == name_key("MKGEE") == "mkgee"
    assert name_key("The Beatles") == name_key("beatles")
    assert name_key("Simon & Garfunkel") == name_key("simon and garfunkel")


def test_understand_is_pure(recommender: Recommender) -> None:
    first = [recommender.understand(row[0]) for row in ROWS]
    again = [recommender.understand(row[0]) for row in ROWS]
    assert first == again
