"""``loadtest.locustfile.options``: the plan a test runs by (target profile, scenarios, evidence,
allowed properties), resolved from the locustfile's options without Locust."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from loadtest.errors import UsageError
from loadtest.locustfile.options import allowed_properties, property_names, resolve_plan
from loadtest.profiles import CONTRACT_EVIDENCE, contract_profile, evidence, load_profile
from loadtest.scenario import DEFAULT_BUILTIN, load_builtin
from beatdebate_locust import options

GRADIO = 'name = "chat"\nkind = "gradio"\n\n[gradio]\napi_name = "/chat"\ninputs = ["{query}"]\n\n[answer]\ntext = "@"\n'


def names(scenarios: Any) -> list[str]:
    return [scenario.name for scenario in scenarios]


def test_without_a_profile_the_contract_judges_everything_with_the_default_mix() -> None:
    plan = resolve_plan(options())
    assert plan.profile == contract_profile()
    assert names(plan.scenarios) == names(load_builtin(DEFAULT_BUILTIN))
    assert (plan.evidence, plan.allowed) == (CONTRACT_EVIDENCE, frozenset())


def test_a_foreign_profile_brings_its_scenarios_evidence_and_allow_list() -> None:
    plan = resolve_plan(options("--target-profile", "beatdebate-original"))
    profile = load_profile("beatdebate-original")
    assert plan.profile == profile
    assert names(plan.scenarios) == profile.run.scenarios
    assert plan.evidence == evidence(profile) and "history" not in plan.evidence
    assert plan.allowed == {"adopted-client-id"}
    # Scenarios named on the command line win over the profile's.
    assert names(resolve_plan(options("--target-profile", "beatdebate-original", "--scenario", "refresh")).scenarios) \
        == ["refresh"]


def test_allow_adds_and_deny_overrides_the_profile() -> None:
    given = options("--target-profile", "beatdebate-original", "--allow", "repeated-track,weak-id",
                    "--allow", "turn-gap", "--deny", "adopted-client-id")
    assert property_names(given.allow) == ("repeated-track", "weak-id", "turn-gap")
    assert resolve_plan(given).allowed == {"repeated-track", "weak-id", "turn-gap"}
    assert allowed_properties(contract_profile(), allow=["weak-id"], deny=["weak-id"]) == frozenset()


@pytest.mark.parametrize(("argv", "message"), [
    (["--allow", "no-such-property"], "unknown property 'no-such-property' in --allow/--deny"),
    (["--deny", "weak-id,nope"], "unknown property 'nope'"),
    (["--target-profile", "no-such-profile"], "no built-in profile 'no-such-profile'"),
    (["--scenario", "no-such-scenario"], "no built-in scenario 'no-such-scenario'"),
])
def test_what_cannot_run_is_a_usage_error_naming_it(argv: list[str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        resolve_plan(options(*argv))


def test_a_broken_profile_file_is_named_with_its_line(tmp_path: Path) -> None:
    broken = tmp_path / "mine.toml"
    broken.write_text('name = "mine"\nkind = "http"\n\n[recommend]\npath = "/chat"\nbody = { q = "{qeury}" }\n')
    with pytest.raises(UsageError, match=r"mine\.toml:4: recommend: no template sends \{query\}"):
        resolve_plan(options("--target-profile", str(broken)))


def test_a_gradio_profile_is_refused_under_locust(tmp_path: Path) -> None:
    chat = tmp_path / "chat.toml"
    chat.write_text(GRADIO)
    assert load_profile(chat).kind == "gradio"       # a valid profile: refused for Locust only
    with pytest.raises(UsageError, match="Gradio app.*cannot run under Locust's gevent.*beatdebate simulate"):
        resolve_plan(options("--target-profile", str(chat)))
