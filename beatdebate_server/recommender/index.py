"""Indexes over a catalog, built once, so that no request sorts or scans the whole catalog.

Terms:
- *rank*: a track's position when the catalog is ordered by popularity (highest first),
  ties by ``track_id``. Every list below holds ranks in ascending order, so walking a list
  meets tracks most popular first, and merging lists is merging sorted integers.
- *mask*: one bit per vocabulary word (genre, mood, activity); a track's mask has the bits
  of its tags. "Carries jazz and calm" is ``mask & need == need``: one integer operation.
- *artist id*: a small integer per artist name, in name order.
- *similar artists*: the catalog's declared similar artists that have tracks; an artist
  with none that has tracks gets the most popular artists sharing its genres instead
  (its primary genre first).

Building is a handful of passes over the tracks and sorts done in C: a million tracks
take a few seconds. Nothing here changes after ``__init__``.
"""

from __future__ import annotations

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
        self.masks: list[int] = [0] * len(ordered)
        self.artist_of: list[int] = [0] * len(ordered)
        self.by_artist: list[list[int]] = [[] for _ in names]
        # One dictionary hit per track: tracks sharing a tag combination share a mask.
        by_combo: dict[tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]], list[int]] = {}
        artist_id = self.artist_id
        artist_of = self.artist_of
        by_artist = self.by_artist
        for rank, track in enumerate(ordered):
            combo = (track.genres, track.moods, track.activities)
            ranks = by_combo.get(combo)
            if ranks is None:
                ranks = by_combo[combo] = []
            ranks.append(rank)
            aid = artist_id[track.artist]
            artist_of[rank] = aid
            by_artist[aid].append(rank)
        by_tag: dict[str, list[int]] = {tag: [] for tag in TAG_BITS}
        masks = self.masks
        for (genres, moods, activities), ranks in by_combo.items():
            tags = genres + moods + activities
            mask = mask_of(tags)
            for rank in ranks:
                masks[rank] = mask
            for tag in dict.fromkeys(tags):
                if tag in by_tag:
                    by_tag[tag].extend(ranks)
        for ranks in by_tag.values():
            ranks.sort()
        self.by_tag: dict[str, list[int]] = by_tag
        self.similar: list[tuple[int, ...]] = self._similar(catalog)

    def __len__(self) -> int:
        return len(self.tracks)

    def artist_popularity(self, aid: int) -> int:
        ranks = self.by_artist[aid]
        return self.tracks[ranks[0]].popularity if ranks else -1

    def tag_list(self, tag: str) -> Sequence[int]:
        return self.by_tag.get(tag, ())

    def rarest(self, tags: Sequence[str]) -> Sequence[int]:
        """The shortest of the tags' lists (the first on a tie); all ranks if ``tags`` is empty."""
        if not tags:
            return range(len(self.tracks))
        return min((self.tag_list(tag) for tag in tags), key=len)

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
