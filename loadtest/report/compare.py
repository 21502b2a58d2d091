"""``beatdebate compare BASE.json NEW.json``: what changed between two runs, and whether it got worse.

Terms:
- *report*: a JSON report (``docs/report-schema.md``) of version 1 or 2; ``load_report`` reads
  one, or raises ``UsageError`` (exit 2) naming the file and what is wrong with it.
- *change*: one figure in both reports (a latency percentile of a request kind, throughput,
  the error rate, a scenario's coverage, a property's violations) with its difference: a
  relative one (``+12.5%``) for latencies and throughput, in percentage points (``+0.4pp``)
  for shares.
- *relative threshold*: ``[kind.]metric<op>change``, the metric written as in ``--threshold``
  of a run (``loadtest.thresholds``: ``p99``, ``follow_up.p90``, ``max``, ``med``, ``errors``,
  ``rps``, ``coverage``, ``requests``), the change as ``+10%`` (relative to BASE), ``+0.5pp``
  (percentage points, for ``errors`` and ``coverage``) or ``+20ms`` (latencies).
  ``p99<+10%`` holds when NEW's p99 is less than 10 % above BASE's. A latency metric without a
  kind is judged on every request kind both runs measured, and holds only when each does. A
  change that cannot be measured (a kind one run lacks, a percentile a report does not keep,
  a relative change from zero) breaches: a criterion that could not be checked must not pass.
- *new violations*: properties that NEW violated (status ``violated``, not ``allowed``) and
  BASE did not.

The exit code (``loadtest.outcome``): 1 when NEW has new violations or checked nothing (its
verdict ``unknown``: a run that proves nothing is never "no worse", as a run that checked
nothing exits 1), else 3 when a relative
threshold is breached, else 0; 2 for a file or threshold that cannot be read.
"""

from __future__ import annotations

import math
import operator
import re
from html import escape
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import orjson
from rich.console import Console
from rich.table import Table
from rich.text import Text

from loadtest.errors import UsageError
from loadtest.outcome import ExitCode
from loadtest.report.html import Raw, page, table
from loadtest.report.json_report import READABLE_VERSIONS, REPORT_SCHEMA
from loadtest.report.svg import PALETTE, Series, line_chart
from loadtest.thresholds import REQUEST_KINDS, Comparison, ThresholdError, parse_threshold
from loadtest.units import NUMBER, DurationError, to_seconds

ChangeUnit = Literal["%", "pp", "s"]
LATENCY_KEYS: tuple[str, ...] = ("p50", "p90", "p99", "p99.9", "max")   # what a report keeps per kind
_TABLE_KEYS: tuple[str, ...] = ("p50", "p90", "p99", "max")   # p99.9 of a short run is mostly its max
_RELATIVE = re.compile(rf"^\s*(?P<metric>[^<>=!]+?)\s*(?P<op><=|>=|<|>)\s*(?P<sign>[-+])?\s*(?P<number>{NUMBER})"
                       r"\s*(?P<unit>%|pp|[A-Za-zµ]+)\s*$")
