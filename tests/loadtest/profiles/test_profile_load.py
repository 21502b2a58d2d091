"""Loading profiles: the built-ins load with the evidence they promise; every bad file is named
by file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

import loadtest.profiles
from loadtest.profiles import (
    CONTRACT_EVIDENCE, PROPERTY_NAMES, ProfileError, builtin_profile_names, evidence, load_profile, parse_profile,
)
from loadtest.profiles.load import field_name
from loadtest.scenario import builtin_names

GOOD = '''name = "mine"
kind = "http"

[recommend]
path = "/ask"
body = { q = "{query}", sid = "{session_id}" }

[answer]
session_id = "sid"
items = "results"

[answer.item]
id = "id"
artist = "by"
'''


def _error(text: str) -> ProfileError:
    with pytest.raises(ProfileError) as caught:
        parse_profile(text, source="mine.toml")
    return caught.value


def test_the_builtins_load() -> None:
    assert builtin_profile_names() == ["beatdebate-chat-page", "beatdebate-original", "contract", "our-server-by-profile"]
    for name in builtin_profile_names():
        profile = load_profile(name)
        assert profile.name == name
        assert profile.run.scenarios and set(profile.run.scenarios) <= set(builtin_names())


def test_the_builtins_claim_what_their_selectors_give() -> None:
    assert evidence(load_profile("contract")) == CONTRACT_EVIDENCE
    assert "text" not in CONTRACT_EVIDENCE      # a contract answer has no prose for canaries
    # Our server described by selectors proves as much as the native path does.
    assert evidence(load_profile("our-server-by-profile")) == CONTRACT_EVIDENCE
    original = load_profile("beatdebate-original")
    assert evidence(original) == {"session_id", "follow_up", "intent", "item_ids", "item_subjects", "deterministic"}
    assert original.properties.allow == ["adopted-client-id"]
    assert original.recommend is not None and original.recommend.max_recommendations == 10
    assert original.create_session is None and original.delete_session is None and original.read_history is None


def test_the_example_gradio_profile_loads_with_text_only() -> None:
    profile = load_profile(Path(__file__).parents[3] / "examples" / "gradio_chat" / "profile.toml")
    assert (profile.kind, profile.minted_by, profile.deterministic) == ("gradio", "client", False)
    assert evidence(profile) == {"text"}
    assert profile.run.scenarios == ["canary-recall"]


def test_a_profile_file_by_path(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(GOOD)
    profile = load_profile(path)
    assert profile.name == "mine" and profile.minted_by == "server"
    assert load_profile(str(path)) == profile


def test_an_unknown_name_lists_the_builtins() -> None:
    with pytest.raises(ProfileError, match="no built-in profile 'nope' .*contract"):
        load_profile("nope")


def test_a_missing_file_says_it_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match=r"missing\.toml: cannot read"):
        load_profile(tmp_path / "missing.toml")


@pytest.mark.parametrize(("text", "message"), [
    # TOML syntax: tomllib's own line
    (GOOD + "oops = \n", "mine.toml:15: not valid TOML"),
    # an unknown key in a table
    (GOOD.replace('id = "id"', 'item_id = "id"'),
     "mine.toml:13: [answer.item] item_id: unknown field (known: id, artist, tags)"),
    (GOOD.replace('items = "results"', 'items = "results"\nitem_id = "id"'),
     "mine.toml:11: [answer] item_id: unknown field (known: session_id, session_header,"),
    (GOOD + '\n[sesion]\nminted_by = "client"\n', "mine.toml:16: sesion: unknown field"),
    # a closed set
    (GOOD.replace('kind = "http"', 'kind = "grpc"'), "mine.toml:2: kind: must be one of contract, http, gradio"),
    (GOOD + '\n[session]\nminted_by = "nobody"\n',
     "mine.toml:17: [session] minted_by: must be one of server, client, either"),
    # a wrong type
    (GOOD.replace('path = "/ask"', 'path = 7'), "mine.toml:5: [recommend] path: Input should be a valid string"),
    # a selector that is not JMESPath
    (GOOD.replace('artist = "by"', 'artist = "by["'), "mine.toml:14: [answer.item] artist: not a JMESPath expression"),
    # templates
    (GOOD.replace('sid = "{session_id}"', 'sid = "{session}"'),
     "mine.toml:6: [recommend.body] sid: unknown placeholder {session} (known: {query}, {session_id},"),
    (GOOD.replace('path = "/ask"', 'path = "/ask/{"'), "mine.toml:5: [recommend] path: bad placeholder"),
    (GOOD.replace('path = "/ask"', 'path = "ask"'), "mine.toml:5: [recommend] path: must start with /"),
    (GOOD.replace('q = "{query}"', 'q = "hello"'), "mine.toml:4: recommend: no template sends {query}"),
    # the parts must hang together
    (GOOD.replace('session_id = "sid"\n', ''),
     "mine.toml:8: answer: minted_by = 'server', but no answer names the session"),
    (GOOD.replace(', sid = "{session_id}"', ''), "mine.toml:1: session: no template sends {session_id}"),
    (GOOD.replace('path = "/ask"', 'path = "/chats/{session_id}/ask"'),
     "mine.toml:5: [recommend] path: needs a session id before the first query"),
    (GOOD.replace('[answer.item]\nid = "id"\n', '[answer.item]\n'),
     "mine.toml:10: [answer] items: needs [answer.item] id"),
    (GOOD.replace('items = "results"\n', ''), "mine.toml:11: [answer] item: describes items, but [answer] has no items"),
    (GOOD.replace('[recommend]', '[delete_session]\npath = "/bye"\n\n[recommend]'),
     "mine.toml:4: delete_session: does not say which session"),
    # kinds
    (GOOD.replace('kind = "http"', 'kind = "contract"'), "mine.toml:4: recommend: a contract profile takes no request"),
    ('name = "x"\nkind = "http"\n', "mine.toml:2: kind: an http profile needs a [recommend] table"),
    ('name = "x"\nkind = "gradio"\n', "mine.toml:2: kind: a gradio profile needs a [gradio] table"),
    ('name = "x"\nkind = "gradio"\n[gradio]\napi_name = "/chat"\n[session]\ncookie = "sid"\n',
     "mine.toml:6: [session] cookie: a gradio profile's conversation is its Gradio session"),
    ('name = "x"\nkind = "gradio"\n[gradio]\napi_name = "/chat"\ninputs = ["hi"]\n',
     "mine.toml:5: [gradio] inputs: no input sends {query}"),
    ('name = "x"\nkind = "gradio"\n[gradio]\napi_name = "chat"\n', "mine.toml:4: [gradio] api_name: String should match"),
    # properties and scenarios
    (GOOD + '\n[properties]\nallow = ["adopted-client-id", "bleeding-ish"]\n',
     "mine.toml:17: [properties] allow[1]: no property 'bleeding-ish' (known: foreign-request-id"),
    (GOOD + '\n[properties]\nallow = ["weak-id"]\ndeny = ["weak-id"]\n',
     "mine.toml:18: [properties] deny: both allowed and denied: weak-id"),
    (GOOD + '\n[run]\nscenarios = ["refresh", "refrehs"]\n',
     "mine.toml:17: [run] scenarios[1]: no built-in scenario 'refrehs'"),
    # the name
    (GOOD.replace('name = "mine"', 'name = "my profile"'), "mine.toml:1: name: String should match pattern"),
    (GOOD.replace('name = "mine"\n', ''), "mine.toml:1: name: required"),
])
def test_every_error_names_file_line_and_key(text: str, message: str) -> None:
    assert str(_error(text)).startswith(message), str(_error(text))


def test_the_error_keeps_its_parts() -> None:
    error = _error(GOOD.replace('id = "id"', 'item_id = "id"'))
    assert (error.source, error.line, error.field) == ("mine.toml", 13, "[answer.item] item_id")
    assert error.reason.startswith("unknown field")


def test_property_names_are_the_checkers_and_the_canary_ones() -> None:
    assert {"adopted-client-id", "foreign-anchor", "stale-anchor", "foreign-canary", "lost-canary"} <= set(PROPERTY_NAMES)
    assert len(set(PROPERTY_NAMES)) == len(PROPERTY_NAMES)


@pytest.mark.parametrize(("loc", "name"), [
    (("kind",), "kind"), (("answer", "item_id"), "[answer] item_id"), (("answer", "item", "id"), "[answer.item] id"),
    (("run", "scenarios", 1), "[run] scenarios[1]"), (("answer", "item", "id", 0), "[answer.item] id[0]"), ((), ""),
])
def test_field_names_read_as_the_file_writes_them(loc: tuple[str | int, ...], name: str) -> None:
    assert field_name(loc) == name


def test_the_package_all_is_honest() -> None:
    package = loadtest.profiles
    public = {name for name in vars(package) if not name.startswith("_")}
    modules = {name for name in public if type(getattr(package, name)).__name__ == "module"}
    assert set(package.__all__) == public - modules


# ---- Gradio: the envelope, per-action calls, a tab that holds the id, the contract's format ----

TAB = '''name = "page"
kind = "gradio"

[session]
held_by = "tab"

[gradio]
api_name = "/ask"
inputs = ["{query}", "{request_id}"]
status = "[-1].status"
body = "[-1].body"

[gradio.read_history]
api_name = "/history"
inputs = ["{request_id}"]
status = "status"

[gradio.delete_session]
api_name = "/new_chat"
inputs = ["{request_id}"]

[answer]
format = "contract"
'''


def test_the_chat_page_builtin_is_a_tab_speaking_the_contract() -> None:
    page = load_profile("beatdebate-chat-page")
    assert (page.kind, page.minted_by, page.tab_holds_session, page.answer.format) == ("gradio", "server", True, "contract")
    assert page.gradio is not None and page.gradio.api_name == "/ask"
    assert (page.gradio.status, page.gradio.body) == ("[-1].status", "[-1].body")
    assert {name: call.api_name for name, call in page.gradio.calls().items()} == {
        "create_session": "/start_session", "read_history": "/history", "delete_session": "/new_chat"}
    # The contract's evidence, all of it: nothing of text in a contract answer.
    assert evidence(page) == CONTRACT_EVIDENCE
    assert page.run.scenarios == ["mixed-traffic"]


def test_answers_in_the_contracts_format_claim_only_what_the_profile_can_show() -> None:
    tab = parse_profile(TAB, source="page.toml")
    # No create call is needed for history; not declared deterministic: no determinism check.
    assert evidence(tab) == CONTRACT_EVIDENCE - {"deterministic"}
    without_history = parse_profile(TAB.replace('[gradio.read_history]\napi_name = "/history"\ninputs = ["{request_id}"]\n'
                                                'status = "status"\n', ''), source="page.toml")
    assert evidence(without_history) == CONTRACT_EVIDENCE - {"deterministic", "history"}
    http = parse_profile('name = "h"\n[recommend]\npath = "/recommendations"\n'
                         'body = { query = "{query}", session_id = "{session_id}" }\n[answer]\nformat = "contract"\n',
                         source="h.toml")
    assert (http.minted_by, evidence(http)) == ("server", CONTRACT_EVIDENCE - {"deterministic", "history"})


def test_a_tab_holding_the_id_may_be_read_by_selectors_too() -> None:
    tab = parse_profile(TAB.replace('format = "contract"', 'session_id = "session_id"\nturn = "turn"'), source="page.toml")
    assert evidence(tab) == {"session_id", "server_ids", "turn"}


@pytest.mark.parametrize(("text", "message"), [
    # the envelope
    (TAB.replace('status = "[-1].status"', 'status = "[-1."'), "page.toml:10: [gradio] status: not a JMESPath expression"),
    (TAB.replace('status = "status"', 'status = "status["'),
     "page.toml:16: [gradio.read_history] status: not a JMESPath expression"),
    # per-action calls
    (TAB.replace('api_name = "/new_chat"', 'api_name = "new_chat"'),
     "page.toml:19: [gradio.delete_session] api_name: String should match"),
    (TAB.replace('inputs = ["{request_id}"]\n\n[answer]', 'inputs = ["{rid}"]\n\n[answer]'),
     "page.toml:20: [gradio.delete_session] inputs[0]: unknown placeholder {rid}"),
    (TAB.replace('api_name = "/new_chat"', 'api_name = "/new_chat"\nmethod = "DELETE"'),
     "page.toml:20: [gradio.delete_session] method: unknown field (known: api_name, inputs, status, body)"),
    (TAB.replace('[answer]', '[delete_session]\npath = "/x/{session_id}"\n\n[answer]'),
     "page.toml:22: delete_session: a gradio profile calls endpoints of its app: [gradio.delete_session]"),
    (TAB.replace('[session]\nheld_by = "tab"\n', '').replace('format = "contract"', 'text = "@"')
     + '\n[gradio.create_session]\napi_name = "/start"\n',
     "page.toml:23: [gradio] create_session: the harness makes each conversation's id"),
    # a tab that holds the id
    (('name = "h"\n[recommend]\npath = "/q"\nbody = { q = "{query}" }\n[answer]\nformat = "contract"\n'
      '[session]\nheld_by = "tab"\n'), "page.toml:8: [session] held_by: only a gradio profile's tab can hold the session id"),
    (TAB.replace('held_by = "tab"', 'held_by = "browser"'), "page.toml:5: [session] held_by: must be one of harness, tab"),
    (TAB.replace('held_by = "tab"', 'held_by = "tab"\nminted_by = "client"'),
     "page.toml:6: [session] minted_by: held_by = \"tab\": the app's backend makes the ids"),
    (TAB.replace('inputs = ["{query}", "{request_id}"]', 'inputs = ["{query}", "{session_id}"]'),
     "page.toml:9: [gradio] inputs[1]: held_by = \"tab\": the tab holds the session id, the harness never sends it"),
    (TAB.replace('format = "contract"', 'text = "@"'),
     "page.toml:22: answer: held_by = \"tab\", but no answer names the session the tab holds"),
    # the contract's format
    (TAB.replace('format = "contract"', 'format = "prose"'), "page.toml:23: [answer] format: must be one of selectors, contract"),
    (TAB.replace('format = "contract"', 'format = "contract"\nturn = "turn"'),
     "page.toml:24: [answer] turn: format = \"contract\": the contract's own fields are read; no selectors"),
    (TAB.replace('status = "status"', 'status = "status"\nturns = "turns"'),
     "page.toml:17: [gradio.read_history] turns: format = \"contract\": the contract's own fields are read"),
])
def test_every_gradio_error_names_file_line_and_key(text: str, message: str) -> None:
    with pytest.raises(ProfileError) as caught:
        parse_profile(text, source="page.toml")
    assert str(caught.value).startswith(message), str(caught.value)


def test_the_tab_profile_itself_loads() -> None:
    tab = parse_profile(TAB, source="page.toml")
    assert tab.gradio is not None and tab.gradio.read_history is not None
    assert (tab.gradio.read_history.status, tab.gradio.read_history.body) == ("status", None)
