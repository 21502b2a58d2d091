"""Personas: a pool of distinguishable subjects, spread across users by seed; preflight sets aside what the target cannot serve."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes import FakeServer

from loadtest.personas import DEFAULT_POOL, Assigner, Persona, PersonaError, load_personas, spread
from loadtest.preflight import TargetUnreachable, run_preflight
from loadtest.transport import aiohttp_factory, httpx_factory


def test_default_pool_is_distinguishable() -> None:
    artists = [p.fields["artist"] for p in DEFAULT_POOL]
    genres = {p.fields["genre"] for p in DEFAULT_POOL}
    assert len(artists) >= 40 and len(set(artists)) == len(artists)
    assert len(genres) >= 16
    assert {"Radiohead", "Mk.gee", "The Beatles", "Björk", "Bill Evans", "Metallica"} <= set(artists)


def test_neighbouring_users_differ_in_genre_and_artist() -> None:
    assign = Assigner(DEFAULT_POOL, seed=7)
    genres = len({p.fields["genre"] for p in DEFAULT_POOL})
    first = [assign(u) for u in range(genres)]
    assert len({p.fields["genre"] for p in first}) == genres
    everyone = [assign(u).name for u in range(len(DEFAULT_POOL))]
    assert sorted(everyone) == sorted(p.name for p in DEFAULT_POOL)
    assert assign(len(DEFAULT_POOL)) == assign(0)          # then round again


def test_assignment_is_reproducible_by_seed() -> None:
    assert spread(DEFAULT_POOL, seed=1) == spread(DEFAULT_POOL, seed=1)
    assert spread(DEFAULT_POOL, seed=1) != spread(DEFAULT_POOL, seed=2)


def test_subject_keeps_only_the_fields_needed() -> None:
    persona = Persona("x", {"artist": "Burial", "genre": "electronic"})
    assert persona.subject(("artist",)) == {"artist": "Burial"}
    assert persona.subject(()) == {"artist": "Burial", "genre": "electronic"}


def test_pool_file(tmp_path: Path) -> None:
    path = tmp_path / "pool.toml"
    path.write_text('[[personas]]\nartist = "Burial"\ngenre = "electronic"\n\n'
                    '[[personas]]\nname = "calm"\nmood = "calm"\n')
    pool = load_personas(path)
    assert pool == (Persona("Burial", {"artist": "Burial", "genre": "electronic"}), Persona("calm", {"mood": "calm"}))


@pytest.mark.parametrize(("text", "fragment"), [
    ('[[personas]]\nartist = "A"\n\n[[personas]]\nartist = 3\n', ":4: personas[1].artist: must be a non-empty string"),
    ('[[personas]]\nartist = "A"\n[[personas]]\nartist = "A"\n', ":3: personas[1].name: 'A' is used twice"),
    ('people = 1\n', "people: unknown field"),
    ('', "personas: required"),
])
def test_bad_pool_file(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "pool.toml"
    path.write_text(text)
    with pytest.raises(PersonaError) as caught:
        load_personas(path)
    assert fragment in str(caught.value)


@pytest.mark.anyio
async def test_preflight_sets_aside_what_the_target_cannot_serve() -> None:
    fake = FakeServer(unknown_artists=frozenset({"Metallica"}))
    found = await run_preflight(DEFAULT_POOL, fields=["artist", "genre"],
                                factory=httpx_factory(timeout=5, transport=fake.transport), run_tag="t")
    assert [s.persona for s in found.skipped] == ["Metallica"]
    assert "'Songs by Metallica' found no tracks" in found.skipped[0].reason
    assert len(found.usable) == len(DEFAULT_POOL) - 1
    assert fake.sessions == {}             # every throwaway session was deleted


@pytest.mark.anyio
async def test_preflight_on_a_dead_target_raises() -> None:
    with pytest.raises(TargetUnreachable):
        await run_preflight(DEFAULT_POOL[:2], fields=["artist"], factory=aiohttp_factory("http://127.0.0.1:9", timeout=2),
                            run_tag="t")
