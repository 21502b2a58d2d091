"""``expectation-failed``: an answer that does not meet its scenario step's ``Expect``.

Judged per ok recommend, at once: ``expect.kind`` against ``intent.kind``,
``expect.follow_up`` against ``intent.follow_up``, ``expect.new_session`` against
``session_created``. ``None`` means no requirement. (``expect.anchor`` and
``expect.content`` are judged by ``anchors`` and ``content``, which can tell whose context
an answer used.)
"""

from __future__ import annotations

from loadtest.history import Op
from loadtest.oracle.explain import anomaly_for, label
from loadtest.oracle.model import Anomaly


def failed_expectation(op: Op) -> Anomaly | None:
    if op.action != "recommend" or op.status != "ok":
        return None
    expect = op.expect
    misses: dict[str, dict[str, object]] = {}
    if expect.kind is not None and op.kind != expect.kind:
        misses["kind"] = {"expected": expect.kind, "actual": op.kind}
    if expect.follow_up is not None and op.follow_up != expect.follow_up:
        misses["follow_up"] = {"expected": expect.follow_up, "actual": op.follow_up}
    if expect.new_session is not None and bool(op.session_created) != expect.new_session:
        misses["session_created"] = {"expected": expect.new_session, "actual": bool(op.session_created)}
    if not misses:
        return None
    said = "; ".join(f"{name} {miss['actual']!r}, expected {miss['expected']!r}" for name, miss in misses.items())
    return anomaly_for("expectation-failed", op, victim=(op.index,),
                       explanation=f"{label(op)} at step {op.step!r}: {said}", value=misses)
