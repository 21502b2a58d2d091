"""The run policy of a profile: allowed properties (a deny always wins) and default scenarios."""

from __future__ import annotations

import pytest

from loadtest.errors import UsageError
from loadtest.profiles import allowed_properties, check_property_names, default_scenarios, load_profile
from loadtest.profiles.load import parse_profile
from loadtest.scenario import DEFAULT_BUILTIN, load_builtin

DENYING = parse_profile('name = "denying"\nkind = "contract"\n[properties]\ndeny = ["weak-id"]\n')


def test_a_deny_wins_wherever_it_is_written() -> None:
    original = load_profile("beatdebate-original")
    assert allowed_properties(original) == {"adopted-client-id"}
    assert allowed_properties(original, deny=["adopted-client-id"]) == frozenset()
    assert allowed_properties(DENYING, allow=["weak-id", "id-collision"]) == {"id-collision"}


def test_a_foreign_profile_brings_its_scenarios_and_the_contract_the_mix() -> None:
    original = load_profile("beatdebate-original")
    assert [s.name for s in default_scenarios(original)] == [
        s.name for name in original.run.scenarios for s in load_builtin(name)]
    assert default_scenarios(load_profile("contract")) == load_builtin(DEFAULT_BUILTIN)
    refresh = load_builtin("refresh")
    assert default_scenarios(original, refresh) == refresh


def test_unknown_property_names_are_usage_errors() -> None:
    check_property_names(["foreign-anchor", "stale-anchor", "foreign-canary"])
    with pytest.raises(UsageError, match="unknown property 'nope'"):
        check_property_names(["foreign-anchor", "nope"])
