"""Requests/s of ``beatdebate serve`` next to a bare FastAPI endpoint on the same uvicorn.

Three servers, each one uvicorn worker (uvloop + httptools, access log off, log level
``info``) in a fresh process (spawned: none inherits this process's catalog):

- *beatdebate*: ``beatdebate serve``. It loads the catalog, understands the query,
  recommends on the session's own turns, records the turn, counts metrics and logs at its
  defaults (``info``, ``json``). Its well-formed ``POST /recommendations`` are answered by
  the route's fast path (``TurnFastPath``), before FastAPI's routing.
- *bare* (the target's baseline): a FastAPI endpoint that validates the same
  ``RecommendationRequest`` and answers canned payloads of the same sizes as real answers.
  Before measuring, one whole conversation per artist of the mix is captured from our
  server; the bare server answers a first query with that artist's first answer and a
  follow-up with the next page of the session it names.
- *floor* (for information): the same canned answers from a pure ASGI app that validates
  the same model straight from the bytes, as our fast path does: what serving this traffic
  costs with no turn at all. Ours / floor is what the turn itself costs.

The load generator is one aiohttp closed-loop client in its own process: ``--users``
virtual users, each opening a session with "Songs by <artist>" and then paging it with
``--follow-ups`` "More tracks". The servers are measured in turn (``--rounds`` times each,
same duration) and the best round of each is reported, with the ratio (target >= 0.6, aim
0.8), and the median of the rounds' paired ratios. Each server's CPU seconds per request
(from /proc) are reported too: on a machine shared with other work they are steadier than
requests/s, and when the servers come close to the load generator's own limit (one core),
requests/s stop telling them apart while CPU per request still does.

    .venv/bin/python benchmarks/bench_server_throughput.py [--seconds 10] [--users 32]
        [--follow-ups 3] [--rounds 2] [--catalog PATH] [--serve-arg=--log-level=warning] [--json]
"""

import argparse
import importlib.util
import itertools
import json
import multiprocessing as mp
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# Fresh interpreters for the bare server and the load generator: a forked child would
# carry this process's catalog (a bigger heap for its GC to walk) and its imports.
SPAWN = mp.get_context("spawn")


# -- the baselines: canned answers captured from our server ----------------------------

def _canned_answers(conversations_path: str) -> tuple[dict[str, bytes],
                                                      dict[str, Iterator[bytes]]]:
    """First answers by query, and each captured session's follow-up pages, cycled."""
    conversations = json.loads(Path(conversations_path).read_text())
    first = {query: answer.encode() for query, answer in conversations["first"].items()}
    pages = {session_id: itertools.cycle([page.encode() for page in answers])
             for session_id, answers in conversations["follow_ups"].items()}
    return first, pages


# -- the bare server ---------------------------------------------------------------------

def run_bare_server(port: int, conversations_path: str, log_path: str) -> None:
    """A FastAPI app with the same request model, answering canned payloads captured from
    our server: a first query gets its artist's first answer, a follow-up the next page of
    the captured session it names, so every body has the size ours would have."""
    import uvicorn
    from fastapi import FastAPI, Response

    from beatdebate_server.http.schemas import RecommendationRequest

    # No ``from __future__ import annotations`` in this file: FastAPI must see the model
    # class itself in this nested function's signature, not a string it cannot resolve.
    first, pages = _canned_answers(conversations_path)
    app = FastAPI()

    @app.post("/recommendations")
    async def recommend(body: RecommendationRequest) -> Response:
        if body.session_id is None:
            return Response(first[body.query], media_type="application/json")
        return Response(next(pages[body.session_id]), media_type="application/json")

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    # What ``beatdebate serve`` runs: uvloop + httptools, no access log, level info; its
    # log goes to a file, as ours does.
    sys.stderr = open(log_path, "w")  # noqa: SIM115 - for the life of this process
    uvicorn.run(app, host="127.0.0.1", port=port, loop="uvloop", http="httptools",
                access_log=False, log_level="info")


