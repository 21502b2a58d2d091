"""Load stages (``loadtest.stages``): the grammar, the schedules, how they meet the other load
options, and real runs whose users and arrivals over time, read from the JSON report's time
series, follow the stages."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from loadtest.errors import UsageError
from loadtest.run_config import RunConfig
from loadtest.scenario import ScenarioError, parse_scenarios, shared_load_shape
from loadtest.stages import (
    Stage, StageError, arrival_times, arrivals_due, level_at, parse_arrival_stages, parse_stages, peak, ramp_steps,
    total_duration, user_steps, users_at,
)
from tests.loadtest.fakes import artist_then_more

BEATDEBATE = Path(sys.executable).with_name("beatdebate")

# ---- the grammar -----------------------------------------------------------------------


def test_user_stages_read_as_k6_writes_them() -> None:
    assert parse_stages("30s:50,1m:200, 500ms:0") == (Stage(30, 50), Stage(60, 200), Stage(0.5, 0))
    assert parse_stages(["2s:10", "2s:0"]) == parse_stages("2s:10,2s:0")   # a TOML list, one grammar
    assert parse_stages("0s:5,3:5") == (Stage(0, 5), Stage(3, 5))          # a jump; a bare number is seconds


def test_arrival_stages_take_rates_with_or_without_per_second() -> None:
    assert parse_arrival_stages("30s:10/s,1m:100,10s:0/s") == (Stage(30, 10), Stage(60, 100), Stage(10, 0))
    assert parse_arrival_stages("1s:2.5/s") == (Stage(1, 2.5),)


@pytest.mark.parametrize(("text", "message"), [
    ("", "--stages is empty"),
    ("30s", "stage 1 ('30s') is not DURATION:TARGET"),
    ("30s:50,1x:10", "stage 2 ('1x:10'): '1x': unit 'x' is not a duration"),
    ("30s:12.5", "'12.5' is not a whole number of users"),
    ("30s:-3", "'-3' is not a whole number of users"),
    ("30s:0,10s:0", "no stage has a user in it"),
    ("0s:10", "the stages last no time at all"),
    ("30s:5,", "stage 2 ('') is not DURATION:TARGET"),
])
def test_bad_user_stages_say_which_stage_and_why(text: str, message: str) -> None:
    with pytest.raises(StageError, match="^--stages") as raised:
        parse_stages(text)
    assert message in str(raised.value)
    assert isinstance(raised.value, UsageError)   # exit 2 on the command line


@pytest.mark.parametrize(("text", "message"), [
    ("30s:fast", "'fast' is not a rate such as 20/s"),
    ("30s:0/s", "every rate is 0"),
    ("1m:10/min", "is not a rate"),
])
def test_bad_arrival_stages_say_why(text: str, message: str) -> None:
    with pytest.raises(StageError, match="^--arrival-stages") as raised:
        parse_arrival_stages(text)
    assert message in str(raised.value)


# ---- the schedules ---------------------------------------------------------------------


def test_users_change_when_the_line_reaches_a_whole_number() -> None:
    stages = parse_stages("2s:4,1s:4,1s:0")
    assert user_steps(stages) == [(0.5, 1), (1.0, 2), (1.5, 3), (2.0, 4), (3.25, 3), (3.5, 2), (3.75, 1), (4.0, 0)]
    assert [users_at(stages, t) for t in (0.0, 0.49, 0.5, 1.9, 2.5, 3.3, 3.99, 4.0, 9.0)] == [0, 0, 1, 3, 4, 3, 1, 0, 0]
    assert (total_duration(stages), peak(stages)) == (4.0, 4.0)
    assert level_at(stages, 1.0) == 2.0 and level_at(stages, 3.5) == 2.0


def test_a_jump_changes_the_users_at_once() -> None:
    assert user_steps(parse_stages("0s:3,1s:3,0s:1,1s:1")) == [(0.0, 1), (0.0, 2), (0.0, 3), (1.0, 2), (1.0, 1)]


def test_the_classic_ramp_up_starts_user_n_at_n_ramp_over_users() -> None:
    assert ramp_steps(4, 2.0) == [(0.0, 1), (0.5, 2), (1.0, 3), (1.5, 4)]
    assert ramp_steps(3, 0.0) == [(0.0, 1), (0.0, 2), (0.0, 3)]


def test_a_constant_rate_arrives_as_the_open_model_always_did() -> None:
    # n / rate for n = 0, 1, … while before the end: the runner's schedule before stages existed.
    assert list(arrival_times((Stage(2.0, 5.0),), start=5.0)) == pytest.approx([n / 5 for n in range(10)])


def test_the_n_th_arrival_comes_when_n_are_due() -> None:
    stages = parse_arrival_stages("2s:10/s,2s:10/s,2s:0/s")
    times = list(arrival_times(stages))
    assert len(times) == arrivals_due(stages, 6.0) == 40   # 10 up the ramp, 20 flat, 10 down
    for number, at in enumerate(times):
        assert arrivals_due(stages, at) == pytest.approx(number)
    assert times == sorted(times) and times[-1] < 6.0
    # Per second: 0→10/s over 2 s is 2.5 then 7.5 due; flat 10 and 10; down 7.5 then 2.5.
    per_second = [sum(t <= at < t + 1 for at in times) for t in range(6)]
    assert per_second == [3, 7, 10, 10, 8, 2]


def test_a_stage_at_zero_rate_holds_arrivals_back() -> None:
    times = list(arrival_times(parse_arrival_stages("0s:4/s,1s:4/s,0s:0/s,2s:0/s,0s:4/s,1s:4/s")))
    assert times == pytest.approx([0.0, 0.25, 0.5, 0.75, 3.0, 3.25, 3.5, 3.75])


# ---- with the other options --------------------------------------------------------------

USERS = parse_stages("2s:10,2s:0")
RATES = parse_arrival_stages("2s:10/s")


@pytest.mark.parametrize(("options", "message"), [
    ({"stages": USERS, "users": 5}, "--stages sets the load over time and the run's length: it cannot go with --users"),
    ({"stages": USERS, "ramp_up": 1.0, "duration": 3.0}, "cannot go with --ramp-up, --duration"),
    ({"stages": USERS, "iterations": 2}, "cannot go with --iterations"),
    ({"stages": USERS, "arrival_rate": 3.0}, "cannot go with --arrival-rate"),
    ({"arrival_stages": RATES, "arrival_rate": 3.0}, "--arrival-stages sets the load over time"),
    ({"arrival_stages": RATES, "duration": 3.0}, "cannot go with --duration"),
    ({"stages": USERS, "arrival_stages": RATES}, "not both"),
])
def test_stages_conflict_with_the_options_they_replace(options: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(UsageError, match=message):
        RunConfig(app=object(), **options)


def test_stages_set_the_model_the_users_and_the_length() -> None:
    closed = RunConfig(app=object(), stages=USERS)
    assert (closed.model, closed.planned_users, closed.planned_duration) == ("closed", 10, 4.0)
    opened = RunConfig(app=object(), arrival_stages=RATES, iterations=2)   # an arrival's iterations: allowed
    assert (opened.model, opened.planned_users, opened.planned_duration) == ("open", None, 2.0)
    plain = RunConfig(app=object())
    assert (plain.model, plain.planned_users, plain.planned_duration) == ("closed", 50, 20.0)


def _scenario(shape: str, name: str = "staged") -> str:
    return artist_then_more(shape, name=name)


def test_a_scenario_file_carries_stages_as_a_string_or_a_list() -> None:
    (one,) = parse_scenarios(_scenario('stages = "2s:10,2s:0"'))
    (two,) = parse_scenarios(_scenario('arrival_stages = ["2s:10/s", "1s:0/s"]'))
    assert (one.stages, one.arrival_stages) == (USERS, ())
    assert (two.stages, two.arrival_stages) == ((), parse_arrival_stages("2s:10/s,1s:0/s"))


@pytest.mark.parametrize(("shape", "message"), [
    ('stages = "2s:ten"', "my.toml:2: stages: stage 1 ('2s:ten'): 'ten' is not a whole number of users"),
    ('arrival_stages = "2s"', "my.toml:2: arrival_stages: stage 1 ('2s') is not DURATION:TARGET"),
    ('stages = "1s:1"\narrival_stages = "1s:1/s"', "my.toml:3: arrival_stages: give stages"),
    ("stages = 5", "my.toml:2: stages:"),
])
def test_bad_stages_in_a_scenario_file_name_the_file_line_and_key(shape: str, message: str) -> None:
    with pytest.raises(ScenarioError) as raised:
        parse_scenarios(_scenario(shape), source="my.toml")
    assert str(raised.value).startswith(message)


def test_a_files_stages_apply_unless_the_command_line_gives_a_load_shape() -> None:
    (staged,) = parse_scenarios(_scenario('stages = "2s:10,2s:0"'))
    assert RunConfig(app=object(), scenarios=(staged,)).user_stages == USERS
    for given in ({"users": 3}, {"duration": 5.0}, {"arrival_rate": 2.0}):
        config = RunConfig(app=object(), scenarios=(staged,), **given)   # as k6: the command line wins
        assert config.user_stages == () and config.planned_duration == given.get("duration", 20.0)
    replaced = RunConfig(app=object(), scenarios=(staged,), arrival_stages=RATES)
    assert (replaced.model, replaced.user_stages, replaced.rate_stages) == ("open", (), RATES)


def test_two_files_with_different_stages_are_a_usage_error() -> None:
    (one,) = parse_scenarios(_scenario('stages = "2s:10,2s:0"', "one"), source="one.toml")
    (two,) = parse_scenarios(_scenario('stages = "2s:10"', "two"), source="two.toml")
    (same,) = parse_scenarios(_scenario('stages = ["2s:10", "2s:0"]', "same"), source="same.toml")
    assert shared_load_shape((one, same)) == (USERS, ())
    with pytest.raises(UsageError, match=r"two.toml: stages: its stages differ from those of one.toml"):
        RunConfig(app=object(), scenarios=(one, two))


def test_a_mix_gives_its_stages_to_its_members(tmp_path: Path) -> None:
    (tmp_path / "member.toml").write_text(_scenario('stages = "9s:1"', "member"))
    mix = 'name = "mix"\nstages = "2s:10,2s:0"\n[[mix]]\npath = "member.toml"\n[[mix]]\nbuiltin = "refresh"\n'
    found = parse_scenarios(mix, base=tmp_path)
    assert [(s.name, s.stages) for s in found] == [("member", USERS), ("refresh", USERS)]


# ---- real runs, read from the time series ---------------------------------------------------


def _run(tmp_path: Path, *args: str) -> tuple[int, dict, str]:  # type: ignore[type-arg]
    report = tmp_path / "report.json"
    done = subprocess.run([str(BEATDEBATE), *args, "--json", str(report)], capture_output=True, text=True,
                          timeout=120, check=False)
    output = done.stdout + done.stderr
    return done.returncode, orjson.loads(report.read_bytes()) if report.exists() else {}, output


def _buckets(report: dict, key: str) -> list[int]:  # type: ignore[type-arg]
    buckets = report["time_series"]["buckets"]
    assert report["time_series"]["bucket_seconds"] == 1
    assert [b["t"] for b in buckets] == list(range(len(buckets)))
    return [b[key] for b in buckets]


@pytest.mark.slow
def test_users_over_time_follow_the_stages(tmp_path: Path) -> None:
    text = "2s:10,2s:10,2s:0"
    code, report, output = _run(tmp_path, "simulate", "--stages", text, "--think-time", "0", "--seed", "7",
                                "--quiet")
    assert code == 0, output
    assert report["settings"]["stages"] == text and report["settings"]["duration"] == 6.0
    assert report["settings"]["users"] == 10
    users = _buckets(report, "users")
    stages = parse_stages(text)
    # A user counts in every second it was alive, so a second shows the most users the
    # stages asked for at any moment of it; a user asked to stop ends its iteration first.
    expected = [max(users_at(stages, t), users_at(stages, t + 0.999)) for t in range(6)]
    assert expected == [4, 9, 10, 10, 10, 5]      # the 5th user starts at 1.0 s, the 10th at 2.0 s
    assert users[2:4] == [10, 10], users          # the plateau: exactly the stage's users
    for second, (seen, wanted) in enumerate(zip(users[:6], expected, strict=True)):
        assert abs(seen - wanted) <= 1, (second, users, expected)
    assert users[0] < users[1] and users[5] < users[4], users   # up the ramp, and down
    assert sum(users[6:]) <= 1, users                           # nobody past the last stage


@pytest.mark.slow
def test_arrivals_over_time_follow_a_scenario_files_arrival_stages(tmp_path: Path) -> None:
    text = "2s:20/s,1s:20/s,2s:0/s"
    scenario = tmp_path / "staged.toml"
    scenario.write_text(_scenario(f'arrival_stages = "{text}"'))
    code, report, output = _run(tmp_path, "simulate", "--scenario", str(scenario), "--think-time", "0",
                                "--seed", "7", "--quiet")
    assert code == 0, output
    assert (report["settings"]["model"], report["settings"]["arrival_stages"]) == ("open", text)
    arrivals = _buckets(report, "arrivals")
    times = list(arrival_times(parse_arrival_stages(text)))
    expected = [sum(t <= at < t + 1 for at in times) for t in range(5)]
    assert expected == [5, 15, 20, 15, 5]
    assert sum(arrivals) == len(times) == 60, arrivals    # one conversation per arrival, every one
    for second, (seen, wanted) in enumerate(zip(arrivals[:5], expected, strict=True)):
        assert abs(seen - wanted) <= 2, (second, arrivals, expected)
