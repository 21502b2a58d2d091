"""5,000 concurrent virtual users in one `beatdebate simulate` process, with its live dashboard.

Runs what a user runs, in a terminal: ``beatdebate simulate --target URL --users 5000 …`` as a
subprocess on a pseudo-terminal (so that it shows its Rich dashboard, four frames a second),
against ``beatdebate serve --no-rate-limit --max-connections 20000 --backlog 4096 --keep-alive 75`` started here on a free
port (one worker, memory store: the real server, not a stand-in, with a listen backlog and a
keep-alive fit for 5,000 clients, see ``SERVER_OPTIONS``; ``--server-workers N`` runs N workers
on the Redis at ``--redis``). The built-in mixed traffic; think times scaled by
``--think-time`` (default 20: the scenarios' own pauses are well under a second, so that at
scale 1 every user is nearly always waiting on an answer; people chatting pause for seconds,
and 5,000 users at scale 1 would ask some 10,000 req/s of a server that takes about 2,000).

Measured from outside the process, while it runs:
- the dashboard: each frame's arrival on the terminal (intervals: is it on time?), and the
  CPU of the thread that renders it (the process's busiest thread other than the event
  loop's, sampled with psutil each second): CPU per frame = that thread's CPU / frames;
- memory per virtual user: the process's RSS when the load starts (first ``[running]``
  frame) and once every user has started (end of the ramp-up), less what the history
  recorded meanwhile costs (bytes per recorded request, from the RSS growth after the ramp-up
  over the requests recorded then), divided by the users;
- from its ``--json`` report: requests, errors, violations, harness error, exit code.

    .venv/bin/python benchmarks/bench_five_thousand_users.py [--users 5000] [--duration 60] [--ramp-up 30]
        [--think-time 20]

Exit code 1 unless: 0 violations, no harness error, exit code 0, and no error other than
``cancelled`` (a request in flight when the run's drain ended: cut by the harness).
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import pty
import re
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
import urllib.request
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]")
FRAME_GAP = 0.03    # seconds: output closer together than this is one frame


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# What 5,000 clients need of the server: a listen backlog of 4,096 (the default 2,048
# overflows while a busy worker accepts, and a client whose handshake is dropped waits out SYN
# retransmits into its timeout), a keep-alive of 75 s (a browser-facing default: at 5 s, every
# user who thinks longer reconnects) and room for 20,000 connections.
SERVER_OPTIONS = ["--no-rate-limit", "--log-level", "warning", "--max-connections", "20000",
                  "--backlog", "4096", "--keep-alive", "75"]


def listen_overflows() -> int:
    """The kernel's count of connections dropped because a listen queue was full (all sockets)."""
    head, values = Path("/proc/net/netstat").read_text().splitlines()[:2]
    return int(values.split()[head.split().index("ListenOverflows")])


