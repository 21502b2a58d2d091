"""Scenarios: what a virtual user does, read from TOML files (format: ``docs/scenarios.md``).

Terms:
- *scenario*: a named list of *steps* that one virtual user runs as one *iteration*,
  ``conversations`` times over, each time in a fresh conversation.
- *step*: ``query`` (POST /recommendations), ``think`` (pause), ``refresh`` (DELETE the
  session, then carry on in a new conversation), ``read_history`` (GET /sessions/{id}),
  ``create_session`` (POST /sessions and adopt the id).
- *mix*: a file that names other scenarios with weights instead of steps; loading it gives
  those scenarios, each with the mix's weight.

Every error names the file, the line and the field, e.g.
``my.toml:14: steps[2].expect.kind: must be one of by_artist, …``. ``tomllib`` keeps no
positions, so the line is found again in the raw text (``_KeyLines``).
"""

from __future__ import annotations

import re
import string
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from loadtest.canary import CANARY_PLACEHOLDER, uses_canary
from loadtest.history import Expect
from loadtest.stages import Stage, StageError, parse_arrival_stages, parse_stages

Kind = Literal["by_artist", "artist_similarity", "genre_mood", "contextual", "discovery", "follow_up"]
FollowUp = Literal["more_tracks", "more_like_these", "more_from_artist"]
ContentRule = Literal["artist", "genre", "similar"]
SessionChoice = Literal["made-up", "expired"]

_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
_ACTIONS = ("query", "think", "refresh", "read_history", "create_session")
_QUERY_ONLY = ("concurrent", "session", "expect", "max_recommendations")
_CONTENT_FIELDS = {"artist": "artist", "genre": "genre"}  # content rule -> persona field it judges by
BUILTIN_PACKAGE = "scenarios"
DEFAULT_BUILTIN = "mixed-traffic"


class ScenarioError(ValueError):
    """A scenario that cannot be loaded; ``str()`` reads ``file:line: field: why``."""

    def __init__(self, reason: str, *, source: str, line: int | None = None,
                 field: str | None = None) -> None:
        self.source, self.line, self.field, self.reason = source, line, field, reason
        where = source if line is None else f"{source}:{line}"
        super().__init__(f"{where}: {field}: {reason}" if field else f"{where}: {reason}")


# ---- the public, validated shape -------------------------------------------------------

@dataclass(frozen=True, slots=True)
class QueryStep:
    name: str
    query: str                       # may hold persona placeholders: "Songs by {artist}"
    expect: Expect = Expect()
    concurrent: int = 1              # copies sent at once on one session (double submit)
    session: SessionChoice | None = None
    max_recommendations: int | None = None


@dataclass(frozen=True, slots=True)
class ThinkStep:
    name: str
    low: float                       # seconds, before the run's think-time scale
    high: float


@dataclass(frozen=True, slots=True)
class RefreshStep:
    name: str


@dataclass(frozen=True, slots=True)
class ReadHistoryStep:
    name: str


@dataclass(frozen=True, slots=True)
class CreateSessionStep:
    name: str


Step = QueryStep | ThinkStep | RefreshStep | ReadHistoryStep | CreateSessionStep


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    steps: tuple[Step, ...]
    description: str = ""
    weight: float = 1.0
    needs: tuple[str, ...] = ()      # persona fields the steps use ("artist", "genre")
    conversations: int = 1           # how many times one iteration runs the steps
    source: str = "<memory>"
    # The run's load shape when the command line gives none (``loadtest.stages``, docs/scenarios.md):
    stages: tuple[Stage, ...] = ()           # closed model: users over time
    arrival_stages: tuple[Stage, ...] = ()   # open model: arrival rate over time


# ---- the raw file, as pydantic checks it -----------------------------------------------

class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _ExpectSpec(_Strict):
    kind: Kind | None = None
    follow_up: FollowUp | None = None
    anchor: str | None = Field(default=None, min_length=1)
    content: list[ContentRule] = []
    new_session: bool | None = None
    canary: bool | None = None


