"""The gate's proof at full size: N consecutive clean runs, then every defect once.

Runs ``beatdebate gate`` as users run it, the CLI in a subprocess
(the installed ``beatdebate gate --quiet ...``), timed with ``time.perf_counter`` around the whole
process (server start, preflight, load, drain, checking, reports):

1. ``--runs`` (default 20) consecutive runs against the clean embedded server with seeds
   1..N and the gate's defaults otherwise (100 users, ``--duration`` 20 s of load). Each
   must exit 0 with 0 violations.
2. Each deliberate defect once (``--defect NAME``, 100 users, the gate's default seed) with
   ``--defect-duration`` (default 10) seconds of load, so that the verdict comes within the
   issue's 20 s. Each must exit 1 and name the properties that defect produces by definition
   (``DEFINING``), with a witness (victim ops, explanation, curl).

Prints a markdown table per part and a one-line summary; keeps every JSON/JUnit report in
``--reports`` (default: a temporary directory, printed). For a clean run that found a
violation, prints its first witnesses' explanations and the report path.

    .venv/bin/python benchmarks/bench_gate.py [--runs 20] [--duration 20] [--defect-duration 10]

Exit code 0 when every clean run passed and every defect was caught on its property; 1
otherwise.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

DEFECTS = ("shared-session", "lost-update", "unscoped-cache", "sticky-refresh")
# The properties each defect produces by its mechanism (beatdebate_server/defects/); the
# same table as tests/loadtest/test_gate_proof.py.
DEFINING: dict[str, frozenset[str]] = {
    "shared-session": frozenset({"foreign-request-id", "id-collision"}),
    "lost-update": frozenset({"missing-turn", "duplicate-turn"}),
    "unscoped-cache": frozenset({"foreign-anchor", "foreign-content"}),
    "sticky-refresh": frozenset({"refresh-leak"}),
}
DEFECT_BUDGET_S = 20.0   # the issue: each defect caught within 20 s
GATE_BUDGET_S = 60.0     # the issue: a gate run within 60 s on this machine

# "victim op 58: ...\n      recommend ok invoked 0.718 completed 0.724 ..." in a witness's description
_COMPLETED = re.compile(r"victim op \d+:.*?\n\s+\S+ \S+ invoked [\d.]+ completed ([\d.]+)")


@dataclass
class Run:
    label: str
    code: int | None
    wall: float
    report: dict[str, Any] | None
    output: str
    report_path: Path
    problems: list[str] = field(default_factory=list)

    @property
    def violations(self) -> int | None:
        if self.report is None:
            return None
        return int(self.report["verdict"]["bleeding"]) + int(self.report["verdict"]["loss"])

    @property
    def requests(self) -> int | None:
        return None if self.report is None else int(self.report["totals"]["requests"])

    @property
    def violated(self) -> dict[str, int]:
        if self.report is None:
            return {}
        return {name: status["count"] for name, status in self.report["verdict"]["by_property"].items()
                if status["status"] == "violated"}


def run_gate_cli(label: str, args: list[str], reports: Path, timeout: float) -> Run:
    json_path, junit_path = reports / f"{label}.json", reports / f"{label}.junit.xml"
    command = [str(Path(sys.executable).with_name("beatdebate")), "gate", "--quiet", *args,
               "--json", str(json_path), "--junit", str(junit_path)]
    started = time.perf_counter()
    try:
        done = subprocess.run(command, check=False, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
        code, output = done.returncode, done.stdout + done.stderr
    except subprocess.TimeoutExpired as exc:
        seen = [part.decode(errors="replace") if isinstance(part, bytes) else (part or "")
                for part in (exc.stdout, exc.stderr)]
        code, output = None, f"timed out after {timeout:.0f} s: {''.join(seen)}"
    wall = time.perf_counter() - started
    report = json.loads(json_path.read_text()) if json_path.exists() else None
    return Run(label, code, wall, report, output, json_path)


def first_witness_at(report: dict[str, Any], properties: frozenset[str]) -> float | None:
    """Seconds into the load at which the first witness of ``properties`` was complete
    (its last victim op answered), read from the witnesses' descriptions; None if unknown."""
    times = []
    for anomaly in report["anomalies"]:
        if anomaly["property"] in properties:
            found = [float(t) for t in _COMPLETED.findall(anomaly.get("description") or "")]
            if found:
                times.append(max(found))
    return min(times) if times else None


def judge_clean(run: Run) -> None:
    if run.code != 0:
        run.problems.append(f"exit {run.code}")
    if run.report is None:
        run.problems.append("no JSON report")
        return
    if run.violations:
        run.problems.append(f"{run.violations} violation(s): {run.violated}")
    if run.report.get("harness_error"):
        run.problems.append(f"harness error: {run.report['harness_error']}")
    if run.wall > GATE_BUDGET_S:
        run.problems.append(f"wall {run.wall:.1f} s > {GATE_BUDGET_S:.0f} s")


