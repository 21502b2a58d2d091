"""Witnesses explained for people: each op of an anomaly in detail, and a command to replay it.

How detectors name ops in prose (``label``, ``request_ref``, ``session_ref``, the session
hash ``hash_id``) lives in ``witness``; it is re-exported here for reports.

``curl_for`` is the one place that does print a raw id: its output is a command to replay
the request against a test target, not a report line.

``fault_note`` says which fault windows of the nemesis (``loadtest.nemesis``) a witness falls
in: ``inside fault window pause-worker 12.0–17.1 s (worker pid 4242 of 2 stopped …)``. A
witness op is inside a window when the time from its invocation to its completion (to its
invocation, for an op that never completed) meets the window. The note explains a witness;
it never excuses one: the verdict is the same with or without it.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterable, Mapping, Sequence

from loadtest.history import FaultWindow, Op
from loadtest.oracle.model import Anomaly
from loadtest.oracle.properties import REGISTRY
from loadtest.oracle.witness import hash_id as hash_id
from loadtest.oracle.witness import label as label
from loadtest.oracle.witness import request_ref as request_ref
from loadtest.oracle.witness import session_ref as session_ref

_MAX_TRACKS_SHOWN = 3
_TEXT_SHOWN = 160         # characters of an answer's text shown


def curl_for(op: Op, base_url: str) -> str:
    """A curl command that replays ``op``'s request: method, path, JSON body, X-Request-ID.

    The body carries the session id the op *sent* (``null`` when it sent none), so the
    replay asks the same question of the target's current state.
    """
    base = base_url.rstrip("/")
    parts = ["curl", "-sS", "-i"]
    if op.action == "recommend":
        body = json.dumps({"query": op.query, "session_id": op.session_sent}, ensure_ascii=False)
        parts += ["-X", "POST", f"{base}/recommendations", "-H", "Content-Type: application/json",
                  "-H", f"X-Request-ID: {op.request_id}", "--data", body]
    elif op.action == "create_session":
        parts += ["-X", "POST", f"{base}/sessions", "-H", f"X-Request-ID: {op.request_id}"]
    else:
        method = "GET" if op.action == "read_history" else "DELETE"
        parts += ["-X", method, f"{base}/sessions/{op.session_sent}", "-H", f"X-Request-ID: {op.request_id}"]
    return " ".join(shlex.quote(part) for part in parts)


def _op_lines(role: str, op: Op) -> list[str]:
    completed = "-" if op.completed_at is None else f"{op.completed_at:.3f}"
    lines = [f"  {role} op {op.index}: {label(op)}",
             f"      {op.action} {op.status} invoked {op.invoked_at:.3f} completed {completed}"
             f" sent {session_ref(op.session_sent)} answered {session_ref(op.session)}"
             f" request {op.request_id}"]
    if op.action == "recommend" and op.status == "ok":
        anchor = "none" if op.anchor is None else f"turn {op.anchor.turn} request {op.anchor.request_id} {op.anchor.query!r}"
        lines.append(f"      intent {op.kind}/{op.follow_up} anchor {anchor} source {op.source}")
        shown = ", ".join(f"{t.track_id} ({t.artist})" for t in op.tracks[:_MAX_TRACKS_SHOWN])
        more = f" … +{len(op.tracks) - _MAX_TRACKS_SHOWN}" if len(op.tracks) > _MAX_TRACKS_SHOWN else ""
        lines.append(f"      tracks {shown or '(none)'}{more}")
    if op.canary is not None or op.text is not None:
        text = "-" if op.text is None else repr(op.text[:_TEXT_SHOWN]) + (" …" if len(op.text) > _TEXT_SHOWN else "")
        lines.append(f"      canary {op.canary or '-'} text {text}")
    if op.recorded is not None:
        turns = " ".join(f"{r.turn}:{r.request_id}" for r in op.recorded)
        lines.append(f"      turn_count {op.turn_count} recorded {turns or '(none)'}")
    if op.error:
        lines.append(f"      error {op.error}")
    return lines


def windows_around(anomaly: Anomaly, ops_by_index: Mapping[int, Op],
                   windows: Iterable[FaultWindow]) -> tuple[FaultWindow, ...]:
    """The fault windows that one of the anomaly's witness ops (victim or source) falls in."""
    spans = [(op.invoked_at, op.completed_at if op.completed_at is not None else op.invoked_at)
             for index in (*anomaly.victim, *anomaly.source)
             if (op := ops_by_index.get(index)) is not None]
    return tuple(w for w in windows if any(w.overlaps(start, end) for start, end in spans))


def fault_note(anomaly: Anomaly, ops_by_index: Mapping[int, Op],
               windows: Sequence[FaultWindow]) -> str | None:
    """``inside fault window NAME START–END s (DETAIL)``, one per window the witness falls in,
    joined by ``; ``; None when it falls in none (or there were none)."""
    around = windows_around(anomaly, ops_by_index, windows) if windows else ()
    if not around:
        return None
    return "; ".join(f"inside fault window {w.name} {w.start:.1f}–{w.end:.1f} s"
                     + (f" ({w.detail})" if w.detail else "") for w in around)


def describe(anomaly: Anomaly, ops_by_index: Mapping[int, Op],
             windows: Sequence[FaultWindow] = ()) -> str:
    """Multi-line witness: the anomaly's line, then each victim and source op in detail, then
    the fault windows it falls in (``fault_note``), when ``windows`` are given."""
    title = REGISTRY[anomaly.property].description if anomaly.property in REGISTRY else ""
    lines = [f"{anomaly.property} ({anomaly.cls}): {anomaly.explanation}",
             f"  [{title}] conversation {anomaly.conversation} scenario {anomaly.scenario}"
             f" session {session_ref(anomaly.session)}"]
    for role, indexes in (("victim", anomaly.victim), ("source", anomaly.source)):
        for index in indexes:
            op = ops_by_index.get(index)
            lines += _op_lines(role, op) if op is not None else [f"  {role} op {index}: (not in history)"]
    note = fault_note(anomaly, ops_by_index, windows)
    if note is not None:
        lines.append(f"  {note}")
    return "\n".join(lines)
