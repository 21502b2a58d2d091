"""The Redis store against the memory store at one worker, side by side: requests per
second, the server's CPU per request, and Redis round trips per request counted at Redis.

    .venv/bin/python benchmarks/bench_redis_store.py [--duration 8] [--users 50] [--rounds 3]
                                                    [--two-workers] [--client-paths]

Each configuration is a real ``python -m beatdebate_server`` (``loadtest.embedded``), one
worker, started afresh each round; rounds alternate which store goes first, so that the
noise of a shared machine falls on both. The load is a closed loop of ``--users`` aiohttp
users in a separate process, each running "Songs by X" then three "More tracks" in its own
session, as fast as answers come back. The server's CPU is the user + system time of its
process tree (``psutil``) over the measured window, divided by the requests answered.
Round trips are counted at Redis: the benchmark starts a ``redis-server`` of its own on a
free port, so that ``INFO commandstats`` counts only this server's commands; a round trip
is a top-level command (``EVALSHA``, ``PING``; a script's inner calls are not).
From the inner calls it also counts lock takes (``SET``: only the locked path sets the
lock) and new sessions (``create`` is the only script calling ``ZREMRANGEBYSCORE``, twice),
so that a follow-up turn's round trips show apart from a new session's (create + append).

``--client-paths`` measures redis-py's client options in-process instead (see
``_client_paths``): the CPU per command of the append script through each.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

ARTISTS = ("Radiohead", "Mk.gee", "The Beatles", "Aphex Twin", "Bill Evans", "Daft Punk")
TOP_LEVEL = ("evalsha", "eval", "ping", "script|load")  # TIME: scripts call it too


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


def _redis_counts(redis_url: str) -> dict[str, float]:
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        stats = client.info("commandstats")
        cpu = client.info("cpu")
    finally:
        client.close()

    def calls(name: str) -> int:
        return int(stats.get(f"cmdstat_{name}", {}).get("calls", 0))

    return {"round_trips": sum(calls(name) for name in TOP_LEVEL),
            "lock_takes": calls("set"),  # only the lock script calls SET
            "creates": calls("zremrangebyscore") / 2,  # ``create`` calls it twice, nothing else here
            "redis_cpu": float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"])}


def _cpu_seconds(pid: int) -> float:
    import psutil

    process = psutil.Process(pid)
    total = 0.0
    for member in [process, *process.children(recursive=True)]:
        try:
            times = member.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def _measure(store: str, workers: int, *, duration: float, users: int,
             redis_url: str | None) -> dict[str, Any]:
    from loadtest.embedded import embedded_process

    args = ("--log-level", "warning", "--session-ttl", "300")
    with embedded_process(store=store, workers=workers, extra_args=args) as server:
        _client(server.url, duration=2.0, users=users)  # warm-up: indexes, pools, scripts
        before = _redis_counts(redis_url) if redis_url else {}
        cpu_before = _cpu_seconds(server.pid)
        result = _client(server.url, duration=duration, users=users)
        cpu = _cpu_seconds(server.pid) - cpu_before
        answered = result["ok"] + result["errors"]
        result["cpu_us_per_request"] = cpu / answered * 1e6
        if redis_url:
            after = _redis_counts(redis_url)
            delta = {key: after[key] - before[key] for key in after}
            result["round_trips_per_request"] = delta["round_trips"] / answered
            result["lock_takes_per_request"] = delta["lock_takes"] / answered
            follow_ups = answered - delta["creates"]
            # A new session is create + its first turn's append: two round trips.
            result["round_trips_per_follow_up"] = (
                (delta["round_trips"] - 2 * delta["creates"]) / follow_ups)
            result["redis_cpu_us_per_request"] = delta["redis_cpu"] / answered * 1e6
    return result


def _client(url: str, *, duration: float, users: int) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, "--client", url, "--duration", str(duration),
                          "--users", str(users)], capture_output=True, text=True, check=True)
    return dict(json.loads(out.stdout))


# -- redis-py's client paths, in-process ----------------------------------------------------


async def _client_paths(redis_url: str, *, commands: int, concurrency: int) -> list[str]:
    """CPU per append (the store's append script, optimistic mode, one session per caller,
    ``concurrency`` callers at once) through: the ``BlockingConnectionPool`` (64) the store
    used, a plain ``ConnectionPool``, a pool of 8, one connection shared by every caller
    (``single_connection_client``: redis-py serialises commands behind a lock, so no
    pipelining across callers), explicit pipelines of 1 to ``concurrency`` appends, and the
    store's own ``ScriptBatcher`` (``store/redis_batch.py``) with every caller at once."""
    import os

    import orjson
    from redis.asyncio import BlockingConnectionPool, ConnectionPool, Redis

    from beatdebate_server.store.redis_batch import ScriptBatcher
    from beatdebate_server.store.redis_scripts import APPEND, CREATE, SCRIPTS

    turn = orjson.dumps({"turn": 1, "request_id": "r" * 16, "query": "More tracks",
                         "kind": "follow_up", "follow_up": "more_tracks", "entities": {},
                         "anchor_turn": 1, "track_ids": ["t" * 12] * 5, "at": 1.0,
                         "source": "primary"})
    lines = []

    async def run(name: str, client: Redis, *, pipeline: int = 0, batched: bool = False) -> None:
        script = client.register_script(APPEND)
        append_sha = await client.script_load(APPEND)
        create = client.register_script(CREATE)
        batcher = ScriptBatcher(client, dict(SCRIPTS))
        ns = f"paths-{name}"
        sids = [f"s{i}" for i in range(concurrency)]
        counts = dict.fromkeys(sids, 0)
        for sid in sids:
            await create([f"{ns}:s:{sid}", f"{ns}:lru", f"{ns}:fresh"],
                         [sid, "1.0", 600_000, 100_000, f"{ns}:", "0"])

        def args(sid: str) -> list[Any]:
            counts[sid] += 1
            return [turn, counts[sid], "1.0", 600_000, 20, sid, "", 0, os.urandom(8).hex(), "cas"]

        def keys(sid: str) -> list[str]:
            return [f"{ns}:s:{sid}", f"{ns}:t:{sid}", f"{ns}:lru", f"{ns}:lock:{sid}"]

        # Connect and load the script outside the measurement.
        await asyncio.gather(*(script(keys(sid), args(sid)) for sid in sids))
        rounds = commands // concurrency

        async def caller(group: list[str]) -> None:
            for _ in range(rounds):
                if batched:
                    await batcher.run("append", keys(group[0]), args(group[0]))
                elif pipeline:
                    async with client.pipeline(transaction=False) as pipe:
                        for sid in group:
                            k = keys(sid)
                            pipe.execute_command("EVALSHA", append_sha, len(k), *k, *args(sid))
                        await pipe.execute()
                else:
                    await script(keys(group[0]), args(group[0]))

        size = pipeline or 1
        groups = [sids[i:i + size] for i in range(0, concurrency, size)]
        started, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(caller(group) for group in groups))
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        done = rounds * concurrency
        lines.append(f"{name:<30}{cpu / done * 1e6:>10.1f}{done / wall:>12.0f}")
        await client.aclose()

    common = {"socket_timeout": 1.0, "protocol": 2}

    def blocking(size: int) -> Redis:
        return Redis.from_pool(BlockingConnectionPool.from_url(
            redis_url, max_connections=size, timeout=None, **common))

    await run("blocking pool (64)", blocking(64))
    await run("plain pool", Redis.from_pool(ConnectionPool.from_url(redis_url, **common)))
    await run("blocking pool (8)", blocking(8))
    await run("one connection, shared", Redis.from_url(redis_url, single_connection_client=True,
                                                       **common))
    for size in (1, 2, 4, 8, concurrency):
        await run(f"explicit pipelines of {size}", blocking(64), pipeline=size)
    await run("ScriptBatcher (the store's)", blocking(64), batched=True)
    return [f"{'client path':<30}{'CPU us/cmd':>10}{'cmd/s':>12}", *lines]


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


