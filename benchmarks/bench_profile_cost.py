"""Client CPU per request: a target profile's path against the native (contract) path.

The target (issue 11): "The profile path costs at most 1.2x the native path's client CPU per
request, measured with `beatdebate simulate` as users run it." Both sides are ``beatdebate
simulate`` itself, the installed console script, run as a subprocess against one embedded
``beatdebate serve``: the same flow (``bench_harness_cost.FLOW_TOML``: "Songs by X", then
three "More tracks"), the same users, duration and seed, no think time; once with
``--profile contract`` (the native exchange) and once with ``--profile our-server-by-profile``
(the same server described by templates and JMESPath selectors). Rounds alternate the order,
so that neither side always meets a warmer server.

A side's CPU is the user + system time that ``os.wait4`` reports for its child alone: the
whole process, start-up, import, load and checking included, as a user pays it. Its requests
are the ``totals.requests`` of the ``--json`` report the child writes. The ratio is the
profile's CPU per request over the contract's, over all rounds.

    .venv/bin/python benchmarks/bench_profile_cost.py [--users 50] [--duration 10] [--rounds 2]

Prints a table and one JSON line (for BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_harness_cost import FLOW_TOML

from loadtest.embedded import embedded_server

PROFILES = ("contract", "our-server-by-profile")
TARGET_RATIO = 1.2


@dataclass(frozen=True)
class Measured:
    profile: str
    round: int
    requests: int
    cpu: float          # user + system seconds of the child process
    wall: float
    exit_code: int
    note: str

    @property
    def cpu_per_request_us(self) -> float:
        return self.cpu / self.requests * 1e6 if self.requests else float("nan")


def _beatdebate() -> str:
    """The ``beatdebate`` console script of this interpreter's environment."""
    script = Path(sys.executable).with_name("beatdebate")
    if not script.exists():
        raise SystemExit(f"no beatdebate script next to {sys.executable}: pip install -e . first")
    return str(script)


def _run_child(args: list[str]) -> tuple[float, float, int]:
    """Run a child to the end; its CPU seconds (from wait4), wall seconds and exit code."""
    started = time.perf_counter()
    child = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_utime + usage.ru_stime, time.perf_counter() - started, child.returncode


def bench_simulate(url: str, tmp: Path, *, profile: str, round_number: int, users: int,
                   duration: float, seed: int) -> Measured:
    """One ``beatdebate simulate`` run with ``profile``, measured."""
    flow = tmp / "flow.toml"
    if not flow.exists():
        flow.write_text(FLOW_TOML)
    report = tmp / f"{profile}-{round_number}.json"
    cpu, wall, code = _run_child([
        _beatdebate(), "simulate", "--target", url, "--scenario", str(flow), "--users", str(users),
        "--duration", f"{duration:g}s", "--think-time", "0", "--seed", str(seed), "--quiet",
        "--profile", profile, "--json", str(report)])
    if not report.exists():
        return Measured(profile, round_number, 0, cpu, wall, code, "no report written")
    data = json.loads(report.read_text())
    totals, verdict = data["totals"], data["verdict"]
    note = (f"{totals['ok']} ok, {totals['failed']} failed, {totals['unknown']} unknown, "
            f"verdict {verdict['outcome']}")
    if data.get("harness_error"):
        note += f", harness error: {data['harness_error']}"
    return Measured(profile, round_number, int(totals["requests"]), cpu, wall, code, note)


def _per_request(rows: list[Measured], profile: str) -> float:
    mine = [r for r in rows if r.profile == profile]
    return sum(r.cpu for r in mine) / sum(r.requests for r in mine) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=2,
                        help="rounds; the order alternates so neither side always meets a warmer server")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rows: list[Measured] = []
    with tempfile.TemporaryDirectory(prefix="bench-profile-") as name, embedded_server() as url:
        tmp = Path(name)
        for round_number in range(args.rounds):
            for profile in PROFILES if round_number % 2 == 0 else PROFILES[::-1]:
                rows.append(bench_simulate(url, tmp, profile=profile, round_number=round_number + 1,
                                           users=args.users, duration=args.duration, seed=args.seed))
    per_request = {profile: _per_request(rows, profile) for profile in PROFILES}
    ratio = per_request["our-server-by-profile"] / per_request["contract"]
    print(f"{args.users} users, {args.duration:g} s each, {args.rounds} rounds, one embedded server, "
          f"{os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"{'profile':24} {'round':>5} {'requests':>9} {'req/s':>7} {'CPU s':>7} {'CPU µs/req':>11} {'exit':>4}  note")
    for row in rows:
        print(f"{row.profile:24} {row.round:>5} {row.requests:>9,} {row.requests / row.wall:>7.0f} {row.cpu:>7.2f} "
              f"{row.cpu_per_request_us:>11.1f} {row.exit_code:>4}  {row.note}")
    for profile in PROFILES:
        print(f"{profile + ': all rounds':40} {per_request[profile]:>11.1f} CPU µs/req")
    verdict = "met" if ratio <= TARGET_RATIO else "NOT met"
    print(f"ratio (profile / contract, CPU per request): {ratio:.3f} (target ≤ {TARGET_RATIO}: {verdict})")
    print(json.dumps({"users": args.users, "duration": args.duration, "rounds": args.rounds, "seed": args.seed,
                      "cpus": os.cpu_count(), "python": platform.python_version(),
                      "cpu_us_per_request": {k: round(v, 1) for k, v in per_request.items()},
                      "ratio": round(ratio, 4),
                      "results": [{"profile": r.profile, "round": r.round, "requests": r.requests,
                                   "cpu_s": round(r.cpu, 3), "wall_s": round(r.wall, 2),
                                   "exit_code": r.exit_code, "note": r.note} for r in rows]}))


if __name__ == "__main__":
    main()
