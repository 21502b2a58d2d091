"""Synthetic catalogs: big, deterministic, realistically shaped, made-up.

A synthetic catalog is a JSONL file in the user-catalog format (``docs/catalog.md``) for
load tests: about one artist per 40 tracks, artists clustered by a primary genre with
similar artists drawn from the same cluster, per-artist mood and activity profiles, and a
skewed popularity (a few famous artists, a long tail). The same ``tracks`` and ``seed``
always give a byte-identical file.
"""

from __future__ import annotations

import gzip
import random
from pathlib import Path
from collections.abc import Iterator

import orjson

from .load import derive_track_id
from .model import ACTIVITIES, GENRES, MOODS

TRACKS_PER_ARTIST = 40

# name, genres, moods, activities, similar artists, base popularity
_Profile = tuple[str, list[str], list[str], list[str], list[str], int]

_ONSETS = ("b", "br", "c", "ch", "d", "dr", "f", "g", "gl", "h", "j", "k", "l", "m", "n",
           "p", "pr", "r", "s", "sh", "st", "t", "tr", "v", "w", "z")
_VOWELS = ("a", "e", "i", "o", "u", "ai", "ea", "io", "ou", "y")
_CODAS = ("", "", "n", "r", "s", "l", "x", "th", "nd", "ck", "m")
_BAND_NOUNS = ("Lights", "Wolves", "Echoes", "Parade", "Machines", "Orchestra", "Club",
               "Collective", "Trio", "Quartet", "Kids", "Ghosts", "Rivers", "Saints")
_ADJECTIVES = ("Silver", "Broken", "Golden", "Quiet", "Electric", "Midnight", "Paper",
               "Velvet", "Hollow", "Neon", "Summer", "Winter", "Crystal", "Wild", "Lonely",
               "Burning", "Distant", "Secret", "Little", "Endless", "Falling", "Blue")
_NOUNS = ("Heart", "River", "Sky", "Dream", "Road", "Fire", "Light", "Garden", "Ocean",
          "Mirror", "Shadow", "Morning", "City", "Static", "Moon", "Train", "Letter",
          "Window", "Storm", "Echo", "Dance", "Song", "Machine", "Island", "Highway")


def _word(rng: random.Random) -> str:
    syllables = rng.choice((1, 2, 2, 3))
    text = "".join(rng.choice(_ONSETS) + rng.choice(_VOWELS) for _ in range(syllables))
    return (text + rng.choice(_CODAS)).capitalize()


def _artist_name(rng: random.Random) -> str:
    shape = rng.random()
    if shape < 0.4:
        return f"{_word(rng)} {_word(rng)}"
    if shape < 0.7:
        return f"The {rng.choice(_ADJECTIVES)} {_word(rng)} {rng.choice(_BAND_NOUNS)}"
    if shape < 0.85:
        return _word(rng)
    return f"{_word(rng)} & the {rng.choice(_BAND_NOUNS)}"


def _title(rng: random.Random) -> str:
    shape = rng.random()
    if shape < 0.5:
        return f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)}"
    if shape < 0.75:
        return f"{rng.choice(_NOUNS)} of the {rng.choice(_NOUNS)}"
    if shape < 0.9:
        return rng.choice(_NOUNS)
    return f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)} ({_word(rng)})"


def _write(path: Path, chunks: Iterator[bytes]) -> None:
    with path.open("wb") as raw:
        if not path.name.endswith(".gz"):
            raw.writelines(chunks)
            return
        # mtime=0 and no file name in the header keep the bytes identical across runs.
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as packed:
            packed.writelines(chunks)


def write_synthetic_catalog(path: Path, *, tracks: int, seed: int = 0) -> int:
    """Write ``tracks`` made-up tracks as JSONL (gzip if ``path`` ends ``.gz``).

    Returns the number of tracks written. Deterministic: same arguments, same bytes.
    """
    if tracks < 1:
        raise ValueError(f"tracks must be at least 1, got {tracks}")
    rng = random.Random(seed)
    n_artists = max(1, round(tracks / TRACKS_PER_ARTIST))
    names: list[str] = []
    taken: set[str] = set()
    while len(names) < n_artists:
        name = _artist_name(rng)
        while name in taken:
            name = f"{name} {len(names)}"
        taken.add(name)
        names.append(name)
    primary = [rng.choice(GENRES) for _ in names]
    by_genre: dict[str, list[int]] = {}
    for index, genre in enumerate(primary):
        by_genre.setdefault(genre, []).append(index)
    # Cumulative weights for picking an artist: a few artists hold many tracks.
    weights = [rng.paretovariate(1.5) for _ in names]
    profiles: list[_Profile] = []
    for index, name in enumerate(names):
        extra = rng.sample(GENRES, rng.choice((0, 1, 1, 2)))
        genres = [primary[index], *(g for g in extra if g != primary[index])]
        cluster = by_genre[primary[index]]
        pool = [other for other in rng.sample(cluster, min(len(cluster), 9)) if other != index]
        similar = [names[other] for other in pool[: rng.randint(3, 8)]]
        base = min(95, int(100 * rng.random() ** 2.5) + 5)
        profiles.append((name, genres, rng.sample(MOODS, 3), rng.sample(ACTIVITIES, 3),
                         similar, base))
    picks = rng.choices(range(n_artists), cum_weights=_cumulative(weights), k=tracks)
    # Every artist gets at least one track, so the artist count matches the plan.
    picks[:n_artists] = range(n_artists)
    counter = [0]
    _write(Path(path), _rows(rng, profiles, picks, counter))
    return counter[0]


def _rows(rng: random.Random, profiles: list[_Profile], picks: list[int],
          counter: list[int]) -> Iterator[bytes]:
    """Yield the JSONL bytes in chunks of 10,000 rows; ``counter[0]`` counts rows."""
    titles: dict[int, set[str]] = {}
    ids: set[str] = set()
    buffer: list[bytes] = []
    for artist_index in picks:
        name, genres, moods, activities, similar, base = profiles[artist_index]
        used = titles.setdefault(artist_index, set())
        title = _title(rng)
        track_id = derive_track_id(name, title)
        # A repeated title, or (rarely, 48-bit ids) another artist's id: number the title.
        while title in used or track_id in ids:
            title = f"{title} ({len(used) + 1})"
            track_id = derive_track_id(name, title)
        used.add(title)
        ids.add(track_id)
        row = {
            "track_id": track_id,
            "title": title,
            "artist": name,
            "album": f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)}s",
            "genres": genres[: rng.randint(1, len(genres))],
            "moods": moods[: rng.randint(1, 3)],
            "activities": activities[: rng.randint(0, 3)],
            "popularity": max(0, min(100, base + rng.randint(-15, 15))),
        }
        if len(used) == 1:  # similar artists are artist-level: say it once
            row["similar_artists"] = similar
        buffer.append(orjson.dumps(row))
        counter[0] += 1
        if len(buffer) >= 10_000:
            yield b"\n".join(buffer) + b"\n"
            buffer.clear()
    if buffer:
        yield b"\n".join(buffer) + b"\n"


def _cumulative(weights: list[float]) -> list[float]:
    total = 0.0
    cumulative = []
    for weight in weights:
        total += weight
        cumulative.append(total)
    return cumulative
