"""``expectation-failed``: an answer that does not meet its scenario step's ``Expect``.

Judged per ok recommend, at once: ``expect.kind`` against ``intent.kind``,
``expect.follow_up`` against ``intent.follow_up`` (a bare follow-up flag meets any kind), ``expect.new_session`` against
``session_created``. ``None`` means no requirement, and an expectation on something the
target does not show (its evidence lacks ``follow_up`` or ``session_created``) is not
judged. (``expect.anchor`` and ``expect.content`` are judged by ``anchors`` and
``content``, which can tell whose context an answer used; ``expect.canary`` by
``canaries``.)

``expect.new_session`` rests on what the conversation believes about its session, which an
earlier op of unknown outcome in it (a delete, a first query that timed out) may have made
wrong either way: after one, it is not judged (Jepsen: the request may or may not have taken
effect, and a loss is reported only when it is one in both cases). The incremental checker
cannot know that no such op is still to come, so it leaves a ``session_created`` miss to the
final verdict.
"""

from __future__ import annotations

from collections.abc import Iterator

from loadtest.history import FOLLOW_UP_FLAG, Op
from loadtest.oracle.context import Context
from loadtest.oracle.model import Evidence, Finding
from loadtest.oracle.witness import finding_for, label


def failed_expectation(op: Op, evidence: frozenset[Evidence], *, session_known: bool = True) -> Finding | None:
    """The step expectations ``op`` misses; ``session_known`` false (an earlier op of the
    conversation has an unknown outcome) leaves ``new_session`` unjudged."""
    if op.action != "recommend" or op.status != "ok":
        return None
    expect = op.expect
    misses: dict[str, dict[str, object]] = {}
    if expect.kind is not None and op.kind != expect.kind and "intent" in evidence:
        misses["kind"] = {"expected": expect.kind, "actual": op.kind}
    # A bare flag (FOLLOW_UP_FLAG) says only that the answer follows up: any expected kind holds.
    if expect.follow_up is not None and op.follow_up not in (expect.follow_up, FOLLOW_UP_FLAG) \
            and "follow_up" in evidence:
        misses["follow_up"] = {"expected": expect.follow_up, "actual": op.follow_up}
    if expect.new_session is not None and bool(op.session_created) != expect.new_session \
            and "session_created" in evidence and session_known:
        misses["session_created"] = {"expected": expect.new_session, "actual": bool(op.session_created)}
    if not misses:
        return None
    said = "; ".join(f"{name} {miss['actual']!r}, expected {miss['expected']!r}" for name, miss in misses.items())
    return finding_for("expectation-failed", op, victim=(op.index,),
                       explanation=f"{label(op)} at step {op.step!r}: {said}", value=misses)


def failed_expectations(ctx: Context) -> Iterator[Finding]:
    first_unknown = ctx.ix.first_unknown
    for op in ctx.ix.ops:
        known = first_unknown.get(op.conversation, op.index) >= op.index
        failed = failed_expectation(op, ctx.evidence, session_known=known)
        if failed is not None:
            yield failed
