"""Recorded turns against acknowledged ones (contract, "Recorded history").

A history read of session S (``GET /sessions/{id}``) must list exactly S's own requests:
- ``foreign-request-id`` (bleeding): it lists a request sent in another conversation;
- ``missing-turn`` (loss): it lacks a request acknowledged in S before the read was
  invoked, while that turn is still inside the ``history_limit`` window;
- ``duplicate-turn`` (loss): it lists a request twice, or two answers of S share a turn;
- ``turn-gap`` (loss): its turns are not consecutive up to ``turn_count``, or
  ``turn_count`` is below the number of turns acknowledged before the read.

An ``unknown`` recommend may or may not have been recorded, so it is never missing, and an
extra turn that it explains is not a gap: only acknowledged (``ok``) turns are counted.
"""

from __future__ import annotations

import itertools
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterator, Mapping

from loadtest.history import Op
from loadtest.oracle.context import Context
from loadtest.oracle.index import HistoryIndex
from loadtest.oracle.model import Finding
from loadtest.oracle.witness import finding_for, label, request_ref


def read_session(read: Op) -> str | None:
    return read.session if read.session is not None else read.session_sent


def foreign_request_ids_in(read: Op, by_request_id: Mapping[str, Op]) -> Iterator[Finding]:
    """One finding per recorded request that another conversation sent (decidable at once)."""
    for recorded in read.recorded or ():
        sender = by_request_id.get(recorded.request_id)
        if sender is not None and sender.conversation != read.conversation:
            yield finding_for(
                "foreign-request-id", read, session=read_session(read),
                victim=(read.index,), source=(sender.index,),
                explanation=f"{label(read)} lists turn {recorded.turn} = {request_ref(sender)}",
                value={"turn": recorded.turn, "request_id": recorded.request_id,
                       "sent_by": sender.conversation})


def recorded_twice(read: Op) -> Iterator[Finding]:
    """A history read listing one request id at two turns (decidable at once)."""
    request_ids = [recorded.request_id for recorded in read.recorded or ()]
    if len(set(request_ids)) == len(request_ids):
        return
    counts = Counter(request_ids)
    twice = sorted(request_id for request_id, count in counts.items() if count > 1)
    if twice:
        turns = {rid: [r.turn for r in read.recorded or () if r.request_id == rid] for rid in twice}
        shown = "; ".join(f"{rid} at turns {', '.join(map(str, t))}" for rid, t in turns.items())
        yield finding_for(
            "duplicate-turn", read, session=read_session(read), victim=(read.index,),
            explanation=f"{label(read)} records the same request twice: {shown}",
            value={"request_ids": twice, "turns": turns})


def foreign_request_ids(ctx: Context) -> Iterator[Finding]:
    for read in ctx.ix.reads:
        yield from foreign_request_ids_in(read, ctx.ix.by_request_id)


def duplicate_turns(ctx: Context) -> Iterator[Finding]:
    """Two acknowledged answers of one session with the same turn number, and (when the
    target has a history read) a history listing one request twice."""
    if "history" in ctx.evidence:
        for read in ctx.ix.reads:
            yield from recorded_twice(read)
    for session, turn_ops in ctx.ix.turns.items():
        by_turn: dict[int, list[Op]] = {}
        for op in turn_ops:
            if op.turn is not None:
                by_turn.setdefault(op.turn, []).append(op)
        for turn, same in by_turn.items():
            if len(same) > 1:
                first, later = same[0], same[1:]
                others = ", ".join(request_ref(op) for op in later)
                yield finding_for(
                    "duplicate-turn", first, session=session, victim=tuple(op.index for op in same),
                    explanation=f"{label(first)} and {others} were all answered as turn {turn}",
                    value={"turn": turn, "request_ids": [op.request_id for op in same]})


