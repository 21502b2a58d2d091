"""``expectation-failed``: an answer that does not meet its scenario step's ``Expect``.

Judged per ok recommend, at once: ``expect.kind`` against ``intent.kind``,
``expect.follow_up`` against ``intent.follow_up`` (a bare follow-up flag meets any kind), ``expect.new_session`` against
``session_created``. ``None`` means no requirement, and an expectation on something the
target does not show (its evidence lacks ``follow_up`` or ``session_created``) is not
judged. (``expect.anchor`` and ``expect.content`` are judged by ``anchors`` and
``content``, which can tell whose context an answer used; ``expect.canary`` by
``canaries``.)
"""

from __future__ import annotations

from collections.abc import Iterator

from loadtest.history import FOLLOW_UP_FLAG, Op
from loadtest.oracle.context import Context
from loadtest.oracle.model import Evidence, Finding
from loadtest.oracle.witness import finding_for, label


def failed_expectation(op: Op, evidence: frozenset[Evidence]) -> Finding | None:
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
            and "session_created" in evidence:
        misses["session_created"] = {"expected": expect.new_session, "actual": bool(op.session_created)}
    if not misses:
        return None
    said = "; ".join(f"{name} {miss['actual']!r}, expected {miss['expected']!r}" for name, miss in misses.items())
    return finding_for("expectation-failed", op, victim=(op.index,),
                       explanation=f"{label(op)} at step {op.step!r}: {said}", value=misses)


def failed_expectations(ctx: Context) -> Iterator[Finding]:
    for op in ctx.ix.ops:
        failed = failed_expectation(op, ctx.evidence)
        if failed is not None:
            yield failed
