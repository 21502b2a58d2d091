"""Client CPU per 1,000 requests: `beatdebate simulate` (checking every answer) vs Locust's FastHttpUser.

What users run, measured as they run it: each round runs the CLI command

    beatdebate simulate --target URL --scenario FLOW --users 50 --duration 10s --think-time 0 --quiet

as a subprocess, and a minimal Locust ``FastHttpUser`` (``locust --headless``, a locustfile
written to a temporary directory) running the same flow ("Songs by X", then three "More
tracks" on the session the answer named) against the same server, one after the other, the
order alternating by round so that neither always meets a warmer server. The server is one
``beatdebate serve --no-rate-limit`` started here on a free port (or ``--target``). Each
child's CPU is the user + system time ``os.wait4`` reports for it alone: the whole process,
start-up, import, parsing and (for ours) checking and the final verdict included. Locust is
never imported here (its import monkey-patches the interpreter with gevent).

A harness run counts only if every answer was checked: exit 0 (PASS), 0 errors, 0
violations, and every planned follow-up checked (its ``coverage`` line); else the
benchmark says so and exits 1.

    .venv/bin/python benchmarks/bench_harness_cost.py [--users 50] [--duration 10] [--rounds 4]
        [--clients lean,aiohttp] [--target URL]

Prints a table per round, the totals, the ratio to Locust, and one JSON line (for BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

from loadtest.personas import DEFAULT_POOL  # noqa: E402

FLOW_TOML = """
name = "songs-then-more"
description = "Songs by X, then three More tracks (the client-cost flow)."

[[steps]]
name = "artist"
query = "Songs by {artist}"
expect = { kind = "by_artist", anchor = "none", content = ["artist"] }

[[steps]]
name = "more-1"
query = "More tracks"
expect = { follow_up = "more_tracks", anchor = "artist", content = ["artist"] }

[[steps]]
name = "more-2"
query = "More tracks"
expect = { follow_up = "more_tracks", anchor = "artist", content = ["artist"] }

