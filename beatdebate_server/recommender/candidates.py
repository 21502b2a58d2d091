"""Candidate lists: for each subject, a lazy, deterministic stream of unseen tracks.

Terms:
- *candidate list*: every track a subject could ever recommend, in order. It depends on the
  subject (kind or follow-up, entities, modifiers) alone; a request walks it, skips the
  *seen* ranks (tracks the session was already shown) and stops after ``limit`` picks.
- *required* tags: every one must be on a track (all genres asked for); *optional* tags
  each add a *match*.
- *tier*: the tracks with the same number of matches. A tiered list is tiers from most
  matches down, each in popularity order; ``_tiered`` streams it without sorting.

Orders, per subject:
- by_artist / more_from_artist: the artist's tracks, popularity then track_id (several
  artists alternate); asked tags, if any, rank matching tracks first.
- artist_similarity: the similar artists' tracks, alternating in similarity order: each
  similar artist's best track, then each one's second… (a page of one artist is not
  "music like X"). Never the asked artist itself.
- genre_mood / contextual: tracks carrying all asked genres (if none, the first activity,
  else the first mood), tiered by the other asked tags. Nothing asked: popularity order.
- discovery: "underground" is least popular first; "surprise" is a fixed shuffle.
- more_like_these: tracks with the subject's genre and one of its moods/activities (its
  artists' first), then with the genre only (its artists' first), then its artists' rest.

Scores lie in [0, 1] and never rise along a list (tier first, then popularity), so a
client that sorts a page by score keeps its order. Cost: a request takes about ``limit``
steps when its tiers are dense; a sparse tier can walk one whole tag or pair list (see
``index``), but no request sorts, and only a query naming nothing walks all ranks.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator, Sequence
from math import gcd

from .index import CatalogIndex, mask_of
from .model import Subject

Candidate = tuple[int, float, str]  # rank, score in [0, 1] never rising along a list, explanation
_Walk = Callable[[], Iterable[int]]

GOLDEN = 0.6180339887498949


def candidates(index: CatalogIndex, subject: Subject, seen: set[int]) -> Iterator[Candidate]:
    """The subject's candidate list without the ``seen`` ranks, lazily."""
    artists = [index.artist_id[a] for a in subject.get("artists") if a in index.artist_id]
    if subject.follow_up == "more_like_these":
        return _more_like_these(index, subject, artists, seen)
    if subject.kind == "by_artist" or subject.follow_up == "more_from_artist":
        return _by_artist(index, subject, artists, seen)
    if subject.kind == "artist_similarity":
        return _similar_artists(index, artists, seen)
    if subject.kind == "discovery":
        return _discovery(index, subject, seen)
    return _by_tags(index, subject, seen)


def asks_nothing(subject: Subject) -> bool:
    """True for a first query that named nothing the catalog knows: answered by popularity."""
    return subject.follow_up is None and subject.kind != "discovery" and not subject.entities


def _asked_tags(subject: Subject) -> list[str]:
    return [*subject.get("genres"), *subject.get("moods"), *subject.get("activities")]


def _split_required(subject: Subject) -> tuple[list[str], list[str]]:
    """Required tags (all genres; else the first activity; else the first mood) and the rest."""
    genres, moods, activities = (list(subject.get(k)) for k in ("genres", "moods", "activities"))
    if genres:
        return genres, moods + activities
    if activities:
        return activities[:1], moods + activities[1:]
    return moods[:1], moods[1:]


def _score(tier: int, tiers: int, popularity: int) -> float:
    """A score in [0, 1) that never rises along a candidate list ordered by tier, then popularity.

    ``tier`` counts up from 0 (worst) to ``tiers - 1`` (best); popularity orders within it.
    """
    return (tier + 0.99 * popularity / 100) / max(1, tiers)


def _matched(index: CatalogIndex, rank: int, asked: Sequence[str]) -> list[str]:
    mask = index.masks[rank]
    return [tag for tag in asked if mask & mask_of((tag,))]


