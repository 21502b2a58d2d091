"""The UI tests' catalog: 40 tracks for each default persona's artist (so that every
persona passes the harness's preflight), tagged with its genre, every other one with a
preview URL. Independent of the shipped catalog."""

from __future__ import annotations

from pathlib import Path

import orjson

from loadtest.personas import DEFAULT_POOL

TRACKS_PER_ARTIST = 40


def write_ui_catalog(path: Path) -> Path:
    pool = DEFAULT_POOL
    with path.open("wb") as out:
        for i, persona in enumerate(pool):
            artist, genre = persona.fields["artist"], persona.fields["genre"]
            similar = [pool[(i + 1) % len(pool)].fields["artist"], pool[i - 1].fields["artist"]]
            for n in range(TRACKS_PER_ARTIST):
                row: dict[str, object] = {
                    "title": f"{artist} song {n}", "artist": artist, "genres": [genre],
                    "moods": ["calm"], "similar_artists": similar, "popularity": 40 + n % 50}
                if n % 2 == 0:
                    row["preview_url"] = f"https://previews.example/{i}/{n}.mp3"
                out.write(orjson.dumps(row) + b"\n")
    return path
