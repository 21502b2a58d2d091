"""Virtual users: every request recorded as an Op, the returned session carried forward, bad answers recorded, never raised."""

from __future__ import annotations

import asyncio
import random
import re
import time
from typing import Any

import httpx
import pytest
from fakes import FakeServer

from loadtest.coverage import ScenarioCoverage
from loadtest.history import Op
from loadtest.personas import Persona
from loadtest.scenario import load_builtin, parse_scenarios
from loadtest.transport import HttpxTransport
from loadtest.users import UserSettings, VirtualUser

BURIAL = Persona("Burial", {"artist": "Burial", "genre": "electronic"})


class Sink:
    def __init__(self) -> None:
        self.ops: list[Op] = []
        self._n = 0

    def next_index(self) -> int:
        self._n += 1
        return self._n - 1

    def complete(self, op: Op) -> None:
        self.ops.append(op)


async def _run(transport: httpx.AsyncBaseTransport, scenario_text: str | None = None, *, builtin: str | None = None,
               timeout: float = 5) -> list[Op]:
    (scenario,) = load_builtin(builtin) if builtin else parse_scenarios(scenario_text or "")
    sink = Sink()
    user = VirtualUser(3, transport=HttpxTransport("http://x", timeout=timeout, transport=transport), persona=BURIAL,
                       rng=random.Random(1), sink=sink,
                       settings=UserSettings(run_tag="t1", started=time.monotonic(), think_scale=0))
    await user.run_iteration(scenario)
    await user.aclose()
    return sorted(sink.ops, key=lambda op: op.index)


@pytest.mark.anyio
async def test_refresh_scenario_carries_the_session_then_starts_afresh() -> None:
    fake = FakeServer()
    ops = await _run(fake.transport, builtin="refresh")
    assert [(op.conversation, op.step, op.action) for op in ops] == [
        ("u3.c1", "first", "recommend"), ("u3.c1", "like-these", "recommend"),
        ("u3.c1", "history-before", "read_history"), ("u3.c1", "reload", "delete_session"),
        ("u3.c2", "after-refresh", "recommend"), ("u3.c2", "history-after", "read_history")]
    assert all(op.status == "ok" for op in ops)
    first, like, read, delete, after, read2 = ops
    assert first.session_sent is None and first.session_created is True
    assert like.session_sent == first.session and read.session_sent == first.session
    assert read.recorded is not None and [t.request_id for t in read.recorded] == [first.request_id, like.request_id]
    assert delete.session_sent == first.session
    assert after.session_sent is None and after.anchor is None and after.session != first.session
    assert first.subject == {"artist": "Burial"} and first.query == "Songs by Burial"
    assert like.expect.anchor == "first" and like.expect.follow_up == "more_like_these"
    assert [op.request_id for op in ops] == [f"t1-u3-{n}" for n in range(1, 7)]
    assert all(op.completed_at is not None and op.completed_at >= op.invoked_at for op in ops)


@pytest.mark.anyio
async def test_made_up_and_expired_ids_start_new_conversations() -> None:
    fake = FakeServer()
    ops = await _run(fake.transport, builtin="made-up-and-expired-ids")
    made_up = next(op for op in ops if op.step == "made-up")
    assert re.fullmatch(r"[0-9a-f-]{36}", made_up.session_sent or "")
    assert made_up.session != made_up.session_sent and made_up.session_created is True
    deleted = next(op for op in ops if op.action == "delete_session")
    expired = next(op for op in ops if op.step == "expired")
    assert expired.session_sent == deleted.session_sent
    assert len({made_up.conversation, deleted.conversation, expired.conversation}) == 2
    assert expired.conversation != made_up.conversation
    genre = next(op for op in ops if op.step == "genre")
    assert genre.session_sent == expired.session and genre.conversation == expired.conversation


@pytest.mark.anyio
async def test_expired_without_an_earlier_delete_mints_and_deletes_one() -> None:
    fake = FakeServer()
    ops = await _run(fake.transport, 'name = "e"\n[[steps]]\nquery = "Songs by {artist}"\nsession = "expired"\n')
    assert [op.action for op in ops] == ["create_session", "delete_session", "recommend"]
    assert ops[2].session_sent == ops[0].session == ops[1].session_sent
    assert ops[2].session_created is True


@pytest.mark.anyio
async def test_a_concurrent_step_sends_copies_on_one_session() -> None:
    fake = FakeServer()
    ops = await _run(fake.transport, builtin="same-session-burst")
    first = ops[0]
    double = [op for op in ops if op.step == "double-submit"]
    triple = [op for op in ops if op.step == "two-tabs"]
    assert len(double) == 2 and len(triple) == 3
    assert {op.session_sent for op in double + triple} == {first.session}
    assert len({op.request_id for op in ops}) == len(ops)
    history = ops[-1]
    assert history.turn_count == 6


def _answering(status: int, body: Any = None, content: bytes | None = None) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        if content is not None:
            return httpx.Response(status, content=content)
        return httpx.Response(status, json=body)
    return httpx.MockTransport(handler)


