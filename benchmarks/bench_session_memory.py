"""Bytes per live session in the memory store: the typical session and the worst case.

Fills a ``MemoryStore`` with N sessions through its public API, with turns built the way
``service.turn.TurnService`` builds them (a fresh query string and request id per request,
track ids owned by the catalog, shared rather than copied, the resolved entities), and
measures with tracemalloc and, in a separate pass without tracemalloc, as the growth of
the process's RSS. The cases:

- ``two-turns`` (target: <= 4 KB per session): "Songs by X", then "More tracks", ten
  track ids per turn.
- ``worst-ascii`` and ``worst-emoji``: what one client can make a session hold (issue 16):
  ``--turns`` turns (default 50, the default ``history_limit``) of 500-character queries
  (ASCII, or emoji: 4 bytes each), 128-character request ids and 50 track ids each. With
  the byte budget (``--history-bytes``, default the server's) the store keeps the newest
  turns that fit it; ``--no-budget`` measures the server before the budget (turns only).

The projection multiplies by ``--at`` sessions (default 100,000, the default
``max_sessions``): what a store full of such sessions would hold.

    .venv/bin/python benchmarks/bench_session_memory.py [--case two-turns|worst-ascii|worst-emoji|all]
        [--sessions N] [--turns 50] [--history-bytes 16384 | --no-budget] [--at 100000] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from beatdebate_server.ids import mint_request_id  # noqa: E402
from beatdebate_server.session import Turn  # noqa: E402
from beatdebate_server.settings import Settings  # noqa: E402
from beatdebate_server.store.memory import MemoryStore  # noqa: E402

ARTISTS = 2_000
TRACKS_PER_ARTIST = 60
CASES = ("two-turns", "worst-ascii", "worst-emoji")
DEFAULT_SESSIONS = {"two-turns": 100_000, "worst-ascii": 4_000, "worst-emoji": 4_000}
TARGET_TWO_TURNS = 4096


def _rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()


class _Catalog:
    """The catalog's strings: alive before and after the measurement, as in the server."""

    def __init__(self) -> None:
        self.artists = [f"Artist {i:04d}" for i in range(ARTISTS)]
        self.track_ids = [tuple(f"t{i:04d}{j:02d}abcdef" for j in range(TRACKS_PER_ARTIST))
                          for i in range(ARTISTS)]


TurnMaker = Callable[[int, int, _Catalog], Turn]


def _typical_turn(i: int, n: int, catalog: _Catalog) -> Turn:
    a = i % ARTISTS
    artist = catalog.artists[a]
    if n == 1:  # each query arrives as a new string (decoded from the request body)
        return Turn(turn=1, request_id=mint_request_id(), query="".join(("Songs by ", artist)),
                    kind="by_artist", follow_up=None, entities={"artists": (artist,)},
                    anchor_turn=None, track_ids=catalog.track_ids[a][:10], at=time.time())
    return Turn(turn=n, request_id=mint_request_id(), query="".join(("More ", "tracks")),
                kind="follow_up", follow_up="more_tracks", entities={"artists": (artist,)},
                anchor_turn=1, track_ids=catalog.track_ids[a][10:20], at=time.time())


def _worst_turn(unit: str) -> TurnMaker:
    def make(i: int, n: int, catalog: _Catalog) -> Turn:
        a = i % ARTISTS
        # 500 characters, a new string per request; a 128-character client request id.
        query = "".join((f"{n:03d} ", unit * 496))
        request_id = "".join((f"{i:08d}{n:04d}", "r" * 116))
        return Turn(turn=n, request_id=request_id, query=query, kind="discovery",
                    follow_up=None, entities={"genres": ("rock",), "moods": ("calm",)},
                    anchor_turn=None, track_ids=catalog.track_ids[a][:50], at=time.time())
    return make


MAKERS: dict[str, TurnMaker] = {"two-turns": _typical_turn, "worst-ascii": _worst_turn("x"),
                                "worst-emoji": _worst_turn("\U0001f3b5")}


async def fill(store: MemoryStore, sessions: int, turns: int, make: TurnMaker,
               catalog: _Catalog) -> None:
    for i in range(sessions):
        session = await store.create()
        for n in range(1, turns + 1):
            await store.append_turn(session.session_id, make(i, n, catalog))


def measure(case: str, *, sessions: int, turns: int, history_bytes: int | None,
            at: int) -> dict[str, Any]:
    make = MAKERS[case]
    catalog = _Catalog()

    def new_store() -> MemoryStore:
        return MemoryStore(ttl_seconds=3600, max_sessions=sessions + 1, history_limit=50,
                           history_bytes=history_bytes)

    # Pass 1, RSS growth alone (tracemalloc's bookkeeping would inflate it).
    store = new_store()
    gc.collect()
    rss_before = _rss_bytes()
    asyncio.run(fill(store, sessions, turns, make, catalog))
    gc.collect()
    rss_after = _rss_bytes()
    del store
    gc.collect()
    # Pass 2, the Python allocations that stay alive, with tracemalloc.
    store = new_store()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    started = time.perf_counter()
    asyncio.run(fill(store, sessions, turns, make, catalog))
    elapsed = time.perf_counter() - started
    gc.collect()
    after = tracemalloc.take_snapshot()
    traced = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    tracemalloc.stop()
    live = list(store._sessions.values())
    assert len(live) == sessions, (len(live), sessions)
    per_session = traced / sessions
    return {"case": case, "sessions": sessions, "turns_sent": turns,
            "turns_kept": sum(len(s.turns) for s in live) / sessions,
            "history_bytes": history_bytes,
            "bytes_per_session_tracemalloc": per_session,
            "bytes_per_session_rss": (rss_after - rss_before) / sessions,
            "projected_gib": per_session * at / 2**30, "at": at, "fill_seconds": elapsed}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=(*CASES, "all"), default="all")
    parser.add_argument("--sessions", type=int, default=None,
                        help="sessions per case (default: 100,000 typical, 4,000 worst)")
    parser.add_argument("--turns", type=int, default=50, help="turns sent per worst-case session")
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument("--history-bytes", type=int,
                        default=Settings.model_fields["history_bytes"].default)
    budget.add_argument("--no-budget", action="store_true",
                        help="no byte budget: history trimmed by turns only (before issue 16)")
    parser.add_argument("--at", type=int, default=Settings.model_fields["max_sessions"].default,
                        help="sessions for the projection (default: the default max_sessions)")
    parser.add_argument("--json", action="store_true", help="print one JSON object per case")
    args = parser.parse_args()
    history_bytes = None if args.no_budget else args.history_bytes
    ok = True
    for case in CASES if args.case == "all" else (args.case,):
        sessions = args.sessions or DEFAULT_SESSIONS[case]
        result = measure(case, sessions=sessions, turns=2 if case == "two-turns" else args.turns,
                         history_bytes=history_bytes, at=args.at)
        if case == "two-turns":
            ok = ok and result["bytes_per_session_tracemalloc"] <= TARGET_TWO_TURNS
        if args.json:
            print(json.dumps(result))
            continue
        print(f"{case}: {result['sessions']:,} sessions, {result['turns_sent']} turns sent, "
              f"{result['turns_kept']:.1f} kept, history_bytes {history_bytes}")
        print(f"  bytes/session (tracemalloc): {result['bytes_per_session_tracemalloc']:,.0f}")
        print(f"  bytes/session (RSS growth):  {result['bytes_per_session_rss']:,.0f}")
        print(f"  at {args.at:,} sessions:       {result['projected_gib']:.2f} GiB")
        if case == "two-turns":
            print(f"  target:                      <= {TARGET_TWO_TURNS:,}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
