"""Preflight: a probe that gets no answer or a server error is tried once more on a fresh
connection; only a target that answers nothing at all is unreachable (issue 12)."""

from __future__ import annotations

import httpx
import orjson
import pytest
from fakes import FakeServer

from loadtest.errors import TargetUnreachable
from loadtest.personas import DEFAULT_POOL, Persona
from loadtest.preflight import UNREACHABLE_AFTER, run_preflight
from loadtest.transport import Transport, httpx_factory

POOL = DEFAULT_POOL[:6]


class Faulty:
    """A fake whose ``POST /recommendations`` answers with ``faults`` for the listed queries,
    in order (``"reset"``: the connection breaks; a number: that HTTP status), then normally;
    counts the transports made, i.e. fresh connections."""

    def __init__(self, faults: dict[str, list[str | int]]) -> None:
        self.fake = FakeServer()
        self.faults = {query: list(answers) for query, answers in faults.items()}
        self.transports = 0
        self.sent: list[str] = []
        self._transport = httpx.MockTransport(self.handle)

    async def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/recommendations":
            query = orjson.loads(request.content)["query"]
            self.sent.append(query)
            pending = self.faults.get(query)
            if pending:
                fault = pending.pop(0)
                if fault == "reset":
                    raise httpx.ReadError("Connection reset by peer", request=request)
                return httpx.Response(int(fault), json={"detail": "overloaded"})
        return await self.fake.handle(request)

    def factory(self, user: int) -> Transport:
        self.transports += 1
        return httpx_factory(timeout=5, transport=self._transport)(user)


def _workers(pool: list[Persona] | tuple[Persona, ...]) -> int:
    values = {p.fields["artist"] for p in pool} | {p.fields["genre"] for p in pool}
    return min(8, len(values))


@pytest.mark.anyio
@pytest.mark.parametrize("fault", ["reset", 503, 500])
async def test_a_probe_without_a_decisive_answer_is_retried_once_on_a_fresh_connection(fault: str | int) -> None:
    query = f"Songs by {POOL[0].fields['artist']}"
    target = Faulty({query: [fault]})
    found = await run_preflight(POOL, fields=["artist", "genre"], factory=target.factory, run_tag="t")
    assert found.skipped == () and found.usable == POOL
    assert target.sent.count(query) == 2
    assert target.transports == _workers(POOL) + 1     # one fresh connection, for the retry
    assert target.fake.sessions == {}


@pytest.mark.anyio
async def test_a_probe_that_fails_twice_sets_its_persona_aside_and_the_run_goes_on() -> None:
    artist = POOL[0].fields["artist"]
    target = Faulty({f"Songs by {artist}": ["reset", 503]})
    found = await run_preflight(POOL, fields=["artist"], factory=target.factory, run_tag="t")
    assert [s.persona for s in found.skipped] == [POOL[0].name]
    reason = found.skipped[0].reason
    assert reason.startswith(f"no answer to 'Songs by {artist}'") and reason.endswith("answered HTTP 503")
    assert found.usable == POOL[1:]


@pytest.mark.anyio
async def test_a_client_error_is_decisive_and_not_retried() -> None:
    query = f"Songs by {POOL[0].fields['artist']}"
    target = Faulty({query: [404]})
    found = await run_preflight(POOL, fields=["artist"], factory=target.factory, run_tag="t")
    assert [(s.persona, s.reason) for s in found.skipped] == [(POOL[0].name, f"{query!r} answered HTTP 404")]
    assert target.sent.count(query) == 1


@pytest.mark.anyio
async def test_a_target_that_answers_nothing_is_unreachable_after_a_few_probes() -> None:
    target = Faulty({f"Songs by {p.fields['artist']}": ["reset", "reset"] for p in DEFAULT_POOL})
    with pytest.raises(TargetUnreachable, match="none got one"):
        await run_preflight(DEFAULT_POOL, fields=["artist"], factory=target.factory, run_tag="t")
    # It gave up early: not two attempts at each of the 41 artists.
    assert len(target.sent) < 2 * len(DEFAULT_POOL)
    assert len(target.sent) >= 2 * UNREACHABLE_AFTER
