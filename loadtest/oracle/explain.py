"""Words for witnesses: how an anomaly's operations are named in prose, and reproduced.

Terms:
- *session hash*: ``#`` and the 12-hex blake2s digest (6 bytes) of a session id. Prose and
  logs never show a raw session id (contract, "Sessions": the id is the only credential);
  the same digest as ``beatdebate_server.ids.hash_id``, reimplemented so that the checker
  does not import the server.
- *label*: ``u3.c1 (session #a1b2c3d4e5f6) turn 3 'More tracks'``, one op in a line.

``curl_for`` is the one place that does print a raw id: its output is a command to replay
the request against a test target, not a report line.
"""

from __future__ import annotations

import hashlib
import json
import shlex
from collections.abc import Mapping

from loadtest.history import Op
from loadtest.oracle.model import PROPERTIES, Anomaly

_MAX_TRACKS_SHOWN = 3


def hash_id(value: str) -> str:
    """The 12-hex stand-in for an id (same digest as ``beatdebate_server.ids.hash_id``)."""
    return hashlib.blake2s(value.encode(), digest_size=6).hexdigest()


def session_ref(session: str | None) -> str:
    """``#<hash>`` for a session id, or ``no session``."""
    return "no session" if session is None else f"#{hash_id(session)}"


def label(op: Op) -> str:
    """One op named for prose: conversation, session hash, turn and query."""
    session = op.session if op.session is not None else op.session_sent
    where = f"{op.conversation} (session {session_ref(session)})"
    if op.action != "recommend":
        return f"{where} {op.action.replace('_', ' ')} [{op.step}]"
    turn = f" turn {op.turn}" if op.turn is not None else ""
    return f"{where}{turn} {op.query!r}"


def request_ref(op: Op) -> str:
    """``u7.c1's request r-7-1 'Songs by Burial'``."""
    query = f" {op.query!r}" if op.query is not None else ""
    return f"{op.conversation}'s request {op.request_id}{query}"


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
    if op.recorded is not None:
        turns = " ".join(f"{r.turn}:{r.request_id}" for r in op.recorded)
        lines.append(f"      turn_count {op.turn_count} recorded {turns or '(none)'}")
    if op.error:
        lines.append(f"      error {op.error}")
    return lines


def describe(anomaly: Anomaly, ops_by_index: Mapping[int, Op]) -> str:
    """Multi-line witness: the anomaly's line, then each victim and source op in detail."""
    title = PROPERTIES[anomaly.property][1] if anomaly.property in PROPERTIES else ""
    lines = [f"{anomaly.property} ({anomaly.cls}): {anomaly.explanation}",
             f"  [{title}] conversation {anomaly.conversation} scenario {anomaly.scenario}"
             f" session {session_ref(anomaly.session)}"]
    for role, indexes in (("victim", anomaly.victim), ("source", anomaly.source)):
        for index in indexes:
            op = ops_by_index.get(index)
            lines += _op_lines(role, op) if op is not None else [f"  {role} op {index}: (not in history)"]
    return "\n".join(lines)


def anomaly_for(prop: str, op: Op, *, victim: tuple[int, ...], source: tuple[int, ...] = (),
                explanation: str, value: Mapping[str, object] | None = None,
                session: str | None = None) -> Anomaly:
    """An ``Anomaly`` of ``prop`` whose victim conversation, scenario and session are ``op``'s."""
    return Anomaly(
        property=prop, cls=PROPERTIES[prop][0],
        session=session if session is not None else (op.session if op.session is not None else op.session_sent),
        conversation=op.conversation, scenario=op.scenario, victim=victim, source=source,
        explanation=explanation, value=dict(value or {}))
