"""User catalogs: JSONL and CSV load; every kind of bad row names its file, line and field."""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson
import pytest

import beatdebate_server.catalog as catalog_pkg
from beatdebate_server.catalog import Artist, CatalogError, Track, load_catalog
from beatdebate_server.catalog.load import derive_track_id

ROWS = [
    {"track_id": "x1", "title": "Karma Police", "artist": "Radiohead", "album": "OK Computer",
     "genres": ["alternative", "rock"], "moods": ["melancholic"], "activities": ["focus"],
     "popularity": 90, "similar_artists": ["Björk", "Nobody In This File", "Radiohead"]},
    {"title": "Idioteque", "artist": "Radiohead", "genres": ["electronic", "rock"]},
    {"title": "Jóga", "artist": "Björk", "genres": ["experimental"], "moods": ["dreamy", "calm"],
     "preview_url": "https://example.org/joga.mp3", "similar_artists": ["Radiohead"]},
]


def write_jsonl(path: Path, rows: list[object]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(row) + b"\n" for row in rows))
    return path


def test_jsonl_catalog_loads_with_defaults_and_derived_ids(tmp_path: Path) -> None:
    catalog = load_catalog(write_jsonl(tmp_path / "mine.jsonl", ROWS))

    assert catalog.tracks == (
        Track(track_id="x1", title="Karma Police", artist="Radiohead",
              genres=("alternative", "rock"), moods=("melancholic",), activities=("focus",),
              popularity=90, album="OK Computer"),
        Track(track_id=derive_track_id("Radiohead", "Idioteque"), title="Idioteque",
              artist="Radiohead", genres=("electronic", "rock")),
        Track(track_id=derive_track_id("Björk", "Jóga"), title="Jóga", artist="Björk",
              genres=("experimental",), moods=("dreamy", "calm"),
              preview_url="https://example.org/joga.mp3"),
    )
    # Artist genres: union of the artist's track genres, first-seen order. Similar artists
    # not in the catalog, and the artist itself, are dropped.
    assert catalog.artists == {
        "Radiohead": Artist("Radiohead", ("alternative", "rock", "electronic"), ("Björk",)),
        "Björk": Artist("Björk", ("experimental",), ("Radiohead",)),
    }
    assert len(catalog) == 3


def test_derived_track_ids_are_stable_across_runs_and_machines() -> None:
    # Pinned values: changing the derivation would change every user catalog's ids.
    assert derive_track_id("Radiohead", "Creep") == "tc96faff7c671"
    assert derive_track_id("Björk", "Jóga") == "tf30998494d18"


def test_csv_catalog_loads_with_pipe_separated_lists(tmp_path: Path) -> None:
    path = tmp_path / "mine.csv"
    path.write_text(
        "track_id,title,artist,album,genres,moods,activities,popularity,similar_artists\n"
        ",Karma Police,Radiohead,OK Computer,alternative|rock,melancholic|sad,focus,90,Björk\n"
        'c2,"Hunter, Again",Björk,,Experimental,,,,\n',
        encoding="utf-8",
    )
    catalog = load_catalog(path)

    first, second = catalog.tracks
    assert first == Track(track_id=derive_track_id("Radiohead", "Karma Police"),
                          title="Karma Police", artist="Radiohead",
                          genres=("alternative", "rock"), moods=("melancholic", "sad"),
                          activities=("focus",), popularity=90, album="OK Computer")
    assert second == Track(track_id="c2", title="Hunter, Again", artist="Björk",
                           genres=("experimental",))  # vocabulary words are case-insensitive
    assert catalog.artists["Radiohead"].similar == ("Björk",)


