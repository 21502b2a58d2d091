"""Gradio targets: a query becomes the endpoint's inputs, the outputs its text, one Gradio session
per conversation; end to end against the example memory chat, clean and bleeding."""

from __future__ import annotations

import asyncio
import random
import socket
import time
from collections.abc import Iterator
from concurrent.futures import Future
from typing import Any

import gradio_client
import pytest
from profile_build import EXAMPLES, Sink, base, example_app, profile

from loadtest.canary import find_canaries
from loadtest.personas import DEFAULT_POOL
from loadtest.profiles import GradioTransport, exchange_for, gradio_factory, load_profile
from loadtest.profiles.gradio import GRADIO_METHOD, GradioExchange
from loadtest.scenario import QueryStep, load_builtin
from loadtest.transport import Reply, TransportError
from loadtest.users import UserSettings, VirtualUser

CHAT = profile('''kind = "gradio"
[gradio]
api_name = "/chat"
inputs = ["{query}", 3, "{max_recommendations}", "id {session_id}"]
[answer]
text = "[0]"
''')


def test_a_query_becomes_the_endpoints_inputs_and_its_outputs_the_text() -> None:
    exchange = exchange_for(CHAT)
    assert isinstance(exchange, GradioExchange)
    made = exchange.new_session_id()
    assert made is not None and made != exchange.new_session_id()
    request = exchange.recommend(QueryStep("q", "Hi {artist}", max_recommendations=4), {"artist": "Burial"},
                                 rid="r1", session_id=made, max_recommendations=10)
    assert (request.method, request.path, request.route, request.query) == (GRADIO_METHOD, "/chat", "/chat", "Hi Burial")
    assert request.body == {"inputs": ["Hi Burial", 3, 4, f"id {made}"]}
    op = exchange.answered(base(request), reply=Reply(200, {}, ["You said: cnabcdefghij", {"state": 1}]),
                           completed_at=1.0)
    assert (op.status, op.text, op.session, op.tracks, op.follow_up) == ("ok", "You said: cnabcdefghij", made, (), None)
    assert op.source is None                 # not deterministic: no answer is claimed as the primary path
    failed = exchange.answered(base(request), reply=Reply(500, {}, {"detail": "boom"}), completed_at=1.0)
    assert (failed.status, failed.error) == ("fail", "HTTP 500: boom")
    assert exchange.create_session(rid="r") is None and exchange.delete_session(made, rid="r") is None
    assert exchange.read_history(made, rid="r") is None


class _Job:
    def __init__(self, value: Any) -> None:
        self.future: Future[Any] = Future()
        if isinstance(value, Exception):
            self.future.set_exception(value)
        else:
            self.future.set_result(value)


class _Client:
    """Stands in for ``gradio_client.Client``: records calls and session resets."""

    def __init__(self, url: str, **kwargs: Any) -> None:
        self.url, self.calls, self.resets, self.closed = url, [], 0, False

    def submit(self, *args: Any, api_name: str) -> _Job:
        self.calls.append((api_name, args))
        if args and args[0] == "raise":
            return _Job(type("AppError", (Exception,), {})("the event raised"))
        if args and args[0] == "break":
            return _Job(ConnectionError("gone"))
        return _Job(("reply", None))

    def reset_session(self) -> None:
        self.resets += 1

    def close(self) -> None:
        self.closed = True


@pytest.mark.anyio
async def test_a_tab_opens_a_fresh_gradio_session_per_conversation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gradio_client, "Client", _Client)
    tab = gradio_factory("http://chat.test/", timeout=5)(0)
    assert isinstance(tab, GradioTransport)
    first = await tab.call("/chat", ["hi"], session="c1")
    await tab.call("/chat", ["again"], session="c1")
    await tab.call("/chat", ["new chat"], session="c2")
    client = tab._tab._client
    assert (first.status, first.body) == (200, ["reply", None])
    assert client.calls == [("/chat", ("hi",)), ("/chat", ("again",)), ("/chat", ("new chat",))]
    assert client.resets == 1
    assert (await tab.call("/chat", ["raise"], session="c2")).status == 500
    with pytest.raises(TransportError, match="ConnectionError: gone"):
        await tab.call("/chat", ["break"], session="c2")
    await tab.aclose()
    assert client.closed


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("GRADIO_ANALYTICS_ENABLED", "False")   # tests stay offline
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    apps: list[Any] = []

    def serve(*, bleed: bool) -> str:
        demo = example_app("gradio_chat").create_app(bleed)
        port = _free_port()
        demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True)
        apps.append(demo)
        return f"http://127.0.0.1:{port}/"

    yield serve
    for demo in apps:
        demo.close()