class _StepSpec(_Strict):
    name: str | None = Field(None, pattern=_NAME)
    query: str | None = Field(None, min_length=1, max_length=500)
    think: float | tuple[float, float] | None = None
    refresh: Literal[True] | None = None
    read_history: Literal[True] | None = None
    create_session: Literal[True] | None = None
    concurrent: int | None = Field(None, ge=2, le=32)
    session: SessionChoice | None = None
    expect: _ExpectSpec | None = None
    max_recommendations: int | None = Field(None, ge=1, le=50)

    @model_validator(mode="after")
    def _one_action(self) -> _StepSpec:
        present = [key for key in _ACTIONS if getattr(self, key) is not None]
        if len(present) != 1:
            raise ValueError(f"a step needs exactly one of {', '.join(_ACTIONS)}"
                             + (f" (found {', '.join(present)})" if present else ""))
        if present[0] != "query":
            extra = [key for key in _QUERY_ONLY if getattr(self, key) is not None]
            if extra:
                raise ValueError(f"{', '.join(extra)} only go with a query step")
        return self


class _MixEntry(_Strict):
    builtin: str | None = None
    path: str | None = None
    weight: float | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _one_source(self) -> _MixEntry:
        if (self.builtin is None) == (self.path is None):
            raise ValueError("a mix entry needs exactly one of builtin, path")
        return self


class _ScenarioSpec(_Strict):
    name: str = Field(pattern=_NAME)
    description: str = ""
    weight: float = Field(1.0, gt=0)
    needs: list[str] | None = None
    conversations: int = Field(1, ge=1, le=100)
    steps: list[_StepSpec] | None = Field(None, min_length=1)
    mix: list[_MixEntry] | None = Field(None, min_length=1)
    stages: str | list[str] | None = None           # "30s:50,1m:200,30s:0" (loadtest.stages)
    arrival_stages: str | list[str] | None = None   # "30s:10/s,1m:100/s"

    @model_validator(mode="after")
    def _steps_or_mix(self) -> _ScenarioSpec:
        if (self.steps is None) == (self.mix is None):
            raise ValueError("a scenario needs exactly one of steps, mix")
        return self


# ---- finding a key's line in the raw text ----------------------------------------------

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_.\"' -]+?)\s*=")
_INLINE_KEY = re.compile(r"[{,]\s*([A-Za-z0-9_]+)\s*=")


def _split_key(raw: str) -> tuple[str, ...]:
    return tuple(part.strip().strip("\"'") for part in raw.split("."))


class _KeyLines:
    """Where each key of a TOML document is written: a path such as ``("steps", 2, "expect",
    "kind")`` -> 1-based line. Covers tables, arrays of tables, dotted keys and one-line
    inline tables; a path it does not know is answered by its longest known prefix."""

    def __init__(self, text: str) -> None:
        self._lines: dict[tuple[str | int, ...], int] = {}
        counts: dict[tuple[str | int, ...], int] = {}
        table: tuple[str | int, ...] = ()
        for number, line in enumerate(text.splitlines(), start=1):
            header = _HEADER.match(line)
            if header:
                table = self._resolve(_split_key(header.group(2)), counts)
                if header.group(1) == "[[":
                    key = table
                    counts[key] = counts.get(key, -1) + 1
                    table = (*key, counts[key])
                self._lines.setdefault(table, number)
                continue
            found = _KEY.match(line)
            if not found:
                continue
            path = (*table, *_split_key(found.group(1)))
            self._lines.setdefault(path, number)
            for inner in _INLINE_KEY.finditer(line[found.end():]):
                self._lines.setdefault((*path, inner.group(1)), number)

    @staticmethod
    def _resolve(names: tuple[str, ...], counts: dict[tuple[str | int, ...], int]) -> tuple[str | int, ...]:
        # [steps.expect] after [[steps]] belongs to the latest element of steps
        path: tuple[str | int, ...] = ()
        for name in names:
            path = (*path, name)
            if path in counts and name != names[-1]:
                path = (*path, counts[path])
        return path

    def line(self, loc: Sequence[str | int]) -> int | None:
        for end in range(len(loc), 0, -1):
            found = self._lines.get(tuple(loc[:end]))
            if found is not None:
                return found
        return None