def _start_server(workers: int, redis: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    args = [str(BIN / "beatdebate"), "serve", "--port", str(port), *SERVER_OPTIONS, "--workers", str(workers)]
    if workers > 1:     # several workers share one Redis store
        args += ["--store", redis]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{url}/health", timeout=1)   # noqa: S310 (our own loopback server)
            return proc, url
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the server on {url} did not start") from None
            time.sleep(0.3)


class Terminal:
    """Reads the child's terminal: frame times, the newest frame's text, all output."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.frames: list[float] = []     # when each frame began
        self.running_at: float | None = None
        self.checking_at: float | None = None     # the load ended: the final verdict, then the summary
        self.requests_now = 0
        self.tail = b""
        self._last = 0.0

    def read(self) -> None:
        while True:
            try:
                chunk = os.read(self.fd, 1 << 16)
            except OSError:
                return
            if not chunk:
                return
            now = time.monotonic()
            if now - self._last > FRAME_GAP:
                self.frames.append(now)
            self._last = now
            text = ANSI.sub(b"", chunk)
            if self.running_at is None and b"[running]" in text:
                self.running_at = now
            if self.checking_at is None and b"[checking]" in text:
                self.checking_at = now
            self.tail = (self.tail + text)[-20000:]
            found = re.findall(rb"requests ([\d,]+) ", self.tail[-4000:])
            if found and self.checking_at is None:
                self.requests_now = int(found[-1].replace(b",", b""))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--ramp-up", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=20261205)
    parser.add_argument("--think-time", type=float, default=20.0,
                        help="scale of the scenarios' think times: 20 puts 5,000 users near 1,100 req/s, "
                             "what one server worker takes on a shared 2-core machine")
    parser.add_argument("--server-workers", type=int, default=1)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()

    server, url = _start_server(args.server_workers, args.redis)
    report = Path(tempfile.mkdtemp(prefix="bench-5k-")) / "report.json"
    cmd = [str(BIN / "beatdebate"), "simulate", "--target", url, "--users", str(args.users),
           "--duration", f"{args.duration:g}s", "--ramp-up", f"{args.ramp_up:g}", "--seed", str(args.seed),
           "--think-time", f"{args.think_time:g}",
           "--json", str(report), "--history", str(report.with_name("history.jsonl"))]
    overflows = listen_overflows()
    try:
        pid, fd = pty.fork()
        if pid == 0:   # the child: the CLI, on a 120x40 terminal
            os.environ.update(TERM="xterm-256color", COLUMNS="120", LINES="40")
            os.chdir(ROOT)
            os.execv(cmd[0], cmd)
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        terminal = Terminal(fd)
        reader = threading.Thread(target=terminal.read, daemon=True)
        reader.start()
        proc = psutil.Process(pid)
        rss: list[tuple[float, int, int]] = []            # (time, rss, requests shown)
        threads: list[tuple[float, dict[int, float]]] = []  # (time, {thread id: CPU s})
        while True:
            try:
                now = time.monotonic()
                rss.append((now, proc.memory_info().rss, terminal.requests_now))
                threads.append((now, {t.id: t.user_time + t.system_time for t in proc.threads()}))
            except psutil.Error:
                break
            done, status, usage = os.wait4(pid, os.WNOHANG)
            if done:
                break
            time.sleep(1.0)
        if not done:
            _, status, usage = os.wait4(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        end_at = time.monotonic()
        reader.join(timeout=5)
    finally:
        server.terminate()
        server.wait(timeout=20)

    data = json.loads(report.read_text()) if report.exists() else {}
    # The renderer: the busiest thread that is not the event loop's (the main thread, id = pid).
    others: dict[int, float] = {}   # each thread's CPU, as last seen (a thread may end before the process)
    for _, seen in threads:
        others.update((tid, cpu) for tid, cpu in seen.items() if tid != pid)
    renderer = max(others, key=others.__getitem__) if others else None
    running = terminal.running_at or (rss[0][0] if rss else 0.0)
    ended = terminal.checking_at or float("inf")
    frames = [t for t in terminal.frames if running <= t <= ended]   # the frames of the load
    gaps = [b - a for a, b in zip(frames, frames[1:])]
    render_cpu = others.get(renderer, 0.0) if renderer is not None else 0.0
    per_second = []   # the renderer's CPU per frame, second by second
    for (t0, a), (t1, b) in zip(threads, threads[1:]):
        if renderer in a and renderer in b and t0 >= running:
            n = sum(t0 <= f < t1 for f in frames)
            if n:
                per_second.append((b[renderer] - a[renderer]) / n)
    # Memory: at the start of the load, once every user has started, and at the end.
    base = next((m for m in rss if m[0] >= running), rss[0] if rss else (0, 0, 0))
    ramped = next((m for m in rss if m[0] >= running + args.ramp_up + 1.0), rss[-1] if rss else base)
    late = max((m for m in rss if m[0] <= running + args.duration), key=lambda m: m[0], default=ramped)
    per_request = ((late[1] - ramped[1]) / (late[2] - ramped[2])) if late[2] > ramped[2] else 0.0
    per_user = (ramped[1] - base[1] - per_request * (ramped[2] - base[2])) / args.users
    cpu_total = usage.ru_utime + usage.ru_stime
    totals = data.get("totals", {})
    verdict = data.get("verdict", {})
    violations = verdict.get("bleeding", 0) + verdict.get("loss", 0) if verdict else None
    summary = {
        "users": args.users, "duration_s": args.duration, "ramp_up_s": args.ramp_up, "server_workers": args.server_workers,
        "listen_overflows": listen_overflows() - overflows,   # the whole machine's, during the run
        "think_time": args.think_time, "exit_code": code,
        "checking_s": round(end_at - terminal.checking_at, 1) if terminal.checking_at else None, "harness_error": data.get("harness_error"), "valid": verdict.get("valid"),
        "violations": violations, "totals": totals, "errors": data.get("errors"),
        "latency_p99_ms": {kind: figures.get("p99") for kind, figures in (data.get("latency_ms") or {}).items()},
        "cpu_s": round(cpu_total, 1), "peak_rss_mib": round(max(m[1] for m in rss) / 2**20, 1) if rss else None,
        "memory": {"rss_at_start_mib": round(base[1] / 2**20, 1), "rss_ramped_mib": round(ramped[1] / 2**20, 1),
                   "requests_by_ramp_end": ramped[2], "bytes_per_recorded_request": round(per_request),
                   "kib_per_user": round(per_user / 1024, 1)},
        "dashboard": {"frames": len(frames), "interval_ms": {
            "mean": round(statistics.fmean(gaps) * 1000, 1) if gaps else None,
            "p99": round(sorted(gaps)[int(len(gaps) * 0.99)] * 1000, 1) if gaps else None,
            "max": round(max(gaps) * 1000, 1) if gaps else None},
            "render_thread_cpu_s": round(render_cpu, 2),
            "cpu_ms_per_frame": {"mean": round(render_cpu / len(frames) * 1000, 2) if frames else None,
                                 "worst_second": round(max(per_second) * 1000, 2) if per_second else None}},
    }
    tail = terminal.tail.decode(errors="replace").strip().splitlines()[-12:]
    print("\n".join(tail))
    print(f"report and history: {report.parent}")
    print(json.dumps(summary))
    # A request in flight when the run stopped (``cancelled``) was cut by the harness's drain, not failed.
    failed = {kind: n for kind, n in (data.get("errors") or {}).items() if kind != "cancelled"}
    ok = code == 0 and not data.get("harness_error") and verdict.get("valid") is True and not failed
    if not ok:
        print("NOT MET: a violation, an error, a harness error or a non-zero exit (see above)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