async def _canary_run(url: str) -> list[Any]:
    exchange = exchange_for(load_profile(EXAMPLES / "gradio_chat" / "profile.toml"))
    (scenario,) = load_builtin("canary-recall")
    factory = gradio_factory(url, timeout=30)
    sink = Sink()

    async def one(number: int) -> None:
        user = VirtualUser(number, transport=factory(number), persona=DEFAULT_POOL[number], rng=random.Random(number),
                           sink=sink, settings=UserSettings(run_tag="g", started=time.monotonic(), think_scale=0),
                           exchange=exchange)
        await user.run_iteration(scenario)
        await user.aclose()

    await asyncio.gather(*(one(n) for n in range(3)))
    return sorted(sink.ops, key=lambda op: op.index)


@pytest.mark.anyio
async def test_the_example_chat_recalls_each_conversations_own_canary(served: Any) -> None:
    ops = await _canary_run(served(bleed=False))
    recalls = [op for op in ops if op.step == "recall"]
    assert len(recalls) == 6 and all(op.status == "ok" for op in ops)
    assert {op.action for op in ops} == {"recommend"}            # no history read or delete: skipped
    assert len({op.canary for op in recalls}) == 6
    for op in recalls:
        assert find_canaries(op.text or "") == (op.canary,), op.text


@pytest.mark.anyio
async def test_the_bleeding_example_shows_other_conversations_canaries(served: Any) -> None:
    ops = await _canary_run(served(bleed=True))
    recalls = [op for op in ops if op.step == "recall"]
    assert all(op.status == "ok" for op in recalls)
    foreign = [op for op in recalls if set(find_canaries(op.text or "")) - {op.canary}]
    assert foreign, [op.text for op in recalls]


# ---- a tab that holds the backend's id; the envelope; per-action calls; the contract's format ----

class _Page:
    """Stands in for ``gradio_client.Client`` on a chat page like ours: each Gradio session's
    state holds a backend id; every event's last output is the envelope ``{"status", "body"}``
    (``/history`` has only that one output, so it comes back bare)."""

    def __init__(self, url: str, **kwargs: Any) -> None:
        self.url, self.calls, self.resets, self.minted = url, [], 0, 0
        self.held: str | None = None
        self.turns: dict[str, list[dict[str, Any]]] = {}

    def _mint(self) -> str:
        self.minted += 1
        self.held = f"s{self.minted}"
        self.turns[self.held] = []
        return self.held

    def submit(self, *args: Any, api_name: str) -> _Job:
        self.calls.append((api_name, args))
        return _Job(self._answer(api_name, args))

    def _answer(self, api_name: str, args: tuple[Any, ...]) -> Any:
        if api_name == "/ask":
            query, limit, rid = args
            if query == "busy":
                return ("", [], "", "", {"status": 503, "body": {"detail": "store unreachable"}})
            if query == "bare":
                return "no envelope here"
            created = self.held is None
            session = self._mint() if created else self.held
            assert session is not None
            self.turns[session].append({"turn": len(self.turns[session]) + 1, "request_id": rid, "query": query})
            body = {"session_id": session, "turn": len(self.turns[session]), "session_created": created,
                    "request_id": rid, "intent": {"kind": "by_artist", "follow_up": None, "entities": {}},
                    "context": {"anchor": None}, "source": "primary",
                    "recommendations": [{"track_id": f"t{n}", "artist": "Burial", "tags": ["dubstep"]}
                                        for n in range(limit)]}
            return ("", [], "<cards>", "status", {"status": 200, "body": body})
        if api_name == "/start_session":
            return ([], "", "status", {"status": 201, "body": {"session_id": self._mint()}})
        if api_name == "/history":
            if self.held is None:
                return {"status": 404, "body": {"detail": "this tab has no session yet"}}
            turns = self.turns[self.held]
            return {"status": 200, "body": {"session_id": self.held, "turn_count": len(turns), "turns": turns}}
        if api_name == "/new_chat":
            if self.held is None:
                return ([], "", "status", {"status": 404, "body": {"detail": "this tab has no session yet"}})
            self.held = None
            return ([], "", "status", {"status": 204, "body": None})
        raise AssertionError(api_name)

    def reset_session(self) -> None:
        self.resets += 1
        self.held = None

    def close(self) -> None:
        pass