def _row(name: str, r: dict[str, Any], memory_rps: float | None) -> str:
    ratio = f"{r['rps'] / memory_rps:.2f}" if memory_rps else "-"
    trips = r.get("round_trips_per_request")
    return (f"{name:<14}{r['rps']:>9.0f}{ratio:>7}{r['p50_ms']:>8.1f}{r['p99_ms']:>8.1f}"
            f"{r['cpu_us_per_request']:>9.0f}{r['errors']:>7}"
            + ("" if trips is None else
               f"{trips:>8.3f}{r['round_trips_per_follow_up']:>8.3f}"
               f"{r['lock_takes_per_request']:>8.3f}{r['redis_cpu_us_per_request']:>8.0f}"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--client", help=argparse.SUPPRESS)
    parser.add_argument("--duration", type=float, default=8.0)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--two-workers", action="store_true",
                        help="also run Redis at two workers each round")
    parser.add_argument("--client-paths", action="store_true",
                        help="measure redis-py client options in-process instead")
    options = parser.parse_args()
    if options.client:
        print(json.dumps(asyncio.run(_load(options.client, duration=options.duration,
                                           users=options.users))))
        return
    process, redis_url = _private_redis()
    try:
        if options.client_paths:
            for line in asyncio.run(_client_paths(redis_url, commands=20_000, concurrency=50)):
                print(line)
            return
        rounds = []
        for index in range(options.rounds):
            order = ["memory", "redis"] if index % 2 == 0 else ["redis", "memory"]
            row: dict[str, dict[str, Any]] = {}
            for store in order:
                row[store] = _measure("memory" if store == "memory" else redis_url, 1,
                                      duration=options.duration, users=options.users,
                                      redis_url=None if store == "memory" else redis_url)
            if options.two_workers:
                row["redis x2"] = _measure(redis_url, 2, duration=options.duration,
                                           users=options.users, redis_url=redis_url)
            rounds.append(row)
    finally:
        process.terminate()
        process.wait(10)
    print(f"{options.users} users, {options.duration:.0f} s per configuration, closed loop "
          f"(Songs by X, then 3 x More tracks), one worker unless said; {options.rounds} rounds")
    print(f"{'round/store':<14}{'req/s':>9}{'ratio':>7}{'p50 ms':>8}{'p99 ms':>8}"
          f"{'CPU us':>9}{'errors':>7}{'RT/req':>8}{'RT/f-up':>8}{'locks':>8}{'R us':>8}")
    for index, row in enumerate(rounds, 1):
        memory_rps = row["memory"]["rps"]
        for store, r in row.items():
            print(_row(f"{index} {store}", r, memory_rps))
    ratios = [row["redis"]["rps"] / row["memory"]["rps"] for row in rounds]
    cpu = [row["redis"]["cpu_us_per_request"] / row["memory"]["cpu_us_per_request"]
           for row in rounds]
    print(f"Redis/memory req/s: median {statistics.median(ratios):.2f} "
          f"(rounds: {', '.join(f'{x:.2f}' for x in ratios)}); "
          f"CPU per request, Redis/memory: median {statistics.median(cpu):.2f} "
          f"(rounds: {', '.join(f'{x:.2f}' for x in cpu)})")


if __name__ == "__main__":
    main()
