"""Load a catalog: the shipped one, or a user's JSONL or CSV file.

Terms:
- *row*: one track, one line of JSONL or one CSV record. The schema is documented in
  ``docs/catalog.md``; the vocabularies are those of :mod:`beatdebate_server.catalog.model`.
- *line*: the 1-based physical line a row starts on (CSV: the line it ends on, which is
  the same unless a quoted field spans lines). Every :class:`CatalogError` names the file,
  the line and, when one field is to blame, the field.

Speed matters: a synthetic catalog has a million rows. Validated tag tuples are cached by
their raw value, so each distinct combination is checked once and shared by every track
that uses it, and repeated strings (artist names, albums) are interned.
"""

from __future__ import annotations

import csv
import gc
import gzip
import hashlib
import io
import sys
from collections.abc import Iterable, Iterator
from importlib import resources
from pathlib import Path
from typing import IO, Any

import orjson

from .model import ACTIVITIES, GENRES, MOODS, Artist, Catalog, Track

SHIPPED_CATALOG = "catalog.jsonl"
CSV_LIST_SEPARATOR = "|"
_FORMATS = (".jsonl", ".csv", ".jsonl.gz", ".csv.gz")


class CatalogError(ValueError):
    """A catalog that cannot be loaded; ``str()`` reads ``file:line: field 'x': why``."""

    def __init__(self, message: str, *, source: str, line: int | None = None,
                 field: str | None = None) -> None:
        self.source = source
        self.line = line
        self.field = field
        self.reason = message
        where = source if line is None else f"{source}:{line}"
        what = f"field {field!r}: {message}" if field is not None else message
        super().__init__(f"{where}: {what}")


def derive_track_id(artist: str, title: str) -> str:
    """The stable id of a track that has none: the same on every run and machine."""
    digest = hashlib.blake2b(f"{artist}\x1f{title}".encode(), digest_size=6).hexdigest()
    return "t" + digest


def load_catalog(path: Path | None = None) -> Catalog:
    """Load ``path`` (``.jsonl``, ``.csv``, optionally ``.gz``), or the shipped catalog.

    Raises :class:`CatalogError` naming file, line and field for the first bad row, and
    for a catalog with no tracks.
    """
    if path is None:
        data = resources.files("beatdebate_server.catalog").joinpath("data", SHIPPED_CATALOG)
        with data.open("rb") as stream:
            return _Builder(SHIPPED_CATALOG).build(_jsonl_rows(stream, SHIPPED_CATALOG))
    path = Path(path)
    name = path.name
    lowered = name.lower()
    if not lowered.endswith(_FORMATS):
        raise CatalogError(f"unsupported format; expected one of {', '.join(_FORMATS)}",
                           source=name)
    try:
        raw: gzip.GzipFile | io.BufferedReader = gzip.open(path, "rb") if lowered.endswith(".gz") else path.open("rb")
    except OSError as exc:
        raise CatalogError(f"cannot open: {exc.strerror or exc}", source=name) from exc
    with raw:
        try:
            if lowered.endswith((".csv", ".csv.gz")):
                text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
                return _Builder(name).build(_csv_rows(text, name))
            return _Builder(name).build(_jsonl_rows(raw, name))
        except (OSError, EOFError, UnicodeDecodeError) as exc:
            raise CatalogError(f"cannot read: {exc}", source=name) from exc


def _jsonl_rows(stream: Iterable[bytes], source: str) -> Iterator[tuple[int, dict[str, Any]]]:
    for line_no, line in enumerate(stream, 1):
        if not line.strip():
            continue
        try:
            row = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise CatalogError(f"invalid JSON ({exc})", source=source, line=line_no) from exc
        if not isinstance(row, dict):
            raise CatalogError("a row must be a JSON object", source=source, line=line_no)
        yield line_no, row


_CSV_LISTS = ("genres", "moods", "activities", "similar_artists")


def _csv_rows(stream: IO[str], source: str) -> Iterator[tuple[int, dict[str, Any]]]:
    reader = csv.DictReader(stream)
    header = reader.fieldnames or []
    for required in ("title", "artist", "genres"):
        if required not in header:
            raise CatalogError("missing column in the header", source=source, line=1,
                               field=required)
    for record in reader:
        if None in record:
            raise CatalogError(f"more values than the {len(header)} header columns",
                               source=source, line=reader.line_num)
        row: dict[str, Any] = {}
        for key, value in record.items():
            if value is None or value.strip() == "":
                continue  # an empty cell is an absent field
            value = value.strip()
            if key in _CSV_LISTS:
                row[key] = [part.strip() for part in value.split(CSV_LIST_SEPARATOR)
                            if part.strip()]
            elif key == "popularity":
                try:
                    row[key] = int(value)
                except ValueError:
                    row[key] = value  # reported by the builder, with line and field
            else:
                row[key] = value
        yield reader.line_num, row


