"""1,000 concurrent virtual users against the embedded server, with the live dashboard.

Runs every built-in scenario (as the gate does) with ``--users`` users for ``--duration``
seconds against an embedded ``beatdebate serve``, while a thread renders the ``Dashboard``
four times a second (what ``rich.live.Live(..., refresh_per_second=4)`` does) into an
off-screen console and times each frame. Reports violations (must be 0), total requests,
throughput, latency p99 per request kind, and the dashboard's render time per frame
(this thread's CPU: mean, p99, max; and its trend: the first vs the last tenth of the frames, to show that a
frame does not get dearer as operations pile up).

    .venv/bin/python benchmarks/bench_thousand_users.py [--users 1000] [--duration 30]

Exit code 1 when a violation was found or nothing was checked.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from io import StringIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rich.console import Console  # noqa: E402

from loadtest.gate import gate_scenarios  # noqa: E402
from loadtest.live import LiveStats  # noqa: E402
from loadtest.report import Dashboard, verdict_line, write_json_report  # noqa: E402
from loadtest.runner import RunConfig, run  # noqa: E402

FRAME_INTERVAL = 0.25     # seconds: refresh_per_second=4


def _render_frames(live: LiveStats, stop: threading.Event, frames: list[tuple[float, float]]) -> None:
    """Render like ``Live`` does; per frame: this thread's CPU seconds (the render's cost)
    and wall seconds (its cost plus waiting for the GIL while the event loop runs)."""
    dashboard = Dashboard(live)
    console = Console(file=StringIO(), width=120, force_terminal=True, color_system="truecolor")
    while not stop.wait(FRAME_INTERVAL):
        started, cpu = time.perf_counter(), time.thread_time()
        console.print(dashboard)
        frames.append((time.thread_time() - cpu, time.perf_counter() - started))
        console.file = StringIO()    # drop the text; keep memory flat


def _ms(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))] * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--ramp-up", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=20261125)
    parser.add_argument("--json", type=Path, default=None, help="also write the JSON report here")
    args = parser.parse_args()

    live = LiveStats()
    stop = threading.Event()
    frames: list[tuple[float, float]] = []
    renderer = threading.Thread(target=_render_frames, args=(live, stop, frames), daemon=True)
    renderer.start()
    wall = time.perf_counter()
    try:
        result = run(RunConfig(scenarios=gate_scenarios(), users=args.users, duration=args.duration,
                               ramp_up=args.ramp_up, seed=args.seed), live=live)
    finally:
        stop.set()
        renderer.join()
    wall = time.perf_counter() - wall

    costs = [cpu for cpu, _ in frames]
    walls = [wall for _, wall in frames]
    tenth = max(1, len(costs) // 10)
    latency = {kind: {k: v * 1000 if k != "count" else v for k, v in h.summary().items()}
               for kind, h in sorted(result.latency.items())}
    summary = {
        "users": args.users, "duration_s": args.duration, "wall_s": round(wall, 1),
        "requests": result.requests, "throughput_rps": round(result.throughput, 1),
        "violations": result.verdict.count, "verdict": verdict_line(result),
        "errors": dict(result.errors), "harness_error": result.harness_error,
        "p99_ms": {kind: round(s["p99"], 1) for kind, s in latency.items()},
        "dashboard_frames": len(costs),
        "frame_ms": {"mean": round(statistics.fmean(costs) * 1000, 2) if costs else None,
                     "p99": round(_ms(costs, 99), 2) if costs else None,
                     "max": round(max(costs) * 1000, 2) if costs else None,
                     "first_tenth_mean": round(statistics.fmean(costs[:tenth]) * 1000, 2) if costs else None,
                     "last_tenth_mean": round(statistics.fmean(costs[-tenth:]) * 1000, 2) if costs else None},
        "frame_wall_ms": {"mean": round(statistics.fmean(walls) * 1000, 2) if walls else None,
                          "p99": round(_ms(walls, 99), 2) if walls else None},
    }
    print(f"{args.users} users, {args.duration:g} s: {result.requests:,} requests "
          f"({result.throughput:,.0f}/s), {verdict_line(result)}")
    for kind, s in latency.items():
        print(f"  {kind:15} n={int(s['count']):>7,}  p50 {s['p50']:7.1f} ms  p99 {s['p99']:7.1f} ms  "
              f"max {s['max']:7.1f} ms")
    print(f"  dashboard: {len(costs)} frames, render CPU per frame: mean {summary['frame_ms']['mean']} ms, "
          f"p99 {summary['frame_ms']['p99']} ms, max {summary['frame_ms']['max']} ms "
          f"(first tenth {summary['frame_ms']['first_tenth_mean']} ms, "
          f"last tenth {summary['frame_ms']['last_tenth_mean']} ms); wall per frame (GIL shared with the "
          f"event loop): mean {summary['frame_wall_ms']['mean']} ms, p99 {summary['frame_wall_ms']['p99']} ms")
    print(json.dumps(summary))
    if args.json is not None:
        write_json_report(result, args.json)
    return 0 if result.verdict.valid is True else 1


if __name__ == "__main__":
    sys.exit(main())
