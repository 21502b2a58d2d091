"""Virtual users through a profile's exchange, end to end in-process: our server described by a
profile gives the same ops as the native path; the original back end's shape runs too."""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from fakes import write_persona_catalog
from profile_build import Sink, example_app

import beatdebate_server
from loadtest.exchange import Exchange
from loadtest.history import Op
from loadtest.personas import DEFAULT_POOL
from loadtest.profiles import evidence, exchange_for, load_profile
from loadtest.profiles.answer import ID_SEPARATOR
from loadtest.scenario import Scenario, load_builtin
from loadtest.transport import httpx_factory
from loadtest.users import UserSettings, VirtualUser

SCENARIOS = ("follow-up-isolation", "concurrent-new-sessions", "refresh", "same-session-burst",
             "made-up-and-expired-ids", "canary-recall")
# Op fields that depend on the evidence named: every field the checker reads from an answer.
BY_EVIDENCE = {"turn": ("turn",), "session_created": ("session_created",), "intent": ("kind",),
               "follow_up": ("follow_up",), "anchor": ("anchor",), "item_ids": ("tracks",),
               "history": ("recorded", "turn_count")}
ALWAYS = ("action", "step", "conversation", "status", "http_status", "request_id", "query", "subject", "expect",
          "canary", "error", "entities", "source", "notice", "text")


async def _run(app: Any, exchange: Exchange, scenarios: Sequence[Scenario], *, users: int = 3) -> list[Op]:
    factory = httpx_factory(timeout=10, app=app)
    sink = Sink()
    for number in range(users):
        user = VirtualUser(number, transport=factory(number), persona=DEFAULT_POOL[number], rng=random.Random(number),
                           sink=sink, settings=UserSettings(run_tag="t", started=time.monotonic(), think_scale=0),
                           exchange=exchange)
        for scenario in scenarios:
            await user.run_iteration(scenario)
        await user.aclose()
    return sorted(sink.ops, key=lambda op: op.index)


@pytest.mark.anyio
async def test_our_server_by_profile_records_what_the_native_path_records(tmp_path: Path) -> None:
    profile = load_profile("our-server-by-profile")
    scenarios = [s for name in SCENARIOS for s in load_builtin(name)]
    runs = []
    for exchange in (exchange_for(load_profile("contract")), exchange_for(profile)):
        # A fresh server per run: the same requests in the same order, so the same answers.
        app = beatdebate_server.create_app(
            beatdebate_server.Settings(catalog=write_persona_catalog(tmp_path / "catalog.jsonl")))
        async with app.router.lifespan_context(app):
            runs.append(await _run(app, exchange, scenarios))
    native, by_profile = runs
    assert len(native) == len(by_profile) > 60
    assert {op.status for op in native} == {"ok"}
    fields = ALWAYS + tuple(name for ev, names in BY_EVIDENCE.items() if ev in evidence(profile) for name in names)
    assert {"turn", "anchor", "tracks", "recorded", "session_created", "kind", "follow_up"} <= set(fields)
    same_session: dict[str | None, str | None] = {None: None}
    for mine, theirs in zip(native, by_profile, strict=True):
        assert {f: getattr(mine, f) for f in fields} == {f: getattr(theirs, f) for f in fields}
        # Server-minted ids differ between the runs, but name the same sessions.
        for a, b in ((mine.session, theirs.session), (mine.session_sent, theirs.session_sent)):
            if a is not None and a.count("-") == 4:
                continue        # a client's made-up uuid: random in each run
            assert same_session.setdefault(a, b) == b
    assert len(set(same_session.values())) == len(same_session)


@pytest.mark.anyio
async def test_the_original_back_end_runs_by_its_profile() -> None:
    original = example_app("beatdebate_original")
    profile = load_profile("beatdebate-original")
    scenarios = [s for name in profile.run.scenarios for s in load_builtin(name)]
    ops = await _run(original.create_app(), exchange_for(profile), scenarios, users=2)
    assert ops and {op.status for op in ops} == {"ok"}
    # No create, history or delete routes: those steps were skipped, never sent.
    assert {op.action for op in ops} == {"recommend"}
    by_conversation: dict[str, list[Op]] = {}
    for op in ops:
        by_conversation.setdefault(op.conversation, []).append(op)
    sessions = [{op.session for op in group} for group in by_conversation.values()]
    assert all(len(found) == 1 for found in sessions)           # a conversation keeps its session
    assert len({found.pop() for found in sessions}) == len(sessions)  # and no two share one
    for group in by_conversation.values():
        first, *later = group
        assert first.session_sent is None
        assert all(op.session_sent == first.session for op in later)
    artist = next(op for op in ops if op.step == "artist" and op.user == 0)
    more = next(op for op in ops if op.step == "more-1" and op.user == 0)
    assert artist.tracks and all(t.artist == artist.subject["artist"] for t in artist.tracks + more.tracks)
    assert more.follow_up == "more" and not {t.track_id for t in more.tracks} & {t.track_id for t in artist.tracks}
    assert all(ID_SEPARATOR in t.track_id for t in artist.tracks)