class _Builder:
    """Validates rows and accumulates tracks and artists; one per load."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.tracks: list[Track] = []
        self.seen_ids: set[str] = set()
        self.artist_genres: dict[str, dict[str, None]] = {}
        self.artist_similar: dict[str, dict[str, None]] = {}
        # Raw list (as a tuple) -> validated, interned tuple; one cache per vocabulary.
        self.tag_cache: dict[str, dict[tuple[Any, ...], tuple[str, ...]]] = {
            "genres": {}, "moods": {}, "activities": {},
        }

    def _fail(self, line: int, field: str | None, message: str) -> CatalogError:
        return CatalogError(message, source=self.source, line=line, field=field)

    def build(self, rows: Iterable[tuple[int, dict[str, Any]]]) -> Catalog:
        # A million new Track objects would trigger dozens of full garbage collections that
        # find nothing to free (records form no cycles); pause the collector while loading.
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            for line, row in rows:
                self._add(line, row)
        finally:
            if was_enabled:
                gc.enable()
        if not self.tracks:
            raise CatalogError("the catalog has no tracks", source=self.source)
        artists: dict[str, Artist] = {}
        for name, genres in self.artist_genres.items():
            similar = tuple(other for other in self.artist_similar.get(name, ())
                            if other != name and other in self.artist_genres)
            artists[name] = Artist(name=name, genres=tuple(genres), similar=similar)
        return Catalog(tracks=tuple(self.tracks), artists=artists)

    def _text(self, line: int, row: dict[str, Any], field: str, *,
              required: bool = False) -> str | None:
        value = row.get(field)
        if value is None:
            if required:
                raise self._fail(line, field, "is required")
            return None
        if not isinstance(value, str):
            raise self._fail(line, field, f"must be a string, got {value!r}")
        value = value.strip()
        if not value:
            if required:
                raise self._fail(line, field, "must not be empty")
            return None
        return value

    def _tags(self, line: int, row: dict[str, Any], field: str,
              vocabulary: tuple[str, ...], *, required: bool = False) -> tuple[str, ...]:
        value = row.get(field)
        if value is None:
            if required:
                raise self._fail(line, field, "is required")
            return ()
        if not isinstance(value, list):
            raise self._fail(line, field, f"must be a list of words, got {value!r}")
        cache = self.tag_cache[field]
        key = tuple(value)
        try:
            return cache[key]
        except (KeyError, TypeError):
            pass
        words: dict[str, None] = {}
        for word in value:
            if not isinstance(word, str):
                raise self._fail(line, field, f"must be a list of words, got {word!r} in it")
            normal = word.strip().lower()
            if normal not in vocabulary:
                raise self._fail(line, field,
                                 f"unknown word {word!r}; allowed: {', '.join(vocabulary)}")
            words[sys.intern(normal)] = None
        if required and not words:
            raise self._fail(line, field, "must name at least one word")
        result = tuple(words)
        try:
            cache[key] = result
        except TypeError:  # pragma: no cover - list items were checked to be strings
            pass
        return result

    def _cached_tags(self, line: int, row: dict[str, Any], field: str,
                     vocabulary: tuple[str, ...], *, required: bool = False) -> tuple[str, ...]:
        # Fast path: a list already validated on an earlier row. Anything else (new
        # combination, wrong type, absent) goes through _tags, which validates or raises.
        value = row.get(field)
        if type(value) is list:
            try:
                return self.tag_cache[field][tuple(value)]
            except (KeyError, TypeError):
                pass
        return self._tags(line, row, field, vocabulary, required=required)

    def _add(self, line: int, row: dict[str, Any]) -> None:
        # The common case (well-typed strings) is checked inline; a value that fails the
        # quick check is handed to _text, which either normalises it or raises the error.
        get = row.get
        title = get("title")
        if type(title) is not str or not (title := title.strip()):
            title = self._text(line, row, "title", required=True)
        artist = get("artist")
        if type(artist) is not str or not (artist := artist.strip()):
            artist = self._text(line, row, "artist", required=True)
        assert title is not None and artist is not None
        artist = sys.intern(artist)
        genres = self._cached_tags(line, row, "genres", GENRES, required=True)
        moods = self._cached_tags(line, row, "moods", MOODS) if "moods" in row else ()
        activities = (self._cached_tags(line, row, "activities", ACTIVITIES)
                      if "activities" in row else ())
        popularity = get("popularity", 50)
        if popularity is None:
            popularity = 50
        elif type(popularity) is not int or not 0 <= popularity <= 100:
            raise self._fail(line, "popularity",
                             f"must be an integer 0–100, got {popularity!r}")
        album = get("album")
        if album is not None:
            album = self._text(line, row, "album")
            if album is not None:
                album = sys.intern(album)
        preview_url = self._text(line, row, "preview_url") if "preview_url" in row else None
        track_id = get("track_id")
        if type(track_id) is not str or not (track_id := track_id.strip()):
            track_id = self._text(line, row, "track_id") or derive_track_id(artist, title)
        if track_id in self.seen_ids:
            raise self._fail(line, "track_id", f"duplicate track_id {track_id!r}")
        self.seen_ids.add(track_id)
        similar = get("similar_artists")
        if similar is not None:
            if not isinstance(similar, list) or not all(isinstance(s, str) for s in similar):
                raise self._fail(line, "similar_artists",
                                 f"must be a list of artist names, got {similar!r}")
            merged = self.artist_similar.setdefault(artist, {})
            for other in similar:
                if other.strip():
                    merged.setdefault(sys.intern(other.strip()), None)
        known = self.artist_genres.get(artist)
        if known is None:
            self.artist_genres[artist] = dict.fromkeys(genres)
        elif len(genres) > 1 or genres[0] not in known:
            for genre in genres:
                known.setdefault(genre, None)
        self.tracks.append(Track(track_id, title, artist, genres, moods, activities,
                                 popularity, album, preview_url))
