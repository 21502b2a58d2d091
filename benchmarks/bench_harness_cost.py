"""Client CPU per 1,000 requests: our harness (checking every answer) vs Locust's FastHttpUser.

Both run the same flow against the same embedded ``beatdebate serve``: "Songs by X", then
three "More tracks" on the session the answer named, no think time, ``--users`` users for
``--duration`` seconds each, one after the other. Each load generator is a *subprocess*
(Locust with a tiny locustfile written to a temporary directory: Locust is never imported
here, because its import monkey-patches the interpreter with gevent), and its CPU is the
user + system time that ``os.wait4`` reports for that child alone: the whole process,
start-up, import, parsing and (for ours) checking included.

    .venv/bin/python benchmarks/bench_harness_cost.py [--users 50] [--duration 10] [--rounds 2]

Prints a table and one JSON line (for BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from loadtest.embedded import embedded_server  # noqa: E402
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

# The harness side: the library's runner, as `simulate` runs it, in its own process.
HARNESS_SCRIPT = """
import json, sys
sys.path.insert(0, {root!r})
from pathlib import Path
from loadtest.runner import RunConfig, run
from loadtest.scenario import load_scenario
result = run(RunConfig(target={url!r}, scenarios=(load_scenario(Path({flow!r})),), users={users},
                       duration={duration}, think_time=0.0, ramp_up=0.5, seed=1))
print(json.dumps({{"requests": result.requests, "elapsed": result.elapsed,
                  "violations": result.verdict.count, "valid": result.verdict.valid,
                  "ok": sum(op.status == "ok" for op in result.ops),
                  "harness_error": result.harness_error}}))
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
    requests: int
    cpu: float          # user + system seconds of the child process
    wall: float
    note: str

    @property
    def per_thousand(self) -> float:
        return self.cpu / self.requests * 1000 if self.requests else float("nan")


def _run_child(args: list[str], *, env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """Run a child to the end; its CPU seconds (from wait4), wall seconds and stdout."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        child = subprocess.Popen(args, stdout=out, stderr=subprocess.DEVNULL, env=env, cwd=ROOT)
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
        out.seek(0)
        return usage.ru_utime + usage.ru_stime, wall, out.read().decode(errors="replace")


def bench_harness(url: str, tmp: Path, *, users: int, duration: float) -> Measured:
    flow = tmp / "flow.toml"
    flow.write_text(FLOW_TOML)
    script = HARNESS_SCRIPT.format(root=str(ROOT), url=url, flow=str(flow), users=users, duration=duration)
    cpu, wall, out = _run_child([sys.executable, "-c", script])
    data = json.loads(out.strip().splitlines()[-1])
    note = f"{data['violations']} violations, verdict {data['valid']}, {data['ok']} ok"
    if data["harness_error"]:
        note += f", harness error: {data['harness_error']}"
    return Measured("beatdebate harness (every answer checked)", data["requests"], cpu, wall, note)


def bench_locust(url: str, tmp: Path, *, users: int, duration: float) -> Measured:
    locustfile = tmp / "locustfile.py"
    locustfile.write_text("\n".join(LOCUSTFILE_LINES) + "\n")
    env = {**os.environ, "BENCH_ARTISTS": "|".join(p.fields["artist"] for p in DEFAULT_POOL)}
    prefix = tmp / "locust"
    cpu, wall, _ = _run_child(
        [sys.executable, "-m", "locust", "-f", str(locustfile), "--headless", "--host", url,
         "-u", str(users), "-r", str(users * 2), "-t", f"{int(duration)}s", "--only-summary",
         "--csv", str(prefix), "--loglevel", "ERROR"], env=env)
    with open(f"{prefix}_stats.csv", newline="") as stats:
        total = next(row for row in csv.DictReader(stats) if row["Name"] == "Aggregated")
    return Measured("Locust FastHttpUser (subprocess)", int(total["Request Count"]), cpu, wall,
                    f"{total['Failure Count']} failures")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=2,
                        help="rounds; the order alternates so neither side always meets a warmer server")
    args = parser.parse_args()
    benches = [bench_harness, bench_locust]
    rows: list[Measured] = []
    with tempfile.TemporaryDirectory(prefix="bench-cost-") as name, embedded_server() as url:
        tmp = Path(name)
        for round_number in range(args.rounds):
            for bench in benches if round_number % 2 == 0 else benches[::-1]:
                rows.append(bench(url, tmp, users=args.users, duration=args.duration))
    startup = {"harness": _run_child([sys.executable, "-c", f"import sys; sys.path.insert(0, {str(ROOT)!r}); "
                                                          "import loadtest.runner, loadtest.oracle"])[0],
               "locust": _run_child([sys.executable, "-m", "locust", "--version"])[0]}
    for client in ("harness", "Locust"):
        mine = [r for r in rows if client in r.name]
        total = Measured(f"{mine[0].name}: all rounds", sum(r.requests for r in mine),
                         sum(r.cpu for r in mine), sum(r.wall for r in mine), "")
        rows.append(total)
    print(f"{args.users} users, {args.duration:g} s each, {args.rounds} rounds, one embedded server, "
          f"{os.cpu_count()} CPUs; start-up alone (import, no load): harness {startup['harness']:.2f} CPU s, "
          f"Locust {startup['locust']:.2f} CPU s")
    print(f"{'client':52} {'requests':>9} {'req/s':>7} {'CPU s':>7} {'CPU s/1k req':>13}  note")
    for row in rows:
        print(f"{row.name:52} {row.requests:>9,} {row.requests / row.wall:>7.0f} {row.cpu:>7.2f} "
              f"{row.per_thousand:>13.3f}  {row.note}")
    print(json.dumps({"users": args.users, "duration": args.duration, "rounds": args.rounds,
                      "startup_cpu_s": {k: round(v, 3) for k, v in startup.items()},
                      "results": [{"client": r.name, "requests": r.requests, "cpu_s": round(r.cpu, 3),
                                   "wall_s": round(r.wall, 2), "cpu_s_per_1k": round(r.per_thousand, 4),
                                   "note": r.note} for r in rows]}))


if __name__ == "__main__":
    main()