def _by_artist(index: CatalogIndex, subject: Subject, artists: list[int],
               seen: set[int]) -> Iterator[Candidate]:
    names = index.artist_names
    asked = _asked_tags(subject)
    lists = [index.by_artist[a] for a in artists]
    walk: _Walk = (lambda: lists[0]) if len(lists) == 1 else (lambda: _round_robin(lists))
    template = "More from {}" if subject.follow_up == "more_from_artist" else "By {}, as you asked"
    # Every track walked is by one of ``artists``: one explanation each, built once.
    explanations = {aid: template.format(names[aid]) for aid in artists}
    artist_of, tracks, tiers = index.artist_of, index.tracks, len(asked) + 1
    if not asked and len(artists) == 1:
        # The common case ("Songs by X", and its "More tracks"): what ``_tiered`` yields
        # for one list and no tags, without a generator in between on every track.
        explanation = explanations[artists[0]]
        for rank in lists[0]:
            if rank not in seen:
                yield rank, _score(0, 1, tracks[rank].popularity), explanation
        return
    for rank, matches in _tiered(index, base=walk, top=walk, required=0,
                                 optional=mask_of(asked), seen=seen):
        yield rank, _score(matches, tiers, tracks[rank].popularity), explanations[artist_of[rank]]


def _similar_artists(index: CatalogIndex, artists: list[int],
                     seen: set[int]) -> Iterator[Candidate]:
    seeds = set(artists)
    source: dict[int, int] = {}  # similar artist -> the asked artist it is similar to
    for seed in artists:
        for other in index.similar[seed]:
            if other not in seeds and other not in source:
                source[other] = seed
    position = {aid: i for i, aid in enumerate(source)}
    lists = [index.by_artist[a] for a in source]
    names = index.artist_names
    for depth, rank in _round_robin_depths(lists):
        if rank in seen:
            continue
        aid = index.artist_of[rank]
        # Falls along the list: each round, then each similar artist within a round.
        score = 1 / (1 + depth + position[aid] / len(position))
        yield rank, score, f"Similar to {names[source[aid]]}"


def _by_tags(index: CatalogIndex, subject: Subject, seen: set[int]) -> Iterator[Candidate]:
    asked = _asked_tags(subject)
    if not asked:
        for rank in range(len(index)):
            if rank not in seen:
                yield rank, index.tracks[rank].popularity / 100, "Popular in the catalog"
        return
    required, optional = _split_required(subject)
    base_list = index.narrowest(required)
    top_list = index.narrowest(required + optional)
    for rank, matches in _tiered(index, base=lambda: base_list, top=lambda: top_list,
                                 required=mask_of(required), optional=mask_of(optional),
                                 seen=seen):
        score = _score(matches, len(optional) + 1, index.tracks[rank].popularity)
        yield rank, score, "Matches " + ", ".join(_matched(index, rank, asked))


def _discovery(index: CatalogIndex, subject: Subject, seen: set[int]) -> Iterator[Candidate]:
    required, _ = _split_required(subject)
    need = mask_of(required)
    base = index.narrowest(required)
    where = f" in {', '.join(required)}" if required else ""
    if "underground" in subject.modifiers:
        walk: Iterable[int] = reversed(base)
        explanation = f"An underground pick{where}"
    else:
        walk = _shuffled(base)
        explanation = f"A surprise pick{where}"
    masks = index.masks
    for rank in walk:
        if masks[rank] & need == need and rank not in seen:
            popularity = index.tracks[rank].popularity
            yield rank, 1 - popularity / 100 if "underground" in subject.modifiers else 0.5, explanation


