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


def test_a_profile_run_replays_its_witnesses_in_the_profile_s_own_words() -> None:
    from loadtest.history import Op
    from loadtest.report.replay import replay_for

    op = Op(index=3, user=1, conversation="u1.c1", scenario="s", step="more", action="recommend", status="ok",
            invoked_at=0.0, completed_at=0.1, request_id="bd1-u1-3", session_sent="abc", query="More tracks")
    contract = replay_for({"profile_source": "contract"})(op, "http://h")
    assert contract is not None and "http://h/recommendations" in contract
    original = replay_for({"profile_source": "beatdebate-original"})(op, "http://h/")
    assert original is not None
    assert "http://h/recommendations" in original and '"max_recommendations":10' in original
    assert '"session_id":"abc"' in original and "X-Request-ID: bd1-u1-3" in original
    assert replay_for({"profile_source": "/no/such/profile.toml"})(op, "http://h") is None
