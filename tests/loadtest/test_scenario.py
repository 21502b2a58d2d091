"""Scenario files: the built-ins load and hold their promises; every bad file names file:line:field."""

from __future__ import annotations

from pathlib import Path

import pytest

from loadtest.scenario import (
    QueryStep, ReadHistoryStep, RefreshStep, Scenario, ScenarioError, builtin_names, load_builtin,
    load_scenario, load_scenarios, parse_scenarios, resolve_scenarios,
)

BUILTINS = {"concurrent-new-sessions", "follow-up-isolation", "refresh", "same-session-burst",
            "made-up-and-expired-ids", "mixed-traffic", "canary-recall"}


def test_every_builtin_is_shipped_and_loads() -> None:
    assert set(builtin_names()) == BUILTINS
    for name in BUILTINS:
        assert load_builtin(name)


def test_mixed_traffic_is_every_other_builtin_weighted() -> None:
    mix = {s.name: s.weight for s in load_builtin("mixed-traffic")}
    assert set(mix) == BUILTINS - {"mixed-traffic", "canary-recall"}   # canaries need a chat app's text
    assert mix["follow-up-isolation"] == 3.0 and mix["made-up-and-expired-ids"] == 1.0


def _conversation_ends(scenario: Scenario) -> list[tuple[str, type]]:
    """(step, kind of the step before it) wherever a conversation ends."""
    ends = []
    previous = None
    for step in scenario.steps:
        if isinstance(step, RefreshStep) or (isinstance(step, QueryStep) and step.session and previous):
            ends.append((step.name, type(previous)))
        if not isinstance(step, RefreshStep) and type(step).__name__ != "ThinkStep":
            previous = step
    ends.append(("end", type(previous)))
    return ends


@pytest.mark.parametrize("name", sorted(BUILTINS - {"mixed-traffic"}))
def test_every_builtin_conversation_ends_with_a_history_read(name: str) -> None:
    (scenario,) = load_builtin(name)
    for where, before in _conversation_ends(scenario):
        if where == "expired":      # after a refresh: the refreshed conversation sent nothing
            continue
        assert before is ReadHistoryStep, f"{name}: the conversation ending at {where} is not read back"


def test_follow_up_isolation_matches_design_scenario_2() -> None:
    (scenario,) = load_builtin("follow-up-isolation")
    queries = [s for s in scenario.steps if isinstance(s, QueryStep)]
    assert [q.query for q in queries] == ["Songs by {artist}", "More tracks", "More tracks", "More tracks",
                                          "{genre} music", "More tracks"]
    assert all(q.expect.content == ("artist",) for q in queries[:4])
    assert queries[1].expect.anchor == "artist" and queries[5].expect.anchor == "genre"
    assert queries[5].expect.content == ("genre",)
    assert scenario.needs == ("artist", "genre")


def test_refresh_matches_design_scenario_3() -> None:
    (scenario,) = load_builtin("refresh")
    kinds = [type(s).__name__ for s in scenario.steps if type(s).__name__ != "ThinkStep"]
    assert kinds == ["QueryStep", "QueryStep", "ReadHistoryStep", "RefreshStep", "QueryStep", "ReadHistoryStep"]
    after = [s for s in scenario.steps if isinstance(s, QueryStep)][-1]
    assert (after.query, after.expect.anchor, after.expect.new_session) == ("More tracks", "none", True)


