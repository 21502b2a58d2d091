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

A target that does not answer at all raises ``TargetUnreachable`` (``loadtest.errors``: the
run's harness error, exit 4).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from loadtest.errors import TargetUnreachable
from loadtest.exchange import CONTRACT, Exchange, op_base
from loadtest.oracle.content import fits
from loadtest.personas import Persona
from loadtest.result import SkippedPersona
from loadtest.scenario import QueryStep
from loadtest.transport import Transport, TransportError, TransportFactory

PROBES: dict[str, str] = {"artist": "Songs by {artist}", "genre": "{genre} music"}
_CONCURRENCY = 8


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

    async def worker(number: int) -> None:
        transport = factory(-1 - number)
        try:
            while not queue.empty():
                field, value = queue.get_nowait()
                reasons[(field, value)] = await _probe(transport, exchange, field, value,
                                                       request_id=lambda: f"{run_tag}-pre-{next(counter)}")
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


async def _probe(transport: Transport, exchange: Exchange, field: str, value: str, *,
                 request_id: Callable[[], str]) -> str | None:
    """``None`` when the answer fits ``field = value``; otherwise why not."""
    query = PROBES[field].format_map({field: value})
    step = QueryStep(name="preflight", query=query)
    session = exchange.new_session_id()
    request = exchange.recommend(step, {}, rid=request_id(), session_id=session, max_recommendations=10)
    if request is None:
        return None     # the profile cannot send a query without a session: nothing to probe with
    try:
        reply = await exchange.send(transport, request)
    except TransportError as exc:
        raise TargetUnreachable(f"no answer to the preflight request {query!r}: {exc}") from exc
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
