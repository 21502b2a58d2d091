"""How fast the oracle checks a history: ``check`` time per op, up to a million ops.

The history is synthetic and built here in memory (no server): conversations of "Songs by
X", three "More tracks" anchored on it and a history read, overlapping in time, with one
refresh in fifty; track pages depend only on the queries, so a clean history passes every
property, determinism included. The ``bleeding`` variant then rewires one follow-up in
``--every`` to anchor on, and show the tracks of, another user's conversation. Building
the history is not timed; ``check`` is (``IncrementalChecker.observe`` of every op, then
``finish``).

    .venv/bin/python benchmarks/bench_checker.py [--sizes 10000,100000,1000000] [--every 1000] [--cli]

``--cli`` also writes each history to a file and times what users run on it, ``beatdebate
check FILE --quiet`` as a subprocess (reading the file back included), side by side with the
in-process figure. Prints a table and one JSON line (for BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import base64
import gc
import hashlib
import json
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from loadtest.history import Anchor, Expect, Op, RecordedTurn, TrackSeen, write_history  # noqa: E402
from loadtest.oracle import check  # noqa: E402

ARTISTS = [f"Artist {n}" for n in range(500)]
GENRES = ["techno", "jazz", "ambient", "folk", "pop", "metal", "soul", "house"]
PAGE = 10
FIRST = Expect(kind="by_artist", content=("artist",))
MORE = Expect(kind="follow_up", follow_up="more_tracks", anchor="first", content=("artist",))
NEW = Expect(kind="follow_up", follow_up="more_tracks", anchor="none")


def _session_id(n: int) -> str:
    return base64.urlsafe_b64encode(hashlib.blake2b(n.to_bytes(8, "little"), digest_size=32).digest()).decode().rstrip("=")


def synthetic_history(target_ops: int) -> list[Op]:
    """A clean history of about ``target_ops`` ops (5 per conversation, 7 with a refresh)."""
    pages: dict[tuple[int, int], tuple[TrackSeen, ...]] = {}

    def page(artist: int, number: int) -> tuple[TrackSeen, ...]:
        key = (artist, number)
        if key not in pages:
            name, genre = ARTISTS[artist], GENRES[artist % len(GENRES)]
            pages[key] = tuple(TrackSeen(f"a{artist}-t{number * PAGE + i}", name, (genre,)) for i in range(PAGE))
        return pages[key]

    ops: list[Op] = []
    conversation = 0
    while len(ops) < target_ops:
        user, artist = conversation, conversation % len(ARTISTS)
        conv, start = f"u{user}.c1", conversation * 0.01
        subject = {"artist": ARTISTS[artist], "genre": GENRES[artist % len(GENRES)]}
        session = _session_id(conversation)
        common = {"user": user, "conversation": conv, "scenario": "bench", "subject": subject}
        first = Op(index=len(ops), step="first", action="recommend", status="ok", invoked_at=start,
                   completed_at=start + 0.2, request_id=f"r{len(ops)}", session=session, http_status=200,
                   query=f"Songs by {ARTISTS[artist]}", expect=FIRST, turn=1, session_created=True,
                   kind="by_artist", tracks=page(artist, 0), source="primary", **common)
        ops.append(first)
        anchor = Anchor(turn=1, request_id=first.request_id, query=first.query, kind="by_artist")
        recorded = [RecordedTurn(1, first.request_id)]
        for number in range(1, 4):
            at = start + number
            more = Op(index=len(ops), step=f"more{number}", action="recommend", status="ok", invoked_at=at,
                      completed_at=at + 0.3, request_id=f"r{len(ops)}", session_sent=session, session=session,
                      http_status=200, query="More tracks", expect=MORE, turn=number + 1, session_created=False,
                      kind="follow_up", follow_up="more_tracks", anchor=anchor, tracks=page(artist, number),
                      source="primary", **common)
            ops.append(more)
            recorded.append(RecordedTurn(number + 1, more.request_id))
        ops.append(Op(index=len(ops), step="read", action="read_history", status="ok", invoked_at=start + 5,
                      completed_at=start + 5.1, request_id=f"r{len(ops)}", session_sent=session, session=session,
                      http_status=200, turn_count=4, recorded=tuple(recorded), **common))
        if conversation % 50 == 0:
            ops.append(Op(index=len(ops), step="refresh", action="delete_session", status="ok",
                          invoked_at=start + 6, completed_at=start + 6.1, request_id=f"r{len(ops)}",
                          session_sent=session, http_status=204, **common))
            fresh = _session_id(10**12 + conversation)
            ops.append(Op(index=len(ops), step="after", action="recommend", status="ok", invoked_at=start + 7,
                          completed_at=start + 7.1, request_id=f"r{len(ops)}", session=fresh, http_status=200,
                          query="More tracks", expect=NEW, turn=1, session_created=True, kind="follow_up",
                          follow_up="more_tracks", source="primary", notice="nothing to follow up on",
                          **{**common, "conversation": f"u{user}.c2"}))
        conversation += 1
    return ops


def inject_bleeding(ops: list[Op], every: int) -> tuple[list[Op], int]:
    """Every ``every``-th follow-up anchors on, and shows the page of, the conversation
    ten users earlier (so it overlapped in time). Returns the ops and how many were changed."""
    firsts = [op for op in ops if op.step == "first"]
    out, seen, changed = list(ops), 0, 0
    for position, op in enumerate(ops):
        if op.step != "more2":
            continue
        seen += 1
        if seen % every or op.user < 10:
            continue
        source = firsts[op.user - 10] if firsts[op.user - 10].user == op.user - 10 else None
        if source is None or source.subject["artist"] == op.subject["artist"]:
            continue
        out[position] = replace(op, anchor=Anchor(turn=1, request_id=source.request_id, query=source.query),
                                tracks=tuple(TrackSeen(f"x{op.index}-{i}", source.subject["artist"], ())
                                             for i in range(PAGE)))
        changed += 1
    return out, changed


def _time_check(ops: list[Op]) -> tuple[float, object]:
    gc.collect()
    start = time.perf_counter()
    verdict = check(ops)
    return time.perf_counter() - start, verdict


def _time_cli(ops: list[Op]) -> tuple[float, float, int]:
    """``beatdebate check`` on ``ops`` written as a history file: wall s, CPU s, exit code."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "history.jsonl"
        write_history(path, ops)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        code = subprocess.run([str(Path(sys.executable).with_name("beatdebate")), "check", str(path), "--quiet"],
                              stdout=subprocess.DEVNULL, check=False).returncode
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--every", type=int, default=1000, help="inject one bleeding follow-up in this many")
    parser.add_argument("--cli", action="store_true", help="also time `beatdebate check FILE` as a subprocess")
    args = parser.parse_args()
    rows = []
    print(f"{'variant':<10} {'ops':>9} {'check s':>9} {'µs/op':>7} {'valid':>7} {'anomalies':>10}")
    for size in (int(s) for s in args.sizes.split(",")):
        clean = synthetic_history(size)
        for variant, ops, injected in (("clean", clean, 0), ("bleeding", *inject_bleeding(clean, args.every))):
            seconds, verdict = _time_check(ops)
            counts = {name: len(found) for name, found in verdict.anomalies.items()}  # type: ignore[attr-defined]
            row = {"variant": variant, "ops": len(ops), "seconds": round(seconds, 3),
                   "us_per_op": round(seconds / len(ops) * 1e6, 2), "valid": verdict.valid,  # type: ignore[attr-defined]
                   "injected": injected, "anomalies": counts}
            if args.cli:
                wall, cpu, code = _time_cli(ops)
                row["cli"] = {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "exit_code": code}
            rows.append(row)
            print(f"{variant:<10} {len(ops):>9} {seconds:>9.2f} {row['us_per_op']:>7} {str(row['valid']):>7}"
                  f" {sum(counts.values()):>10}  {counts if counts else ''}  {row.get('cli', '')}")
            del ops, verdict
        del clean
    print(json.dumps({"benchmark": "bench_checker", "rows": rows}))


if __name__ == "__main__":
    main()
