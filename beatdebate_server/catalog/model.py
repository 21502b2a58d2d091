"""The music catalog as the recommender sees it.

Terms:
- *track*: one recording, with a stable ``track_id`` (the same across runs and machines).
- *tags*: lowercase words drawn from three closed vocabularies below (genres, moods,
  activities). A track's ``tags`` is the union of its genres, moods and activities, in
  that order; the HTTP answer carries exactly that list, so that any checker can judge
  "tagged with the genre asked for" from the answer alone.
- *artist*: a name with its genres and the names of similar artists.

Records are frozen, slotted dataclasses: the shipped catalog is small, but a synthetic
one has a million tracks and every byte per track counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Closed vocabularies. A catalog row may only use these words (the loader rejects others),
# so that the query parser, the recommender and the checker all speak the same language.
GENRES: tuple[str, ...] = (
    "rock", "indie", "alternative", "pop", "electronic", "house", "techno", "ambient",
    "jazz", "hip hop", "r&b", "soul", "funk", "folk", "country", "blues", "metal",
    "punk", "classical", "reggae", "latin", "experimental",
)
MOODS: tuple[str, ...] = (
    "happy", "sad", "upbeat", "calm", "energetic", "dark", "melancholic", "dreamy",
    "aggressive", "romantic", "chill", "uplifting",
)
ACTIVITIES: tuple[str, ...] = (
    "studying", "workout", "sleep", "party", "focus", "driving", "relaxing", "running",
)


@dataclass(frozen=True, slots=True)
class Track:
    track_id: str
    title: str
    artist: str
    genres: tuple[str, ...]
    moods: tuple[str, ...] = ()
    activities: tuple[str, ...] = ()
    popularity: int = 50  # 0..100, higher is more popular
    album: str | None = None
    preview_url: str | None = None

    @property
    def tags(self) -> tuple[str, ...]:
        return self.genres + self.moods + self.activities


@dataclass(frozen=True, slots=True)
class Artist:
    name: str
    genres: tuple[str, ...]
    similar: tuple[str, ...] = ()


@dataclass(frozen=True)
class Catalog:
    """Tracks and artists, as loaded. Indexes for recommending live in the recommender."""

    tracks: tuple[Track, ...]
    artists: dict[str, Artist] = field(default_factory=dict)  # keyed by exact artist name

    def __len__(self) -> int:
        return len(self.tracks)

    def describe(self) -> str:
        """One line of counts: ``8,098 tracks, 520 artists, 14 genres (ambient, …)``."""
        genres = sorted({genre for track in self.tracks for genre in track.genres})
        return (f"{len(self.tracks):,} tracks, {len(self.artists):,} artists, "
                f"{len(genres)} genres ({', '.join(genres)})")
