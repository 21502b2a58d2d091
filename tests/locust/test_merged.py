"""``loadtest.locustfile.merged``: the master's one checker over every worker's operations.

In-process (the module imports no Locust): batches as workers send them, the merged
numbering, a property that only the merged history shows, and the cases where the master
must refuse to give a verdict (it fell behind, a worker's ops did not all arrive).
"""

from __future__ import annotations

from loadtest.history import Anchor, Expect, Op
from loadtest.isolation_board import IsolationBoard
from loadtest.locustfile.merged import MergedHistory, batch_bytes, ops_of
from loadtest.oracle import ALL_EVIDENCE, check
from loadtest.outcome import ExitCode

SESSION = "S" * 43


def chat(user: int, *, session: str, created: bool, start: float = 0.0, turn: int = 1) -> list[Op]:
    """One user's conversation as its worker numbers it: a query, then one "More tracks"
    (``turn``: the query's turn number in ``session``)."""
    rid = f"w{user}-r"
    first = Op(index=0, user=user, conversation=f"u{user}.c1", scenario="one-chat", step="artist",
               action="recommend", status="ok", invoked_at=start, completed_at=start + 0.1,
               request_id=rid + "0", session=session, query="Songs by X", turn=turn, session_created=created,
               kind="by_artist", expect=Expect(kind="by_artist", anchor="none"))
    more = Op(index=1, user=user, conversation=f"u{user}.c1", scenario="one-chat", step="more",
              action="recommend", status="ok", invoked_at=start + 0.2, completed_at=start + 0.3,
              request_id=rid + "1", session_sent=session, session=session, query="More tracks", turn=turn + 1,
              session_created=False, kind="follow_up", follow_up="more_tracks",
              anchor=Anchor(turn=turn, request_id=rid + "0"),
              expect=Expect(follow_up="more_tracks", anchor="artist"))
    return [first, more]


def merged(slots: int = 2, **kwargs: float) -> MergedHistory:
    return MergedHistory(slots=slots, history_limit=50, evidence=ALL_EVIDENCE, allowed=(), base_url="http://t",
                         origin=1000.0, **kwargs)  # type: ignore[arg-type]


def batch(slot: int, ops: list[Op], origin: float = 1000.0) -> dict[str, object]:
    return {"slot": slot, "ops": batch_bytes(ops), "count": len(ops), "origin": origin}


def test_a_batch_carries_every_field_of_an_op() -> None:
    ops = chat(0, session=SESSION, created=True)
    assert ops_of(batch_bytes(ops)) == ops


def test_ops_are_renumbered_apart_per_worker_and_put_on_the_masters_clock() -> None:
    history = merged(slots=2)
    history.enqueue(batch(1, chat(1, session="B" * 43, created=True), origin=1002.5))
    history.enqueue(batch(0, chat(0, session=SESSION, created=True)))
    history.close(0, 2)
    history.close(1, 2)
    rows, summary = history.finish([0, 1])
    assert (rows, summary["valid"], summary["error"]) == ([], True, None)
    ops = history.history()
    assert [(op.index, op.user) for op in ops] == [(0, 0), (1, 1), (2, 0), (3, 1)]
    assert [op.invoked_at for op in ops if op.user == 1] == [2.5, 2.7]     # 2.5 s later on the master's clock


def test_one_id_answered_to_users_of_two_workers_is_found_only_in_the_merged_history() -> None:
    first, second = chat(0, session=SESSION, created=True), chat(1, session=SESSION, created=False, start=1.0, turn=3)
    for own in (first, second):       # what a worker's own checker would have said
        assert check(own).valid is True
    history = merged(slots=2)
    history.enqueue(batch(0, first))
    history.enqueue(batch(1, second))
    found = history.judge_next() or []
    found += history.judge_next() or []
    history.close(0, 2)
    history.close(1, 2)
    rows, summary = history.finish([0, 1])
    rows = found + rows
    assert summary["valid"] is False
    assert [(row["property"], row["worker"]) for row in rows] == [("id-collision", "w0+w1")]
    assert "victim op 1: u1.c1" in rows[0]["ops"] and "source op 0: u0.c1" in rows[0]["ops"]
    # The merged history judged offline (``beatdebate check``) gives the same verdict.
    offline = check(history.history(), history_limit=50)
    assert (offline.valid, {name: len(found) for name, found in offline.anomalies.items()}) == (
        False, {"id-collision": 1})


