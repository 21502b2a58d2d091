"""Preflight: before any load, find which personas the target can serve at all.

For each persona field a run's content rules judge (``artist``, ``genre``), the target is
asked once ("Songs by X", "X music") on a throwaway session that is then deleted. A
persona whose answer does not fit (no tracks, or a track not by that artist / not tagged
with that genre) is set aside and reported as skipped: a target without Bill Evans in its
catalog is not a violation. Content is judged only from what the answers say (with the
checker's own ``fits``), never from a copy of our catalog.

The probes go through the run's ``Exchange`` (the contract's native one, or a target
profile's), so a service that is not ours is probed in its own words. A target whose answers
show no item subjects (a chat app that answers in text) cannot be probed for content: every
persona is kept.

A probe that gets no answer (a timeout, a reset connection) or a server error (5xx, which
says nothing about the catalog) is tried once more on a fresh connection: one reset
connection must not end a run (issue 12). A persona whose probe still has no decisive answer
is set aside like one the target cannot serve, with the reason. Only a target that answers
none of the probes at all raises ``TargetUnreachable`` (``loadtest.errors``: the run's harness
error, exit 4); it is declared so once ``UNREACHABLE_AFTER`` probes (each tried twice) got no
answer while none got one, so that a dead target does not cost a timeout per probe.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from loadtest.errors import TargetUnreachable
from loadtest.exchange import CONTRACT, Exchange, Request, op_base
from loadtest.oracle.content import fits
from loadtest.personas import Persona
from loadtest.result import SkippedPersona
from loadtest.scenario import QueryStep
from loadtest.transport import Reply, TransportError, TransportFactory, UserTransport

PROBES: dict[str, str] = {"artist": "Songs by {artist}", "genre": "{genre} music"}
UNREACHABLE_AFTER = 3    # probes without any answer, none answered: the target is unreachable
_CONCURRENCY = 8


@dataclass(frozen=True, slots=True)
class _Probe:
    """What one probe found: ``reason`` is ``None`` when the answer fits."""

    reason: str | None
    answered: bool = True       # the target answered at all (any HTTP status)
    decisive: bool = True       # the answer says whether the target serves the value (not a 5xx)


@dataclass(frozen=True, slots=True)
class PreflightResult:
    usable: tuple[Persona, ...]
    skipped: tuple[SkippedPersona, ...]


async def run_preflight(pool: Sequence[Persona], *, fields: Sequence[str], factory: TransportFactory,
                        run_tag: str, exchange: Exchange = CONTRACT) -> PreflightResult:
    """Probe each distinct (field, value) of ``pool`` once through ``exchange``; keep the
    personas all of whose probed fields fit."""
    probed = [f for f in PROBES if f in fields]
    values = sorted({(f, p.fields[f]) for p in pool for f in probed if f in p.fields})
    if not values:
        return PreflightResult(tuple(pool), ())
    queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
    for item in values:
        queue.put_nowait(item)
    reasons: dict[tuple[str, str], str | None] = {}
    counter = iter(range(1, 1_000_000))
    unanswered: list[str] = []      # probes that got no answer, twice
    answered = False

    def request_id() -> str:
        return f"{run_tag}-pre-{next(counter)}"

    async def worker(number: int) -> None:
        nonlocal answered
        transport = factory(-1 - number)
        try:
            while not queue.empty():
                field, value = queue.get_nowait()
                found = await _probe(transport, exchange, field, value, request_id=request_id)
                if not found.decisive:
                    # Once more on a fresh connection: the old one may be the one that broke.
                    await transport.aclose()
                    transport = factory(-1 - number)
                    again = await _probe(transport, exchange, field, value, request_id=request_id)
                    found = _Probe(f"{found.reason}, then {again.reason}" if not again.decisive else again.reason,
                                   answered=found.answered or again.answered, decisive=again.decisive)
                answered = answered or found.answered
                if not found.answered:
                    unanswered.append(found.reason or "")
                    if not answered and len(unanswered) >= min(UNREACHABLE_AFTER, len(values)):
                        raise TargetUnreachable(f"{len(unanswered)} preflight request(s) got no answer, each "
                                                f"tried twice, and none got one: {unanswered[0]}")
                reasons[(field, value)] = found.reason
        finally:
            await transport.aclose()

    workers = [asyncio.create_task(worker(n)) for n in range(min(_CONCURRENCY, len(values)))]
    try:
        await asyncio.gather(*workers)
    finally:
        for task in workers:
            task.cancel()
    usable: list[Persona] = []
    skipped: list[SkippedPersona] = []
    for persona in pool:
        why = [reasons[(f, persona.fields[f])] for f in probed if f in persona.fields]
        bad = [reason for reason in why if reason is not None]
        if bad:
            skipped.append(SkippedPersona(persona=persona.name, reason="; ".join(bad)))
        else:
            usable.append(persona)
    return PreflightResult(tuple(usable), tuple(skipped))


async def _probe(transport: UserTransport, exchange: Exchange, field: str, value: str, *,
                 request_id: Callable[[], str]) -> _Probe:
    """Whether the answer fits ``field = value`` (``reason`` ``None``), and if not, why not."""
    query = PROBES[field].format_map({field: value})
    step = QueryStep(name="preflight", query=query)
    session = exchange.new_session_id()
    request = exchange.recommend(step, {}, rid=request_id(), session_id=session, max_recommendations=10)
    if request is None:
        return _Probe(None)     # the profile cannot send a query without a session: nothing to probe with
    try:
        reply = await exchange.send(transport, request)
    except TransportError as exc:
        return _Probe(f"no answer to {query!r} ({exc})", answered=False, decisive=False)
    reason = await _judge(transport, exchange, request, reply, query=query, field=field, value=value,
                          request_id=request_id)
    return _Probe(reason, decisive=reply.status < 500)


async def _judge(transport: UserTransport, exchange: Exchange, request: Request, reply: Reply, *, query: str,
                 field: str, value: str, request_id: Callable[[], str]) -> str | None:
    """Delete the probe's throwaway session; ``None`` when ``reply`` fits ``field = value``,
    otherwise why not."""
    base = op_base(request, index=0, user=-1, conversation="preflight", scenario="preflight",
                   step="preflight", invoked_at=0.0, subject={})
    op = exchange.answered(base, reply=reply, completed_at=0.0)
    if op.session is not None:
        delete = exchange.delete_session(op.session, rid=request_id())
        if delete is not None:
            try:
                await exchange.send(transport, delete)
            except TransportError:
                pass  # the throwaway session expires on its own
    if op.status == "fail":
        return f"{query!r} answered HTTP {op.http_status}"
    if op.status != "ok":
        return f"{query!r} gave a malformed answer ({op.error})"
    if not op.tracks:
        return f"{query!r} found no tracks"
    if not fits(op.tracks, {field: value}, [field]):
        shown = op.tracks[0].artist if field == "artist" else ", ".join(op.tracks[0].tags)
        return f"{query!r} answered tracks that do not fit ({field} {value!r}; e.g. {shown!r})"
    return None


__all__ = ["PROBES", "PreflightResult", "TargetUnreachable", "run_preflight"]
