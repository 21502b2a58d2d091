"""Canaries in answer texts: ``foreign-canary`` (bleeding) and ``lost-canary`` (loss).

Terms (the canary's shape and how one is made: ``loadtest.canary``):
- *canary* of a conversation: ``Op.canary``, the token the harness planted in it (set on
  every op of the conversation from the planting step on).
- *planting op*: the conversation's first op whose query contains its canary (or, if no
  query shows it, its first op that carries it).

Judgements:
- ``foreign-canary``: an ok answer's text contains the canary of *another* conversation;
  the source is that conversation's planting op. A conversation that a refresh began is
  another conversation: its predecessor's canary coming back is bleeding too.
- ``lost-canary``: an ok answer whose step expects its own canary back (``expect.canary``)
  and whose text lacks it, although the planting op was acknowledged in the same session
  before the answer was asked for (and, with ``history_limit``, is still inside the window).
  An answer without text (``Op.text`` is None: the target showed none) is not judged; an
  empty text is.

Texts are scanned once each with ``loadtest.canary.find_canaries`` (one compiled pattern
for the canary shape) and every token found is looked up in a dict of the run's canaries:
the work grows with the length of the texts, not with texts × canaries.
"""

from __future__ import annotations

from collections.abc import Iterator

from loadtest.canary import find_canaries
from loadtest.history import Op
from loadtest.oracle.context import Context
from loadtest.oracle.model import Finding
from loadtest.oracle.witness import finding_for, label, request_ref


def planting_ops(ctx: Context) -> dict[str, Op]:
    """Shared: canary -> its planting op (the first conversation to carry it owns it)."""
    carriers: dict[str, Op] = {}
    planted: dict[str, Op] = {}
    for op in ctx.ix.ops:
        canary = op.canary
        if canary is None or canary in planted:
            continue
        first = carriers.setdefault(canary, op)
        if first.conversation == op.conversation and op.query is not None and canary in op.query:
            planted[canary] = op
    return {canary: planted.get(canary, first) for canary, first in carriers.items()}


def foreign_canaries(ctx: Context) -> Iterator[Finding]:
    planters = ctx.shared(planting_ops)
    if not planters:
        return
    for op in ctx.ix.ops:
        if op.status != "ok" or not op.text:
            continue
        for token in dict.fromkeys(find_canaries(op.text)):
            source = planters.get(token)
            if token == op.canary or source is None or source.conversation == op.conversation:
                continue
            yield finding_for(
                "foreign-canary", op, victim=(op.index,), source=(source.index,),
                explanation=(f"{label(op)} answered with {source.conversation}'s canary,"
                             f" planted by {request_ref(source)}"),
                value={"canary": token, "planted_by": source.conversation})


def lost_canaries(ctx: Context) -> Iterator[Finding]:
    planters = ctx.shared(planting_ops)
    limit = ctx.history_limit
    for op in ctx.ix.ops:
        if op.expect.canary is not True or op.status != "ok" or op.action != "recommend" or op.canary is None:
            continue
        planter = planters.get(op.canary)
        if planter is None or planter.conversation != op.conversation or planter.status != "ok" \
                or planter.session != op.session or planter.index == op.index \
                or planter.completed_at is None or planter.completed_at > op.invoked_at:
            continue  # the target may never have held this canary in this session
        if limit is not None and op.turn is not None and planter.turn is not None \
                and planter.turn <= op.turn - limit:
            continue  # trimmed by history_limit, as the contract allows
        if op.text is None or op.canary in find_canaries(op.text):
            continue  # no text: the target showed nothing to judge (not even an empty answer)
        yield finding_for(
            "lost-canary", op, victim=(op.index, planter.index),
            explanation=f"{label(op)} did not give back the canary planted by {request_ref(planter)}",
            value={"canary": op.canary, "planted_request_id": planter.request_id})
