"""Build ``catalog.jsonl`` (the shipped catalog) from the human-edited ``*.txt`` sources.

Run from the repository root: ``.venv/bin/python beatdebate_server/catalog/data/source/build_catalog.py``.
A test rebuilds it and compares bytes, so an edited source without a rebuild fails CI.

Source format, one artist block after another (``#`` starts a comment line)::

    @ Radiohead
    genres: alternative, rock, experimental        # first one is the primary genre
    similar: Thom Yorke; Portishead; Björk          # ';'-separated artist names
    moods: melancholic, dark, dreamy                 # profile, strongest first
    activities: focus, studying                      # profile, strongest first (may be empty)
    popularity: 80                                   # the artist's base popularity
    [OK Computer]                                    # album of the titles below ([] = none)
    Paranoid Android **                              # ' *' a hit (+12), ' **' a classic (+22)
    Exit Music (For a Film) | moods: sad, dark | activities: sleep

Per track, deterministically from its id: moods are the profile's first mood plus 0–2
more, activities the profile's first plus 0–2 more, genres sometimes narrowed to the
primary ones (never on an artist's first track, so the artist keeps all its genres),
and popularity is the base plus the hit bonus plus a small jitter. A ``| field: words``
suffix overrides moods, activities or genres for that one track. Similar artists are
made symmetric where the other artist has room (at most 8).
"""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass, field
from pathlib import Path

import orjson

HERE = Path(__file__).resolve().parent
TARGET = HERE.parent / "catalog.jsonl"
sys.path.insert(0, str(HERE.parents[3]))

from beatdebate_server.catalog.load import derive_track_id  # noqa: E402
from beatdebate_server.catalog.model import ACTIVITIES, GENRES, MOODS  # noqa: E402

HIT_BONUS = {"": 0, "*": 12, "**": 22}
MAX_SIMILAR = 8


@dataclass
class _Artist:
    name: str
    where: str
    genres: list[str] = field(default_factory=list)
    similar: list[str] = field(default_factory=list)
    moods: list[str] = field(default_factory=list)
    activities: list[str] = field(default_factory=list)
    popularity: int = 50
    tracks: list[tuple[str, str | None, str, dict[str, list[str]], str]] = field(
        default_factory=list)  # title, album, hit marker, overrides, where


def _words(text: str, vocabulary: tuple[str, ...], where: str) -> list[str]:
    words = [w.strip() for w in text.split(",") if w.strip()]
    for word in words:
        if word not in vocabulary:
            raise SystemExit(f"{where}: unknown word {word!r}")
    return words


def parse(paths: list[Path]) -> list[_Artist]:
    """Read the source files, in name order, into artist blocks."""
    artists: list[_Artist] = []
    vocab = {"genres": GENRES, "moods": MOODS, "activities": ACTIVITIES}
    for path in paths:
        current: _Artist | None = None
        album: str | None = None
        for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            where = f"{path.name}:{number}"
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("@"):
                current = _Artist(name=line[1:].strip(), where=where)
                artists.append(current)
                album = None
                continue
            if current is None:
                raise SystemExit(f"{where}: text before the first '@ Artist'")
            key, _, value = line.partition(":")
            if not current.tracks and album is None and key in (*vocab, "similar", "popularity"):
                if key == "similar":
                    current.similar = [s.strip() for s in value.split(";") if s.strip()]
                elif key == "popularity":
                    current.popularity = int(value)
                else:
                    setattr(current, key, _words(value, vocab[key], where))
                continue
            if line.startswith("[") and line.endswith("]"):
                album = line[1:-1].strip() or None
                continue
            title, *parts = (p.strip() for p in line.split(" | "))
            overrides = {}
            for part in parts:
                name, _, words = part.partition(":")
                overrides[name.strip()] = _words(words, vocab[name.strip()], where)
            marker = ""
            for candidate in ("**", "*"):
                if title.endswith(" " + candidate):
                    title, marker = title[: -len(candidate)].rstrip(), candidate
                    break
            current.tracks.append((title, album, marker, overrides, where))
    return artists


def _rotate(items: list[str], start: int) -> list[str]:
    if not items:
        return []
    start %= len(items)
    return items[start:] + items[:start]


def _symmetrise(artists: list[_Artist]) -> None:
    by_name = {a.name: a for a in artists}
    for artist in artists:
        for other in artist.similar:
            if other not in by_name:
                raise SystemExit(f"{artist.where}: similar artist {other!r} is not in the catalog")
            if other == artist.name:
                raise SystemExit(f"{artist.where}: an artist is not similar to itself")
    for artist in artists:
        for other in list(artist.similar):
            back = by_name[other]
            if artist.name not in back.similar and len(back.similar) < MAX_SIMILAR:
                back.similar.append(artist.name)
    for artist in artists:
        if not 3 <= len(artist.similar) <= MAX_SIMILAR:
            raise SystemExit(f"{artist.where}: {artist.name} has {len(artist.similar)} "
                             f"similar artists, expected 3–{MAX_SIMILAR}")


def build(paths: list[Path] | None = None) -> bytes:
    """The bytes of ``catalog.jsonl`` built from ``paths`` (default: every ``*.txt`` here)."""
    artists = parse(paths if paths is not None else sorted(HERE.glob("*.txt")))
    names = [a.name for a in artists]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise SystemExit(f"artists listed twice: {sorted(duplicates)}")
    _symmetrise(artists)
    lines: list[bytes] = []
    ids: set[str] = set()
    for artist in artists:
        if not artist.genres or not artist.moods or not artist.tracks:
            raise SystemExit(f"{artist.where}: {artist.name} needs genres, moods and tracks")
        for index, (title, album, marker, overrides, where) in enumerate(artist.tracks):
            track_id = derive_track_id(artist.name, title)
            if track_id in ids:
                raise SystemExit(f"{where}: duplicate track {artist.name} — {title}")
            ids.add(track_id)
            h = int.from_bytes(hashlib.blake2b(track_id.encode(), digest_size=8).digest())
            genres = artist.genres
            if index > 0 and len(genres) > 1 and h % 4 == 0:
                genres = genres[: len(genres) - 1]
            moods = artist.moods[:1] + _rotate(artist.moods[1:], h >> 8)[: (h >> 4) % 3]
            activities = (artist.activities[:1]
                          + _rotate(artist.activities[1:], h >> 16)[: (h >> 12) % 3])
            jitter = (h >> 24) % 11 - 5
            row: dict[str, object] = {
                "track_id": track_id,
                "title": title,
                "artist": artist.name,
                "album": album,
                "genres": overrides.get("genres", genres),
                "moods": overrides.get("moods", moods),
                "activities": overrides.get("activities", activities),
                "popularity": max(0, min(100, artist.popularity + HIT_BONUS[marker] + jitter)),
            }
            if album is None:
                del row["album"]
            if index == 0:
                row["similar_artists"] = artist.similar
            lines.append(orjson.dumps(row))
    return b"\n".join(lines) + b"\n"


def main() -> None:
    data = build()
    TARGET.write_bytes(data)
    tracks = data.count(b"\n")
    print(f"wrote {TARGET} ({tracks} tracks)")


if __name__ == "__main__":
    main()