async def _exchanged(exchange: Any, transport: GradioTransport, request: Any) -> Any:
    reply = await exchange.send(transport, request)
    return exchange.answered(base(request), reply=reply, completed_at=1.0)


@pytest.mark.anyio
async def test_the_chat_page_profile_lets_the_tab_hold_the_id_and_reads_the_envelope(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gradio_client, "Client", _Page)
    exchange = exchange_for(load_profile("beatdebate-chat-page"))
    assert isinstance(exchange, GradioExchange) and exchange.new_session_id() is None
    tab = gradio_factory("http://page.test/ui/", timeout=5)(0)
    step = QueryStep("q", "Songs by {artist}", max_recommendations=3)

    first = exchange.recommend(step, {"artist": "Burial"}, rid="r1", session_id=None, max_recommendations=10)
    assert (first.path, first.session_sent, first.body) == ("/ask", None, {"inputs": ["Songs by Burial", 3, "r1"]})
    op = await _exchanged(exchange, tab, first)
    # The envelope's body is a contract answer, read by the contract's own parser.
    assert (op.status, op.http_status, op.session, op.turn, op.session_created) == ("ok", 200, "s1", 1, True)
    assert [t.track_id for t in op.tracks] == ["t0", "t1", "t2"] and op.kind == "by_artist"
    page = tab._tab._client
    assert tab.serves == "s1"                    # what the tab's state now holds

    more = await _exchanged(exchange, tab, exchange.recommend(step, {"artist": "Burial"}, rid="r2", session_id="s1",
                                                              max_recommendations=10))
    history = await _exchanged(exchange, tab, exchange.read_history("s1", rid="r3"))
    assert (more.session, more.turn, page.resets) == ("s1", 2, 0)
    assert page.calls[-1] == ("/history", ("r3",))
    # /history's one output comes back bare: its own envelope selectors read it.
    assert (history.status, history.session, history.turn_count) == ("ok", "s1", 2)
    assert [(t.turn, t.request_id) for t in history.recorded] == [(1, "r1"), (2, "r2")]

    # An id the tab does not hold (made up): a fresh tab, whose question starts a new session.
    made_up = await _exchanged(exchange, tab, exchange.recommend(step, {"artist": "Burial"}, rid="r4",
                                                                 session_id="made-up-id", max_recommendations=10))
    assert (page.resets, made_up.session_sent, made_up.session, made_up.session_created) == (1, "made-up-id", "s2", True)
    assert tab.serves == "s2"

    # New chat: the tab holds nothing after it; a new conversation then needs no fresh tab.
    deleted = await _exchanged(exchange, tab, exchange.delete_session("s2", rid="r5"))
    assert (deleted.status, deleted.http_status, deleted.session, tab.serves) == ("ok", 204, "s2", None)
    assert page.calls[-1] == ("/new_chat", ("r5",))
    created = await _exchanged(exchange, tab, exchange.create_session(rid="r6"))
    assert (created.status, created.session, tab.serves, page.resets) == ("ok", "s3", "s3", 1)

    # A new conversation on a tab that holds a session: a fresh tab.
    fresh = await _exchanged(exchange, tab, exchange.recommend(step, {"artist": "Burial"}, rid="r7", session_id=None,
                                                               max_recommendations=10))
    assert (page.resets, fresh.session, fresh.turn) == (2, "s4", 1)

    # The envelope's status decides: a non-2xx is a fail, and the tab keeps what it held.
    busy = await _exchanged(exchange, tab, exchange.recommend(QueryStep("q", "busy"), {}, rid="r8", session_id="s4",
                                                              max_recommendations=10))
    assert (busy.status, busy.http_status, busy.error, tab.serves) == ("fail", 503, "HTTP 503: store unreachable", "s4")
    # Outputs without the envelope they promise: answered, so unknown, not fail.
    bare = await _exchanged(exchange, tab, exchange.recommend(QueryStep("q", "bare"), {}, rid="r9", session_id="s4",
                                                              max_recommendations=10))
    assert bare.status == "unknown" and bare.error is not None
    assert bare.error.startswith("malformed answer: no status in the outputs ([-1].status gave None)")
    assert tab.serves == "s4"
    await tab.aclose()


