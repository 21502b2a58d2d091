"""Witnesses as detectors write them: a finding for an op, and ops named in prose.

Terms:
- *session hash*: ``#`` and the 12-hex blake2s digest (6 bytes) of a session id. Prose and
  logs never show a raw session id (contract, "Sessions": the id is the only credential);
  the same digest as ``beatdebate_server.ids.hash_id``, reimplemented so that the checker
  does not import the server.
- *label*: ``u3.c1 (session #a1b2c3d4e5f6) turn 3 'More tracks'``, one op in a line.

Reports explain a witness further (``explain.describe``, ``explain.curl_for``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from loadtest.history import Op
from loadtest.oracle.model import Finding


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


def finding_for(prop: str, op: Op, *, victim: tuple[int, ...], source: tuple[int, ...] = (),
                explanation: str, value: Mapping[str, object] | None = None,
                session: str | None = None) -> Finding:
    """A ``Finding`` of ``prop`` whose victim conversation, scenario and session are ``op``'s."""
    return Finding(
        property=prop,
        session=session if session is not None else (op.session if op.session is not None else op.session_sent),
        conversation=op.conversation, scenario=op.scenario, victim=victim, source=source,
        explanation=explanation, value=dict(value or {}))