def _field(loc: Sequence[str | int]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _reason(error: Mapping[str, Any]) -> str:
    kind = error["type"]
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        return "must be one of " + ", ".join(re.findall(r"'([^']*)'", expected) or [expected])
    if kind == "missing":
        return "required"
    if kind == "extra_forbidden":
        return f"unknown field (known: {', '.join(_known_fields(error['loc']))})"
    return str(error["msg"]).removeprefix("Value error, ")


def _known_fields(loc: Sequence[str | int]) -> list[str]:
    parent = [part for part in loc[:-1] if isinstance(part, str)]
    models: dict[tuple[str, ...], type[BaseModel]] = {
        (): _ScenarioSpec, ("steps",): _StepSpec, ("steps", "expect"): _ExpectSpec, ("mix",): _MixEntry}
    model = models.get(tuple(parent), _ScenarioSpec)
    return list(model.model_fields)


def _tidy_loc(loc: Sequence[str | int]) -> list[str | int]:
    # pydantic names union members in the path ("float", "tuple[float, float]"); drop them
    return [part for part in loc if not (isinstance(part, str) and ("[" in part or part in {"float", "int", "str", "bool"}))]


# ---- loading ---------------------------------------------------------------------------

def parse_scenarios(text: str, *, source: str = "<memory>", base: Path | None = None) -> tuple[Scenario, ...]:
    """Parse one scenario file's text: a steps file gives one scenario, a mix file several."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"line (\d+)", str(exc))
        raise ScenarioError(f"not valid TOML ({exc})", source=source,
                            line=int(found.group(1)) if found else None) from exc
    lines = _KeyLines(text)
    try:
        spec = _ScenarioSpec.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = _tidy_loc(first["loc"])
        if first["type"] == "missing" and loc:
            where = lines.line(loc[:-1]) or 1
        else:
            where = lines.line(loc) or 1
        raise ScenarioError(_reason(first), source=source, line=where, field=_field(loc) or None) from None

    def fail(loc: list[str | int], reason: str) -> ScenarioError:
        return ScenarioError(reason, source=source, line=lines.line(loc), field=_field(loc))

    shape = _load_shape(spec, fail=fail)
    if spec.mix is not None:
        members = _load_mix(spec, fail=fail, base=base)
        # A mix's own stages are the run's whatever its members say; else the members keep theirs.
        return tuple(replace(s, stages=shape[0], arrival_stages=shape[1]) for s in members) if any(shape) else members
    return (replace(_build(spec, fail=fail, source=source), stages=shape[0], arrival_stages=shape[1]),)


def _load_shape(spec: _ScenarioSpec, *, fail: Any) -> tuple[tuple[Stage, ...], tuple[Stage, ...]]:
    """The file's ``stages`` and ``arrival_stages`` (at most one of them), parsed."""
    if spec.stages is not None and spec.arrival_stages is not None:
        raise fail(["arrival_stages"], "give stages (users over time) or arrival_stages (arrivals over time), "
                                       "not both")
    try:
        if spec.stages is not None:
            return parse_stages(spec.stages, what="stages"), ()
        if spec.arrival_stages is not None:
            return (), parse_arrival_stages(spec.arrival_stages, what="arrival_stages")
    except StageError as exc:
        key = "stages" if spec.stages is not None else "arrival_stages"
        raise fail([key], str(exc).removeprefix(f"{key}: ").removeprefix(key + " ")) from None
    return (), ()


def shared_load_shape(scenarios: Sequence[Scenario]) -> tuple[tuple[Stage, ...], tuple[Stage, ...]]:
    """The stages the scenarios' files give the run (``((), ())`` when none does). Raises
    ``ScenarioError`` when two files give different ones: a run has one load shape."""
    shaped = [s for s in scenarios if s.stages or s.arrival_stages]
    for other in shaped[1:]:
        if (other.stages, other.arrival_stages) != (shaped[0].stages, shaped[0].arrival_stages):
            raise ScenarioError(f"its stages differ from those of {shaped[0].source} (scenario "
                                f"{shaped[0].name!r}); a run has one load shape: give it once, or with --stages "
                                "/ --arrival-stages", source=other.source, field="stages")
    return (shaped[0].stages, shaped[0].arrival_stages) if shaped else ((), ())


def _build(spec: _ScenarioSpec, *, fail: Any, source: str) -> Scenario:
    assert spec.steps is not None
    steps: list[Step] = []
    used: set[str] = set()
    names: set[str] = set()
    queries: set[str] = set()   # query steps of the current conversation, by name
    concurrent_names: set[str] = set()
    planted = False             # a query of the current conversation plants its {canary}
    for index, raw in enumerate(spec.steps):
        loc: list[str | int] = ["steps", index]
        name = raw.name or f"step-{index + 1}"
        if name in names:
            raise fail([*loc, "name"], f"step name {name!r} is used twice")
        names.add(name)
        if raw.concurrent is not None and raw.session is not None:
            raise fail([*loc, "session"], "a concurrent step runs on the conversation's session; it takes no session")
        if raw.query is not None:
            for placeholder in _placeholders(raw.query, fail=lambda why, loc=loc: fail([*loc, "query"], why)):
                if placeholder != CANARY_PLACEHOLDER:   # the harness fills it, not a persona
                    used.add(placeholder)
            expect = raw.expect or _ExpectSpec()
            if expect.anchor is not None and expect.anchor != "none":
                if expect.anchor not in queries:
                    known = ", ".join(sorted(queries)) or "none"
                    raise fail([*loc, "expect", "anchor"],
                               f"no earlier query step named {expect.anchor!r} in this conversation (known: {known})")
                if expect.anchor in concurrent_names:
                    raise fail([*loc, "expect", "anchor"], "cannot anchor on a concurrent step (it sent several turns)")
            for rule in expect.content:
                if rule in _CONTENT_FIELDS:
                    used.add(_CONTENT_FIELDS[rule])
            if raw.session is not None:
                queries = set()      # a made-up or expired id starts a new conversation
                concurrent_names = set()
                planted = False
            if expect.canary and not planted:
                raise fail([*loc, "expect", "canary"],
                           "no earlier query of this conversation plants {canary} to recall")
            planted = planted or uses_canary(raw.query)
            if raw.concurrent is not None and not queries:
                raise fail([*loc, "concurrent"], "a concurrent step needs an earlier query in its conversation (a session to share)")
            queries.add(name)
            if raw.concurrent is not None:
                concurrent_names.add(name)
            steps.append(QueryStep(
                name=name, query=raw.query, concurrent=raw.concurrent or 1, session=raw.session,
                max_recommendations=raw.max_recommendations,
                expect=Expect(kind=expect.kind, follow_up=expect.follow_up, anchor=expect.anchor,
                              content=tuple(expect.content), new_session=expect.new_session,
                              canary=expect.canary)))
        elif raw.think is not None:
            low, high = raw.think if isinstance(raw.think, tuple) else (raw.think, raw.think)
            if not 0 <= low <= high:
                raise fail([*loc, "think"], "must be seconds >= 0, or [low, high] with 0 <= low <= high")
            steps.append(ThinkStep(name=name, low=float(low), high=float(high)))
        elif raw.refresh:
            queries, concurrent_names, planted = set(), set(), False
            steps.append(RefreshStep(name=name))
        elif raw.read_history:
            steps.append(ReadHistoryStep(name=name))
        else:
            steps.append(CreateSessionStep(name=name))
    if spec.needs is not None:
        missing = sorted(used - set(spec.needs))
        if missing:
            raise fail(["needs"], f"steps use {', '.join(missing)}, which needs does not list")
    needs = tuple(spec.needs) if spec.needs is not None else tuple(sorted(used))
    return Scenario(name=spec.name, description=spec.description, weight=spec.weight, needs=needs,
                    conversations=spec.conversations, steps=tuple(steps), source=source)


def _placeholders(query: str, *, fail: Any) -> list[str]:
    try:
        fields = [fname for _, fname, spec, conv in string.Formatter().parse(query) if fname is not None]
    except ValueError as exc:
        raise fail(f"bad placeholder ({exc}); write {{{{ and }}}} for literal braces") from None
    for fname in fields:
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", fname):
            raise fail(f"placeholder {{{fname}}} must be a persona field name such as {{artist}}")
    return fields


def _load_mix(spec: _ScenarioSpec, *, fail: Any, base: Path | None) -> tuple[Scenario, ...]:
    assert spec.mix is not None
    out: list[Scenario] = []
    for index, entry in enumerate(spec.mix):
        loc: list[str | int] = ["mix", index]
        if entry.builtin is not None:
            if entry.builtin == spec.name or entry.builtin not in builtin_names():
                raise fail([*loc, "builtin"], f"must be one of {', '.join(n for n in builtin_names() if n != spec.name)}")
            found = load_builtin(entry.builtin)
        else:
            assert entry.path is not None
            target = (base or Path.cwd()) / entry.path
            if not target.is_file():
                raise fail([*loc, "path"], f"no such file: {target}")
            found = load_scenarios(target)  # its own errors name its own file
        for scenario in found:
            weight = entry.weight if entry.weight is not None else scenario.weight
            out.append(_with_weight(scenario, weight))
    return tuple(out)


def _with_weight(scenario: Scenario, weight: float) -> Scenario:
    return replace(scenario, weight=weight)


def load_scenarios(path: Path) -> tuple[Scenario, ...]:
    """Load a scenario file (a mix file gives several scenarios). Raises ``ScenarioError``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"cannot read: {exc.strerror or exc}", source=str(path)) from exc
    return parse_scenarios(text, source=str(path), base=path.parent)


def load_scenario(path: Path) -> Scenario:
    """Load a file holding exactly one scenario (not a mix). Raises ``ScenarioError``."""
    found = load_scenarios(path)
    if len(found) != 1:
        raise ScenarioError("is a mix of several scenarios; use load_scenarios", source=str(path))
    return found[0]


def builtin_names() -> list[str]:
    """The names of the scenarios shipped in the ``scenarios`` package."""
    root = resources.files(BUILTIN_PACKAGE)
    return sorted(item.name.removesuffix(".toml") for item in root.iterdir() if item.name.endswith(".toml"))


def load_builtin(name: str) -> tuple[Scenario, ...]:
    """Load a shipped scenario by name (``refresh``, ``mixed-traffic`` …): package data of the
    installed ``scenarios`` package, whatever the working directory."""
    package = resources.files(BUILTIN_PACKAGE)
    resource = package.joinpath(f"{name}.toml")
    if not resource.is_file():
        raise ScenarioError(f"no built-in scenario {name!r} (built-ins: {', '.join(builtin_names())})",
                            source="builtin", field="builtin")
    # A built-in mix's ``path`` entries are files of the package too, never of the working directory.
    return parse_scenarios(resource.read_text(encoding="utf-8"), source=f"builtin:{name}.toml",
                           base=Path(str(package)))


def resolve_scenarios(paths: Sequence[Path] = (), builtins: Sequence[str] = ()) -> tuple[Scenario, ...]:
    """The scenarios of a run: each file's and each built-in's, in the order given; the
    built-in ``mixed-traffic`` when none is given. Raises ``ScenarioError``."""
    found: list[Scenario] = []
    for name in builtins:
        found.extend(load_builtin(name))
    for path in paths:
        found.extend(load_scenarios(path))
    return tuple(found) or load_builtin(DEFAULT_BUILTIN)


__all__ = [
    "ContentRule", "CreateSessionStep", "FollowUp", "Kind", "QueryStep", "ReadHistoryStep",
    "RefreshStep", "Scenario", "ScenarioError", "SessionChoice", "Step", "ThinkStep",
    "builtin_names", "load_builtin", "load_scenario", "load_scenarios", "parse_scenarios",
    "resolve_scenarios", "shared_load_shape",
]