def judge_defect(run: Run, defect: str) -> None:
    if run.code != 1:
        run.problems.append(f"exit {run.code}, not 1")
    if run.report is None:
        run.problems.append("no JSON report")
        return
    missing = DEFINING[defect] - set(run.violated)
    if missing:
        run.problems.append(f"not named: {', '.join(sorted(missing))}")
    for prop in sorted(DEFINING[defect] - missing):
        witness = next((a for a in run.report["anomalies"] if a["property"] == prop), None)
        if witness is None or not witness["victim_ops"] or not witness["explanation"] \
                or not (witness["curl"] or "").startswith("curl "):
            run.problems.append(f"{prop}: no complete witness")
    if run.wall > DEFECT_BUDGET_S:
        run.problems.append(f"wall {run.wall:.1f} s > {DEFECT_BUDGET_S:.0f} s")


def explain_failure(run: Run, limit: int = 5) -> None:
    print(f"\n### {run.label}: {'; '.join(run.problems)}  (report {run.report_path})")
    if run.report is not None:
        for anomaly in run.report["anomalies"][:limit]:
            print(f"- {anomaly['property']} ({anomaly['class']}): {anomaly['explanation']}  "
                  f"victim ops {anomaly['victim_ops']}")
            print(f"  {anomaly['curl']}")
    tail = "\n".join(run.output.strip().splitlines()[-10:])
    if tail:
        print("```\n" + tail + "\n```")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="clean runs, seeds 1..N (default 20)")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of load per clean run (gate default 20)")
    parser.add_argument("--defect-duration", type=float, default=10.0,
                        help="seconds of load per defect run (default 10: a verdict within 20 s)")
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--defects", nargs="*", default=list(DEFECTS), choices=DEFECTS)
    parser.add_argument("--reports", type=Path, default=None, help="keep the reports here (default: a temp dir)")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args()

    reports = args.reports or Path(tempfile.mkdtemp(prefix="bench-gate-"))
    reports.mkdir(parents=True, exist_ok=True)
    common = ["--users", str(args.users)]
    print(f"reports in {reports}", flush=True)

    clean: list[Run] = []
    for seed in range(1, args.runs + 1):
        run = run_gate_cli(f"clean-seed{seed}", [*common, "--seed", str(seed), "--duration", f"{args.duration:g}"],
                           reports, timeout=args.duration + 180)
        judge_clean(run)
        clean.append(run)
        print(f"clean seed {seed}: exit {run.code}, {run.violations} violations, {run.requests} requests, "
              f"{run.wall:.1f} s" + (f"  PROBLEM: {'; '.join(run.problems)}" if run.problems else ""), flush=True)

    defects: list[tuple[str, Run, float | None]] = []
    for defect in args.defects:
        run = run_gate_cli(defect, [*common, "--defect", defect, "--duration", f"{args.defect_duration:g}"],
                           reports, timeout=args.defect_duration + 180)
        judge_defect(run, defect)
        at = first_witness_at(run.report, DEFINING[defect]) if run.report else None
        defects.append((defect, run, at))
        print(f"defect {defect}: exit {run.code}, {run.wall:.1f} s" +
              (f"  PROBLEM: {'; '.join(run.problems)}" if run.problems else ""), flush=True)

    print(f"\n## Clean server: {args.runs} consecutive gate runs ({args.users} users, "
          f"{args.duration:g} s of load, every built-in scenario)\n")
    print("| seed | exit | violations | requests | wall s | ok |")
    print("| ---: | ---: | ---: | ---: | ---: | :-: |")
    for seed, run in enumerate(clean, start=1):
        print(f"| {seed} | {run.code} | {run.violations} | {run.requests} | {run.wall:.1f} | "
              f"{'yes' if not run.problems else 'NO'} |")

    print(f"\n## Defects ({args.users} users, {args.defect_duration:g} s of load, default seed)\n")
    print("| defect | exit | defining properties | all properties violated (count) | first witness at s | "
          "wall s to verdict | caught |")
    print("| --- | ---: | --- | --- | ---: | ---: | :-: |")
    for defect, run, at in defects:
        found = ", ".join(f"{name} ({count})" for name, count in run.violated.items())
        print(f"| {defect} | {run.code} | {', '.join(sorted(DEFINING[defect]))} | {found} | "
              f"{'-' if at is None else f'{at:.2f}'} | {run.wall:.1f} | {'yes' if not run.problems else 'NO'} |")

    for run in [*clean, *(run for _, run, _ in defects)]:
        if run.problems:
            explain_failure(run)

    passed = sum(not run.problems for run in clean)
    caught = sum(not run.problems for _, run, _ in defects)
    max_clean = max((run.wall for run in clean), default=0.0)
    max_defect = max((run.wall for _, run, _ in defects), default=0.0)
    summary = (f"{passed}/{len(clean)} clean runs passed, max wall {max_clean:.1f} s; "
               f"defects: {caught}/{len(defects)} caught, max wall {max_defect:.1f} s")
    print("\n" + summary)
    if args.json is not None:
        args.json.write_text(json.dumps({
            "summary": summary,
            "clean": [{"seed": seed, "exit": run.code, "violations": run.violations, "requests": run.requests,
                       "wall_s": round(run.wall, 2), "problems": run.problems}
                      for seed, run in enumerate(clean, start=1)],
            "defects": [{"defect": defect, "exit": run.code, "violated": run.violated,
                         "first_witness_s": at, "wall_s": round(run.wall, 2), "problems": run.problems}
                        for defect, run, at in defects],
        }, indent=2))
    return 0 if passed == len(clean) and caught == len(defects) else 1


if __name__ == "__main__":
    sys.exit(main())
