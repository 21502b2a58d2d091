"""A small hand-made catalog, and helpers to record turns as the server would.

``FIXTURE`` names real artists with tags chosen so that each test can tell the kinds apart:
Radiohead's similar artists, calm jazz, one popularity tie broken by track_id, a genre word
("House") that is also part of an artist name (Beach House), and a short name (Low).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest

from beatdebate_server.catalog.model import Artist, Catalog, Track
from beatdebate_server.recommender import Answer, Recommender
from beatdebate_server.session import Turn

# artist: (genres, similar, [(title, moods, activities, popularity), ...])
_Row = tuple[str, tuple[str, ...], tuple[str, ...], int]
FIXTURE: dict[str, tuple[tuple[str, ...], tuple[str, ...], list[_Row]]] = {
    "Radiohead": (("alternative", "rock"), ("Thom Yorke", "Portishead", "Björk"), [
        ("Creep", ("sad",), (), 95), ("Karma Police", ("melancholic",), (), 90),
        ("No Surprises", ("calm", "sad"), ("sleep",), 88), ("Idioteque", ("dark",), (), 70),
        ("Reckoner", ("dreamy",), ("relaxing",), 75), ("Bodysnatchers", ("energetic",), (), 60),
    ]),
    "Thom Yorke": (("electronic", "alternative"), ("Radiohead",), [
        ("Black Swan", ("dark",), (), 55), ("Suspirium", ("calm",), ("sleep",), 50),
        ("Dawn Chorus", ("melancholic",), ("focus",), 45),
    ]),
    "Portishead": (("electronic", "experimental"), ("Massive Attack", "Radiohead"), [
        ("Glory Box", ("dark", "romantic"), (), 80), ("Roads", ("sad",), (), 78),
        ("Machine Gun", ("aggressive",), (), 50),
    ]),
    "Massive Attack": (("electronic",), ("Portishead",), [
        ("Teardrop", ("dreamy", "calm"), ("relaxing",), 85), ("Angel", ("dark",), (), 70),
    ]),
    "Björk": (("electronic", "experimental", "pop"), ("Radiohead", "Aphex Twin"), [
        ("Hyperballad", ("dreamy",), (), 80), ("Joga", ("uplifting",), (), 78),
        ("Army of Me", ("aggressive",), ("workout",), 60), ("Unravel", ("calm", "sad"), ("sleep",), 40),
    ]),
    "Aphex Twin": (("electronic", "ambient"), ("Burial", "Björk"), [
        ("Avril 14th", ("calm",), ("studying", "sleep"), 82), ("Windowlicker", ("energetic",), ("party",), 70),
        ("Xtal", ("dreamy", "calm"), ("focus",), 65), ("Come to Daddy", ("aggressive",), ("workout",), 50),
    ]),
    "Burial": (("electronic",), ("Aphex Twin",), [
        ("Archangel", ("melancholic", "dark"), ("driving",), 72), ("Near Dark", ("dark",), (), 45),
        ("Untrue", ("sad",), (), 30),
    ]),
    "Mk.gee": (("indie", "r&b"), ("Dijon", "Bon Iver"), [
        ("Are You Looking Up", ("dreamy",), ("driving",), 77), ("How Many Miles", ("calm",), ("relaxing",), 70),
        ("Alesis", ("melancholic",), (), 66), ("Candy", ("upbeat",), ("party",), 64),
        ("Rylee & I", ("romantic",), (), 58),
    ]),
    "Dijon": (("r&b", "indie"), ("Mk.gee",), [
        ("Big Mike's", ("romantic",), (), 60), ("The Dress", ("sad",), (), 55),
    ]),
    "Bon Iver": (("indie", "folk"), ("Sufjan Stevens", "Mk.gee"), [
        ("Holocene", ("calm", "melancholic"), ("relaxing", "sleep"), 86), ("Skinny Love", ("sad",), (), 84),
        ("22 (OVER S∞∞N)", ("dreamy",), (), 50),
    ]),
    "Sufjan Stevens": (("indie", "folk"), ("Bon Iver",), [
        ("Chicago", ("uplifting",), ("driving",), 75), ("Mystery of Love", ("romantic", "calm"), (), 74),
    ]),
    "The Beatles": (("rock", "pop"), ("The Kinks",), [
        ("Here Comes the Sun", ("happy", "uplifting"), (), 97), ("Let It Be", ("calm",), (), 93),
        ("Come Together", ("dark",), ("driving",), 91), ("Twist and Shout", ("upbeat",), ("party",), 80),
        ("Yesterday", ("sad", "melancholic"), (), 89),
    ]),
    "The Kinks": (("rock",), ("The Beatles",), [
        ("Waterloo Sunset", ("melancholic",), (), 70), ("You Really Got Me", ("energetic",), ("workout",), 72),
    ]),
    "Bill Evans": (("jazz",), ("Miles Davis",), [
        ("Peace Piece", ("calm",), ("studying", "sleep"), 70), ("Waltz for Debby", ("happy",), ("studying",), 65),
        ("Blue in Green", ("melancholic", "calm"), ("focus",), 60), ("My Foolish Heart", ("romantic",), (), 55),
    ]),
    "Miles Davis": (("jazz",), ("Bill Evans",), [
        ("So What", ("calm",), ("studying",), 88), ("Blue in Green (Take 2)", ("calm",), ("focus",), 60),
        ("Freddie Freeloader", ("upbeat",), (), 50),
    ]),
    "Kendrick Lamar": (("hip hop",), (), [
        ("HUMBLE.", ("aggressive", "energetic"), ("workout",), 94), ("Alright", ("uplifting",), ("running",), 90),
        ("Money Trees", ("chill",), ("driving",), 87), ("DNA.", ("energetic",), ("workout",), 85),
    ]),
    "Beach House": (("indie", "alternative"), ("Mk.gee",), [
        ("Space Song", ("dreamy",), ("relaxing",), 83), ("Myth", ("dreamy", "melancholic"), (), 71),
    ]),
    "Low": (("indie", "rock"), (), [
        ("Lullaby", ("calm", "sad"), ("sleep",), 35), ("Sunflower", ("melancholic",), (), 33),
    ]),
    "Daft Punk": (("electronic", "house", "funk"), ("Justice",), [
        ("One More Time", ("happy", "upbeat"), ("party",), 92), ("Around the World", ("upbeat",), ("party", "workout"), 80),
        ("Digital Love", ("romantic", "happy"), (), 78),
    ]),
    "Justice": (("electronic", "house"), ("Daft Punk",), [
        ("D.A.N.C.E.", ("upbeat", "energetic"), ("party",), 70), ("Genesis", ("aggressive",), ("workout",), 50),
    ]),
    "Vulfpeck": (("funk",), (), [
        ("Dean Town", ("upbeat", "energetic"), ("running",), 65), ("Back Pocket", ("happy", "upbeat"), (), 65),
        ("1612", ("upbeat",), ("party",), 65),
    ]),
}


def slug(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def make_catalog() -> Catalog:
    tracks: list[Track] = []
    artists: dict[str, Artist] = {}
    for name, (genres, similar, rows) in FIXTURE.items():
        artists[name] = Artist(name=name, genres=genres, similar=similar)
        for title, moods, activities, popularity in rows:
            tracks.append(Track(track_id=f"{slug(name)}-{slug(title)}", title=title,
                                artist=name, genres=genres, moods=moods,
                                activities=activities, popularity=popularity))
    return Catalog(tracks=tuple(tracks), artists=artists)


def turn(number: int, query: str, kind: str, follow_up: str | None = None, *,
         entities: Mapping[str, Sequence[str]] | None = None, anchor: int | None = None,
         track_ids: Sequence[str] = ()) -> Turn:
    """A recorded turn, as the server stores it."""
    return Turn(turn=number, request_id=f"r{number}", query=query, kind=kind,
                follow_up=follow_up, entities={k: tuple(v) for k, v in (entities or {}).items()},
                anchor_turn=anchor, track_ids=tuple(track_ids), at=1_800_000_000.0 + number)


def record(turns: list[Turn], query: str, answer: Answer) -> Turn:
    """Append the turn the server would record for ``answer`` and return it."""
    recorded = turn(len(turns) + 1, query, answer.kind, answer.follow_up,
                    entities=answer.entities, anchor=answer.anchor_turn,
                    track_ids=[p.track.track_id for p in answer.picks])
    turns.append(recorded)
    return recorded


def converse(recommender: Recommender, queries: Sequence[str], *, limit: int = 3,
             turns: list[Turn] | None = None) -> list[Answer]:
    """Play ``queries`` in one session (``turns`` grows); return each turn's answer."""
    history = [] if turns is None else turns
    answers = []
    for query in queries:
        answer = recommender.recommend(recommender.understand(query), history, limit=limit)
        record(history, query, answer)
        answers.append(answer)
    return answers


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return make_catalog()


@pytest.fixture(scope="session")
def recommender(catalog: Catalog) -> Recommender:
    return Recommender(catalog)


@pytest.fixture(scope="session")
def artist_of(catalog: Catalog) -> dict[str, str]:
    return {t.track_id: t.artist for t in catalog.tracks}


@pytest.fixture(scope="session")
def tracks_by_id(catalog: Catalog) -> dict[str, Track]:
    return {t.track_id: t for t in catalog.tracks}
