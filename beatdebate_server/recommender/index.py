"""Indexes over a catalog, built once, so that no request sorts or scans the whole catalog.

Terms:
- *rank*: a track's position when the catalog is ordered by popularity (highest first),
  ties by ``track_id``. Every list below holds ranks in ascending order, so walking a list
  meets tracks most popular first, and merging lists is merging sorted integers.
- *mask*: one bit per vocabulary word (genre, mood, activity); a track's mask has the bits
  of its tags. "Carries jazz and calm" is ``mask & need == need``: one integer operation.
- *artist id*: a small integer per artist name, in name order.
- *pair list*: the ranks of tracks carrying two given tags, one of them a genre: "sad
  indie" or "jazz and hip hop" walks a list where every track fits, however rare the pair.
- *similar artists*: the catalog's declared similar artists that have tracks; an artist
  with none that has tracks gets the most popular artists sharing its genres instead
  (its primary genre first).

Building is two sorts done in C and one pass over the tracks: a million tracks take a
few seconds. Nothing here changes after ``__init__``.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from operator import attrgetter

from beatdebate_server.catalog.model import ACTIVITIES, GENRES, MOODS, Catalog, Track

MIN_SIMILAR = 1
MAX_PADDED_SIMILAR = 5

TAG_BITS: dict[str, int] = {tag: 1 << i for i, tag in enumerate(GENRES + MOODS + ACTIVITIES)}


def mask_of(tags: Sequence[str]) -> int:
    """The mask of vocabulary words ``tags`` (unknown words carry no bit)."""
    mask = 0
    for tag in tags:
        mask |= TAG_BITS.get(tag, 0)
    return mask


class CatalogIndex:
    """Read-only lookup structures over one catalog (see the module docstring)."""

    def __init__(self, catalog: Catalog) -> None:
        # Two stable sorts in C: by track_id, then by popularity descending.
        ordered = sorted(catalog.tracks, key=attrgetter("track_id"))
        ordered.sort(key=attrgetter("popularity"), reverse=True)
        self.tracks: list[Track] = ordered
        self.rank_of: dict[str, int] = {t.track_id: r for r, t in enumerate(ordered)}
        names = sorted({t.artist for t in ordered} | set(catalog.artists))
        self.artist_names: list[str] = names
        self.artist_id: dict[str, int] = {name: i for i, name in enumerate(names)}
        self.by_artist: list[list[int]] = [[] for _ in names]
        self.by_tag: dict[str, list[int]] = {tag: [] for tag in TAG_BITS}
        self.by_pair: dict[tuple[str, str], list[int]] = {}
        self.masks: list[int] = []
        self.artist_of: list[int] = []
        # The pass makes no reference cycles; a collection mid-build would only walk the
        # whole catalog again (a third of the build time at a million tracks).
        collecting = gc.isenabled()
        gc.disable()
        try:
            self._fill(ordered)
        finally:
            if collecting:
                gc.enable()
        self.similar: list[tuple[int, ...]] = self._similar(catalog)

    def __len__(self) -> int:
        return len(self.tracks)

    def _fill(self, ordered: list[Track]) -> None:
        """One pass in rank order: every list is appended to in order, so none needs sorting.

        The lists a track joins are looked up once per combination of its tag tuples
        (genres, moods, activities), keyed by the tuples' identity: the loader shares one
        tuple among all tracks with the same tags, so a million tracks make a few hundred
        thousand lookups' worth of work, not millions. (Identity keys are safe: ``ordered``
        keeps every tuple alive while this runs.)
        """
        masks, artist_of, by_artist, artist_id = (self.masks, self.artist_of, self.by_artist,
                                                  self.artist_id)
        alone: dict[int, tuple[int, list[list[int]]]] = {}
        across: dict[tuple[int, int], list[list[int]]] = {}
        combos: dict[tuple[int, int, int], tuple[int, list[list[int]]]] = {}
        for rank, track in enumerate(ordered):
            genres, moods, activities = track.genres, track.moods, track.activities
            key = (id(genres), id(moods), id(activities))
            entry = combos.get(key)
            if entry is None:
                entry = combos[key] = self._combo(genres, moods, activities, alone, across)
            masks.append(entry[0])
            for ranks in entry[1]:
                ranks.append(rank)
            aid = artist_id[track.artist]
            artist_of.append(aid)
            by_artist[aid].append(rank)

    def _combo(self, genres: tuple[str, ...], moods: tuple[str, ...],
               activities: tuple[str, ...], alone: dict[int, tuple[int, list[list[int]]]],
               across: dict[tuple[int, int], list[list[int]]]) -> tuple[int, list[list[int]]]:
        """The mask and every list a track with these tag tuples joins, from per-tuple parts."""
        mask = 0
        lists: list[list[int]] = []
        for tags, with_pairs in ((genres, True), (moods, False), (activities, False)):
            part = alone.get(id(tags))
            if part is None:
                part = alone[id(tags)] = self._lists_alone(tags, with_pairs=with_pairs)
            mask |= part[0]
            lists.extend(part[1])
        for others in (moods, activities):
            key = (id(genres), id(others))
            cross = across.get(key)
            if cross is None:
                cross = across[key] = self._lists_across(genres, others)
            lists.extend(cross)
        return mask, lists

    def _lists_alone(self, tags: tuple[str, ...], *, with_pairs: bool) -> tuple[int, list[list[int]]]:
        """The mask of ``tags`` and the lists a track with them joins (genre pairs too)."""
        known = [t for t in dict.fromkeys(tags) if t in TAG_BITS]
        lists = [self.by_tag[t] for t in known]
        if with_pairs:
            lists.extend(self.by_pair.setdefault(pair, []) for pair in _genre_pairs(known))
        return mask_of(known), lists

    def _lists_across(self, genres: tuple[str, ...], others: tuple[str, ...]) -> list[list[int]]:
        """The pair lists of each (genre, other tag) a track with both tuples joins."""
        lists = []
        for genre in dict.fromkeys(genres):
            for other in dict.fromkeys(others):
                if genre in TAG_BITS and other in TAG_BITS and other != genre:
                    pair = min((genre, other), (other, genre), key=_pair_order)
                    lists.append(self.by_pair.setdefault(pair, []))
        return lists

    def artist_popularity(self, aid: int) -> int:
        ranks = self.by_artist[aid]
        return self.tracks[ranks[0]].popularity if ranks else -1

    def tag_list(self, tag: str) -> Sequence[int]:
        return self.by_tag.get(tag, ())

    def narrowest(self, tags: Sequence[str]) -> Sequence[int]:
        """The shortest list holding every track that carries all ``tags``; all ranks if none.

        Candidates are the tags' own lists and the pair lists of any two of them that
        involve a genre; the first shortest wins a tie. Walk it, checking each track's mask.
        """
        if not tags:
            return range(len(self.tracks))
        lists: list[Sequence[int]] = [self.tag_list(tag) for tag in tags]
        lists.extend(self.by_pair.get(pair, ()) for pair in _genre_pairs(tags))
        return min(lists, key=len)

    def ranks_of(self, track_ids: Sequence[str]) -> Iterator[int]:
        """Ranks of the ids this catalog knows, in the given order."""
        rank_of = self.rank_of
        for track_id in track_ids:
            rank = rank_of.get(track_id)
            if rank is not None:
                yield rank

    def _similar(self, catalog: Catalog) -> list[tuple[int, ...]]:
        ids = self.artist_id
        genres_of: list[tuple[str, ...]] = []
        for aid, name in enumerate(self.artist_names):
            artist = catalog.artists.get(name)
            if artist is not None and artist.genres:
                genres_of.append(artist.genres)
            elif self.by_artist[aid]:
                genres_of.append(self.tracks[self.by_artist[aid][0]].genres)
            else:
                genres_of.append(())
        # Artists carrying each genre, most popular first, ties by name (= by id).
        popular_in: dict[str, list[int]] = {}
        for aid, genres in enumerate(genres_of):
            if self.by_artist[aid]:
                for genre in genres:
                    popular_in.setdefault(genre, []).append(aid)
        for members in popular_in.values():
            members.sort(key=lambda aid: (-self.artist_popularity(aid), aid))
        similar: list[tuple[int, ...]] = []
        for aid, name in enumerate(self.artist_names):
            artist = catalog.artists.get(name)
            declared = [] if artist is None else [
                ids[other] for other in artist.similar
                if other in ids and other != name and self.by_artist[ids[other]]]
            chosen = list(dict.fromkeys(declared))
            if len(chosen) < MIN_SIMILAR:
                # Pad from the artist's genres in order: its primary genre's stars first.
                for genre in genres_of[aid]:
                    for other in popular_in.get(genre, ()):
                        if len(chosen) >= MAX_PADDED_SIMILAR:
                            break
                        if other != aid and other not in chosen:
                            chosen.append(other)
            similar.append(tuple(chosen))
        return similar


_ORDER = {tag: i for i, tag in enumerate(TAG_BITS)}
_GENRES = frozenset(GENRES)


def _pair_order(pair: tuple[str, str]) -> tuple[int, int]:
    return _ORDER[pair[0]], _ORDER[pair[1]]


def _genre_pairs(tags: Sequence[str]) -> Iterator[tuple[str, str]]:
    """Each pair of distinct ``tags`` with at least one genre, in vocabulary order."""
    known = sorted({t for t in tags if t in _ORDER}, key=_ORDER.__getitem__)
    for i, first in enumerate(known):
        for second in known[i + 1:]:
            if first in _GENRES or second in _GENRES:
                yield first, second
