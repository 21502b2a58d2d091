"""``loadtest.locustfile.process``: one process's share of a test talks through the plan's
exchange and judges with its evidence and allowed properties."""

from __future__ import annotations

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
