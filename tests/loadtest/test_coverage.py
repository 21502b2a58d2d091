"""Coverage: follow-ups planned per conversation, conversations counted by outcome, the lowest share."""

from __future__ import annotations

import pytest

from loadtest.coverage import CoverageTally, ScenarioCoverage, lowest, planned_follow_ups
from loadtest.scenario import load_builtin, parse_scenarios

(BURST,) = load_builtin("same-session-burst")
(FOLLOW_UPS,) = load_builtin("follow-up-isolation")
(NO_FOLLOW_UP,) = parse_scenarios('name = "plain"\n[[steps]]\nquery = "Songs by {artist}"\n'
                                  '[[steps]]\nname = "read"\nread_history = true\n')


@pytest.mark.parametrize(("name", "planned"), [
    ("follow-up-isolation", 4),        # more-1, more-2, more-3, more-genre
    ("concurrent-new-sessions", 2),
    ("refresh", 1),                    # "More tracks" after the refresh expects no follow-up
    ("same-session-burst", 5),         # a double submit and a triple one
    ("made-up-and-expired-ids", 1),
    ("canary-recall", 0),
])
def test_planned_follow_ups_are_the_steps_expecting_one_times_their_copies(name: str, planned: int) -> None:
    (scenario,) = load_builtin(name)
    assert planned_follow_ups(scenario) == planned


def test_the_tally_counts_conversations_by_outcome_and_leaves_cut_ones_out_of_the_share() -> None:
    tally = CoverageTally([BURST, NO_FOLLOW_UP])
    tally.record(BURST, "completed", checked=5)
    tally.record(BURST, "failed", checked=2)
    tally.record(BURST, "cut", checked=3)
    tally.record(FOLLOW_UPS, "failed", checked=0)        # a scenario first seen when it ends
    assert tally.result() == {
        "same-session-burst": ScenarioCoverage("same-session-burst", 5, completed=1, failed=1, cut=1,
                                               planned=10, checked=7),
        "plain": ScenarioCoverage("plain", 0),
        "follow-up-isolation": ScenarioCoverage("follow-up-isolation", 4, failed=1, planned=4, checked=0),
    }
    burst = tally.result()["same-session-burst"]
    assert burst.started == 3 and burst.share == pytest.approx(0.7)
    assert burst.describe() == "7 of 10 planned follow-ups checked (70%)"


def test_a_scenario_without_follow_ups_is_not_applicable_and_one_without_ended_conversations_has_no_share() -> None:
    plain = ScenarioCoverage("plain", 0, completed=4)
    assert not plain.applicable and plain.share is None
    assert plain.describe().startswith("not applicable")
    cut = ScenarioCoverage("burst", 5, cut=2)
    assert cut.applicable and cut.share is None and cut.describe().startswith("no conversation completed or failed")


def test_lowest_is_the_applicable_scenario_with_the_lowest_share() -> None:
    coverage = {
        "a": ScenarioCoverage("a", 2, completed=4, planned=8, checked=8),
        "b": ScenarioCoverage("b", 1, failed=4, planned=4, checked=1),
        "plain": ScenarioCoverage("plain", 0, completed=9),
        "cut": ScenarioCoverage("cut", 3, cut=1),
    }
    assert lowest(coverage) == coverage["b"]
    assert lowest({"plain": coverage["plain"], "cut": coverage["cut"]}) is None