@pytest.mark.parametrize("suffix", [".jsonl.gz", ".csv.gz"])
def test_gzipped_catalogs_load(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"mine{suffix}"
    if suffix == ".jsonl.gz":
        body = b"".join(orjson.dumps(row) + b"\n" for row in ROWS)
    else:
        body = "title,artist,genres\nCreep,Radiohead,rock|alternative\n".encode()
    path.write_bytes(gzip.compress(body))

    assert len(load_catalog(path)) >= 1


def test_tags_are_genres_then_moods_then_activities(tmp_path: Path) -> None:
    track = load_catalog(write_jsonl(tmp_path / "c.jsonl", ROWS)).tracks[0]
    assert track.tags == ("alternative", "rock", "melancholic", "focus")


GOOD = {"title": "Creep", "artist": "Radiohead", "genres": ["rock"]}

BAD_ROWS = [
    ({**GOOD, "genres": ["rock", "shoegaze"]}, "genres", "unknown word 'shoegaze'"),
    ({**GOOD, "moods": ["sleepy"]}, "moods", "unknown word 'sleepy'"),
    ({**GOOD, "activities": ["gaming"]}, "activities", "unknown word 'gaming'"),
    ({"artist": "Radiohead", "genres": ["rock"]}, "title", "is required"),
    ({"title": "Creep", "genres": ["rock"]}, "artist", "is required"),
    ({"title": "Creep", "artist": "Radiohead"}, "genres", "is required"),
    ({**GOOD, "genres": []}, "genres", "at least one"),
    ({**GOOD, "genres": "rock"}, "genres", "must be a list"),
    ({**GOOD, "genres": [1]}, "genres", "must be a list of words"),
    ({**GOOD, "title": 7}, "title", "must be a string"),
    ({**GOOD, "title": "  "}, "title", "must not be empty"),
    ({**GOOD, "popularity": 101}, "popularity", "must be an integer 0–100, got 101"),
    ({**GOOD, "popularity": -1}, "popularity", "must be an integer 0–100"),
    ({**GOOD, "popularity": "high"}, "popularity", "got 'high'"),
    ({**GOOD, "popularity": True}, "popularity", "must be an integer"),
    ({**GOOD, "popularity": 50.5}, "popularity", "must be an integer"),
    ({**GOOD, "album": ["OK Computer"]}, "album", "must be a string"),
    ({**GOOD, "similar_artists": "Björk"}, "similar_artists", "must be a list"),
]


@pytest.mark.parametrize(("row", "field", "reason"), BAD_ROWS)
def test_bad_jsonl_row_names_file_line_and_field(
    tmp_path: Path, row: dict[str, object], field: str, reason: str
) -> None:
    # The bad row is on line 3, after a good row and a blank line.
    path = tmp_path / "catalog.jsonl"
    path.write_bytes(orjson.dumps({**GOOD, "title": "Fine"}) + b"\n\n" + orjson.dumps(row) + b"\n")

    with pytest.raises(CatalogError) as caught:
        load_catalog(path)

    error = caught.value
    assert (error.source, error.line, error.field) == ("catalog.jsonl", 3, field)
    assert str(error).startswith(f"catalog.jsonl:3: field '{field}': ")
    assert reason in str(error)


def test_bad_csv_popularity_names_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "catalog.csv"
    lines = ["title,artist,genres,popularity"] + [f"Song {n},Someone,rock,{n}" for n in range(15)]
    path.write_text("\n".join([*lines, "Bad,Someone,rock,high"]) + "\n", encoding="utf-8")

    with pytest.raises(CatalogError) as caught:
        load_catalog(path)

    assert str(caught.value) == (
        "catalog.csv:17: field 'popularity': must be an integer 0–100, got 'high'")


def test_bad_csv_vocabulary_names_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "catalog.csv"
    path.write_text("title,artist,genres,moods\nA,B,rock,happy|grumpy\n", encoding="utf-8")

    with pytest.raises(CatalogError, match=r"^catalog\.csv:2: field 'moods': unknown word"):
        load_catalog(path)


def test_csv_without_a_required_column_fails_on_the_header(tmp_path: Path) -> None:
    path = tmp_path / "catalog.csv"
    path.write_text("title,artist\nA,B\n", encoding="utf-8")

    with pytest.raises(CatalogError, match=r"^catalog\.csv:1: field 'genres': missing column"):
        load_catalog(path)


def test_csv_row_with_extra_values_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "catalog.csv"
    path.write_text("title,artist,genres\nA,B,rock,surplus\n", encoding="utf-8")

    with pytest.raises(CatalogError, match=r"^catalog\.csv:2: more values"):
        load_catalog(path)


def test_duplicate_track_id_names_the_second_line(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "catalog.jsonl", [
        {**GOOD, "track_id": "same"}, {**GOOD, "title": "Other", "track_id": "same"}])

    with pytest.raises(CatalogError, match=r"^catalog\.jsonl:2: field 'track_id': duplicate"):
        load_catalog(path)


def test_duplicate_derived_track_id_is_rejected(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "catalog.jsonl", [GOOD, GOOD])

    with pytest.raises(CatalogError, match=r"^catalog\.jsonl:2: field 'track_id'"):
        load_catalog(path)


@pytest.mark.parametrize(("body", "reason"), [
    (b'{"title": "Creep",\n', "invalid JSON"),
    (b'["Creep", "Radiohead"]\n', "a row must be a JSON object"),
])
def test_malformed_jsonl_line_names_its_line(tmp_path: Path, body: bytes, reason: str) -> None:
    path = tmp_path / "catalog.jsonl"
    path.write_bytes(orjson.dumps(GOOD) + b"\n" + body)

    with pytest.raises(CatalogError, match=rf"^catalog\.jsonl:2: {reason}") as caught:
        load_catalog(path)
    assert caught.value.field is None


@pytest.mark.parametrize("name", ["empty.jsonl", "empty.csv"])
def test_empty_catalog_is_an_error(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text("title,artist,genres\n" if name.endswith(".csv") else "\n\n")

    with pytest.raises(CatalogError, match="no tracks"):
        load_catalog(path)


def test_unsupported_format_and_missing_file_are_errors(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="unsupported format"):
        load_catalog(tmp_path / "catalog.xlsx")
    with pytest.raises(CatalogError, match="cannot open"):
        load_catalog(tmp_path / "absent.jsonl")


def test_catalog_error_is_a_value_error() -> None:
    assert issubclass(CatalogError, ValueError)


def test_package_all_is_honest() -> None:
    assert sorted(catalog_pkg.__all__) == sorted([
        "Track", "Artist", "Catalog", "GENRES", "MOODS", "ACTIVITIES", "load_catalog",
        "CatalogError", "write_synthetic_catalog"])
    for name in catalog_pkg.__all__:
        assert getattr(catalog_pkg, name) is not None