[[steps]]
name = "more-3"
query = "More tracks"
expect = { follow_up = "more_tracks", anchor = "artist", content = ["artist"] }
"""

# The Locust side: one line per string, so that no source line here starts with the import.
LOCUSTFILE_LINES = (
    "import itertools, os",
    "from locust import FastHttpUser, task",
    "ARTISTS = itertools.cycle(os.environ['BENCH_ARTISTS'].split('|'))",
    "class U(FastHttpUser):",
    "    @task",
    "    def flow(self):",
    "        r = self.client.post('/recommendations', json={'query': f'Songs by {next(ARTISTS)}', "
    "'max_recommendations': 10})",
    "        sid = r.json()['session_id']",
    "        for _ in range(3):",
    "            with self.client.post('/recommendations', json={'query': 'More tracks', 'session_id': sid},"
    " catch_response=True) as rr:",
    "                if rr.json()['session_id'] != sid:",
    "                    rr.failure('session changed')",
)


@dataclass
class Measured:
    name: str
    round: int
    requests: int
    cpu: float          # user + system seconds of the child process
    wall: float
    note: str
    valid: bool = True

    @property
    def per_thousand(self) -> float:
        return self.cpu / self.requests * 1000 if self.requests else float("nan")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def _server() -> Iterator[str]:
    """``beatdebate serve --no-rate-limit`` on a free port, until the block ends."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([str(BIN / "beatdebate"), "serve", "--no-rate-limit", "--port", str(port),
                             "--log-level", "warning"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{url}/health", timeout=1)   # noqa: S310 (our own loopback server)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the server on {url} did not start") from None
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _run_child(args: list[str], *, env: dict[str, str] | None = None) -> tuple[float, float, int, str]:
    """Run a child to the end; its CPU seconds (from wait4), wall seconds, exit code and stdout."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        child = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        out.seek(0)
        return (usage.ru_utime + usage.ru_stime, wall, os.waitstatus_to_exitcode(status),
                out.read().decode(errors="replace"))


def _field(line: str, name: str) -> str:
    found = re.search(rf"\b{name}=(\S+)", line)
    return found.group(1) if found else "?"


def bench_simulate(url: str, tmp: Path, *, users: int, duration: float, round_: int, client: str) -> Measured:
    """The CLI, exactly as a user runs it (``--client`` only when not the default)."""
    flow = tmp / "flow.toml"
    flow.write_text(FLOW_TOML)
    args = [str(BIN / "beatdebate"), "simulate", "--target", url, "--scenario", str(flow), "--users", str(users),
            "--duration", f"{duration:g}s", "--think-time", "0", "--quiet"]
    if client != "auto":
        args += ["--client", client]
    cpu, wall, code, out = _run_child(args)
    lines = out.splitlines()
    summary = next((line for line in lines if line.startswith("summary ")), "")
    coverage = next((line for line in lines if line.startswith("coverage ")), "")
    requests = int(_field(summary, "requests")) if summary else 0
    errors, bleeding, loss = (_field(summary, k) for k in ("errors", "bleeding", "loss"))
    planned, checked = _field(coverage, "planned"), _field(coverage, "checked")
    valid = (code == 0 and errors == bleeding == loss == "0" and planned == checked and planned not in ("?", "0"))
    note = (f"exit {code}, errors {errors}, violations {bleeding}+{loss}, follow-ups checked {checked}/{planned}"
            + ("" if valid else f"  NOT VALID: {lines[-3:]}"))
    return Measured(f"beatdebate simulate ({client})", round_, requests, cpu, wall, note, valid)


def bench_locust(url: str, tmp: Path, *, users: int, duration: float, round_: int) -> Measured:
    locustfile = tmp / "locustfile.py"
    locustfile.write_text("\n".join(LOCUSTFILE_LINES) + "\n")
    env = {**os.environ, "BENCH_ARTISTS": "|".join(p.fields["artist"] for p in DEFAULT_POOL)}
    prefix = tmp / "locust"
    cpu, wall, _, _ = _run_child(
        [sys.executable, "-m", "locust", "-f", str(locustfile), "--headless", "--host", url,
         "-u", str(users), "-r", str(users * 2), "-t", f"{int(duration)}s", "--only-summary",
         "--csv", str(prefix), "--loglevel", "ERROR"], env=env)
    with open(f"{prefix}_stats.csv", newline="") as stats:
        total = next(row for row in csv.DictReader(stats) if row["Name"] == "Aggregated")
    return Measured("Locust FastHttpUser", round_, int(total["Request Count"]), cpu, wall,
                    f"{total['Failure Count']} failures")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=4,
                        help="rounds; the order alternates so neither side always meets a warmer server")
    parser.add_argument("--clients", default="auto",
                        help="comma-separated `simulate --client` values to measure (auto: the default)")
    parser.add_argument("--target", default=None, help="a running server (default: one started here)")
    args = parser.parse_args()
    clients = [c.strip() for c in args.clients.split(",") if c.strip()]
    rows: list[Measured] = []
    with tempfile.TemporaryDirectory(prefix="bench-cost-") as name, \
            (_given(args.target) if args.target else _server()) as url:
        tmp = Path(name)
        for round_ in range(1, args.rounds + 1):
            benches = [lambda r=round_, c=c: bench_simulate(url, tmp, users=args.users, duration=args.duration,
                                                            round_=r, client=c) for c in clients]
            benches.append(lambda r=round_: bench_locust(url, tmp, users=args.users, duration=args.duration,
                                                         round_=r))
            for bench in benches if round_ % 2 else benches[::-1]:
                row = bench()
                rows.append(row)
                print(f"round {row.round}: {row.name:34} {row.requests:>8,} req {row.requests / row.wall:>6.0f}/s "
                      f"{row.cpu:>6.2f} CPU s {row.per_thousand:>6.3f} CPU s/1k  {row.note}", flush=True)
    names = list(dict.fromkeys(r.name for r in rows))
    totals = {n: Measured(n, 0, sum(r.requests for r in rows if r.name == n), sum(r.cpu for r in rows if r.name == n),
                          sum(r.wall for r in rows if r.name == n), "", all(r.valid for r in rows if r.name == n))
              for n in names}
    locust = totals["Locust FastHttpUser"].per_thousand
    print(f"\n{args.users} users, {args.duration:g} s each, {args.rounds} rounds, {os.cpu_count()} CPUs, "
          f"server {url}")
    print(f"{'round':>5}  " + "  ".join(f"{n:>34}" for n in names) + "   ratio(s) to Locust")
    for round_ in range(1, args.rounds + 1):
        per = {r.name: r.per_thousand for r in rows if r.round == round_}
        ratios = "  ".join(f"{per[n] / per['Locust FastHttpUser']:.2f}" for n in names if "Locust" not in n)
        print(f"{round_:>5}  " + "  ".join(f"{per[n]:>34.3f}" for n in names) + f"   {ratios}")
    print(f"{'all':>5}  " + "  ".join(f"{totals[n].per_thousand:>34.3f}" for n in names) + "   " +
          "  ".join(f"{totals[n].per_thousand / locust:.2f}" for n in names if "Locust" not in n))
    valid = all(t.valid for t in totals.values())
    if not valid:
        print("NOT VALID: a harness run did not check every answer cleanly (see its note)")
    print(json.dumps({"users": args.users, "duration": args.duration, "rounds": args.rounds, "valid": valid,
                      "totals": {n: {"requests": t.requests, "cpu_s": round(t.cpu, 3),
                                     "cpu_s_per_1k": round(t.per_thousand, 4),
                                     "ratio_to_locust": round(t.per_thousand / locust, 3)} for n, t in totals.items()},
                      "rounds_detail": [{"round": r.round, "client": r.name, "requests": r.requests,
                                         "cpu_s": round(r.cpu, 3), "wall_s": round(r.wall, 2),
                                         "cpu_s_per_1k": round(r.per_thousand, 4), "note": r.note} for r in rows]}))
    return 0 if valid else 1


@contextmanager
def _given(url: str) -> Iterator[str]:
    yield url


if __name__ == "__main__":
    sys.exit(main())