def run_floor_server(port: int, conversations_path: str, log_path: str) -> None:
    """The same canned answers as the bare server, from a pure ASGI app that validates the
    request model from the bytes: the cost of the traffic without any turn."""
    import uvicorn
    from pydantic import ValidationError

    from beatdebate_server.http.schemas import RecommendationRequest

    first, pages = _canned_answers(conversations_path)

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":  # lifespan
            message = await receive()
            while message["type"] != "lifespan.shutdown":
                await send({"type": message["type"] + ".complete"})
                message = await receive()
            await send({"type": "lifespan.shutdown.complete"})
            return
        status, payload = 200, b'{"status":"ok"}'
        if scope["method"] == "POST":
            message = await receive()
            try:
                body = RecommendationRequest.model_validate_json(message.get("body", b""))
                payload = (first[body.query] if body.session_id is None
                           else next(pages[body.session_id]))
            except ValidationError:
                status, payload = 422, b'{"detail":[]}'
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-length", str(len(payload)).encode()),
                                (b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": payload})

    sys.stderr = open(log_path, "w")  # noqa: SIM115 - for the life of this process
    uvicorn.run(app, host="127.0.0.1", port=port, loop="uvloop", http="httptools",
                access_log=False, log_level="info")


# -- the load generator ------------------------------------------------------------------

def run_load(base_url: str, seconds: float, users: int, follow_ups: int, artists: list[str],
             seed: int, out: Any) -> None:
    """Closed loop for ``seconds``; puts {"requests", "errors", "bytes"} on ``out``."""
    import asyncio

    import aiohttp

    async def user(session: aiohttp.ClientSession, rng: random.Random, deadline: float,
                   counts: dict[str, int]) -> None:
        while time.monotonic() < deadline:
            body: dict[str, Any] = {"query": f"Songs by {rng.choice(artists)}"}
            for step in range(1 + follow_ups):
                async with session.post(f"{base_url}/recommendations", json=body) as response:
                    data = await response.read()
                if response.status != 200:
                    counts["errors"] += 1
                    break
                counts["requests"] += 1
                counts["bytes"] += len(data)
                if step == 0:
                    session_id = json.loads(data)["session_id"]
                    body = {"query": "More tracks", "session_id": session_id}
                if time.monotonic() >= deadline:
                    return

    async def main() -> dict[str, int]:
        counts = {"requests": 0, "errors": 0, "bytes": 0}
        connector = aiohttp.TCPConnector(limit=users)
        async with aiohttp.ClientSession(connector=connector) as session:
            deadline = time.monotonic() + seconds
            await asyncio.gather(*(user(session, random.Random(seed + i), deadline, counts)
                                   for i in range(users)))
        return counts

    out.put(asyncio.run(main()))


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(base_url: str, server_pid: int, args: argparse.Namespace,
            artists: list[str]) -> dict[str, float]:
    queue = SPAWN.Queue()  # the load process puts its counts here
    process = SPAWN.Process(target=run_load, args=(base_url, args.seconds, args.users,
                                                args.follow_ups, artists, 1, queue))
    started = time.perf_counter()
    cpu_before = _cpu_seconds(server_pid)
    process.start()
    counts = queue.get(timeout=args.seconds + 60)
    cpu = _cpu_seconds(server_pid) - cpu_before
    process.join()
    elapsed = time.perf_counter() - started
    requests = max(counts["requests"], 1)
    # CPU per request is steadier than requests/s on a machine shared with other work.
    return {"requests": counts["requests"], "errors": counts["errors"],
            "rps": counts["requests"] / args.seconds, "wall_seconds": elapsed,
            "server_cpu_us_per_request": cpu / requests * 1e6,
            "mean_bytes": counts["bytes"] / requests}


# -- orchestration -----------------------------------------------------------------------

def _free_port() -> int:
    from loadtest.embedded import free_port
    return free_port()


def _wait_healthy(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not become healthy")


def _post(base_url: str, body: dict[str, Any]) -> bytes:
    request = urllib.request.Request(f"{base_url}/recommendations", method="POST",
                                     data=json.dumps(body).encode(),
                                     headers={"content-type": "application/json"})
    with urllib.request.urlopen(request) as response:
        return response.read()  # type: ignore[no-any-return]


def _capture(base_url: str, artists: list[str], follow_ups: int, path: Path) -> None:
    """One real conversation per artist, written as the bare server's canned answers."""
    first: dict[str, str] = {}
    pages: dict[str, list[str]] = {}
    for artist in artists:
        query = f"Songs by {artist}"
        answer = _post(base_url, {"query": query})
        session_id = json.loads(answer)["session_id"]
        first[query] = answer.decode()
        pages[session_id] = [_post(base_url, {"query": "More tracks",
                                              "session_id": session_id}).decode()
                             for _ in range(follow_ups)]
    # The bare server finds a follow-up's pages by the session id of its first answer.
    path.write_text(json.dumps({"first": first, "follow_ups": pages}))


def _artists(catalog: Path | None) -> list[str]:
    from beatdebate_server.catalog.load import load_catalog
    from beatdebate_server.recommender import Recommender

    loaded = load_catalog(catalog)
    recommender = Recommender(loaded)
    counts = Counter(t.artist for t in loaded.tracks)
    # The artists with most tracks (full pages through the follow-ups), and only names the
    # recommender recognises as the artist asked for.
    names = sorted(counts, key=lambda n: (-counts[n], n))
    return [n for n in names
            if recommender.understand(f"Songs by {n}").entities().get("artists") == (n,)][:200]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--users", type=int, default=32)
    parser.add_argument("--follow-ups", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--catalog", type=Path, default=None,
                        help="catalog file (default: the shipped catalog)")
    parser.add_argument("--serve-arg", action="append", default=[], metavar="ARG",
                        help="extra argument for `beatdebate serve` (repeatable), "
                             "e.g. --serve-arg=--log-level=warning")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    missing = [name for name in ("uvloop", "httptools") if importlib.util.find_spec(name) is None]
    if missing:  # uvicorn would fall back to asyncio/h11 for one server only if it picked
        parser.error(f"install {' and '.join(missing)}: both servers must run uvloop + httptools")

    artists = _artists(args.catalog)
    ours_port = _free_port()
    ours_url = f"http://127.0.0.1:{ours_port}"
    # One load generator is one client: past the default per-client limits it would hear 429.
    serve = [sys.executable, "-m", "beatdebate_server", "--port", str(ours_port),
             "--no-rate-limit"]
    if args.catalog is not None:
        serve += ["--catalog", str(args.catalog)]
    serve += args.serve_arg
    baselines = {"bare": run_bare_server, "floor": run_floor_server}
    with tempfile.TemporaryDirectory() as tmp:
        log = open(Path(tmp) / "serve.log", "wb")  # noqa: SIM115 - closed below
        ours = subprocess.Popen(serve, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                env={**os.environ, "PYTHONPATH": str(ROOT)})
        others: dict[str, tuple[Any, str]] = {}
        try:
            _wait_healthy(ours_url)
            # Real answers, so that the baselines answer as many bytes as ours does.
            conversations = Path(tmp) / "conversations.json"
            _capture(ours_url, artists, args.follow_ups, conversations)
            for name, target in baselines.items():
                port = _free_port()
                process = SPAWN.Process(target=target, args=(port, str(conversations),
                                                             str(Path(tmp) / f"{name}.log")))
                process.start()
                others[name] = (process, f"http://127.0.0.1:{port}")
                _wait_healthy(others[name][1])
            rounds: dict[str, list[dict[str, float]]] = {"beatdebate": [], "bare": [],
                                                         "floor": []}
            for _ in range(args.rounds):
                rounds["beatdebate"].append(measure(ours_url, ours.pid, args, artists))
                for name, (process, url) in others.items():
                    rounds[name].append(measure(url, process.pid, args, artists))
        finally:
            ours.send_signal(signal.SIGTERM)
            ours.wait(timeout=20)
            for process, _url in others.values():
                process.terminate()
                process.join(timeout=20)
            log.close()

    best = {name: max(runs, key=lambda r: r["rps"]) for name, runs in rounds.items()}
    cpu = {name: min(r["server_cpu_us_per_request"] for r in runs)
           for name, runs in rounds.items()}

    def compared(baseline: str) -> dict[str, float]:
        # Each round of ours runs just before one of the baseline's: their ratios pair up.
        paired = statistics.median(mine["rps"] / max(theirs["rps"], 1e-9) for mine, theirs
                                   in zip(rounds["beatdebate"], rounds[baseline], strict=True))
        return {"ratio": best["beatdebate"]["rps"] / max(best[baseline]["rps"], 1e-9),
                "median_paired_ratio": paired,
                "cpu_ratio": cpu[baseline] / cpu["beatdebate"]}

    against = {name: compared(name) for name in baselines}
    ratio = against["bare"]["ratio"]
    result = {"settings": {"seconds": args.seconds, "users": args.users,
                           "follow_ups": args.follow_ups, "rounds": args.rounds,
                           "artists": len(artists), "cpus": os.cpu_count()},
              "rounds": rounds, "best": best, "server_cpu_us_per_request": cpu,
              "ratio": ratio, "median_paired_ratio": against["bare"]["median_paired_ratio"],
              "cpu_ratio": against["bare"]["cpu_ratio"], "against": against,
              "target": 0.6, "aim": 0.8}
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for name, runs in rounds.items():
            rps = ", ".join(f"{r['rps']:,.0f}" for r in runs)
            errors = sum(int(r["errors"]) for r in runs)
            print(f"{name:<11} requests/s per round: {rps}  (errors: {errors}, "
                  f"mean body {best[name]['mean_bytes']:,.0f} B, "
                  f"server CPU {cpu[name]:,.0f} us/request)")
        for name, figures in against.items():
            note = "  (target >= 0.6, aim 0.8)" if name == "bare" else "  (for information)"
            print(f"against {name}: best/best {figures['ratio']:.2f}, median of paired "
                  f"rounds {figures['median_paired_ratio']:.2f}, CPU per request "
                  f"{figures['cpu_ratio']:.2f}{note}")
    return 0 if ratio >= 0.6 else 1


if __name__ == "__main__":
    raise SystemExit(main())
