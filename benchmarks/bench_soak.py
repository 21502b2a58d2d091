"""Soak: session churn against ``beatdebate serve`` at its default limits, for a long time.

Issue 16 asked for proof that the limits hold over time: the server's memory stays flat
once the store is full, people using their sessions keep them, and a flood of new
sessions from one client leaves everybody else's sessions alive.

One ``python -m beatdebate_server`` with every setting at its default (the rate limits on,
``--max-sessions 100000``, ``--history-bytes 16384``, ...), but ``--log-level warning``
(a line per created session would fill the disk), and these clients, each from its own
loopback address (127.0.x.y), so that the server's per-client limits count them apart:

- *churn clients* (``--churn-clients``, each at ``--churn-rate`` new sessions per second,
  under the default limit of 50): each new session is a page load that never asks (30%),
  a chat of a first query and one or two follow-ups (50%; a tenth of them with
  500-character queries), or such a chat ended with ``DELETE`` (20%).
- *live users* (``--live-users``): each holds one session and takes a turn every
  ``--live-interval`` seconds; every answer must stay in their session (same id, the next
  turn number). A user who lost their session is counted.
- *one flooder*, ``--flood-at`` seconds in, for ``--flood-seconds``: as fast as
  ``--flood-workers`` connections go, ``POST /sessions`` and ``POST /recommendations``
  without an id (each starts a session).

Every ``--sample`` seconds: the server's RSS (``/proc/PID/status``), its live sessions
(``/health``), requests and statuses so far. At the end: RSS after the warm-up
(``--warmup``, default 40% of the run) must stay within 10% (max / min <= 1.10), no live
user lost a session, no answer was a 5xx.

    .venv/bin/python benchmarks/bench_soak.py --duration 1800      # the issue's 30 minutes
    .venv/bin/python benchmarks/bench_soak.py --duration 300 --json soak.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from loadtest.embedded import free_port  # noqa: E402

ARTISTS = ("Mk.gee", "Radiohead", "Björk", "Aphex Twin", "Burial", "Bon Iver", "Daft Punk",
           "The Beatles", "Bill Evans", "Portishead", "Massive Attack", "Four Tet")
FOLLOW_UPS = ("More tracks", "More like these")
FLAT = 1.10  # RSS after the warm-up: max / min at most this


@dataclass
class Tally:
    """What one kind of client saw."""

    statuses: Counter[int] = field(default_factory=Counter)
    errors: int = 0  # no HTTP answer at all (connection refused, reset, timeout)

    def count(self, status: int) -> None:
        self.statuses[status] += 1


@dataclass
class Sample:
    at: float  # seconds since the start
    rss_mib: float
    sessions: int
    requests: int


@dataclass
class LiveUser:
    session_id: str = ""
    turn: int = 0
    lost: bool = False
    turns: int = 0


def _rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _address(group: int, index: int) -> str:
    """A loopback address of its own per client: the server keys limits by peer address."""
    return f"127.0.{group}.{index + 1}"


def _session(address: str, connections: int) -> aiohttp.ClientSession:
    # Idle connections are dropped before the server's keep-alive timeout (5 s) would close
    # them under a request that is being sent.
    connector = aiohttp.TCPConnector(local_addr=(address, 0), limit=connections,
                                     keepalive_timeout=3.0)
    return aiohttp.ClientSession(connector=connector,
                                 timeout=aiohttp.ClientTimeout(total=30))


async def _post(http: aiohttp.ClientSession, url: str, body: dict[str, Any] | None,
                tally: Tally) -> dict[str, Any] | None:
    try:
        async with http.post(url, json=body) as response:
            tally.count(response.status)
            if response.status in (200, 201):
                answer: dict[str, Any] = await response.json()
                return answer
            await response.read()
    except (aiohttp.ClientError, TimeoutError):
        tally.errors += 1
    return None


async def _delete(http: aiohttp.ClientSession, url: str, tally: Tally) -> None:
    try:
        async with http.delete(url) as response:
            tally.count(response.status)
            await response.read()
    except (aiohttp.ClientError, TimeoutError):
        tally.errors += 1


async def churn_client(base: str, index: int, *, rate: float, deadline: float,
                       tally: Tally, seed: int) -> None:
    """One host making new sessions at ``rate`` per second, a conversation each."""
    rng = random.Random(seed * 1000 + index)
    started = time.monotonic()
    workers = max(2, int(rate // 4))
    scheduled = 0

    async def conversation(http: aiohttp.ClientSession) -> None:
        kind = rng.random()
        if kind < 0.3:  # a page load that never asks anything
            await _post(http, f"{base}/sessions", None, tally)
            return
        artist = rng.choice(ARTISTS)
        query = f"Songs by {artist}"
        if rng.random() < 0.1:  # the byte budget at work
            query = (query + " " + "la " * 200)[:500]
        answer = await _post(http, f"{base}/recommendations", {"query": query}, tally)
        if answer is None:
            return
        session_id = answer["session_id"]
        for _ in range(rng.randint(1, 2)):
            await _post(http, f"{base}/recommendations",
                        {"query": rng.choice(FOLLOW_UPS), "session_id": session_id}, tally)
        if kind >= 0.8:
            await _delete(http, f"{base}/sessions/{session_id}", tally)

    async def worker(http: aiohttp.ClientSession) -> None:
        nonlocal scheduled
        while True:
            start = started + scheduled / rate
            scheduled += 1
            if start >= deadline:
                return
            pause = start - time.monotonic()
            if pause > 0:
                await asyncio.sleep(pause)
            await conversation(http)

    async with _session(_address(1, index), workers) as http:
        await asyncio.gather(*(worker(http) for _ in range(workers)))


async def live_user(base: str, index: int, user: LiveUser, *, interval: float,
                    deadline: float, tally: Tally) -> None:
    """Someone using their session: a turn every ``interval`` s, each in that session."""
    rng = random.Random(index)
    async with _session(_address(2, index), 1) as http:
        answer = None
        while answer is None and time.monotonic() < deadline:
            answer = await _post(http, f"{base}/recommendations",
                                 {"query": f"Songs by {rng.choice(ARTISTS)}"}, tally)
        if answer is None:
            return
        user.session_id, user.turn = answer["session_id"], answer["turn"]
        await asyncio.sleep(rng.uniform(0, interval))
        while time.monotonic() + interval < deadline:
            await asyncio.sleep(interval)
            answer = await _post(http, f"{base}/recommendations",
                                 {"query": rng.choice(FOLLOW_UPS),
                                  "session_id": user.session_id}, tally)
            if answer is None:
                continue  # a refused or failed turn is not a lost session
            user.turns += 1
            if answer["session_id"] != user.session_id or answer["turn"] != user.turn + 1:
                user.lost = True
                user.session_id = answer["session_id"]
            user.turn = answer["turn"]


async def flooder(base: str, *, start: float, seconds: float, workers: int,
                  tally: Tally) -> None:
    """One client making new sessions as fast as it can, both ways."""
    await asyncio.sleep(max(0.0, start - time.monotonic()))
    stop = time.monotonic() + seconds

    async def worker(http: aiohttp.ClientSession, n: int) -> None:
        while time.monotonic() < stop:
            if n % 2:
                await _post(http, f"{base}/sessions", None, tally)
            else:
                await _post(http, f"{base}/recommendations", {"query": "Electronic music"},
                            tally)

    async with _session(_address(3, 0), workers) as http:
        await asyncio.gather(*(worker(http, n) for n in range(workers)))


async def sampler(base: str, pid: int, *, every: float, deadline: float, t0: float,
                  tallies: list[Tally], samples: list[Sample]) -> None:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
        while True:
            try:
                async with http.get(f"{base}/health") as response:
                    sessions = int((await response.json()).get("sessions") or 0)
            except (aiohttp.ClientError, TimeoutError, ValueError):
                sessions = -1
            requests = sum(sum(t.statuses.values()) for t in tallies)
            sample = Sample(at=round(time.monotonic() - t0, 1), rss_mib=round(_rss_mib(pid), 1),
                            sessions=sessions, requests=requests)
            samples.append(sample)
            print(f"  t={sample.at:7.1f}s  rss {sample.rss_mib:8.1f} MiB  "
                  f"sessions {sample.sessions:7,}  requests {sample.requests:9,}", flush=True)
            if time.monotonic() + every > deadline:
                return
            await asyncio.sleep(every)


async def soak(base: str, pid: int, args: argparse.Namespace) -> dict[str, Any]:
    t0 = time.monotonic()
    deadline = t0 + args.duration
    churn, live, flood = Tally(), Tally(), Tally()
    users = [LiveUser() for _ in range(args.live_users)]
    samples: list[Sample] = []
    flood_at = args.flood_at if args.flood_at is not None else args.duration / 2
    tasks = [churn_client(base, i, rate=args.churn_rate, deadline=deadline, tally=churn,
                          seed=args.seed) for i in range(args.churn_clients)]
    tasks += [live_user(base, i, user, interval=args.live_interval, deadline=deadline,
                        tally=live) for i, user in enumerate(users)]
    tasks.append(flooder(base, start=t0 + flood_at, seconds=args.flood_seconds,
                         workers=args.flood_workers, tally=flood))
    tasks.append(sampler(base, pid, every=args.sample, deadline=deadline, t0=t0,
                         tallies=[churn, live, flood], samples=samples))
    await asyncio.gather(*tasks)
    # After the flood and the churn: is every live user's session still there, whole?
    alive = 0
    async with aiohttp.ClientSession() as http:
        for user in users:
            async with http.get(f"{base}/sessions/{user.session_id}") as response:
                if response.status == 200:
                    body = await response.json()
                    alive += int(body["turn_count"] == user.turn and not user.lost)
    warm = [s for s in samples if s.at >= args.warmup]
    rss = [s.rss_mib for s in warm]
    ratio = max(rss) / min(rss) if rss else float("nan")
    five_xx = sum(n for t in (churn, live, flood) for status, n in t.statuses.items()
                  if status >= 500)
    return {
        "duration_s": args.duration, "warmup_s": args.warmup,
        "rss_mib_after_warmup": {"min": min(rss, default=None), "max": max(rss, default=None),
                                 "max_over_min": round(ratio, 3)},
        "rss_flat": ratio <= FLAT,
        "live_users": {"users": len(users), "alive_and_whole": alive,
                       "lost": sum(u.lost for u in users), "turns": sum(u.turns for u in users),
                       "statuses": dict(live.statuses), "errors": live.errors},
        "churn": {"clients": args.churn_clients, "rate_each": args.churn_rate,
                  "statuses": dict(churn.statuses), "errors": churn.errors},
        "flood": {"at_s": flood_at, "seconds": args.flood_seconds,
                  "statuses": dict(flood.statuses), "errors": flood.errors},
        "server_5xx": five_xx,
        "samples": [asdict(s) for s in samples],
    }


def _start_server(port: int, log: Path) -> subprocess.Popen[bytes]:
    args = [sys.executable, "-m", "beatdebate_server", "--port", str(port), "--rate-limit",
            "--log-level", "warning"]
    with open(log, "wb") as out:
        process = subprocess.Popen(args, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit("the server did not answer /health within 120 s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=1800.0, help="seconds (default 1800)")
    parser.add_argument("--warmup", type=float, default=None,
                        help="seconds before RSS must be flat (default: 40%% of the run)")
    parser.add_argument("--churn-clients", type=int, default=12)
    parser.add_argument("--churn-rate", type=float, default=30.0,
                        help="new sessions per second per churn client (the server allows 200)")
    parser.add_argument("--live-users", type=int, default=50)
    parser.add_argument("--live-interval", type=float, default=15.0)
    parser.add_argument("--flood-at", type=float, default=None,
                        help="seconds in (default: half-way)")
    parser.add_argument("--flood-seconds", type=float, default=60.0)
    parser.add_argument("--flood-workers", type=int, default=32)
    parser.add_argument("--sample", type=float, default=10.0, help="seconds between samples")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--json", type=Path, default=None, help="write the result here")
    args = parser.parse_args()
    if args.warmup is None:
        args.warmup = 0.4 * args.duration
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="bench-soak-") as tmp:
        log = Path(tmp) / "serve.log"
        server = _start_server(port, log)
        try:
            print(f"soak: {args.duration:.0f} s against pid {server.pid}, "
                  f"{args.churn_clients} churn clients x {args.churn_rate:g} sessions/s, "
                  f"{args.live_users} live users, flood of {args.flood_seconds:.0f} s",
                  flush=True)
            result = asyncio.run(soak(f"http://127.0.0.1:{port}", server.pid, args))
        finally:
            server.terminate()
            server.wait(timeout=30)
        result["server_log_tail"] = log.read_text(errors="replace").splitlines()[-5:]
    summary = {k: v for k, v in result.items() if k != "samples"}
    print(json.dumps(summary, indent=2))
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2))
    ok = (result["rss_flat"] and result["server_5xx"] == 0
          and result["live_users"]["alive_and_whole"] == result["live_users"]["users"])
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