def test_a_user_file_with_every_step_kind(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text('''
name = "mine"
weight = 0.5
conversations = 2

[[steps]]
name = "a"
query = "Songs by {artist}"
expect = { kind = "by_artist", content = ["artist"], new_session = true }

[[steps]]
think = [0.1, 0.2]

[[steps]]
name = "burst"
query = "More tracks"
concurrent = 2

[[steps]]
read_history = true

[[steps]]
refresh = true

[[steps]]
create_session = true

[[steps]]
name = "odd"
query = "{genre} music"
session = "made-up"
[steps.expect]
anchor = "none"
''')
    scenario = load_scenario(path)
    assert (scenario.name, scenario.weight, scenario.conversations, scenario.needs) == ("mine", 0.5, 2, ("artist", "genre"))
    burst = scenario.steps[2]
    assert isinstance(burst, QueryStep) and burst.concurrent == 2
    odd = scenario.steps[-1]
    assert isinstance(odd, QueryStep) and odd.session == "made-up" and odd.expect.anchor == "none"
    assert [type(s).__name__ for s in scenario.steps] == [
        "QueryStep", "ThinkStep", "QueryStep", "ReadHistoryStep", "RefreshStep", "CreateSessionStep", "QueryStep"]


def test_resolve_defaults_to_mixed_traffic_and_keeps_order(tmp_path: Path) -> None:
    assert resolve_scenarios() == load_builtin("mixed-traffic")
    path = tmp_path / "one.toml"
    path.write_text('name = "one"\n[[steps]]\nquery = "hi"\n')
    names = [s.name for s in resolve_scenarios([path], ["refresh"])]
    assert names == ["refresh", "one"]


HEAD = 'name = "bad"\n'
BAD = [
    # (file text, line, field, reason fragment)
    (HEAD + '\n[[steps]]\nquery = "Songs by {artist}"\n\n[[steps]]\nname = "b"\nquery = "More"\n'
     'expect = { kind = "bogus" }\n', 9, "steps[1].expect.kind", "must be one of by_artist, artist_similarity"),
    (HEAD + '[[steps]]\nquery = "x"\nbogus = 3\n', 4, "steps[0].bogus", "unknown field"),
    ('description = "no name"\n[[steps]]\nquery = "x"\n', 1, "name", "required"),
    (HEAD + '[[steps]]\nquery = "x"\nrefresh = true\n', 2, "steps[0]", "exactly one of query, think"),
    (HEAD + '[[steps]]\nname = "a"\nquery = "Songs by {artist}"\n[[steps]]\nquery = "More"\n'
     '[steps.expect]\nfollow_up = "more_tracks"\nanchor = "frist"\n', 9, "steps[1].expect.anchor",
     "no earlier query step named 'frist'"),
    (HEAD + 'needs = ["artist"]\n[[steps]]\nquery = "{genre} music"\n', 2, "needs", "steps use genre"),
    (HEAD + '[[steps]]\nquery = "x\n', 3, None, "not valid TOML"),
    (HEAD + '[[steps]]\nquery = "More"\nconcurrent = 2\n', 4, "steps[0].concurrent", "needs an earlier query"),
    (HEAD + '[[steps]]\nname = "a"\nquery = "x"\n[[steps]]\nrefresh = true\n[[steps]]\nquery = "y"\n'
     'expect = { anchor = "a" }\n', 9, "steps[2].expect.anchor", "no earlier query step named 'a'"),
    (HEAD + '[[steps]]\nthink = "soon"\n', 3, "steps[0].think", "valid number"),
    (HEAD + '[[steps]]\nquery = "x"\nsession = "mine"\n', 4, "steps[0].session", "must be one of made-up, expired"),
    (HEAD + 'weight = 0\n[[steps]]\nquery = "x"\n', 2, "weight", "greater than 0"),
    (HEAD + '[[steps]]\nquery = "Songs by {Artist!}"\n', 3, "steps[0].query", "placeholder"),
    (HEAD + '[[steps]]\nquery = "x"\n\n# dotted keys\nexpect.kind = "bogus"\n', 6, "steps[0].expect.kind", "must be one of"),
    (HEAD + '[[steps]]\nname = "t"\nthink = [2, 1]\n', 4, "steps[0].think", "0 <= low <= high"),
    (HEAD + '[[steps]]\nthink = -1\n', 3, "steps[0].think", "must be seconds >= 0"),
    (HEAD + '[[steps]]\nquery = "a"\n[[steps]]\nquery = "b"\nconcurrent = 2\nsession = "made-up"\n', 7,
     "steps[1].session", "takes no session"),
    (HEAD + '[[mix]]\nbuiltin = "nope"\n', 3, "mix[0].builtin", "must be one of"),
    (HEAD + '[[steps]]\nname = "a"\nquery = "x"\n[[steps]]\nname = "a"\nread_history = true\n', 6,
     "steps[1].name", "used twice"),
]


@pytest.mark.parametrize(("text", "line", "field", "reason"), BAD, ids=[b[2] or "syntax" for b in BAD])
def test_a_bad_file_names_file_line_and_field(tmp_path: Path, text: str, line: int, field: str | None,
                                              reason: str) -> None:
    path = tmp_path / "my.toml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as caught:
        load_scenarios(path)
    error = caught.value
    assert (error.source, error.line, error.field) == (str(path), line, field)
    assert reason in error.reason
    prefix = f"{path}:{line}: {field}: " if field else f"{path}:{line}: "
    assert str(error).startswith(prefix)


def test_a_missing_file_is_a_scenario_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenarios(tmp_path / "absent.toml")


def test_parse_gives_scenarios_in_memory() -> None:
    (scenario,) = parse_scenarios('name = "m"\n[[steps]]\nquery = "Songs by {artist}"\n')
    assert scenario.needs == ("artist",) and scenario.source == "<memory>"


def test_builtins_are_package_data_whatever_the_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A run started anywhere finds the shipped files in the installed package, never in the cwd.
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "refresh.toml").write_text('name = "decoy"\n[[steps]]\nquery = "x"\n')
    monkeypatch.chdir(tmp_path)
    assert set(builtin_names()) == BUILTINS
    assert [s.name for s in load_builtin("refresh")] == ["refresh"]
    assert {s.name for s in load_builtin("mixed-traffic")} <= BUILTINS
