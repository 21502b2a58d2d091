"""``loadtest.locustfile.process``: one process's share of a test talks through the plan's
exchange and judges with its evidence and allowed properties."""

from __future__ import annotations

from dataclasses import replace

from loadtest.exchange import CONTRACT
from loadtest.locustfile.process import ProcessRun
from loadtest.profiles import CONTRACT_EVIDENCE, ProfileExchange, evidence, load_profile
from beatdebate_locust import options


def process(*argv: str) -> ProcessRun:
    return ProcessRun(options(*argv), base_url="http://t:1", worker="local", worker_index=0, stride=1)


def test_the_contract_is_spoken_natively_and_judged_on_everything_it_shows() -> None:
    run = process()
    assert run.exchange is CONTRACT
    assert (run.checker.evidence, run.checker.allowed) == (CONTRACT_EVIDENCE, frozenset())


def test_a_profile_run_talks_through_its_exchange_and_judges_with_its_evidence() -> None:
    run = process("--target-profile", "our-server-by-profile", "--allow", "weak-id")
    assert isinstance(run.exchange, ProfileExchange)
    assert run.checker.evidence == evidence(load_profile("our-server-by-profile"))
    assert run.checker.allowed == {"weak-id"}
    assert [s.name for s in run.scenarios] == load_profile("our-server-by-profile").run.scenarios


def test_a_process_that_saw_nothing_sums_up_an_unknown_verdict() -> None:
    rows, summary = process().finish()
    assert rows == [] and set(summary) == {"worker", "valid", "anomalies", "checked", "exercised"}
    assert (summary["valid"], summary["exercised"]) == ("unknown", {})


def test_a_streaming_worker_queues_every_op_for_the_master_and_judges_none() -> None:
    from test_merged import SESSION, chat     # one user's query and "More tracks"

    run = ProcessRun(options(), base_url="http://t:1", worker="w1", worker_index=1, stride=2, stream=True)
    ops = chat(1, session=SESSION, created=True)
    ops[1] = replace(ops[1], anchor=None)       # a follow-up on nothing: lost context, if judged
    assert [run.complete(op) for op in ops] == [[], []]
    assert (run.outbox, run.streamed, run.ops) == (ops, 2, {})
    rows, summary = run.finish()
    assert rows == [] and (summary["worker"], summary["valid"], summary["streamed"]) == ("w1", "unknown", 2)
    # Not vacuous: the same ops judged by a process of its own are a violation.
    judging = process()
    found = [row["property"] for op in ops for row in judging.complete(op)] + [r["property"] for r in judging.finish()[0]]
    assert found == ["lost-context"]
