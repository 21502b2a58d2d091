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
    first = await tab.call("/chat", ["hi"], conversation="c1")
    await tab.call("/chat", ["again"], conversation="c1")
    await tab.call("/chat", ["new chat"], conversation="c2")
    client = tab._tab._client
    assert (first.status, first.body) == (200, ["reply", None])
    assert client.calls == [("/chat", ("hi",)), ("/chat", ("again",)), ("/chat", ("new chat",))]
    assert client.resets == 1
    assert (await tab.call("/chat", ["raise"], conversation="c2")).status == 500
    with pytest.raises(TransportError, match="ConnectionError: gone"):
        await tab.call("/chat", ["break"], conversation="c2")
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
