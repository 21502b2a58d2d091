"""Follow-up anchors (contract, "Recommendations": ``context.anchor``).

A follow-up's anchor must be an earlier turn of its own session. Each follow-up op gets at
most one verdict, in this order:
- anchor on a request of another user's conversation, or on one nobody sent in this session
  → ``foreign-anchor`` (bleeding); the source is the op that sent the request;
- anchor on a request of the same user's *earlier* conversation, which a refresh ended
  → ``refresh-leak`` (bleeding);
- anchor on an own turn, but not the step the scenario names (``expect.anchor``), or any
  anchor when the step expects none → ``wrong-anchor`` (loss);
- no anchor although the conversation had an acknowledged subject turn in this session
  before the follow-up was sent (and still inside ``history_limit``) → ``lost-context``.

*Own turn*: a recommend of this conversation whose answer named this session (or, if its
outcome is unknown, that sent this session id), invoked before the follow-up completed.
An anchor on an own turn of unknown outcome is never ``wrong-anchor``: that request took
effect after all, and following up on it was right (whatever the scenario expected when it
assumed every request would be answered).

These four verdicts are one shared judgement (``anchor_verdicts``), made only when the
target shows anchors; each property's detector reports the verdicts of its name.
Apart from them, ``stale-anchor`` (loss): an anchor on an own turn more than
``history_limit`` turns back, which the session had already trimmed when it resolved the
follow-up (it holds turns ``t - history_limit`` to ``t - 1`` while answering turn ``t``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from loadtest.history import Op
from loadtest.oracle.context import Context
from loadtest.oracle.index import HistoryIndex
from loadtest.oracle.model import Finding
from loadtest.oracle.witness import finding_for, label, request_ref, session_ref


def _foreign(op: Op, sender: Op | None, why: str) -> Finding:
    assert op.anchor is not None
    if sender is None:
        where = f"request {op.anchor.request_id} that no conversation sent"
        source: tuple[int, ...] = ()
    else:
        where = f"{request_ref(sender)} (session {session_ref(sender.session or sender.session_sent)})"
        source = (sender.index,)
    return finding_for(
        "foreign-anchor", op, victim=(op.index,), source=source,
        explanation=f"{label(op)} anchored on {where}{why}",
        value={"anchor_request_id": op.anchor.request_id, "anchor_turn": op.anchor.turn,
               "sent_by": None if sender is None else sender.conversation})


def foreign_anchor_now(op: Op, by_request_id: Mapping[str, Op]) -> Finding | None:
    """The part of the judgement decidable as soon as ``op`` and its anchor's sender are seen:
    an anchor on another *user's* request (never a refresh, never own)."""
    if op.anchor is None or op.status != "ok" or op.action != "recommend":
        return None
    sender = by_request_id.get(op.anchor.request_id)
    if sender is None or sender.user == op.user:
        return None
    return _foreign(op, sender, "")


def _is_own(op: Op, sender: Op) -> bool:
    if sender.conversation != op.conversation or sender.action != "recommend" or sender.status == "fail":
        return False
    session = sender.session if sender.status == "ok" else sender.session_sent
    completed = op.completed_at if op.completed_at is not None else float("inf")
    return session == op.session and sender.invoked_at <= completed


