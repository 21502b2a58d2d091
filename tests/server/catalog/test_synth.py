"""Synthetic catalogs: deterministic bytes, a realistic shape, and the CLI around them."""

from __future__ import annotations

import gzip
from collections import Counter
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from beatdebate_server.catalog import GENRES, load_catalog, write_synthetic_catalog
from cli import app

TRACKS = 2_000


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    first, second, other = tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "c.jsonl"
    assert write_synthetic_catalog(first, tracks=TRACKS, seed=7) == TRACKS
    write_synthetic_catalog(second, tracks=TRACKS, seed=7)
    write_synthetic_catalog(other, tracks=TRACKS, seed=8)

    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes() != other.read_bytes()


def test_gzipped_output_is_deterministic_and_loads(tmp_path: Path) -> None:
    first, second = tmp_path / "a.jsonl.gz", tmp_path / "b.jsonl.gz"
    write_synthetic_catalog(first, tracks=500, seed=1)
    write_synthetic_catalog(second, tracks=500, seed=1)

    assert first.read_bytes() == second.read_bytes()
    assert gzip.decompress(first.read_bytes()).count(b"\n") == 500
    assert len(load_catalog(first)) == 500


def test_synthetic_catalog_loads_with_a_realistic_shape(tmp_path: Path) -> None:
    path = tmp_path / "synth.jsonl"
    write_synthetic_catalog(path, tracks=TRACKS, seed=0)
    catalog = load_catalog(path)

    assert len(catalog) == TRACKS
    assert len(catalog.artists) == TRACKS // 40
    assert len({t.track_id for t in catalog.tracks}) == TRACKS
    for artist in catalog.artists.values():
        assert set(artist.similar) <= set(catalog.artists)
        assert artist.name not in artist.similar
    assert {g for t in catalog.tracks for g in t.genres} <= set(GENRES)
    assert all(1 <= len(t.moods) <= 3 and len(t.activities) <= 3 for t in catalog.tracks)
    # Skewed: the busiest artist has several times the median artist's tracks, and most
    # tracks sit in a long tail of low popularity.
    per_artist = sorted(Counter(t.artist for t in catalog.tracks).values())
    assert per_artist[-1] >= 3 * per_artist[len(per_artist) // 2]
    popularity = sorted(t.popularity for t in catalog.tracks)
    assert popularity[0] >= 0 and popularity[-1] <= 100
    assert popularity[len(popularity) // 2] < 40 < popularity[-1]


def test_rows_carry_explicit_track_ids(tmp_path: Path) -> None:
    path = tmp_path / "synth.jsonl"
    write_synthetic_catalog(path, tracks=50, seed=0)
    rows = [orjson.loads(line) for line in path.read_bytes().splitlines()]

    assert all(row["track_id"].startswith("t") for row in rows)


def test_at_least_one_track_is_required(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        write_synthetic_catalog(tmp_path / "none.jsonl", tracks=0)


runner = CliRunner()


def test_cli_synth_then_check(tmp_path: Path) -> None:
    path = tmp_path / "synth.jsonl"

    written = runner.invoke(app, ["catalog", "synth", "--tracks", "400", "--out", str(path),
                                  "--seed", "3"])
    assert written.exit_code == 0, written.output
    assert "400" in written.output

    checked = runner.invoke(app, ["catalog", "check", str(path)])
    assert checked.exit_code == 0, checked.output
    assert "400 tracks" in checked.output
    assert "10 artists" in checked.output


def test_cli_check_reports_the_error_and_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "catalog.csv"
    path.write_text("title,artist,genres,popularity\nA,B,rock,high\n", encoding="utf-8")

    result = runner.invoke(app, ["catalog", "check", str(path)])

    assert result.exit_code == 1
    assert "catalog.csv:2: field 'popularity'" in result.output


def test_cli_check_without_a_path_checks_the_shipped_catalog() -> None:
    result = runner.invoke(app, ["catalog", "check"])

    assert result.exit_code == 0, result.output
    assert "shipped catalog" in result.output


def test_cli_synth_rejects_zero_tracks(tmp_path: Path) -> None:
    result = runner.invoke(app, ["catalog", "synth", "--tracks", "0", "--out",
                                 str(tmp_path / "x.jsonl")])

    assert result.exit_code == 2
    assert not (tmp_path / "x.jsonl").exists()


@pytest.mark.parametrize("command", ["synth", "check"])
def test_cli_help_describes_the_command(command: str) -> None:
    result = runner.invoke(app, ["catalog", command, "--help"])

    assert result.exit_code == 0
    assert "catalog" in result.output.lower()
