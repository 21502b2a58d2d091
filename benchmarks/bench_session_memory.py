"""Bytes per live session in the memory store, after two turns each (target: <= 4 KB).

Fills a ``MemoryStore`` with N sessions (default 100,000) through its public API, each
with the two turns a typical conversation records ("Songs by X", then "More tracks"),
built the way ``service.turn.TurnService`` builds them: a fresh query string and request id
per request, ten track ids owned by the catalog (shared, not copied), the resolved
entities. Memory is measured with tracemalloc (Python allocations made while filling)
and, in a separate pass without tracemalloc, as the process's RSS growth.

    .venv/bin/python benchmarks/bench_session_memory.py [--sessions 100000] [--json]
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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from beatdebate_server.ids import mint_request_id  # noqa: E402
from beatdebate_server.session import Turn  # noqa: E402
from beatdebate_server.store.memory import MemoryStore  # noqa: E402

ARTISTS = 2_000
TRACKS_PER_ARTIST = 30


def _rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()


async def fill(store: MemoryStore, sessions: int, track_ids: list[list[str]],
               artists: list[str]) -> None:
    for i in range(sessions):
        a = i % ARTISTS
        artist, tracks = artists[a], track_ids[a]
        session = await store.create()
        entities = {"artists": (artist,)}
        now = time.time()
        # Each query arrives as a new string (decoded from the request body).
        await store.append_turn(session.session_id, Turn(
            turn=1, request_id=mint_request_id(), query="".join(("Songs by ", artist)),
            kind="by_artist", follow_up=None, entities=entities, anchor_turn=None,
            track_ids=tuple(tracks[:10]), at=now))
        await store.append_turn(session.session_id, Turn(
            turn=2, request_id=mint_request_id(), query="".join(("More ", "tracks")),
            kind="follow_up", follow_up="more_tracks", entities=dict(entities),
            anchor_turn=1, track_ids=tuple(tracks[10:20]), at=now))


def measure(sessions: int) -> dict[str, float]:
    artists = [f"Artist {i:04d}" for i in range(ARTISTS)]
    track_ids = [[f"t{i:04d}{j:02d}abcdef" for j in range(TRACKS_PER_ARTIST)]
                 for i in range(ARTISTS)]  # the catalog's strings, alive before and after
    # Pass 1, RSS growth alone (tracemalloc's bookkeeping would inflate it).
    store = MemoryStore(ttl_seconds=3600, max_sessions=sessions + 1, history_limit=50)
    gc.collect()
    rss_before = _rss_bytes()
    asyncio.run(fill(store, sessions, track_ids, artists))
    gc.collect()
    rss_after = _rss_bytes()
    del store
    gc.collect()
    # Pass 2, the Python allocations that stay alive, with tracemalloc.
    store = MemoryStore(ttl_seconds=3600, max_sessions=sessions + 1, history_limit=50)
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    started = time.perf_counter()
    asyncio.run(fill(store, sessions, track_ids, artists))
    elapsed = time.perf_counter() - started
    gc.collect()
    after = tracemalloc.take_snapshot()
    traced = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    tracemalloc.stop()
    live = len(store._sessions)
    assert live == sessions, (live, sessions)
    return {"sessions": sessions, "bytes_per_session_tracemalloc": traced / sessions,
            "bytes_per_session_rss": (rss_after - rss_before) / sessions,
            "fill_seconds": elapsed, "target_bytes": 4096}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    result = measure(args.sessions)
    if args.json:
        print(json.dumps(result))
    else:
        print(f"sessions:                      {result['sessions']:,}")
        print(f"bytes/session (tracemalloc):   {result['bytes_per_session_tracemalloc']:,.0f}")
        print(f"bytes/session (RSS growth):    {result['bytes_per_session_rss']:,.0f}")
        print(f"target:                        <= {result['target_bytes']:,}")
    return 0 if result["bytes_per_session_tracemalloc"] <= result["target_bytes"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
