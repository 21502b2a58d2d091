"""Small made-up runs for the report tests: a few seconds of ops, a witness, hostile text.

``run_result`` builds a ``RunResult`` the way the runner would (latencies recorded through
``LiveStats``), with ``slower`` stretching every latency and ``bleeding`` adding a
foreign-anchor anomaly whose victim answered text that looks like markup, as an untrusted
service's answer may.
"""

from __future__ import annotations

from loadtest.coverage import ScenarioCoverage
from loadtest.history import Anchor, Expect, FaultWindow, Op, TrackSeen
from loadtest.live import LiveStats
from loadtest.oracle.model import Anomaly, Checked, Verdict
from loadtest.result import RunResult

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'
TARGET = "http://127.0.0.1:8765"


def _recommend(index: int, *, user: int, conversation: str, turn: int, at: float, latency: float,
               query: str, anchor: Anchor | None = None, status: str = "ok") -> Op:
    follow_up = "more_tracks" if turn > 1 else None
    return Op(index=index, user=user, conversation=conversation, scenario="follow-up-isolation", step=f"step{turn}",
              action="recommend", status=status, invoked_at=at, completed_at=at + latency,  # type: ignore[arg-type]
              request_id=f"r-{index}", session_sent=None if turn == 1 else f"S{user}", session=f"S{user}",
              http_status=200 if status == "ok" else 503, query=query, expect=Expect(follow_up=follow_up),
              turn=turn, follow_up=follow_up, anchor=anchor, tracks=(TrackSeen(f"t{index}", HOSTILE),))


def ops(*, slower: float = 1.0, errors: int = 0) -> list[Op]:
    """Two users over four seconds: each asks, then follows up twice; ``errors`` of the last
    follow-ups fail with a 503."""
    out: list[Op] = []
    for user in (1, 2):
        for turn in (1, 2, 3):
            index = len(out)
            at = (user - 1) * 0.5 + (turn - 1) * 1.2
            failing = turn == 3 and user <= errors
            out.append(_recommend(index, user=user, conversation=f"u{user}.c1", turn=turn, at=at,
                                  latency=0.010 * turn * slower, query=f"Songs by {HOSTILE}" if turn == 1 else "More",
                                  anchor=Anchor(turn=1, request_id="r-0") if turn == 2 and user == 2 else None,
                                  status="fail" if failing else "ok"))
    return out


FOREIGN_ANCHOR = Anomaly(property="foreign-anchor", cls="bleeding", session="S2", conversation="u2.c1",
                         scenario="follow-up-isolation", victim=(4,), source=(0,),
                         explanation=f"u2.c1 turn 2 anchored on u1.c1's request r-0 {HOSTILE}")


def run_result(*, slower: float = 1.0, bleeding: bool = True, errors: int = 0,
               faults: tuple[FaultWindow, ...] = ()) -> RunResult:
    recorded = ops(slower=slower, errors=errors)
    stats = LiveStats()
    for op in recorded:
        stats.record(op)
    anomalies = {"foreign-anchor": (FOREIGN_ANCHOR,)} if bleeding else {}
    return RunResult(target=TARGET, scenarios=("follow-up-isolation",), settings={"users": 2, "seed": 7},
                     started_at=1_764_000_000.0, elapsed=4.0, ops=recorded,
                     verdict=Verdict(not bleeding, anomalies, Checked(operations=len(recorded), sessions=2,
                                                                      follow_ups=4, history_reads=0)),
                     latency=dict(stats.latency), errors=dict(stats.errors), faults=faults,
                     # Two conversations planning two follow-ups each; a failed one checked one of them.
                     coverage={"follow-up-isolation": ScenarioCoverage(
                         "follow-up-isolation", per_conversation=2, completed=2 - errors, failed=errors, planned=4,
                         checked=4 - errors)})
