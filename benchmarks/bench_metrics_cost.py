"""What ``--metrics-port`` costs a run: ``beatdebate simulate`` with and without it, side by side.

Each round runs the CLI command as users run it,

    beatdebate simulate --target URL --users 50 --duration 8s --think-time 0 --quiet [--metrics-port P]

as a subprocess against one ``beatdebate serve --no-rate-limit`` started here, once without
the metrics and once with them while a scraper reads ``/metrics`` every ``--scrape-every``
seconds (1 s: fifteen times Prometheus's default rate), the order alternating by round. Each
child's CPU is the user + system time ``os.wait4`` reports for it alone. A run counts only
with exit 0 and 0 errors; the "with" run must have been scraped at least once.

    .venv/bin/python benchmarks/bench_metrics_cost.py [--users 50] [--duration 8] [--rounds 3] [--scrape-every 1]

Prints one line per run, the totals, the ratio (with / without) of CPU per 1,000 requests and of
requests per second, and one JSON line (for BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from bench_harness_cost import _server   # the same server, started one way (a sibling script)

BIN = Path(sys.executable).parent


def _scrape(port: int, every: float, stop: threading.Event, counts: list[int]) -> None:
    while not stop.is_set():
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read()   # noqa: S310
            counts[0] += 1
        except OSError:
            pass
        stop.wait(every)


def run(url: str, *, users: int, duration: float, metrics: bool, every: float) -> dict[str, object]:
    args = [str(BIN / "beatdebate"), "simulate", "--target", url, "--users", str(users), "--duration",
            f"{duration:g}s", "--think-time", "0", "--quiet"]
    port = _free_port()
    if metrics:
        args += ["--metrics-port", str(port)]
    stop, scrapes = threading.Event(), [0]
    scraper = threading.Thread(target=_scrape, args=(port, every, stop, scrapes), daemon=True)
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        child = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
        if metrics:
            scraper.start()
        _, status, usage = os.wait4(child.pid, 0)
        stop.set()
        wall = time.perf_counter() - started
        out.seek(0)
        text = out.read().decode(errors="replace")
    summary = next((line for line in text.splitlines() if line.startswith("summary ")), "")
    found = {key: re.search(rf"\b{key}=(\S+)", summary) for key in ("requests", "rps", "errors")}
    requests = int(found["requests"].group(1)) if found["requests"] else 0
    cpu = usage.ru_utime + usage.ru_stime
    code = os.waitstatus_to_exitcode(status)
    valid = code == 0 and found["errors"] is not None and found["errors"].group(1) == "0" and (
        not metrics or scrapes[0] > 0)
    return {"metrics": metrics, "requests": requests, "cpu": cpu, "wall": wall, "scrapes": scrapes[0],
            "rps": float(found["rps"].group(1)) if found["rps"] else 0.0, "exit": code, "valid": valid,
            "cpu_per_1000": cpu / requests * 1000 if requests else float("nan")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--scrape-every", type=float, default=1.0)
    args = parser.parse_args()
    runs: list[dict[str, object]] = []
    with _server() as url:
        for round_ in range(1, args.rounds + 1):
            order = (False, True) if round_ % 2 else (True, False)
            for metrics in order:
                found = run(url, users=args.users, duration=args.duration, metrics=metrics, every=args.scrape_every)
                runs.append(found)
                print(f"round {round_} {'with   ' if metrics else 'without'} requests={found['requests']} "
                      f"rps={found['rps']:.0f} cpu={found['cpu']:.2f}s per1000={found['cpu_per_1000']:.3f} "
                      f"scrapes={found['scrapes']} exit={found['exit']} {'ok' if found['valid'] else 'NOT VALID'}",
                      flush=True)
    totals = {}
    for metrics in (False, True):
        mine = [r for r in runs if r["metrics"] is metrics]
        requests = sum(int(r["requests"]) for r in mine)   # type: ignore[call-overload]
        cpu = sum(float(r["cpu"]) for r in mine)   # type: ignore[arg-type]
        totals[metrics] = {"cpu_per_1000": cpu / requests * 1000 if requests else float("nan"),
                           "rps": sum(float(r["rps"]) for r in mine) / len(mine)}   # type: ignore[arg-type]
    cpu_ratio = totals[True]["cpu_per_1000"] / totals[False]["cpu_per_1000"]
    rps_ratio = totals[True]["rps"] / totals[False]["rps"]
    print(f"all without: per1000={totals[False]['cpu_per_1000']:.3f} rps={totals[False]['rps']:.0f}")
    print(f"all with:    per1000={totals[True]['cpu_per_1000']:.3f} rps={totals[True]['rps']:.0f}")
    print(f"with / without: CPU per 1,000 requests {cpu_ratio:.3f}, requests/s {rps_ratio:.3f}")
    print(json.dumps({"bench": "metrics_cost", "users": args.users, "duration": args.duration,
                      "scrape_every": args.scrape_every, "runs": runs, "cpu_ratio": cpu_ratio,
                      "rps_ratio": rps_ratio}))
    return 0 if all(r["valid"] for r in runs) else 1


if __name__ == "__main__":
    raise SystemExit(main())