def test_a_tab_whose_answer_names_no_session_cannot_be_carried_on() -> None:
    exchange = exchange_for(profile('''kind = "gradio"
[session]
held_by = "tab"
[gradio]
api_name = "/ask"
body = "[1]"
[answer]
session_id = "sid"
turn = "turn"
'''))
    request = exchange.recommend(QueryStep("q", "hi"), {}, rid="r1", session_id=None, max_recommendations=10)
    assert request.body == {"inputs": ["hi"]}
    named = exchange.answered(base(request), reply=Reply(200, {}, ["text", {"sid": "abc", "turn": 1}]), completed_at=1.0)
    assert (named.status, named.session, named.turn) == ("ok", "abc", 1)
    unnamed = exchange.answered(base(request), reply=Reply(200, {}, ["text", {"turn": 1}]), completed_at=1.0)
    assert (unnamed.status, unnamed.error) == ("unknown", "malformed answer: BadAnswer: the answer names no session")
    assert exchange.create_session(rid="r") is None and exchange.read_history("abc", rid="r") is None


@pytest.mark.anyio
async def test_a_conversation_of_the_harness_may_have_its_own_new_chat_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gradio_client, "Client", _Client)
    exchange = exchange_for(profile('''kind = "gradio"
[gradio]
api_name = "/chat"
[gradio.delete_session]
api_name = "/clear"
inputs = ["{session_id}", 1]
[answer]
text = "[0]"
'''))
    conversation = exchange.new_session_id()
    assert conversation is not None and exchange.create_session(rid="r") is None
    tab = gradio_factory("http://chat.test/", timeout=5)(0)
    asked = await _exchanged(exchange, tab, exchange.recommend(QueryStep("q", "hi"), {}, rid="r1",
                                                               session_id=conversation, max_recommendations=10))
    cleared = await _exchanged(exchange, tab, exchange.delete_session(conversation, rid="r2"))
    client = tab._tab._client
    # In the conversation's own Gradio session (no reset), with the templates filled.
    assert client.calls == [("/chat", ("hi",)), ("/clear", (conversation, 1))] and client.resets == 0
    assert (asked.session, asked.text, cleared.status, cleared.session) == (conversation, "reply", "ok", conversation)
    await tab.aclose()


def test_an_http_profile_may_read_answers_in_the_contracts_format() -> None:
    read = exchange_for(profile('''[recommend]
path = "/recommendations"
body = { query = "{query}", session_id = "{session_id}" }
[answer]
format = "contract"
'''))
    request = read.recommend(QueryStep("q", "hi"), {}, rid="r1", session_id=None, max_recommendations=10)
    body = {"session_id": "s9", "turn": 1, "session_created": True, "intent": {"kind": "discovery"},
            "context": {"anchor": {"turn": 1, "request_id": "r0"}},
            "recommendations": [{"track_id": "t1", "artist": "A", "tags": ["x"]}]}
    op = read.answered(base(request), reply=Reply(200, {}, body), completed_at=1.0)
    assert (op.status, op.session, op.turn, op.kind, op.anchor.request_id if op.anchor else None) == (
        "ok", "s9", 1, "discovery", "r0")
    missing = read.answered(base(request), reply=Reply(200, {}, {"turn": 1}), completed_at=1.0)
    assert missing.status == "unknown"