def judge_anchor(op: Op, ix: HistoryIndex, *, history_limit: int | None,
                 refresh_leak: bool = True) -> Finding | None:
    """At most one anchor verdict for the follow-up ``op`` (see module doc for the order);
    without ``refresh_leak`` (not judged), an anchor on the old conversation is foreign."""
    expected = op.expect.anchor
    if op.anchor is None:
        if expected == "none":
            return None
        subject = ix.latest_subject_turn(op.conversation, op.session, op.invoked_at)
        if subject is None:
            return None
        if history_limit is not None and op.turn is not None and subject.turn is not None \
                and subject.turn <= op.turn - history_limit:
            return None  # the subject turn has been trimmed from the session
        return finding_for(
            "lost-context", op, victim=(op.index, subject.index),
            explanation=f"{label(op)} found nothing to follow up on, but {label(subject)} was acknowledged before it",
            value={"subject_request_id": subject.request_id, "subject_turn": subject.turn})
    sender = ix.by_request_id.get(op.anchor.request_id)
    if sender is None:
        return _foreign(op, None, "")
    if sender.user != op.user:
        return _foreign(op, sender, "")
    if sender.conversation != op.conversation:
        if refresh_leak and op.conversation in ix.predecessor and sender.index < op.index:
            refresh = ix.predecessor[op.conversation]
            return finding_for(
                "refresh-leak", op, victim=(op.index,), source=(sender.index,),
                explanation=(f"{label(op)} after the refresh of {refresh.old_conversation}"
                             f" anchored on its old {request_ref(sender)}"),
                value={"anchor_request_id": op.anchor.request_id, "old_conversation": refresh.old_conversation,
                       "via": "anchor"})
        return _foreign(op, sender, ", a request of another conversation")
    if not _is_own(op, sender):
        return _foreign(op, sender, ", which is not a turn of this session")
    if sender.status != "ok":
        return None   # an own request of unknown outcome took effect: see the module doc
    if expected == "none":
        return finding_for(
            "wrong-anchor", op, victim=(op.index, sender.index),
            explanation=f"{label(op)} expected nothing to follow up on but anchored on {request_ref(sender)}",
            value={"expected": None, "anchor_request_id": sender.request_id})
    if expected is None:
        return None
    target = ix.step_op(op.conversation, expected, op.index)
    if target is None or target.status != "ok" or target.session != op.session \
            or target.request_id == sender.request_id:
        return None
    return finding_for(
        "wrong-anchor", op, victim=(op.index, target.index, sender.index),
        explanation=(f"{label(op)} anchored on {request_ref(sender)}, expected step {expected!r}"
                     f" = {request_ref(target)}"),
        value={"expected_step": expected, "expected_request_id": target.request_id,
               "anchor_request_id": sender.request_id})


def anchor_verdicts(ctx: Context) -> dict[int, Finding]:
    """Shared: op index -> the anchor verdict of each anchored op that has one; none when
    the target shows no anchors (an answer without one would read as lost context)."""
    if "anchor" not in ctx.evidence:
        return {}
    verdicts: dict[int, Finding] = {}
    refresh_leak = "refresh-leak" in ctx.judged
    for op in ctx.ix.anchored:
        verdict = judge_anchor(op, ctx.ix, history_limit=ctx.history_limit, refresh_leak=refresh_leak)
        if verdict is not None:
            verdicts[op.index] = verdict
    return verdicts


def _verdicts_of(ctx: Context, prop: str) -> Iterator[Finding]:
    return (verdict for verdict in ctx.shared(anchor_verdicts).values() if verdict.property == prop)


def foreign_anchors(ctx: Context) -> Iterator[Finding]:
    return _verdicts_of(ctx, "foreign-anchor")


def wrong_anchors(ctx: Context) -> Iterator[Finding]:
    return _verdicts_of(ctx, "wrong-anchor")


def lost_contexts(ctx: Context) -> Iterator[Finding]:
    return _verdicts_of(ctx, "lost-context")


def stale_anchors(ctx: Context) -> Iterator[Finding]:
    """Follow-ups anchored on an own turn that ``history_limit`` had already trimmed."""
    limit = ctx.history_limit
    if limit is None:
        return
    for op in ctx.ix.anchored:
        if op.anchor is None or op.turn is None:
            continue
        sender = ctx.ix.by_request_id.get(op.anchor.request_id)
        if sender is None or not _is_own(op, sender):
            continue
        turn = sender.turn if sender.turn is not None else op.anchor.turn
        if op.turn - turn > limit:
            yield finding_for(
                "stale-anchor", op, victim=(op.index, sender.index),
                explanation=(f"{label(op)} anchored on {request_ref(sender)}, turn {turn}, which the session"
                             f" had trimmed: it keeps the last {limit} turns"),
                value={"anchor_request_id": sender.request_id, "anchor_turn": turn, "history_limit": limit})
