"""Requests per second with the Redis store (1 and 2 workers) against the memory store
(1 worker), same load, side by side; and Redis round trips per turn.

    .venv/bin/python benchmarks/bench_redis_store.py [--duration 10] [--users 50]
                                                    [--redis redis://host:port/db]

Each configuration is a real ``beatdebate serve`` (``loadtest.embedded``). The load is a
closed loop of ``--users`` aiohttp users in a separate process, each running "Songs by X"
then three "More tracks" in its own session, as fast as answers come back. Without
``--redis`` the benchmark starts a ``redis-server`` of its own on a free port, so that
``INFO commandstats`` counts only this server's commands: round trips per request is the
growth of top-level commands (``EVALSHA``, ``PING``; a script's inner calls are not round
trips) divided by the requests answered. The load generator shares the machine's cores
with the server, as in ``shared/design/client-cost.md``; compare rows, not absolutes.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

ARTISTS = ("Radiohead", "Mk.gee", "The Beatles", "Aphex Twin", "Bill Evans", "Daft Punk")
TOP_LEVEL = ("evalsha", "eval", "ping", "script|load")


# -- the load generator (a subprocess: ``--client URL``) ----------------------------------


async def _load(url: str, *, duration: float, users: int) -> dict[str, Any]:
    import aiohttp

    artists = itertools.cycle(ARTISTS)
    counts = {"ok": 0, "errors": 0}
    latencies: list[float] = []

    async def post(client: aiohttp.ClientSession, body: dict[str, Any]) -> str | None:
        started = time.perf_counter()
        async with client.post("/recommendations", json=body) as response:
            data = await response.json()
        latencies.append(time.perf_counter() - started)
        if response.status != 200:
            counts["errors"] += 1
            return None
        counts["ok"] += 1
        return str(data["session_id"])

    async def user(client: aiohttp.ClientSession, stop: float) -> None:
        while time.monotonic() < stop:
            sid = await post(client, {"query": f"Songs by {next(artists)}"})
            for _ in range(3):
                if sid is not None:
                    await post(client, {"query": "More tracks", "session_id": sid})

    connector = aiohttp.TCPConnector(limit=users)
    async with aiohttp.ClientSession(base_url=url, connector=connector) as client:
        started = time.monotonic()
        await asyncio.gather(*(user(client, started + duration) for _ in range(users)))
        elapsed = time.monotonic() - started
    latencies.sort()

    def pct(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000

    return {**counts, "elapsed": elapsed, "rps": counts["ok"] / elapsed,
            "p50_ms": pct(0.50), "p99_ms": pct(0.99)}


# -- the benchmark ---------------------------------------------------------------------------


def _top_level_calls(redis_url: str) -> int:
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        stats = client.info("commandstats")
    finally:
        client.close()
    return sum(int(stats.get(f"cmdstat_{name}", {}).get("calls", 0)) for name in TOP_LEVEL)


def _measure(store: str, workers: int, *, duration: float, users: int,
             redis_url: str | None) -> dict[str, Any]:
    from loadtest.embedded import embedded_server

    args = ("--log-level", "warning", "--session-ttl", "300")
    with embedded_server(store=store, workers=workers, extra_args=args) as url:
        _client(url, duration=2.0, users=users)  # warm-up: indexes, pools, scripts
        before = _top_level_calls(redis_url) if redis_url else 0
        result = _client(url, duration=duration, users=users)
        if redis_url:
            answered = result["ok"] + result["errors"]
            result["round_trips_per_request"] = (_top_level_calls(redis_url) - before) / answered
    return result


def _client(url: str, *, duration: float, users: int) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, "--client", url, "--duration", str(duration),
                          "--users", str(users)], capture_output=True, text=True, check=True)
    return dict(json.loads(out.stdout))


def _private_redis() -> tuple[subprocess.Popen[bytes], str]:
    from loadtest.embedded import free_port

    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server not found: install it or pass --redis URL")
    port = free_port()
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no"], stdout=subprocess.DEVNULL)
    time.sleep(0.3)
    return process, f"redis://127.0.0.1:{port}/0"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--client", help=argparse.SUPPRESS)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--redis", help="use this Redis instead of a private redis-server "
                                        "(round trips are then not counted)")
    options = parser.parse_args()
    if options.client:
        print(json.dumps(asyncio.run(_load(options.client, duration=options.duration,
                                           users=options.users))))
        return
    process, redis_url = (None, options.redis) if options.redis else _private_redis()
    counted = None if options.redis else redis_url
    try:
        rows = [("memory", 1, _measure("memory", 1, duration=options.duration,
                                       users=options.users, redis_url=None)),
                ("redis", 1, _measure(redis_url, 1, duration=options.duration,
                                      users=options.users, redis_url=counted)),
                ("redis", 2, _measure(redis_url, 2, duration=options.duration,
                                      users=options.users, redis_url=counted))]
    finally:
        if process is not None:
            process.terminate()
            process.wait(10)
    print(f"{options.users} users, {options.duration:.0f} s each, closed loop "
          "(Songs by X, then 3 x More tracks)")
    print(f"{'store':<8}{'workers':>8}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}"
          f"{'Redis round trips/req':>23}")
    for store, workers, r in rows:
        trips = r.get("round_trips_per_request")
        print(f"{store:<8}{workers:>8}{r['rps']:>10.0f}{r['p50_ms']:>9.1f}{r['p99_ms']:>9.1f}"
              f"{r['errors']:>8}{'-' if trips is None else f'{trips:.3f}':>23}")


if __name__ == "__main__":
    main()