def _more_like_these(index: CatalogIndex, subject: Subject, artists: list[int],
                     seen: set[int]) -> Iterator[Candidate]:
    """Five tiers, each in popularity order, each skipping what an earlier one holds.

    1. by the subject's artists, with its genre and one of its moods/activities;
    2. anyone else's with the genre and one of the moods/activities;
    3. by the artists, with the genre only; 4. anyone else's with the genre only;
    5. by the artists, without the genre.
    """
    genres = list(subject.get("genres"))
    tags = [*subject.get("moods"), *subject.get("activities")]
    need, want = mask_of(genres), mask_of(tags)
    ours = frozenset(artists)
    masks, artist_of = index.masks, index.artist_of
    artist_lists = [index.by_artist[a] for a in artists]
    shown_tags = genres + tags

    def by_artists() -> Iterable[int]:
        return _merged(artist_lists)

    def sharing() -> Iterable[int]:  # every track with the genre and a wanted tag: dense
        return _merged([index.narrowest([*genres, tag]) for tag in tags])

    tiers: list[tuple[Callable[[], Iterable[int]], Callable[[int, int], bool]]] = []
    if want:
        tiers.append((by_artists, lambda r, m: m & need == need and bool(m & want)))
        tiers.append((sharing, lambda r, m: (m & need == need and bool(m & want)
                                             and artist_of[r] not in ours)))
    tiers.append((by_artists, lambda r, m: m & need == need and not m & want))
    tiers.append((lambda: index.narrowest(genres),
                  lambda r, m: m & need == need and not m & want and artist_of[r] not in ours))
    if need:
        tiers.append((by_artists, lambda r, m: m & need != need))
    for number, (walk, accept) in enumerate(tiers):
        for rank in walk():
            mask = masks[rank]
            if rank in seen or not accept(rank, mask):
                continue
            shared = _matched(index, rank, shown_tags)
            score = _score(len(tiers) - 1 - number, len(tiers), index.tracks[rank].popularity)
            yield rank, score, (
                f"Shares {', '.join(shared)} with your last picks" if shared else
                f"By {index.artist_names[artist_of[rank]]}, close to your last picks")


def _tiered(index: CatalogIndex, *, base: _Walk, top: _Walk, required: int, optional: int,
            seen: set[int]) -> Iterator[tuple[int, int]]:
    """Unseen tracks of ``base`` carrying ``required``, most matches first, as (rank, matches).

    A match is an ``optional`` tag on the track. ``top`` must hold every full-match track,
    in the same relative order as ``base`` (both in rank order, or the same walk): the
    best tier is read from it, usually far shorter. The next tier streams from one pass
    over ``base``; lower tiers wait in buckets until that pass ends, so a request stops
    as soon as it has its picks.
    """
    masks = index.masks
    best = optional.bit_count()
    if best == 0:
        for rank in base():
            if masks[rank] & required == required and rank not in seen:
                yield rank, 0
        return
    full = required | optional
    for rank in top():
        if masks[rank] & full == full and rank not in seen:
            yield rank, best
    buckets: list[list[int]] = [[] for _ in range(best - 1)]
    for rank in base():
        mask = masks[rank]
        if mask & required != required or rank in seen:
            continue
        matches = (mask & optional).bit_count()
        if matches == best:
            continue
        if matches == best - 1:
            yield rank, matches
        else:
            buckets[matches].append(rank)
    for matches in range(best - 2, -1, -1):
        for rank in buckets[matches]:
            yield rank, matches


def _round_robin(lists: Sequence[Sequence[int]]) -> Iterator[int]:
    """Each list's first item in turn, then each one's second…"""
    for _, item in _round_robin_depths(lists):
        yield item


def _round_robin_depths(lists: Sequence[Sequence[int]]) -> Iterator[tuple[int, int]]:
    """``_round_robin`` with each item's depth (its position in its own list)."""
    depth = 0
    while True:
        found = False
        for items in lists:
            if depth < len(items):
                found = True
                yield depth, items[depth]
        if not found:
            return
        depth += 1


def _merged(lists: Sequence[Sequence[int]]) -> Iterator[int]:
    """The ranks of several ascending lists, ascending, without repeats."""
    last = -1
    for rank in heapq.merge(*lists):
        if rank != last:
            yield rank
            last = rank


def _shuffled(items: Sequence[int]) -> Iterator[int]:
    """``items`` in a fixed scrambled order: a stride near the golden ratio, coprime to the length."""
    size = len(items)
    if size == 0:
        return
    stride = max(1, int(size * GOLDEN))
    while gcd(stride, size) != 1:
        stride += 1
    position = 0
    for _ in range(size):
        yield items[position]
        position = (position + stride) % size
