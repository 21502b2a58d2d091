"""CPU per ``POST /recommendations`` in-process: the app's ASGI callable driven directly.

No uvicorn, no sockets and no load generator: what is left is the app's own cost per
request, which a throughput run over HTTP blurs. Three apps take turns, round by round:

- *fast path*: ``create_app`` as shipped (well-formed requests answered by ``TurnFastPath``);
- *route only*: the same app with ``TurnFastPath`` taken out, so that every request goes
  through FastAPI's routing, dependency solving and body validation to the route;
- *bare*: a FastAPI endpoint that validates the same ``RecommendationRequest`` and
  returns a 2,000-byte payload (the throughput benchmark's baseline, minus the captured
  answers).

All three run on uvloop, as ``beatdebate serve`` does. The mix is the throughput benchmark's: a session opened with "Songs by <artist>", then
three "More tracks". ``--profile`` prints a cProfile of the shipped app instead;
``--store redis://...`` puts our two apps' sessions in Redis.

    .venv/bin/python benchmarks/bench_turn_in_process.py [--requests 20000] [--rounds 3]
        [--store memory|redis://host:port/db] [--profile tottime]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import gc
import pstats
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi import FastAPI, Response  # noqa: E402

from beatdebate_server.http.app import create_app  # noqa: E402
from beatdebate_server.http.routers.recommendations import TurnFastPath  # noqa: E402
from beatdebate_server.http.schemas import RecommendationRequest  # noqa: E402
from beatdebate_server.settings import Settings  # noqa: E402

ARTISTS = ("Radiohead", "The Beatles", "Björk", "Bon Iver", "Miles Davis", "Kendrick Lamar",
           "Daft Punk", "Metallica")
FOLLOW_UPS = 3
# One client sends every request: the per-client rate limits stay on (their cost is part of
# the hot path) but with rates that never refuse.
UNREFUSED: dict[str, Any] = {"turn_rate": 1e9, "turn_burst": 10**9, "session_rate": 1e9,
                             "session_burst": 10**9}
ASGIApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


def bare_app() -> FastAPI:
    app = FastAPI()
    payload = b"x" * 2000

    @app.post("/recommendations")
    async def recommend(body: RecommendationRequest) -> Response:
        return Response(payload, media_type="application/json")

    return app


def route_only(app: FastAPI) -> FastAPI:
    # Starlette builds its middleware stack from this list on the first request.
    app.user_middleware = [m for m in app.user_middleware if m.cls is not TurnFastPath]
    return app


async def post(app: ASGIApp, body: bytes) -> bytes:
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "POST", "scheme": "http", "path": "/recommendations",
             "raw_path": b"/recommendations", "query_string": b"", "root_path": "",
             "headers": [(b"host", b"127.0.0.1"), (b"content-type", b"application/json"),
                         (b"content-length", str(len(body)).encode())],
             "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80), "state": {}}
    delivered = False

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # never: a client that stays connected
        raise AssertionError

    answer: list[bytes] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start" and message["status"] != 200:
            raise RuntimeError(f"status {message['status']}")
        if message["type"] == "http.response.body":
            answer.append(message.get("body", b""))

    await app(scope, receive, send)
    return b"".join(answer)


async def drive(app: ASGIApp, requests: int, *, real_sessions: bool) -> float:
    """CPU microseconds per request over ``requests`` requests of the mix."""
    rng = random.Random(1)
    done = 0
    started = time.process_time()
    while done < requests:
        first = await post(app, orjson.dumps({"query": f"Songs by {rng.choice(ARTISTS)}"}))
        session_id = orjson.loads(first)["session_id"] if real_sessions else "s" * 16
        for _ in range(FOLLOW_UPS):
            await post(app, orjson.dumps({"query": "More tracks", "session_id": session_id}))
        done += 1 + FOLLOW_UPS
    return (time.process_time() - started) / done * 1e6


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--store", default="memory",
                        help="the session store of our two apps: memory, or a redis:// URL "
                             "(its database is written to; use a spare one)")
    parser.add_argument("--profile", metavar="SORT", default=None,
                        help="profile the shipped app, sorted by SORT (tottime, cumtime)")
    args = parser.parse_args()

    apps: dict[str, tuple[Any, bool]] = {
        "fast path": (create_app(Settings(store=args.store, **UNREFUSED)), True),
        "route only": (route_only(create_app(Settings(store=args.store, **UNREFUSED))), True),
        "bare": (bare_app(), False)}
    async with contextlib.AsyncExitStack() as lifespans:
        for app, real in apps.values():
            if real:
                await lifespans.enter_async_context(app.router.lifespan_context(app))
        return await measure(apps, args)


async def measure(apps: dict[str, tuple[Any, bool]], args: argparse.Namespace) -> int:
    gc.collect()
    gc.freeze()  # as ``beatdebate serve`` does once its catalog is loaded
    for app, real in apps.values():  # warm up: intent caches, first-call imports
        await drive(app, 2000, real_sessions=real)

    if args.profile:
        app, real = apps["fast path"]
        profile = cProfile.Profile()
        profile.enable()
        await drive(app, args.requests, real_sessions=real)
        profile.disable()
        pstats.Stats(profile).sort_stats(args.profile).print_stats(40)
        return 0

    figures: dict[str, list[float]] = {name: [] for name in apps}
    for _ in range(args.rounds):
        for name, (app, real) in apps.items():
            figures[name].append(await drive(app, args.requests, real_sessions=real))
    bare = statistics.median(figures["bare"])
    print(f"CPU per request, in-process ({args.requests:,} requests x {args.rounds} rounds)")
    for name, values in figures.items():
        median = statistics.median(values)
        rounds = ", ".join(f"{v:.1f}" for v in values)
        print(f"  {name:<11} median {median:6.1f} us  (rounds: {rounds})  "
              f"bare / this: {bare / median:.2f}")
    return 0


if __name__ == "__main__":
    import uvloop  # the event loop ``beatdebate serve`` runs on

    raise SystemExit(uvloop.run(main()))
