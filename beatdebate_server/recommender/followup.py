"""Resolving a query against the session's own turns: which subject, anchored where.

Terms:
- *turns*: the session's recorded turns, oldest first; the only history consulted.
- *page*: a turn's ``track_ids``; the *last page* is the latest turn that showed tracks.
- *subject-setting turn*: a first query, or a "more like these" / "more from artist" turn
  that resolved to a subject (non-empty entities). "More tracks" turns only continue one.
- *anchor*: the turn a follow-up was resolved against; its number is the answer's
  ``anchor_turn``.

Rules:
- more_tracks: the anchor is the latest subject-setting turn; its subject is rebuilt from
  what it recorded (kind, follow_up, entities; a discovery turn's flavour from its query).
- more_like_these: the anchor is the last page; the subject is derived from that page:
  its artists then their similar artists, its most common genre, its common moods and
  activities ("calmer" and other modifiers replace those with the moods they ask for).
- more_from_artist: a named artist is the subject (anchored on the latest turn about that
  artist, else the last page, else nothing); unnamed, the last page's most frequent
  artist (ties: the first shown).
- No anchor where one is needed: no subject, and the caller answers with a notice.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from beatdebate_server.session import Turn

from .index import CatalogIndex
from .intent import discovery_flavour
from .model import KINDS, FollowUp, Intent, Kind, Modifier, Subject, clean_entities

_T = TypeVar("_T", bound=Hashable)

NO_SUBJECT = "Nothing to follow up on yet: ask for some music first."
MAX_LIKE_ARTISTS = 12

# What a modifier asks for, as (moods, activities); "prefer calm/chill/sleep" for calmer.
MODIFIER_TAGS: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "calmer": (("calm", "chill"), ("sleep",)),
    "energetic": (("energetic", "upbeat"), ("workout",)),
    "happier": (("happy", "uplifting"), ()),
    "sadder": (("sad", "melancholic"), ()),
    "darker": (("dark",), ()),
    "dreamier": (("dreamy",), ()),
}


@dataclass(frozen=True, slots=True)
class Resolution:
    """The subject a query resolved to (None: nothing to follow up on) and its anchor turn."""

    subject: Subject | None
    anchor: Turn | None


def seen_ranks(index: CatalogIndex, turns: Sequence[Turn]) -> set[int]:
    """Ranks of every track the session was shown (ids the catalog lacks are ignored)."""
    # ``ranks_of`` inlined into one comprehension: this runs on every request, and a
    # generator per turn cost more than the lookups themselves.
    rank_of = index.rank_of
    return {rank_of[track_id] for turn in turns for track_id in turn.track_ids
            if track_id in rank_of}


def resolve(index: CatalogIndex, intent: Intent, turns: Sequence[Turn]) -> Resolution:
    """The subject of ``intent`` in a session whose turns are ``turns`` (oldest first)."""
    if intent.kind != "follow_up" or intent.follow_up is None:
        return Resolution(Subject(intent.kind, None, intent.entities(), intent.modifiers), None)
    if intent.follow_up == "more_tracks":
        anchor = _latest(turns, _sets_subject)
        return Resolution(None if anchor is None else subject_of(anchor), anchor)
    if intent.follow_up == "more_like_these":
        anchor = _latest(turns, _has_page)
        if anchor is None:
            return Resolution(None, None)
        return Resolution(_like_page(index, anchor, intent.modifiers), anchor)
    if intent.artists:
        named = intent.artists[0]
        anchor = (_latest(turns, lambda t: named in t.entities.get("artists", ()))
                  or _latest(turns, _has_page))
        return Resolution(_from_artist(named), anchor)
    anchor = _latest(turns, _has_page)
    artist = None if anchor is None else page_artist(index, anchor.track_ids)
    if anchor is None or artist is None:
        return Resolution(None, None)
    return Resolution(_from_artist(artist), anchor)


def subject_of(turn: Turn) -> Subject:
    """The subject a recorded turn set, rebuilt from what it recorded."""
    kind: Kind = turn.kind if turn.kind in KINDS else "genre_mood"
    follow_up: FollowUp | None = turn.follow_up  # type: ignore[assignment]
    modifiers: tuple[Modifier, ...] = ()
    if kind == "discovery":
        modifiers = (discovery_flavour(turn.query),)
    return Subject(kind, follow_up, clean_entities(turn.entities), modifiers)


def page_artist(index: CatalogIndex, track_ids: Sequence[str]) -> str | None:
    """The most frequent artist of a page; on a tie, the one shown first."""
    counts: dict[int, int] = {}
    for rank in index.ranks_of(track_ids):
        aid = index.artist_of[rank]
        counts[aid] = counts.get(aid, 0) + 1
    if not counts:
        return None
    best = max(counts.values())
    return index.artist_names[next(a for a, c in counts.items() if c == best)]


def _sets_subject(turn: Turn) -> bool:
    if turn.kind != "follow_up":
        return True
    return turn.follow_up in ("more_like_these", "more_from_artist") and bool(turn.entities)


def _has_page(turn: Turn) -> bool:
    return bool(turn.track_ids)


def _latest(turns: Sequence[Turn], accept: Callable[[Turn], bool]) -> Turn | None:
    for turn in reversed(turns):
        if accept(turn):
            return turn
    return None


def _from_artist(artist: str) -> Subject:
    return Subject("follow_up", "more_from_artist", {"artists": (artist,)})


def _like_page(index: CatalogIndex, anchor: Turn, modifiers: tuple[Modifier, ...]) -> Subject | None:
    """The subject "more like these" derives from the anchor's page (see the module docstring)."""
    ranks = list(index.ranks_of(anchor.track_ids))
    if not ranks:
        return None
    tracks = [index.tracks[r] for r in ranks]
    artist_counts = _ordered_counts(index.artist_of[r] for r in ranks)
    artists = [aid for aid, _ in artist_counts]
    for aid in list(artists):
        artists.extend(other for other in index.similar[aid] if other not in artists)
    genres = _ordered_counts(g for t in tracks for g in t.genres)
    moods: tuple[str, ...]
    activities: tuple[str, ...]
    asked = [MODIFIER_TAGS[m] for m in modifiers if m in MODIFIER_TAGS]
    if asked:
        moods = tuple(dict.fromkeys(m for pair in asked for m in pair[0]))
        activities = tuple(dict.fromkeys(a for pair in asked for a in pair[1]))
    else:
        third = len(tracks) / 3
        moods = tuple(m for m, n in _ordered_counts(m for t in tracks for m in t.moods)
                      if n >= third)[:2]
        activities = tuple(a for a, n in _ordered_counts(a for t in tracks for a in t.activities)
                           if n >= len(tracks) / 2)[:1]
    entities = clean_entities({
        "artists": tuple(index.artist_names[a] for a in artists[:MAX_LIKE_ARTISTS]),
        "genres": (genres[0][0],),
        "moods": moods,
        "activities": activities,
    })
    return Subject("follow_up", "more_like_these", entities, modifiers)


def _ordered_counts(items: Iterable[_T]) -> list[tuple[_T, int]]:
    """(item, count) by count descending, ties by first appearance."""
    counts: dict[_T, int] = {}
    for item in items:
        counts[item] = counts.get(item, 0) + 1
    order = {item: i for i, item in enumerate(counts)}
    return sorted(counts.items(), key=lambda pair: (-pair[1], order[pair[0]]))
