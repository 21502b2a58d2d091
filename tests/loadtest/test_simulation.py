"""``simulate`` as a library function: options in the user's words to a validated run."""

from __future__ import annotations

import pytest

from loadtest.errors import UsageError
from loadtest.profiles import load_profile
from loadtest.scenario import DEFAULT_BUILTIN, load_builtin
from loadtest.simulation import SimulateOptions, run_config


def _names(options: SimulateOptions) -> list[str]:
    return [scenario.name for scenario in run_config(options).resolved_scenarios]


def test_a_foreign_profile_runs_its_own_scenarios_unless_others_are_asked_for() -> None:
    profile = load_profile("beatdebate-original")
    expected = [s.name for name in profile.run.scenarios for s in load_builtin(name)]
    target = "http://127.0.0.1:9"
    assert _names(SimulateOptions(target=target, profile="beatdebate-original")) == expected
    assert _names(SimulateOptions(target=target, profile="beatdebate-original", builtin=["refresh"])) == ["refresh"]


def test_the_contract_runs_the_built_in_mix_by_default() -> None:
    assert _names(SimulateOptions()) == [s.name for s in load_builtin(DEFAULT_BUILTIN)]


def test_allowed_properties_combine_the_profile_and_the_caller() -> None:
    config = run_config(SimulateOptions(target="http://127.0.0.1:9", profile="beatdebate-original",
                                        allow=["weak-id"]))
    assert config.allowed == {"adopted-client-id", "weak-id"}
    denied = run_config(SimulateOptions(target="http://127.0.0.1:9", profile="beatdebate-original",
                                        deny=["adopted-client-id"]))
    assert denied.allowed == frozenset()


@pytest.mark.parametrize("options", [
    SimulateOptions(profile="no-such-profile"),
    SimulateOptions(allow=["not-a-property"]),
    SimulateOptions(deny=["nope"]),
])
def test_a_bad_profile_or_property_is_a_usage_error(options: SimulateOptions) -> None:
    with pytest.raises(UsageError):
        run_config(options)
