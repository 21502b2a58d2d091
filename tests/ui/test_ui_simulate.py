"""``simulate --through ui``: virtual users as tabs of the chat page, over Gradio's client
protocol, recording the same history and judged by the same checker as through the API.

Clean page: valid. ``--defect ui-global-session`` (a clean backend behind a page that
shares one session id): invalid, with bleeding, which no backend-only check could see.
``--through ui`` is the built-in gradio profile ``beatdebate-chat-page`` on the target's
``/ui/``; given as a profile, with the page's URL, it judges the page alike.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from loadtest.oracle import PROPERTIES
from loadtest.personas import DEFAULT_POOL
from loadtest.profiles import CONTRACT_EVIDENCE, load_profile
from loadtest.runner import RunConfig, run
from loadtest.scenario import load_builtin

pytestmark = pytest.mark.slow


# A few personas keep the preflight (two page events per persona field) short.
PERSONAS = tuple(p for p in DEFAULT_POOL if p.name in {"Mk.gee", "Aphex Twin", "The Beatles",
                                                       "Bill Evans", "Daft Punk", "Bon Iver"})


def test_a_clean_page_keeps_its_users_apart(ui_catalog: Path) -> None:
    # No target: the runner starts `beatdebate serve --ui` itself.
    result = run(RunConfig(through="ui", users=4, iterations=1, ramp_up=0.2, think_time=0.0,
                           seed=11, timeout=30.0, personas=PERSONAS,
                           server_args=("--catalog", str(ui_catalog))))

    assert result.harness_error is None
    assert result.settings["through"] == "ui"
    assert result.verdict.anomalies == {}
    assert result.verdict.valid is True
    assert result.verdict.checked.follow_ups > 0 and result.verdict.checked.history_reads > 0
    # Every recommendation went through the page and was recorded as an ok operation.
    recommends = [op for op in result.ops if op.action == "recommend"]
    assert recommends and all(op.status == "ok" for op in recommends)
    assert len({op.conversation for op in recommends}) >= 4


def test_a_page_with_one_global_session_is_caught_bleeding(defective_ui_server: str) -> None:
    # A running `serve --ui --defect ui-global-session` as the target (the clean test
    # above covers the embedded server that `through="ui"` starts with --ui).
    result = run(RunConfig(target=defective_ui_server, through="ui", users=4, iterations=1,
                           ramp_up=0.2, think_time=0.0, seed=11, timeout=30.0, personas=PERSONAS))

    assert result.harness_error is None
    assert result.verdict.valid is False
    bleeding = {name for name in result.verdict.anomalies if PROPERTIES[name][0] == "bleeding"}
    assert bleeding, result.verdict.anomalies.keys()
    # One server session answered several conversations: the page shared its id.
    assert "id-collision" in bleeding


def test_the_chat_page_profile_judges_the_page_at_its_url(ui_server: str) -> None:
    # The profile path alone, no --through: the page at its own URL, like any Gradio app.
    result = run(RunConfig(target=ui_server + "/ui/", profile=load_profile("beatdebate-chat-page"),
                           scenarios=load_builtin("follow-up-isolation"), users=2, iterations=1,
                           think_time=0.0, seed=5, timeout=30.0, personas=PERSONAS))

    assert result.harness_error is None
    assert (result.settings["through"], result.settings["profile"]) == ("api", "beatdebate-chat-page")
    assert result.verdict.valid is True and result.verdict.anomalies == {}
    assert result.verdict.checked.follow_ups > 0 and result.verdict.checked.history_reads > 0
    assert {op.action for op in result.ops if op.status == "ok"} == {"recommend", "read_history", "delete_session"}


def test_through_ui_is_the_chat_page_profile() -> None:
    config = RunConfig(through="ui", target="http://127.0.0.1:9")
    assert config.resolved_profile.name == "beatdebate-chat-page"
    assert config.evidence == CONTRACT_EVIDENCE      # every property judged through the API is judged here
    assert [s.name for s in config.resolved_scenarios] == [s.name for s in load_builtin("mixed-traffic")]
    foreign = load_profile("beatdebate-original")
    with pytest.raises(ValueError, match="--through ui drives our own chat page"):
        RunConfig(through="ui", target="http://127.0.0.1:9", profile=foreign)


def test_through_ui_needs_a_served_page() -> None:
    with pytest.raises(ValueError, match="through"):
        RunConfig(through="ui", app=object())
    with pytest.raises(ValueError, match="through"):
        RunConfig(through="carrier-pigeon")  # type: ignore[arg-type]


def test_simulate_rejects_an_unknown_through() -> None:
    from cli import app

    outcome = CliRunner().invoke(app, ["simulate", "--through", "carrier-pigeon", "--quiet"])
    assert outcome.exit_code == 2
    assert "through" in outcome.output
