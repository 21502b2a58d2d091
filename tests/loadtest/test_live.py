"""Live statistics: what kind of error each unanswered or failed operation counts as."""

from __future__ import annotations

import pytest

from loadtest.history import Op
from loadtest.live import LiveStats, error_kind


def _op(status: str, *, http_status: int | None = None, error: str | None = None) -> Op:
    return Op(index=0, user=0, conversation="u0.c0", scenario="s", step="x", action="recommend",
              status=status, invoked_at=1.0, completed_at=None, request_id="r0",  # type: ignore[arg-type]
              http_status=http_status, error=error)


@pytest.mark.parametrize(("op", "kind"), [
    (_op("ok", http_status=200), None),
    (_op("fail", http_status=503, error="HTTP 503"), "http_503"),
    (_op("unknown", error="timeout: no answer within 10s"), "timeout"),
    (_op("unknown", error="connection: cannot connect to 127.0.0.1:9"), "connection"),
    (_op("unknown", error="connection: cut off by the harness after it was sent (nemesis abort)"), "connection"),
    # In flight when the run stopped: the harness's drain cut it, which says nothing of the target.
    (_op("unknown", error="cancelled: run stopped"), "cancelled"),
])
def test_each_error_is_counted_under_its_kind(op: Op, kind: str | None) -> None:
    assert error_kind(op) == kind
    live = LiveStats()
    live.record(op)
    assert dict(live.errors) == ({} if kind is None else {kind: 1})
