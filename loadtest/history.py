"""Recorded history: every request a virtual user makes, as one operation.

Terms:
- *operation* (``Op``): one HTTP request with its invocation and completion, in the manner of
  Jepsen's histories. ``status`` is ``ok`` (the server answered 2xx and the answer parsed),
  ``fail`` (it answered with an error, so the request certainly had no effect we count on),
  or ``unknown`` (timeout or broken connection: it may or may not have taken effect).
- *conversation*: what one virtual user believes is one chat, named by the harness
  (``conversation``, e.g. ``"u12.c1"``). A refresh starts a new conversation. The server's
  ``session`` ids are checked against conversations, never trusted to define them.
- *subject*: the persona fields a conversation was given (``{"artist": "Mk.gee", "genre":
  "jazz"}``), so that foreign content is recognisable.
- *expect*: what the scenario step said the answer must satisfy (``Expect``).

Times are monotonic seconds since the run started. In the open model ``invoked_at`` is the
request's *intended* start, so that a stalled server cannot hide (coordinated omission).

- *fault window* (``FaultWindow``): when the harness's nemesis (``loadtest.nemesis``) had a
  fault in force (a paused worker, aborted requests …), on the same clock as the ops, so that
  a witness can be read against the faults around it.

The JSONL format: the first line is a header ``{"format": "beatdebate-history",
"version": 1, ...}``; each further line is one ``Op`` as a JSON object with the field names
below. ``read_history(write_history(h))`` gives back ``h``. A run with a nemesis writes its
fault windows in the header (``"faults": [{"name", "start", "end", "detail"}, …]``, read by
``read_fault_windows``); a header without them (an older file) has none, and the ops are read
as before.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

import orjson

HISTORY_FORMAT = "beatdebate-history"
HISTORY_VERSION = 1

OpStatus = Literal["ok", "fail", "unknown"]
# ``Op.follow_up`` of a service that only says *whether* an answer follows up (a yes/no flag,
# as the original BeatDebate back end does), not of what kind: it meets any expected kind.
FOLLOW_UP_FLAG = "more"
Action = Literal["recommend", "create_session", "read_history", "delete_session"]


@dataclass(frozen=True, slots=True)
class TrackSeen:
    """A track as the answer described it: all a checker may judge content by."""

    track_id: str
    artist: str
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Anchor:
    """The ``context.anchor`` of an answer."""

    turn: int
    request_id: str
    query: str | None = None
    kind: str | None = None
    entities: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RecordedTurn:
    """One turn of a ``GET /sessions/{id}`` answer."""

    turn: int
    request_id: str
    query: str | None = None
    anchor_turn: int | None = None
    track_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Expect:
    """What a scenario step requires of its answer. ``None`` or empty means "no requirement".

    - ``kind`` / ``follow_up``: the intent the server must report.
    - ``anchor``: the name of an earlier step of this conversation that must be the anchor,
      or ``"none"``: the answer must have no anchor (nothing to follow up on).
    - ``content``: rules on every recommended track, judged against the conversation's
      subject: ``"artist"`` (by the subject's artist), ``"genre"`` (tagged with the
      subject's genre), ``"similar"`` (not required to match; recorded for bleeding checks).
    - ``new_session``: whether ``session_created`` must be true (or false).
    - ``canary``: the answer's text must contain this conversation's canary (``Op.canary``).
    """

    kind: str | None = None
    follow_up: str | None = None
    anchor: str | None = None
    content: tuple[str, ...] = ()
    new_session: bool | None = None
    canary: bool | None = None


@dataclass(frozen=True, slots=True)
class Op:
    index: int                      # position in the history, unique, in invocation order
    user: int                       # virtual user number
    conversation: str               # the harness's name for this chat (see module doc)
    scenario: str
    step: str                       # the scenario step's name
    action: Action
    status: OpStatus
    invoked_at: float
    completed_at: float | None
    request_id: str                 # the X-Request-ID the harness sent (unique per op)
    session_sent: str | None = None # the session id the request carried
    session: str | None = None      # the session id the answer named
    http_status: int | None = None
    query: str | None = None
    subject: Mapping[str, str] = field(default_factory=dict)
    expect: Expect = field(default_factory=Expect)
    # What a recommendation answer said:
    turn: int | None = None
    session_created: bool | None = None
    kind: str | None = None
    follow_up: str | None = None
    entities: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    anchor: Anchor | None = None
    tracks: tuple[TrackSeen, ...] = ()
    source: str | None = None
    notice: str | None = None
    # What a history read said:
    turn_count: int | None = None
    recorded: tuple[RecordedTurn, ...] | None = None
    error: str | None = None        # for fail/unknown: what went wrong, for the report
    # Chat apps that answer in text (target profiles): the token planted in this conversation
    # (on every op of it once planted), and the answer's text as the profile selects it.
    canary: str | None = None
    text: str | None = None

    @property
    def is_follow_up(self) -> bool:
        return self.action == "recommend" and self.follow_up is not None

    @property
    def latency(self) -> float | None:
        return None if self.completed_at is None else self.completed_at - self.invoked_at


@dataclass(frozen=True, slots=True)
class FaultWindow:
    """A fault the nemesis had in force from ``start`` to ``end`` (seconds since the run's
    start, the ops' clock): ``name`` is the fault (``pause-worker``, ``abort`` …), ``detail``
    what exactly was done (which worker, how many requests were cut off)."""

    name: str
    start: float
    end: float
    detail: str = ""

    def overlaps(self, start: float, end: float) -> bool:
        """Whether ``[start, end]`` (an op's invocation to completion) meets this window."""
        return start <= self.end and end >= self.start


def _entities(raw: Mapping[str, Iterable[str]] | None) -> dict[str, tuple[str, ...]]:
    return {key: tuple(values) for key, values in (raw or {}).items()}


def op_to_dict(op: Op) -> dict[str, Any]:
    """A JSON-ready dict of ``op`` (tuples become lists)."""
    return asdict(op)


_OP_FIELD_NAMES = tuple(f.name for f in fields(Op))   # ``fields()`` per op was a sixth of reading a history


def op_from_dict(raw: Mapping[str, Any]) -> Op:
    """Rebuild an ``Op`` from ``op_to_dict`` output (or a parsed JSONL line)."""
    data = {name: raw[name] for name in _OP_FIELD_NAMES if name in raw}
    data["subject"] = dict(data.get("subject") or {})
    data["expect"] = Expect(**{**(data.get("expect") or {}), "content": tuple((data.get("expect") or {}).get("content", ()))})
    data["entities"] = _entities(data.get("entities"))
    anchor = data.get("anchor")
    if anchor is not None:
        data["anchor"] = Anchor(**{**anchor, "entities": _entities(anchor.get("entities"))})
    data["tracks"] = tuple(TrackSeen(t["track_id"], t["artist"], tuple(t.get("tags", ()))) for t in data.get("tracks") or ())
    recorded = data.get("recorded")
    if recorded is not None:
        data["recorded"] = tuple(RecordedTurn(**{**r, "track_ids": tuple(r.get("track_ids", ()))}) for r in recorded)
    return Op(**data)


def write_history(path: Path, ops: Iterable[Op], *, meta: Mapping[str, Any] | None = None,
                  faults: Iterable[FaultWindow] = ()) -> int:
    """Write a JSONL history (``faults``: the run's fault windows, in the header); returns
    the number of operations written."""
    count = 0
    with path.open("wb") as out:
        header = {"format": HISTORY_FORMAT, "version": HISTORY_VERSION, **(meta or {})}
        windows = [asdict(window) for window in faults]
        if windows:
            header["faults"] = windows
        out.write(orjson.dumps(header) + b"\n")
        for op in ops:
            out.write(orjson.dumps(op_to_dict(op)) + b"\n")
            count += 1
    return count


class HistoryFormatError(ValueError):
    """A history file that is not ours, or a line that does not parse; names the line."""


def iter_history(path: Path) -> Iterator[Op]:
    """Read a JSONL history written by ``write_history``, one ``Op`` at a time."""
    with path.open("rb") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                raw = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                raise HistoryFormatError(f"{path}:{number}: not JSON ({exc})") from exc
            if number == 1:
                if raw.get("format") != HISTORY_FORMAT or raw.get("version") != HISTORY_VERSION:
                    raise HistoryFormatError(
                        f"{path}:1: not a {HISTORY_FORMAT} v{HISTORY_VERSION} file (header {raw!r:.120})")
                continue
            try:
                yield op_from_dict(raw)
            except (KeyError, TypeError) as exc:
                raise HistoryFormatError(f"{path}:{number}: bad operation ({exc})") from exc


def read_history(path: Path) -> list[Op]:
    return list(iter_history(path))


def read_header(path: Path) -> dict[str, Any]:
    """The header line of a history (``{}`` for an empty file); raises ``HistoryFormatError``
    for a first line that is not JSON."""
    with path.open("rb") as lines:
        first = lines.readline()
    if not first.strip():
        return {}
    try:
        header = orjson.loads(first)
    except orjson.JSONDecodeError as exc:
        raise HistoryFormatError(f"{path}:1: not JSON ({exc})") from exc
    return header if isinstance(header, dict) else {}


def read_fault_windows(path: Path) -> tuple[FaultWindow, ...]:
    """The fault windows a history's header records (none in a file from before them)."""
    try:
        return tuple(FaultWindow(name=str(raw["name"]), start=float(raw["start"]), end=float(raw["end"]),
                                 detail=str(raw.get("detail") or ""))
                     for raw in read_header(path).get("faults") or ())
    except (KeyError, TypeError, ValueError) as exc:
        raise HistoryFormatError(f"{path}:1: bad fault window in the header ({exc})") from exc