_COMPARE: Mapping[Comparison, Callable[[float, float], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


def load_report(path: Path) -> dict[str, Any]:
    """The JSON report at ``path``; raises ``UsageError`` for a file that cannot be read, is not
    JSON, or is not a ``beatdebate-report`` of a version this harness reads."""
    try:
        data = orjson.loads(path.read_bytes())
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except orjson.JSONDecodeError as exc:
        raise UsageError(f"{path} is not JSON ({exc})") from exc
    if not isinstance(data, dict) or data.get("schema") != REPORT_SCHEMA:
        raise UsageError(f"{path} is not a {REPORT_SCHEMA} JSON report (written by --json or gate)")
    if data.get("version") not in READABLE_VERSIONS:
        raise UsageError(f"{path} is a {REPORT_SCHEMA} of version {data.get('version')!r}; this beatdebate reads "
                         f"versions {', '.join(map(str, READABLE_VERSIONS))}")
    missing = [key for key in ("totals", "latency_ms", "verdict", "coverage") if not isinstance(data.get(key), dict)]
    if missing:
        raise UsageError(f"{path}: the report has no {', '.join(missing)}")
    return data


@dataclass(frozen=True, slots=True)
class RelativeThreshold:
    text: str
    metric: str                      # as loadtest.thresholds names it: "p99", "med", "errors", "rps" …
    family: str                      # "latency", "rate", "throughput", "count"
    op: Comparison
    limit: float                     # in ``unit``: percent, percentage points, or seconds
    unit: ChangeUnit
    kind: str | None = None


def _fail(text: str, why: str) -> ThresholdError:
    return ThresholdError(f"bad threshold {text!r}: {why}. Write [kind.]metric<op>change, e.g. 'p99<+10%', "
                          "'follow_up.p90<+20ms', 'errors<+0.5pp', 'rps>-5%', 'coverage>=-1pp'; metrics: "
                          f"{', '.join(LATENCY_KEYS)}, med, errors, coverage, rps, requests")


def parse_relative_threshold(text: str) -> RelativeThreshold:
    """One relative threshold (module doc); raises ``ThresholdError`` (exit 2) saying why not."""
    match = _RELATIVE.match(text)
    if match is None:
        raise _fail(text, "not an expression")
    op: Comparison = match["op"]  # type: ignore[assignment]   # the regex allows only these four
    try:   # the metric and its kind in the one grammar of run thresholds
        base = parse_threshold(f"{match['metric']}{op}0")
    except ThresholdError as exc:
        raise _fail(text, str(exc).split(": ", 1)[-1].split(". Write", 1)[0]) from None
    metric = "p50" if base.metric == "med" else base.metric
    if base.family == "latency" and metric not in LATENCY_KEYS:
        raise _fail(text, f"a report keeps {', '.join(LATENCY_KEYS)} (and med), not {base.metric}")
    if base.kind is not None and base.family != "latency":
        raise _fail(text, f"a report has {base.metric} for the whole run, not per request kind")
    number = float(match["number"]) * (-1 if match["sign"] == "-" else 1)
    raw_unit = match["unit"]
    if raw_unit == "%":
        unit: ChangeUnit = "%"
    elif raw_unit == "pp":
        if base.family != "rate":
            raise _fail(text, "percentage points (pp) measure a change of a share: errors or coverage")
        unit = "pp"
    else:
        if base.family != "latency":
            raise _fail(text, f"{raw_unit!r} is a time: only latencies change by one")
        try:
            number = to_seconds(number, raw_unit)
        except DurationError as exc:
            raise _fail(text, str(exc)) from None
        unit = "s"
    if not math.isfinite(number):
        raise _fail(text, "the change is not a finite number")
    return RelativeThreshold(text=text.strip(), metric=metric, family=base.family, op=op, limit=number, unit=unit,
                             kind=base.kind)


def parse_relative_thresholds(texts: Iterable[str]) -> tuple[RelativeThreshold, ...]:
    return tuple(parse_relative_threshold(text) for text in texts)


@dataclass(frozen=True, slots=True)
class Change:
    """One figure of both runs: ``base`` and ``new`` in ``unit`` (``ms``, ``/s``, ``%``, a count)."""

    section: str                     # "latency", "throughput", "errors", "coverage", "violations"
    name: str                        # "follow_up p99", "error rate", "refresh", "foreign-anchor" …
    base: float | None
    new: float | None
    unit: str

    @property
    def relative(self) -> float | None:
        """(new - base) / base in percent; None when either is missing or base is 0 (and new not)."""
        if self.base is None or self.new is None:
            return None
        if self.base == 0:
            return 0.0 if self.new == 0 else None
        return (self.new - self.base) / self.base * 100

    @property
    def points(self) -> float | None:
        """new - base, for shares already in percent: percentage points."""
        return None if self.base is None or self.new is None else self.new - self.base

    @property
    def change_text(self) -> str:
        if self.unit == "%" or self.section == "violations":
            diff = self.points
            return "n/a" if diff is None else f"{diff:+.2f}pp" if self.unit == "%" else f"{diff:+.0f}"
        rel = self.relative
        return "n/a" if rel is None else f"{rel:+.1f}%"


@dataclass(frozen=True, slots=True)
class JudgedThreshold:
    threshold: RelativeThreshold
    passed: bool
    observed: str                    # the change as measured, per kind when several ("+12.0% (follow_up)")


@dataclass(frozen=True)
class RunComparison:
    base_path: Path
    new_path: Path
    base: Mapping[str, Any]
    new: Mapping[str, Any]
    changes: tuple[Change, ...]
    new_violations: tuple[str, ...]
    thresholds: tuple[JudgedThreshold, ...]

    @property
    def hollow(self) -> bool:
        """NEW checked nothing (its verdict is ``unknown``): it cannot show it is no worse."""
        return self.new["verdict"].get("outcome") == "unknown"

    @property
    def exit_code(self) -> ExitCode:
        if self.new_violations or self.hollow:
            return ExitCode.ISOLATION
        return ExitCode.THRESHOLD if any(not t.passed for t in self.thresholds) else ExitCode.OK


def _error_rate(report: Mapping[str, Any]) -> float | None:
    totals = report["totals"]
    requests = totals.get("requests") or 0
    return (totals.get("failed", 0) + totals.get("unknown", 0)) / requests * 100 if requests else None


def _lowest_coverage(report: Mapping[str, Any]) -> float | None:
    shares = [entry["share"] for entry in report["coverage"].values()
              if entry.get("applicable") and entry.get("share") is not None]
    return min(shares) * 100 if shares else None


def _violated(report: Mapping[str, Any]) -> dict[str, int]:
    return {name: int(entry.get("count", 0)) for name, entry in report["verdict"].get("by_property", {}).items()
            if entry.get("status") == "violated"}


def changes(base: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    """Every figure both reports can show, in the order of the table."""
    out: list[Change] = []
    kinds = [k for k in REQUEST_KINDS if k in base["latency_ms"] or k in new["latency_ms"]]
    kinds += sorted((set(base["latency_ms"]) | set(new["latency_ms"])) - set(kinds))
    for kind in kinds:
        for key in _TABLE_KEYS:
            values = [report["latency_ms"].get(kind, {}).get(key) for report in (base, new)]
            out.append(Change("latency", f"{kind} {key}", values[0], values[1], "ms"))
    out.append(Change("throughput", "throughput", base["totals"].get("throughput_rps"),
                      new["totals"].get("throughput_rps"), "/s"))
    out.append(Change("throughput", "requests", base["totals"].get("requests"), new["totals"].get("requests"), ""))
    out.append(Change("errors", "error rate", _error_rate(base), _error_rate(new), "%"))
    for name in sorted(set(base["coverage"]) | set(new["coverage"])):
        base_share, new_share = (report["coverage"].get(name, {}).get("share") for report in (base, new))
        out.append(Change("coverage", name, None if base_share is None else base_share * 100,
                          None if new_share is None else new_share * 100, "%"))
    violated = [_violated(base), _violated(new)]
    for name in sorted(set(violated[0]) | set(violated[1])):
        out.append(Change("violations", name, violated[0].get(name, 0), violated[1].get(name, 0), ""))
    return out


def _judge(threshold: RelativeThreshold, base: Mapping[str, Any], new: Mapping[str, Any]) -> JudgedThreshold:
    def holds(change: Change) -> tuple[bool, str]:
        if threshold.unit == "pp":
            diff = change.points
            return (False, "n/a") if diff is None else (_COMPARE[threshold.op](diff, threshold.limit), f"{diff:+.2f}pp")
        if threshold.unit == "s":
            diff = change.points
            return ((False, "n/a") if diff is None else
                    (_COMPARE[threshold.op](diff / 1000, threshold.limit), f"{diff:+.3g}ms"))
        rel = change.relative
        return (False, "n/a") if rel is None else (_COMPARE[threshold.op](rel, threshold.limit), f"{rel:+.1f}%")

    if threshold.family == "latency":
        kinds = [threshold.kind] if threshold.kind else \
            sorted(set(base["latency_ms"]) & set(new["latency_ms"])) or ["(no kind in both)"]
        results = [(kind, *holds(Change("latency", kind, base["latency_ms"].get(kind, {}).get(threshold.metric),
                                        new["latency_ms"].get(kind, {}).get(threshold.metric), "ms")))
                   for kind in kinds]
        observed = ", ".join(f"{text} ({kind})" for kind, _, text in results)
        return JudgedThreshold(threshold, all(ok for _, ok, _ in results), observed)
    figure: Callable[[Mapping[str, Any]], float | None] = {
        "errors": _error_rate, "coverage": _lowest_coverage,
        "rps": lambda r: r["totals"].get("throughput_rps"), "requests": lambda r: r["totals"].get("requests"),
    }[threshold.metric]
    ok, text = holds(Change(threshold.family, threshold.metric, figure(base), figure(new),
                            "%" if threshold.family == "rate" else ""))
    return JudgedThreshold(threshold, ok, text)


def compare(base_path: Path, new_path: Path, thresholds: Sequence[RelativeThreshold] = ()) -> RunComparison:
    """Read both reports and compare them; raises ``UsageError`` for a report that cannot be read."""
    base, new = load_report(base_path), load_report(new_path)
    before = _violated(base)
    fresh = tuple(name for name in _violated(new) if name not in before)
    return RunComparison(base_path, new_path, base, new, tuple(changes(base, new)), fresh,
                       tuple(_judge(t, base, new) for t in thresholds))


def _value(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "ms":
        return f"{value:.3g}ms" if value < 100 else f"{value:.0f}ms"
    if unit == "%":
        return f"{value:.2f}%"
    if unit == "/s":
        return f"{value:,.1f}/s"
    return f"{value:,.0f}"


def render_comparison(comparison: RunComparison, console: Console) -> None:
    """The table of changes, the thresholds, and a closing line with the exit code's reason."""
    table = Table(title=f"compare {comparison.base_path} → {comparison.new_path}", title_justify="left")
    for header in ("section", "figure", "base", "new", "change"):
        table.add_column(header, justify="right" if header in ("base", "new", "change") else "left")
    for change in comparison.changes:
        if change.base is None and change.new is None:
            continue
        style = "bold red" if change.section == "violations" and change.name in comparison.new_violations else None
        # Text, not markup: names come from reports, which a reader did not necessarily write.
        table.add_row(*(Text(cell) for cell in (change.section, change.name, _value(change.base, change.unit),
                                                _value(change.new, change.unit), change.change_text)), style=style)
    console.print(table)
    for judged in comparison.thresholds:
        console.print(Text.assemble(f"threshold {judged.threshold.text}: ",
                                    ("held", "green") if judged.passed else ("BREACHED", "bold red"),
                                    f" (change {judged.observed})"))
    for report, label in ((comparison.base, "base"), (comparison.new, "new")):
        if report.get("harness_error"):
            console.print(Text(f"note: the {label} run's harness failed: {report['harness_error']}", style="yellow"))
    code = comparison.exit_code
    if comparison.hollow:
        console.print("NEW checked nothing (verdict unknown): it cannot show it is no worse", style="bold red")
    if comparison.new_violations:
        console.print(Text(f"NEW VIOLATIONS: {', '.join(comparison.new_violations)} (not violated in base)",
                           style="bold red"))
    if code == ExitCode.THRESHOLD:
        console.print("a threshold was breached", style="bold red")
    elif code == ExitCode.OK:
        console.print("no new violation" + (", every threshold held" if comparison.thresholds else ""),
                      style="green")


def run_compare(base_path: Path, new_path: Path, *, thresholds: Sequence[str] = (), html_path: Path | None = None,
                console: Console) -> ExitCode:
    """``beatdebate compare``: thresholds parsed first (a bad one runs nothing), both reports
    read, the table printed, the side-by-side page written when asked; the exit code."""
    parsed = parse_relative_thresholds(thresholds)
    comparison = compare(base_path, new_path, parsed)
    render_comparison(comparison, console)
    if html_path is not None:
        write_compare_html(comparison, html_path)
        console.print(f"html: {html_path}", highlight=False)
    return comparison.exit_code


def _p99_of(kind: str) -> Callable[[Mapping[str, Any]], float | None]:
    """A bucket's p99 latency of ``kind`` (None in a second with no such request)."""
    def figure(bucket: Mapping[str, Any]) -> float | None:
        latency = bucket["latency_ms"].get(kind)
        return None if latency is None else float(latency["p99"])
    return figure


def _series(report: Mapping[str, Any], figure: Callable[[Mapping[str, Any]], float | None],
            label: str, color: str) -> Series | None:
    """A line of ``report``'s time series (None for a version 1 report, which has none)."""
    series = report.get("time_series")
    if not series or not series.get("buckets"):
        return None
    width = float(series["bucket_seconds"])
    return Series(label, [((b["t"] + 0.5) * width, figure(b)) for b in series["buckets"]], color)


def _x_max(*reports: Mapping[str, Any]) -> float:
    return max((len(r["time_series"]["buckets"]) * float(r["time_series"]["bucket_seconds"])
                for r in reports if r.get("time_series")), default=1.0)


def render_compare_html(comparison: RunComparison) -> str:
    """The comparison as one self-contained page: both verdicts, the thresholds, the table of
    changes, and each run's throughput, errors and p99 per kind drawn over each other."""
    base, new = comparison.base, comparison.new
    code = comparison.exit_code
    reason = {ExitCode.ISOLATION: f"new violations: {', '.join(comparison.new_violations)}"
              if comparison.new_violations else "NEW checked nothing",
              ExitCode.THRESHOLD: "a threshold was breached", ExitCode.OK: "no new violation"}[code]
    parts = [f'<header id="verdict"><h1>beatdebate compare</h1><p><span class="verdict '
             f'{"pass" if code == ExitCode.OK else "fail"}" id="verdict-line">exit {int(code)}: {escape(reason)}</span>'
             "</p>", table(["", "base", "new"], [
                 ("report", str(comparison.base_path), str(comparison.new_path)),
                 ("verdict", base["verdict"].get("outcome", "-"), new["verdict"].get("outcome", "-")),
                 ("target", base.get("target", "-"), new.get("target", "-")),
                 ("started", base.get("timings", {}).get("started_at", "-"), new.get("timings", {}).get("started_at", "-")),
                 ("schema version", base["version"], new["version"])], table_id="runs"), "</header>"]
    if comparison.thresholds:
        parts.append('<section id="thresholds"><h2>Thresholds</h2>' + table(
            ["threshold", "change", ""], [(j.threshold.text, j.observed, Raw(
                '<span class="passed">held</span>' if j.passed else '<span class="breached">BREACHED</span>'))
                for j in comparison.thresholds]) + "</section>")
    rows = [(c.section, c.name, _value(c.base, c.unit), _value(c.new, c.unit), c.change_text)
            for c in comparison.changes if not (c.base is None and c.new is None)]
    classes = ["breached" if r[0] == "violations" and r[1] in comparison.new_violations else "" for r in rows]
    parts.append('<section id="changes"><h2>What changed</h2>' + table(
        ["section", "figure", "base", "new", "change"], rows, numeric=(2, 3, 4), row_classes=classes,
        table_id="change-table") + "</section>")
    parts.append('<section id="over-time"><h2>Over time (base and new drawn over each other)</h2>')
    x_max = _x_max(base, new)
    charts: list[tuple[str, str, Callable[[Any], float | None]]] = [
        ("chart-throughput", "Requests per second", lambda b: float(b["requests"])),
        ("chart-errors", "Errors per second", lambda b: float(b["errors"]))]
    kinds = sorted({k for r in (base, new) for b in (r.get("time_series") or {}).get("buckets", ()) for k in b["latency_ms"]})
    charts += [(f"chart-latency-{kind}", f"p99 of {kind} (ms)", _p99_of(kind)) for kind in kinds]
    for chart_id, title, figure in charts:
        lines = [s for s in (_series(base, figure, "base", PALETTE[7]), _series(new, figure, "new", PALETTE[3])) if s]
        if lines:
            parts.append(line_chart(chart_id, title, lines, x_max=x_max))
    if not kinds:
        parts.append('<p class="muted">no time series: both reports are of version 1</p>')
    parts.append("</section>")
    return page(f"beatdebate compare: exit {int(code)}", "".join(parts))


def write_compare_html(comparison: RunComparison, path: Path) -> Path:
    """Write ``render_compare_html`` to ``path`` (parents created); returns the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_compare_html(comparison), encoding="utf-8")
    return path


__all__ = ["Change", "JudgedThreshold", "RelativeThreshold", "RunComparison", "changes", "compare", "load_report",
           "parse_relative_threshold", "parse_relative_thresholds", "render_compare_html", "render_comparison",
           "run_compare", "write_compare_html"]
