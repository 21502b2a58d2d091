"""The runner: a clean target passes, a leaky one fails with bleeding, open-model requests carry their intended start."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes import FakeServer

from loadtest.history import read_history
from loadtest.live import LiveStats
from loadtest.oracle import check
from loadtest.runner import RunConfig, check_history, run, run_async
from loadtest.scenario import load_builtin, parse_scenarios


def _config(fake: FakeServer, **kw: object) -> RunConfig:
    base: dict[str, object] = dict(http_transport=fake.transport, users=8, iterations=2, think_time=0, seed=5,
                                   ramp_up=0)
    base.update(kw)
    return RunConfig(**base)  # type: ignore[arg-type]


@pytest.mark.anyio
async def test_a_clean_target_passes_every_property() -> None:
    live = LiveStats()
    result = await run_async(_config(FakeServer()), live=live)
    assert result.harness_error is None
    assert result.verdict.valid is True, result.verdict.anomalies
    assert result.verdict.checked.follow_ups > 0 and result.verdict.checked.history_reads > 0
    assert set(result.scenarios) == set(s.name for s in load_builtin("mixed-traffic"))
    assert live.requests == len(result.ops) and live.finished_iterations == 16 and live.phase == "done"
    assert [op.index for op in result.ops] == list(range(len(result.ops)))
    assert len({op.request_id for op in result.ops}) == len(result.ops)
    assert result.latency["first_query"].count > 0 and result.errors == {}


@pytest.mark.anyio
async def test_a_leaky_target_fails_with_bleeding() -> None:
    result = await run_async(_config(FakeServer(leaky=True)))
    assert result.verdict.valid is False
    bleeding = {name for name, found in result.verdict.anomalies.items() if found and found[0].cls == "bleeding"}
    assert {"foreign-request-id", "foreign-anchor"} <= bleeding
    witness = result.verdict.anomalies["foreign-anchor"][0]
    victim = next(op for op in result.ops if op.index == witness.victim[0])
    source = next(op for op in result.ops if op.index == witness.source[0])
    assert victim.conversation != source.conversation


def test_the_same_seed_makes_the_same_run() -> None:
    def plan(seed: int) -> list[tuple[int, str, str | None]]:
        result = run(_config(FakeServer(), seed=seed, users=6, iterations=3))
        return sorted((op.user, op.request_id.split("-", 1)[1], op.query) for op in result.ops)

    assert plan(11) == plan(11)
    assert plan(11) != plan(12)


@pytest.mark.anyio
async def test_the_open_model_records_intended_start_times() -> None:
    # Each request blocks the event loop for 50 ms: arrivals fall behind their schedule,
    # and their latency must still be counted from the schedule (coordinated omission).
    scenario = parse_scenarios('name = "two"\n[[steps]]\nname = "a"\nquery = "Songs by {artist}"\n'
                               '[[steps]]\nthink = 0.2\n[[steps]]\nquery = "More tracks"\n'
                               'expect = { follow_up = "more_tracks", anchor = "a", content = ["artist"] }\n')
    rate = 40.0
    result = await run_async(_config(FakeServer(blocking_delay=0.05), scenarios=scenario, arrival_rate=rate,
                                     duration=0.25, iterations=None, think_time=1.0, preflight=False))
    by_user: dict[int, list] = {}
    for op in result.ops:
        by_user.setdefault(op.user, []).append(op)
    assert sorted(by_user) == list(range(10))            # arrivals at 0, 25 ms, … 225 ms
    for user, (first, second) in by_user.items():
        assert first.invoked_at == user / rate           # the schedule, not the actual send
        assert first.latency is not None and first.latency >= 0.05
        assert second.invoked_at == pytest.approx(first.completed_at + 0.2)   # answer + think time
    late = [ops[0] for ops in by_user.values() if ops[0].latency >= 0.1]
    assert late, "some arrivals must have waited behind the stalled loop, and show it"
    assert result.verdict.valid is True


@pytest.mark.anyio
async def test_the_history_file_rejudges_to_the_same_verdict(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    result = await run_async(_config(FakeServer(leaky=True), history_path=path))
    ops = read_history(path)
    assert ops == list(result.ops)
    assert check(ops, evidence=result.verdict.evidence) == result.verdict
    again = check_history(path)
    assert again.verdict == result.verdict and again.requests == result.requests


@pytest.mark.anyio
async def test_an_unreachable_target_is_a_harness_error() -> None:
    result = await run_async(RunConfig(target="http://127.0.0.1:9", users=2, iterations=1, timeout=2))
    assert result.harness_error is not None and result.harness_error.startswith("target unreachable")
    assert result.verdict.valid == "unknown" and result.ops == []


@pytest.mark.anyio
async def test_skipped_personas_are_reported_not_violations() -> None:
    result = await run_async(_config(FakeServer(unknown_artists=frozenset({"Burial", "Robyn"}))))
    assert sorted(s.persona for s in result.skipped_personas) == ["Burial", "Robyn"]
    assert result.verdict.valid is True
    assert not any(op.subject.get("artist") in {"Burial", "Robyn"} for op in result.ops)


@pytest.mark.parametrize(("kw", "message"), [
    (dict(users=0), "users must be at least 1"),
    (dict(target="http://x", defect="shared-session"), "configure the embedded server"),
    (dict(target="localhost:8000"), "http:// or https://"),
    (dict(arrival_rate=0), "arrival_rate must be positive"),
    (dict(scenarios=parse_scenarios('name = "m"\n[[steps]]\nquery = "{mood} music"\n')), "needs persona field 'mood'"),
])
def test_a_bad_config_is_a_value_error(kw: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RunConfig(**kw)  # type: ignore[arg-type]