def test_a_worker_that_never_sent_its_last_batch_makes_the_verdict_a_harness_error() -> None:
    history = merged(slots=2)
    history.enqueue(batch(0, chat(0, session=SESSION, created=True)))
    history.close(0, 2)
    _, summary = history.finish([0, 1])            # w1 ran, and never answered
    assert summary["valid"] == "unknown"
    assert summary["error"] == "the verdict is not whole: worker(s) w1: no final batch"


def test_ops_lost_on_the_way_make_the_verdict_a_harness_error() -> None:
    history = merged(slots=1)
    history.enqueue(batch(0, chat(0, session=SESSION, created=True)))
    history.close(0, 5)
    _, summary = history.finish([0])
    assert summary["error"] == "the verdict is not whole: worker(s) w0: sent 5 ops, 2 arrived"


def test_a_master_that_falls_behind_stops_judging_rather_than_judge_a_part() -> None:
    backlog = merged(slots=1, max_backlog=3)
    backlog.enqueue(batch(0, chat(0, session=SESSION, created=True)))
    assert backlog.error is None
    backlog.enqueue(batch(0, chat(1, session="B" * 43, created=True)))
    assert backlog.error == "the master's checker cannot keep up: 4 operations wait to be judged (bound 3)"
    assert backlog.judge_next() is None and backlog.backlog == 0

    lag = merged(slots=1, max_lag=5.0)
    lag.enqueue(batch(0, chat(0, session=SESSION, created=True)), now=100.0)
    assert lag.judge_next(now=106.0) is None
    assert lag.error == "the master's checker cannot keep up: a batch waited 6.0 s to be judged (bound 5 s)"
    lag.close(0, 2)
    _, summary = lag.finish([0])
    assert (summary["valid"], summary["error"]) == ("unknown", lag.error)


def test_a_batch_that_does_not_decode_stops_judging_with_the_reason() -> None:
    history = merged(slots=1)
    history.enqueue({"slot": 0, "ops": b'[{"index": 0}]', "count": 1, "origin": 1000.0})
    assert history.judge_next() is None
    assert history.error is not None and history.error.startswith("a batch of worker w0 is not a batch of operations")


def test_a_worker_numbered_beyond_expect_workers_cannot_be_merged() -> None:
    history = merged(slots=2)
    history.enqueue(batch(2, chat(2, session=SESSION, created=True)))
    assert history.error is not None and "worker index 2 is beyond --expect-workers 2" in history.error


def test_the_board_exits_with_the_harness_code_on_an_error_unless_a_violation_was_proven() -> None:
    board = IsolationBoard()
    board.reset(scope="whole-history", workers=2)
    board.add_summary({"worker": "master", "valid": "unknown", "anomalies": 0, "checked": {}, "exercised": {}})
    board.fail("the master's checker cannot keep up")
    assert (board.exit_code, board.snapshot()["error"]) == (ExitCode.HARNESS, "the master's checker cannot keep up")
    assert (board.snapshot()["scope"], board.snapshot()["workers"]) == ("whole-history", 2)
    history = merged(slots=2)
    history.enqueue(batch(0, chat(0, session=SESSION, created=True)))
    history.enqueue(batch(1, chat(1, session=SESSION, created=False, start=1.0, turn=3)))
    history.close(0, 2)
    history.close(1, 2)
    board.add(history.finish([0, 1])[0])
    assert board.exit_code == ExitCode.ISOLATION      # a proven violation outranks the harness error
