"""The indexes: ranks, masks, tag and pair lists agree with the catalog they were built from."""

from __future__ import annotations

from itertools import combinations

from beatdebate_server.catalog.model import GENRES, Artist, Catalog, Track
from beatdebate_server.recommender.index import CatalogIndex, mask_of
from beatdebate_server.recommender.model import clean_entities


def test_ranks_are_popularity_then_track_id(catalog: Catalog) -> None:
    index = CatalogIndex(catalog)
    expected = sorted(catalog.tracks, key=lambda t: (-t.popularity, t.track_id))
    assert index.tracks == expected
    assert all(index.rank_of[t.track_id] == r for r, t in enumerate(expected))


def test_tag_and_pair_lists_hold_exactly_the_carriers_in_rank_order(catalog: Catalog) -> None:
    index = CatalogIndex(catalog)
    for tag, ranks in index.by_tag.items():
        assert ranks == [r for r, t in enumerate(index.tracks) if tag in t.tags], tag
    for (first, second), ranks in index.by_pair.items():
        assert first in GENRES or second in GENRES
        assert ranks == [r for r, t in enumerate(index.tracks)
                         if first in t.tags and second in t.tags], (first, second)
    assert index.by_pair[("indie", "sad")] == [index.rank_of[i] for i in (
        "boniver-skinnylove", "dijon-thedress", "low-lullaby")]


def test_masks_and_artists(catalog: Catalog) -> None:
    index = CatalogIndex(catalog)
    for rank, track in enumerate(index.tracks):
        assert index.masks[rank] == mask_of(track.tags)
        assert index.artist_names[index.artist_of[rank]] == track.artist
        assert rank in index.by_artist[index.artist_id[track.artist]]


def test_narrowest_is_the_shortest_list_that_covers_all_tags(catalog: Catalog) -> None:
    index = CatalogIndex(catalog)
    tags = ["electronic", "house", "upbeat"]
    narrow = index.narrowest(tags)
    carriers = [r for r, t in enumerate(index.tracks) if set(tags) <= set(t.tags)]
    assert set(carriers) <= set(narrow)
    candidates = [index.by_tag[t] for t in tags] + [
        index.by_pair.get(p, []) for p in combinations(tags, 2)]
    assert len(narrow) == min(len(c) for c in candidates)
    assert list(index.narrowest([])) == list(range(len(index)))


def test_tracks_built_without_shared_tuples_index_the_same() -> None:
    # The loader shares tag tuples; hand-made tracks may not. Both must index alike.
    tracks = tuple(Track(track_id=f"t{i}", title=str(i), artist="A", genres=tuple(["jazz"]),
                         moods=tuple(["calm"] if i % 2 else []), popularity=i % 3)
                   for i in range(9))
    index = CatalogIndex(Catalog(tracks=tracks, artists={"A": Artist("A", ("jazz",))}))
    assert index.by_tag["calm"] == [r for r, t in enumerate(index.tracks) if "calm" in t.moods]
    assert len(index.by_pair[("jazz", "calm")]) == 4


def test_artists_without_similar_ones_get_genre_neighbours(catalog: Catalog) -> None:
    index = CatalogIndex(catalog)
    similar = [index.artist_names[a] for a in index.similar[index.artist_id["Kendrick Lamar"]]]
    assert similar == []  # no other hip hop artist in the fixture
    declared = [index.artist_names[a] for a in index.similar[index.artist_id["Radiohead"]]]
    assert declared == ["Thom Yorke", "Portishead", "Björk"]


def test_clean_entities_drops_unknown_words_and_empty_keys() -> None:
    assert clean_entities({"genres": ["jazz", "polka"], "moods": [], "artists": ["X"],
                           "other": ["y"]}) == {"artists": ("X",), "genres": ("jazz",)}