def _acknowledged(ix: HistoryIndex, session: str) -> tuple[list[float], list[Op]]:
    acked = sorted((op for op in ix.turns.get(session, ()) if op.completed_at is not None),
                   key=lambda op: (op.completed_at, op.index))
    return [op.completed_at for op in acked if op.completed_at is not None], acked


def reads_with_prior_turns(ctx: Context) -> list[tuple[Op, str, list[Op], int]]:
    """Shared: each history read with its session, that session's acknowledged turns by
    completion, and how many of them came back before the read was invoked (what
    ``missing-turn`` and ``turn-gap`` compare). The turn lists are shared, not sliced: one
    session may have thousands of turns and reads."""
    acked_cache: dict[str, tuple[list[float], list[Op]]] = {}
    found: list[tuple[Op, str, list[Op], int]] = []
    for read in ctx.ix.reads:
        session = read_session(read)
        if session is None:
            continue
        if session not in acked_cache:
            acked_cache[session] = _acknowledged(ctx.ix, session)
        times, acked = acked_cache[session]
        found.append((read, session, acked, bisect_right(times, read.invoked_at)))
    return found


def turn_gaps(ctx: Context) -> Iterator[Finding]:
    for read, _, acked, before in ctx.shared(reads_with_prior_turns):
        gap = _turn_gap(read, acked, before, ctx.history_limit)
        if gap is not None:
            yield gap


def missing_turns(ctx: Context) -> Iterator[Finding]:
    """Acknowledged turns that a later read lacks while they are still in its window
    (reported once per turn, at the first read that lacks it)."""
    history_limit = ctx.history_limit
    reported_missing: set[int] = set()
    for read, session, acked, before in ctx.shared(reads_with_prior_turns):
        recorded = {r.request_id for r in read.recorded or ()}
        turn_count = read.turn_count if read.turn_count is not None else len(recorded)
        floor = turn_count - history_limit if history_limit is not None else None
        for op in itertools.islice(acked, before):
            if op.request_id in recorded or op.index in reported_missing:
                continue
            if floor is not None and op.turn is not None and op.turn <= floor:
                continue  # trimmed by history_limit, as the contract allows
            reported_missing.add(op.index)
            yield finding_for(
                "missing-turn", op, session=session, victim=(op.index, read.index),
                explanation=(f"{label(op)} was acknowledged but {read.conversation}'s read of"
                             f" {len(recorded)} turns (turn_count {turn_count}) lacks request {op.request_id}"),
                value={"request_id": op.request_id, "turn": op.turn, "turn_count": turn_count,
                       "read": read.index})


def _turn_gap(read: Op, acked: list[Op], before: int, history_limit: int | None) -> Finding | None:
    """``turn-gap`` for ``read``, whose session had acknowledged ``acked[:before]`` before it."""
    turns = [r.turn for r in read.recorded or ()]
    turn_count = read.turn_count if read.turn_count is not None else len(turns)
    problems: list[str] = []
    if any(b != a + 1 for a, b in zip(turns, turns[1:], strict=False)):
        problems.append(f"turns {turns} are not consecutive")
    elif turns and turns[-1] != turn_count:
        problems.append(f"turns end at {turns[-1]}, not at turn_count {turn_count}")
    elif not turns and turn_count > 0 and history_limit != 0:
        problems.append(f"no turns listed although turn_count is {turn_count}")
    elif turns and history_limit is not None and turns[0] != max(1, turn_count - history_limit + 1):
        problems.append(f"turns start at {turns[0]}, not at {max(1, turn_count - history_limit + 1)}")
    if turn_count < before:
        problems.append(f"turn_count {turn_count} is below the {before} turns acknowledged before the read")
    if not problems:
        return None
    victim = (read.index,) + ((acked[before - 1].index,) if turn_count < before else ())
    return finding_for(
        "turn-gap", read, session=read_session(read), victim=victim,
        explanation=f"{label(read)}: " + "; ".join(problems),
        value={"turns": turns, "turn_count": turn_count, "acknowledged_before": before})