@pytest.mark.anyio
@pytest.mark.parametrize(("transport", "status", "http_status", "error"), [
    (_answering(503, {"detail": "store down"}), "fail", 503, "HTTP 503: store down"),
    (_answering(200, {"session_id": "s"}), "unknown", 200, "malformed answer: KeyError"),
    (_answering(200, content=b"<html>"), "unknown", 200, "malformed answer"),
    (_answering(200, {"session_id": 5, "recommendations": []}), "unknown", 200, "malformed answer: BadAnswer"),
])
async def test_a_bad_answer_is_recorded_not_raised(transport: httpx.MockTransport, status: str,
                                                   http_status: int, error: str) -> None:
    ops = await _run(transport, 'name = "b"\nconversations = 2\n'
                                '[[steps]]\nquery = "Songs by {artist}"\n[[steps]]\nquery = "More tracks"\n')
    # Each conversation stops at its failed first query: its "More tracks" is never sent,
    # so the checker is not handed a follow-up that has no conversation behind it.
    assert [(op.conversation, op.step, op.status) for op in ops] == [("u3.c1", "step-1", status), ("u3.c2", "step-1", status)]
    assert ops[0].http_status == http_status and (ops[0].error or "").startswith(error)
    assert ops[1].session_sent is None       # nothing adopted from a bad answer


@pytest.mark.anyio
async def test_a_conversation_goes_on_after_its_requests_succeed_and_stops_after_one_fails() -> None:
    calls: list[str] = []
    fake = FakeServer()

    async def flaky(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        if len(calls) == 2:            # the first "More tracks" of the first conversation
            return httpx.Response(503, json={"detail": "store down"})
        return await fake.handle(request)

    ops = await _run(httpx.MockTransport(flaky), 'name = "f"\nconversations = 2\n[[steps]]\nquery = "Songs by {artist}"\n'
                                                 '[[steps]]\nquery = "More tracks"\n[[steps]]\nquery = "More tracks"\n')
    assert [(op.conversation, op.status) for op in ops] == [
        ("u3.c1", "ok"), ("u3.c1", "fail"), ("u3.c2", "ok"), ("u3.c2", "ok"), ("u3.c2", "ok")]


@pytest.mark.anyio
async def test_timeouts_and_refusals_are_unknown() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    (timed_out,) = await _run(httpx.MockTransport(slow), 'name = "t"\n[[steps]]\nquery = "x"\n')
    assert (timed_out.status, timed_out.completed_at, timed_out.http_status) == ("unknown", None, None)
    assert (timed_out.error or "").startswith("timeout: ")
    (down,) = await _run(httpx.MockTransport(refused), 'name = "t"\n[[steps]]\nquery = "x"\n')
    assert down.status == "unknown" and (down.error or "").startswith("connection: ")


async def _user(transport: httpx.AsyncBaseTransport, settings: UserSettings) -> tuple[VirtualUser, Sink]:
    sink = Sink()
    return VirtualUser(3, transport=HttpxTransport("http://x", timeout=5, transport=transport), persona=BURIAL,
                       rng=random.Random(1), sink=sink, settings=settings), sink


@pytest.mark.anyio
async def test_each_conversation_is_counted_completed_or_failed_with_its_follow_ups_answered() -> None:
    calls: list[str] = []
    fake = FakeServer()

    async def flaky(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        if len(calls) == 3:            # the second "More tracks" of the first conversation
            return httpx.Response(503, json={"detail": "store down"})
        return await fake.handle(request)

    (scenario,) = parse_scenarios('name = "f"\nconversations = 3\n[[steps]]\nquery = "Songs by {artist}"\n'
                                  '[[steps]]\nquery = "More tracks"\nexpect = { follow_up = "more_tracks" }\n'
                                  '[[steps]]\nquery = "More tracks"\nexpect = { follow_up = "more_tracks" }\n')
    settings = UserSettings(run_tag="t1", started=time.monotonic(), think_scale=0)
    user, _ = await _user(httpx.MockTransport(flaky), settings)
    await user.run_iteration(scenario)
    await user.aclose()
    # The first conversation stopped at its failed second follow-up: 1 of its 2 checked.
    assert settings.coverage.result() == {
        "f": ScenarioCoverage("f", 2, completed=2, failed=1, planned=6, checked=5)}


@pytest.mark.anyio
async def test_a_conversation_the_run_cancels_is_counted_cut() -> None:
    sent = asyncio.Event()

    async def hangs(request: httpx.Request) -> httpx.Response:
        sent.set()
        await asyncio.Event().wait()   # never answers: the run's end cancels it
        raise AssertionError("unreachable")

    settings = UserSettings(run_tag="t1", started=time.monotonic(), think_scale=0)
    user, sink = await _user(httpx.MockTransport(hangs), settings)
    (scenario,) = load_builtin("follow-up-isolation")
    task = asyncio.create_task(user.run_iteration(scenario))
    await sent.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await user.aclose()
    assert [(op.status, op.error) for op in sink.ops] == [("unknown", "cancelled: run stopped")]
    assert settings.coverage.result() == {"follow-up-isolation": ScenarioCoverage("follow-up-isolation", 4, cut=1)}
