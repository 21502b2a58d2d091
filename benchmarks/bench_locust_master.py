"""Does the master's one checker keep up with 4 Locust workers at full load?

What users run, as a subprocess: ``beatdebate locust --processes 4 --headless -u USERS -r
USERS -t DURATION --think-scale 0`` against the embedded server (a run judged as a whole, the
default: the 4 workers stream every operation to the master, whose one ``IncrementalChecker``
judges them all; ``loadtest.locustfile.merged``). From the run's ``--isolation-json``, the
master's checker summary:

- *produced*: operations the workers sent, per second of the run;
- *judged*: operations the master judged per CPU-second it spent judging (decoding each
  batch, renumbering, ``observe``, and the final ``finish``): its capacity;
- *headroom*: judged / produced; ≥ 1 means it keeps up (the target), and the largest
  backlog (operations waiting) and lag (seconds the oldest batch waited) show it did so
  during the run, not only on average.
- *4 dedicated cores*: on this 2-core machine the 4 workers share the cores with the server
  and the master, so "full load" is what the cores allow. From each worker's CPU time (its
  process's, in the master's summary) the run also gives the operations one worker produces
  per CPU-second; 4 workers each on a core of their own would produce 4 × that per second,
  which is set against the master's judged-per-CPU-second (``headroom_4_cores``), and
  against operations per CPU-second of the master's whole process, Locust's own master work
  (statistics from 4 workers) included (``headroom_4_cores_process``).

A second figure, *capacity on synthetic batches*, feeds ``MergedHistory`` in-process with 4
workers' batches of the checker benchmark's synthetic history (``bench_checker.py``): how many
operations per CPU-second the master's side can judge when the load is not bounded by this
machine's 2 cores (which the workers, the server and the master share in the first figure),
beside ``check`` of the same operations in one list (no batches, no decoding): what the
merge itself costs.

    .venv/bin/python benchmarks/bench_locust_master.py [--rounds 3] [--users 40] [--duration 20]
        [--synthetic 100000]

Prints a line per round and one JSON line (for BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

BEATDEBATE = Path(sys.executable).with_name("beatdebate")
WORKERS = 4


def cli_round(users: int, duration: int) -> dict[str, float]:
    """One ``beatdebate locust --processes 4`` run: the master's checker figures."""
    with tempfile.TemporaryDirectory(prefix="bench-locust-master-") as directory:
        report = Path(directory) / "isolation.json"
        command = [str(BEATDEBATE), "locust", "--processes", str(WORKERS), "--headless", "-u", str(users),
                   "-r", str(users), "-t", f"{duration}s", "--think-scale", "0", "--only-summary",
                   "--isolation-json", str(report)]
        started = time.monotonic()
        done = subprocess.run(command, cwd=directory, capture_output=True, text=True, timeout=duration + 300,
                              env={**os.environ, "PYTHONUNBUFFERED": "1"})
        wall = time.monotonic() - started
        if done.returncode != 0 or not report.exists():
            raise SystemExit(f"exit {done.returncode}: {done.stderr[-2000:]}")
        board = json.loads(report.read_text())
    (master,) = board["checkers"]
    ops = master["checked"]["operations"]
    produced = ops / duration
    judged = ops / master["judging_seconds"] if master["judging_seconds"] else float("inf")
    worker_cpu = sum(stream["cpu_seconds"] for stream in master["streams"])
    per_worker_cpu_s = sum(stream["streamed"] for stream in master["streams"]) / worker_cpu
    return {"ops": ops, "produced_per_s": round(produced, 1), "judged_per_cpu_s": round(judged, 1),
            "headroom": round(judged / produced, 1),
            "worker_ops_per_cpu_s": round(per_worker_cpu_s, 1),
            "headroom_4_cores": round(judged / (WORKERS * per_worker_cpu_s), 2),
            "headroom_4_cores_process": round(ops / master["cpu_seconds"] / (WORKERS * per_worker_cpu_s), 2),
            "master_cpu_s": master["cpu_seconds"],
            "max_backlog": master["max_backlog"],
            "max_lag_s": master["max_lag"], "judging_cpu_s": master["judging_seconds"],
            "valid": board["valid"], "wall_s": round(wall, 1)}


def synthetic_capacity(size: int) -> dict[str, float]:
    """``MergedHistory`` fed 4 workers' batches of a synthetic history, in-process."""
    from bench_checker import synthetic_history

    from loadtest.locustfile.merged import MergedHistory, batch_bytes
    from loadtest.oracle import ALL_EVIDENCE, check

    ops = synthetic_history(size)
    # Each worker numbers its own ops from 0, as a worker does; users stay on one worker.
    shares: list[list] = [[] for _ in range(WORKERS)]
    for op in ops:
        shares[op.user % WORKERS].append(op)
    batches = []
    for slot, share in enumerate(shares):
        local = [replace(op, index=n) for n, op in enumerate(share)]
        batches += [(slot, local[i:i + 2000]) for i in range(0, len(local), 2000)]
    batches.sort(key=lambda item: item[1][0].invoked_at)
    merged = MergedHistory(slots=WORKERS, history_limit=50, evidence=ALL_EVIDENCE, allowed=(), base_url="",
                           origin=0.0, max_lag=1e9, max_backlog=10**9)
    payloads = [{"slot": slot, "ops": batch_bytes(chunk), "count": len(chunk), "origin": 0.0}
                for slot, chunk in batches]
    started = time.process_time()
    for payload in payloads:
        merged.enqueue(payload)
        merged.judge_next()
    for slot, share in enumerate(shares):
        merged.close(slot, len(share))
    _, summary = merged.finish(range(WORKERS))
    cpu = time.process_time() - started
    started = time.process_time()
    alone = check(ops, history_limit=50)
    check_cpu = time.process_time() - started
    return {"ops": len(ops), "judged_per_cpu_s": round(len(ops) / cpu, 1), "cpu_s": round(cpu, 2),
            "valid": summary["valid"], "check_alone_per_cpu_s": round(len(ops) / check_cpu, 1),
            "check_alone_valid": alone.valid}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--users", type=int, default=40)
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--synthetic", type=int, default=100_000, help="ops of the synthetic figure (0: skip)")
    args = parser.parse_args()
    rounds = []
    for number in range(1, args.rounds + 1):
        found = cli_round(args.users, args.duration)
        rounds.append(found)
        print(f"round {number}: {found}", flush=True)
    synthetic = synthetic_capacity(args.synthetic) if args.synthetic else None
    if synthetic is not None:
        print(f"synthetic: {synthetic}", flush=True)
    print(json.dumps({"bench": "locust_master", "workers": WORKERS, "users": args.users,
                      "duration_s": args.duration, "rounds": rounds, "synthetic": synthetic}))


if __name__ == "__main__":
    main()
