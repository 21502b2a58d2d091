"""The fallback recommender: popularity by tag, for when the primary path fails or is slow.

Deliberately simpler than the primary path and sharing none of its candidate code, so a
bug there does not take this down too. It answers with the same ``Answer`` shape:

- subject: the intent's own entities; for a follow-up, the latest turn that recorded
  entities or showed a page (for "more from <artist>", the named artist; unnamed, the
  first artist of the last page).
- tracks: an artist subject (by_artist, more_from_artist) gets the artist's most popular
  tracks; otherwise the most popular tracks carrying every asked genre, else any of the
  artists' genres, else any asked mood or activity, else the most popular tracks overall.
- never a track the session was shown; deterministic, like the primary path.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice

from beatdebate_server.session import Turn

from .index import CatalogIndex, mask_of
from .model import Answer, Intent, Pick, clean_entities

NO_SUBJECT = "Nothing to follow up on yet: ask for some music first."
EXHAUSTED = "No more tracks for this request."


def recommend(index: CatalogIndex, intent: Intent, turns: Sequence[Turn], *, limit: int) -> Answer:
    """At most ``limit`` popular, unseen tracks for the intent's (or its anchor's) subject."""
    anchor: Turn | None = None
    entities = intent.entities()
    by_artist = intent.kind == "by_artist"
    if intent.kind == "follow_up":
        anchor = next((t for t in reversed(turns) if t.entities or t.track_ids), None)
        if intent.follow_up == "more_from_artist":
            by_artist = True
            if not intent.artists:
                first = next(index.ranks_of(anchor.track_ids), None) if anchor else None
                entities = ({} if first is None else
                            {"artists": (index.artist_names[index.artist_of[first]],)})
        elif anchor is not None:
            entities = clean_entities(anchor.entities)
            by_artist = anchor.kind == "by_artist" or anchor.follow_up == "more_from_artist"
            if not entities and anchor.track_ids:
                first = next(index.ranks_of(anchor.track_ids), None)
                if first is not None:
                    entities = {"genres": index.tracks[first].genres[:1]}
        if not entities and anchor is None:
            return Answer(intent.kind, intent.follow_up, {}, None, (), NO_SUBJECT)
    seen: set[int] = set()
    for turn in turns:
        seen.update(index.ranks_of(turn.track_ids))
    stream, why = _stream(index, entities, by_artist=by_artist)
    tracks = index.tracks
    picks = tuple(Pick(tracks[r], tracks[r].popularity / 100, f"A simpler pick: {why}")
                  for r in islice((r for r in stream if r not in seen), limit))
    return Answer(intent.kind, intent.follow_up, entities,
                  None if anchor is None else anchor.turn, picks,
                  EXHAUSTED if len(picks) < limit else None)


def _stream(index: CatalogIndex, entities: dict[str, tuple[str, ...]], *,
            by_artist: bool) -> tuple[Iterable[int], str]:
    artists = [index.artist_id[a] for a in entities.get("artists", ()) if a in index.artist_id]
    if by_artist and artists:
        names = ", ".join(index.artist_names[a] for a in artists)
        return _union([index.by_artist[a] for a in artists]), f"popular tracks by {names}"
    genres = list(entities.get("genres", ()))
    if genres:
        need = mask_of(genres)
        shortest = min((index.by_tag.get(g, []) for g in genres), key=len)
        return ((r for r in shortest if index.masks[r] & need == need),
                f"popular in {', '.join(genres)}")
    artist_genres = list(dict.fromkeys(g for a in artists
                                       for r in index.by_artist[a][:1] for g in index.tracks[r].genres))
    tags = artist_genres or [*entities.get("moods", ()), *entities.get("activities", ())]
    if tags:
        return _union([index.by_tag.get(t, []) for t in tags]), f"popular in {', '.join(tags)}"
    return range(len(index)), "popular overall"


def _union(lists: Sequence[Sequence[int]]) -> Iterator[int]:
    last = -1
    for rank in heapq.merge(*lists):
        if rank != last:
            yield rank
            last = rank
