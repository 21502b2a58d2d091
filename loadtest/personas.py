"""Personas: the subjects virtual users ask about, chosen so that foreign content shows.

Terms:
- *persona*: a named set of fields (``artist``, ``genre``, and any others a pool file adds)
  that fill a scenario's placeholders and become each conversation's ``Op.subject``.
- *pool*: the personas a run may use: the built-in ``DEFAULT_POOL`` (artists from distinct
  genres) or a TOML file of ``[[personas]]`` tables (``--personas PATH``).
- *assignment*: which persona each virtual user gets. Users are spread across the pool
  (round-robin over genres, then over the artists within a genre, in a seeded order), so
  that concurrent users ask about different subjects and a bleed is recognisable.
"""

from __future__ import annotations

import random
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Persona:
    name: str
    fields: Mapping[str, str] = field(default_factory=dict)   # {"artist": "Björk", "genre": "electronic"}

    def subject(self, needs: Sequence[str] = ()) -> dict[str, str]:
        """The fields a conversation is judged by (all of them when ``needs`` is empty)."""
        return {key: self.fields[key] for key in (needs or self.fields) if key in self.fields}


def _p(artist: str, genre: str) -> Persona:
    return Persona(name=artist, fields={"artist": artist, "genre": genre})


DEFAULT_POOL: tuple[Persona, ...] = (
    _p("Radiohead", "rock"), _p("The Beatles", "rock"), _p("Arctic Monkeys", "indie"),
    _p("Mk.gee", "indie"), _p("Bon Iver", "folk"), _p("Joni Mitchell", "folk"),
    _p("Björk", "experimental"), _p("Aphex Twin", "electronic"), _p("Daft Punk", "house"),
    _p("Burial", "electronic"), _p("Brian Eno", "ambient"), _p("Stars of the Lid", "ambient"),
    _p("Bill Evans", "jazz"), _p("Miles Davis", "jazz"), _p("John Coltrane", "jazz"),
    _p("Kendrick Lamar", "hip hop"), _p("Outkast", "hip hop"), _p("Frank Ocean", "r&b"),
    _p("SZA", "r&b"), _p("Aretha Franklin", "soul"), _p("Marvin Gaye", "soul"),
    _p("Parliament", "funk"), _p("James Brown", "funk"), _p("Metallica", "metal"),
    _p("Black Sabbath", "metal"), _p("Ramones", "punk"), _p("The Clash", "punk"),
    _p("Dolly Parton", "country"), _p("Johnny Cash", "country"), _p("Bob Marley & The Wailers", "reggae"),
    _p("Toots & the Maytals", "reggae"), _p("Bad Bunny", "latin"), _p("Buena Vista Social Club", "latin"),
    _p("B.B. King", "blues"), _p("Muddy Waters", "blues"), _p("Johann Sebastian Bach", "classical"),
    _p("Claude Debussy", "classical"), _p("Taylor Swift", "pop"), _p("Robyn", "pop"),
    _p("Pixies", "alternative"),
    _p("Jeff Mills", "techno"),
)


class PersonaError(ValueError):
    """A persona pool file that cannot be used; names the file and, when known, the line."""


def load_personas(path: Path) -> tuple[Persona, ...]:
    """Read a pool file: ``[[personas]]`` tables of string fields, ``name`` optional.

    Raises ``PersonaError`` naming file, line and field.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        raw = tomllib.loads(text)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise PersonaError(f"{path}: cannot read a persona pool ({exc})") from exc
    headers = [n for n, line in enumerate(text.splitlines(), start=1) if line.strip().startswith("[[personas]]")]
    entries = raw.get("personas")
    unknown = sorted(set(raw) - {"personas"})
    if unknown:
        raise PersonaError(f"{path}: {unknown[0]}: unknown field (a pool has only [[personas]] tables)")
    if not isinstance(entries, list) or not entries:
        raise PersonaError(f"{path}: personas: required: at least one [[personas]] table")
    out: list[Persona] = []
    names: set[str] = set()
    for index, entry in enumerate(entries):
        where = f"{path}:{headers[index]}" if index < len(headers) else str(path)
        bad = [key for key, value in entry.items() if not isinstance(value, str) or not value.strip()]
        if bad:
            raise PersonaError(f"{where}: personas[{index}].{bad[0]}: must be a non-empty string")
        fields = {key: value.strip() for key, value in entry.items() if key != "name"}
        if not fields:
            raise PersonaError(f"{where}: personas[{index}]: needs at least one field such as artist or genre")
        name = entry.get("name") or fields.get("artist") or " / ".join(fields.values())
        if name in names:
            raise PersonaError(f"{where}: personas[{index}].name: {name!r} is used twice")
        names.add(name)
        out.append(Persona(name=name, fields=fields))
    return tuple(out)


def spread(pool: Sequence[Persona], *, seed: int) -> tuple[Persona, ...]:
    """The pool in assignment order: seeded, and round-robin over genres so that
    neighbouring users (who run at the same time) differ in artist and in genre."""
    rng = random.Random(f"personas-{seed}")
    by_genre: dict[str, list[Persona]] = {}
    for persona in pool:
        by_genre.setdefault(persona.fields.get("genre", ""), []).append(persona)
    groups = list(by_genre.values())
    for group in groups:
        rng.shuffle(group)
    rng.shuffle(groups)
    ordered: list[Persona] = []
    for round_ in range(max((len(group) for group in groups), default=0)):
        ordered.extend(group[round_] for group in groups if round_ < len(group))
    return tuple(ordered)


class Assigner:
    """``assign`` with the spread order computed once, for a run's many users."""

    def __init__(self, pool: Sequence[Persona], *, seed: int) -> None:
        if not pool:
            raise PersonaError("the persona pool is empty")
        self._ordered = spread(pool, seed=seed)

    def __call__(self, user: int) -> Persona:
        return self._ordered[user % len(self._ordered)]


def assign(pool: Sequence[Persona], user: int, *, seed: int) -> Persona:
    """The persona of virtual user ``user`` (0-based); see ``spread``."""
    return Assigner(pool, seed=seed)(user)


__all__ = ["DEFAULT_POOL", "Assigner", "Persona", "PersonaError", "assign", "load_personas", "spread"]
