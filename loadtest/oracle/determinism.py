"""``nondeterministic-answer`` (contract, "Determinism").

Two sessions that sent the same queries in the same order must get the same ``track_id``s
at each position, whatever other sessions did meanwhile. A session's acknowledged turns,
in turn order, walk a trie keyed by (query, page size): the page size stands in for the
request's ``max_recommendations``, which the history does not record. The first session to
reach a node (lowest op index) sets its reference page; a later one that differs is the
victim, the reference the source.

A target that shows no turn numbers (its evidence lacks ``turn``) is walked in invocation
order instead, and a target that does not say which path answered (``source`` absent) is
taken to have answered on its primary path.

A session's walk stops, because what follows no longer depends only on the queries seen:
- at a fallback answer (``source`` other than ``"primary"``; exempt, and it changes the
  session's state);
- at a turn that is not the next number (a gap, a repeat: another request was recorded),
  or, without turn numbers, at a request sent before the previous one was answered (their
  order in the session is unknown);
- at an answer completed after a request of unknown outcome was sent on the session;
- after it diverges (its later pages follow from a different state and would only repeat
  the one finding).
"""

from __future__ import annotations

from collections.abc import Iterator

from loadtest.history import Op
from loadtest.oracle.context import Context
from loadtest.oracle.model import Finding
from loadtest.oracle.witness import finding_for, label

_ROOT = 0
_PRIMARY = ("primary", None)   # None: the target does not say which path answered


def _comparable_turns(turn_ops: list[Op], unknown: list[Op] | None, *, numbered: bool) -> Iterator[Op]:
    """The session's answers (in index order in ``turn_ops``) that the walk may compare."""
    cutoff = min((op.invoked_at for op in unknown), default=float("inf")) if unknown else float("inf")
    expected = 1
    answered = float("-inf")
    ordered = sorted(turn_ops, key=lambda o: (o.turn if o.turn is not None else -1, o.index)) if numbered else turn_ops
    for op in ordered:
        completed = op.completed_at if op.completed_at is not None else float("inf")
        if op.source not in _PRIMARY or completed > cutoff:
            return
        out_of_sequence = (op.turn != expected) if numbered else (op.invoked_at < answered)
        if out_of_sequence:
            return
        yield op
        expected += 1
        answered = completed


def nondeterministic_answers(ctx: Context) -> Iterator[Finding]:
    ix = ctx.ix
    numbered = "turn" in ctx.evidence
    children: dict[tuple[int, str | None, int], int] = {}
    reference: dict[int, Op] = {}
    ordered = sorted(ix.turns.items(), key=lambda item: item[1][0].index)
    for session, turn_ops in ordered:
        node = _ROOT
        comparable = _comparable_turns(turn_ops, ix.unknown_sent.get(session), numbered=numbered)
        for position, op in enumerate(comparable, start=1):
            key = (node, op.query, len(op.tracks))
            child = children.get(key)
            if child is None:
                child = children[key] = len(children) + 1
                reference[child] = op
                node = child
                continue
            node = child
            ref = reference[child]
            mine = [t.track_id for t in op.tracks]
            theirs = [t.track_id for t in ref.tracks]
            if mine != theirs:
                # Same length (the page size is part of the key), so some position differs.
                at = next(i for i, (a, b) in enumerate(zip(mine, theirs, strict=True)) if a != b)
                yield finding_for(
                    "nondeterministic-answer", op, session=session, victim=(op.index,), source=(ref.index,),
                    explanation=(f"{label(op)} got {mine[at]} at rank {at + 1} where {label(ref)},"
                                 f" after the same {position} quer{'y' if position == 1 else 'ies'}, got {theirs[at]}"),
                    value={"position": position, "query": op.query, "rank": at + 1,
                           "track_ids": mine, "reference_track_ids": theirs})
                break
