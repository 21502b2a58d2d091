"""The shipped catalog: real artists and songs, in the numbers the recommender needs."""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from functools import cache
from pathlib import Path

import pytest

from beatdebate_server.catalog import ACTIVITIES, GENRES, MOODS, Catalog, load_catalog
from beatdebate_server.catalog.load import derive_track_id

SOURCE = Path(__file__).resolve().parents[3] / "beatdebate_server/catalog/data/source"
PAGE = 10


@cache
def shipped() -> Catalog:
    return load_catalog()


def candidates(*tags: str) -> int:
    return sum(1 for track in shipped().tracks if set(tags) <= set(track.tags))


def test_counts() -> None:
    catalog = shipped()
    per_artist = Counter(track.artist for track in catalog.tracks)
    genres_used = {genre for track in catalog.tracks for genre in track.genres}

    assert len(catalog.artists) >= 150
    assert len(catalog.tracks) >= 1_500
    assert len(genres_used) >= 15
    assert sum(1 for n in per_artist.values() if n >= 20) >= 25


@pytest.mark.parametrize("name", [
    "Radiohead", "Mk.gee", "The Beatles", "Björk", "Bon Iver", "Aphex Twin", "Daft Punk",
    "Boards of Canada", "Burial", "Four Tet", "Bill Evans", "Miles Davis", "John Coltrane",
    "Kendrick Lamar", "Nas", "MF DOOM", "Brian Eno",
])
def test_required_artist_is_present_with_tracks(name: str) -> None:
    assert name in shipped().artists
    assert any(track.artist == name for track in shipped().tracks)


def test_every_genre_word_has_several_pages() -> None:
    per_genre = Counter(genre for track in shipped().tracks for genre in track.genres)

    assert set(per_genre) == set(GENRES)
    assert min(per_genre.values()) >= 3 * PAGE


@pytest.mark.parametrize(("tags", "at_least"), [
    (("jazz", "studying"), 30),
    (("hip hop", "workout"), 30),
    (("electronic",), 60),
    (("sad", "indie"), 30),
    (("upbeat", "funk"), 30),
])
def test_common_queries_have_enough_candidates(tags: tuple[str, ...], at_least: int) -> None:
    assert candidates(*tags) >= at_least


def test_similar_artists_resolve_and_are_mostly_symmetric() -> None:
    artists = shipped().artists
    pairs = [(a.name, other) for a in artists.values() for other in a.similar]

    for artist in artists.values():
        assert 3 <= len(artist.similar) <= 8, artist.name
        assert artist.name not in artist.similar
        assert set(artist.similar) <= set(artists), artist.name
    symmetric = sum(1 for name, other in pairs if name in artists[other].similar)
    assert symmetric / len(pairs) >= 0.8


def test_track_ids_are_unique_and_derived_from_artist_and_title() -> None:
    tracks = shipped().tracks

    assert len({t.track_id for t in tracks}) == len(tracks)
    assert all(t.track_id == derive_track_id(t.artist, t.title) for t in tracks)


def test_vocabulary_and_ranges_are_respected() -> None:
    for track in shipped().tracks:
        assert track.genres and set(track.genres) <= set(GENRES)
        assert 1 <= len(track.moods) <= 3 and set(track.moods) <= set(MOODS)
        assert len(track.activities) <= 3 and set(track.activities) <= set(ACTIVITIES)
        assert 0 <= track.popularity <= 100
        assert track.title.strip() == track.title and track.title


def test_artist_genres_cover_their_tracks() -> None:
    catalog = shipped()
    for track in catalog.tracks:
        assert set(track.genres) <= set(catalog.artists[track.artist].genres)


def test_famous_songs_rank_above_deep_cuts() -> None:
    by_title = {(t.artist, t.title): t.popularity for t in shipped().tracks}

    assert by_title[("Radiohead", "Creep")] > by_title[("Radiohead", "The Tourist")]
    assert by_title[("The Beatles", "Hey Jude")] > by_title[("The Beatles", "Julia")]


def test_shipped_file_is_rebuilt_from_its_source() -> None:
    spec = importlib.util.spec_from_file_location("build_catalog", SOURCE / "build_catalog.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up by name
    try:
        spec.loader.exec_module(module)
        rebuilt = module.build()
    finally:
        del sys.modules[spec.name]

    shipped_bytes = (SOURCE.parent / "catalog.jsonl").read_bytes()
    assert rebuilt == shipped_bytes, "run data/source/build_catalog.py after editing"
