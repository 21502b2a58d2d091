"""The HTML report of a run: one self-contained page, read in a browser with no network.

``render_html`` lays out, in order: the verdict and the run's totals; coverage per scenario;
every property with its status; the thresholds; the run over time (throughput and errors,
users and arrivals, latency percentiles per request kind, the nemesis's fault windows shaded
on each chart); a timeline of violations whose every mark links to its witness; a table per
scenario; and the witnesses, each with its explanation and the command that replays it
(``report.replay``). The figures are the JSON report's (``build_json_report``, with its time
series), so that the page and the JSON cannot disagree; the per-scenario statuses are
``report.status``'s, as JUnit's are.

The charts are SVG written here (``report.svg`` says why no charting library). The page has
no script and its Content-Security-Policy allows none, nor any fetch: whatever a target
answered is shown as text, escaped (``html.escape``), never as markup.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

from loadtest.report.json_report import build_json_report
from loadtest.report.status import property_statuses, scenario_names, verdict_line
from loadtest.report.svg import PALETTE, Band, Mark, Series, line_chart, timeline
from loadtest.report.timeseries import TimeSeries
from loadtest.result import RunResult
from loadtest.thresholds import MetricFamily, Threshold, ThresholdResult, format_value

# No script, no fetch, no frame: styles and data: images only (the page is opened from a file).
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1000px;padding:16px;
color:#1d1d1f;background:#fff}
h1{font-size:22px;margin:4px 0}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd}
h3{font-size:15px;margin:18px 0 6px}
table{border-collapse:collapse;margin:6px 0 12px}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;
vertical-align:top}th{background:#f6f6f6}td.num{text-align:right;font-variant-numeric:tabular-nums}
.verdict{display:inline-block;padding:4px 10px;border-radius:4px;font-weight:700;color:#fff}
.verdict.pass{background:#2e7d32}.verdict.fail,.verdict.error{background:#c62828}.verdict.unknown{background:#b26a00}
.status-violated{color:#c62828;font-weight:700}.status-held{color:#2e7d32}.status-allowed{color:#b26a00}
.status-not_exercised,.status-not_checkable{color:#777}
.passed{color:#2e7d32}.breached{color:#c62828;font-weight:700}
svg.chart{display:block;margin:8px 0 16px;border:1px solid #eee}
svg .axis{stroke:#888}svg .grid{stroke:#eee}svg text{font:11px system-ui,sans-serif;fill:#444}
svg .chart-title{font-weight:700;font-size:12px;fill:#222}
pre{background:#f6f6f6;padding:8px;overflow-x:auto;white-space:pre-wrap;word-break:break-all}
section.witness{border-left:3px solid #c62828;padding-left:10px;margin:14px 0}
section.witness:target{background:#fff4f4}
.muted{color:#777}
"""
# The JSON report's threshold units, back to the metric families that format them.
_FAMILIES: Mapping[str, MetricFamily] = {"s": "latency", "fraction": "rate", "requests/s": "throughput",
                                         "requests": "count"}


def _e(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def table(headers: Sequence[str], rows: Iterable[Sequence[object]], *, numeric: Sequence[int] = (),
           row_classes: Sequence[str] | None = None, table_id: str | None = None) -> str:
    """A table of escaped cells; a cell that is a ``Raw`` is markup of ours, inserted as is."""
    head = f'<thead><tr>{"".join(f"<th>{_e(h)}</th>" for h in headers)}</tr></thead>' if headers else ""
    body = []
    for i, row in enumerate(rows):
        cells = "".join(
            f'<td{" class=num" if j in numeric else ""}>{cell if isinstance(cell, Raw) else _e(cell)}</td>'
            for j, cell in enumerate(row))
        cls = f' class="{_e(row_classes[i])}"' if row_classes else ""
        body.append(f"<tr{cls}>{cells}</tr>")
    ident = f' id="{_e(table_id)}"' if table_id else ""
    return f"<table{ident}>{head}<tbody>{''.join(body)}</tbody></table>"


class Raw(str):
    """Markup built by a report from escaped parts, for ``table`` to insert as is (never a target's text)."""


def _status(state: str, count: int) -> Raw:
    text = {"violated": f"VIOLATED ({count:,})", "allowed": f"allowed ({count:,})", "held": "held",
            "not_exercised": "not exercised", "not_checkable": "not checkable"}.get(state, state)
    return Raw(f'<span class="status-{_e(state)}">{_e(text)}</span>')


def _ms(value: float) -> str:
    return f"{value:.3g}" if value < 100 else f"{value:.0f}"


def _header(result: RunResult, report: Mapping[str, Any]) -> str:
    totals, timings = report["totals"], report["timings"]
    rate = (totals["failed"] + totals["unknown"]) / totals["requests"] if totals["requests"] else 0.0
    rows = [("target", report["target"]), ("scenarios", ", ".join(report["scenarios"]) or "-"),
            ("started", timings["started_at"]), ("elapsed", f"{timings['elapsed_s']:.1f} s"),
            ("requests", f"{totals['requests']:,} ({totals['failed']:,} failed, {totals['unknown']:,} unknown)"),
            ("throughput", f"{totals['throughput_rps']:,.1f} req/s"), ("error rate", f"{rate:.2%}"),
            ("checked", f"{report['checked']['sessions']:,} sessions, {report['checked']['follow_ups']:,} follow-ups, "
                        f"{report['checked']['history_reads']:,} history reads"),
            ("exit code", report["exit_code"])]
    settings = report["settings"]
    rows[2:2] = [(key, ", ".join(map(str, value)) if isinstance(value, list) else value)
                 for key in ("model", "users", "arrival_rate", "seed", "defect", "nemesis")
                 if (value := settings.get(key)) not in (None, [], "")]
    outcome = report["verdict"]["outcome"]
    error = f'<p class="breached">harness error: {_e(report["harness_error"])}</p>' if report["harness_error"] else ""
    return (f'<header id="verdict"><h1>beatdebate report</h1>'
            f'<p><span class="verdict {_e(outcome)}" id="verdict-line">{_e(verdict_line(result))}</span></p>{error}'
            + table([], rows, table_id="run") + "</header>")


def _coverage(report: Mapping[str, Any]) -> str:
    rows = []
    for name, entry in report["coverage"].items():
        share = entry["share"]
        conv, follow = entry["conversations"], entry["follow_ups"]
        rows.append((name, conv["started"], conv["completed"], conv["failed"], conv["cut"],
                     follow["planned"] if entry["applicable"] else "-", follow["checked"] if entry["applicable"] else "-",
                     "not applicable" if not entry["applicable"] else ("-" if share is None else f"{share:.1%}")))
    if not rows:
        return '<section id="coverage"><h2>Coverage</h2><p class="muted">not counted for this run</p></section>'
    return ('<section id="coverage"><h2>Coverage</h2>'
            + table(["scenario", "started", "completed", "failed", "cut", "follow-ups planned", "checked", "share"],
                     rows, numeric=range(1, 8)) + "</section>")


def _properties(report: Mapping[str, Any]) -> str:
    rows = [(name, entry["class"], _status(entry["status"], entry["count"]), entry["description"])
            for name, entry in report["verdict"]["by_property"].items()]
    return '<section id="properties"><h2>Properties</h2>' + table(
        ["property", "class", "status", "what it means"], rows, table_id="property-table") + "</section>"


def _thresholds(report: Mapping[str, Any]) -> str:
    if not report["thresholds"]:
        return ""
    rows = [(t["expression"] + (" (default)" if t["origin"] == "default" else ""),
             "n/a" if t["observed"] is None else format_value(_FAMILIES.get(t["unit"], "count"), t["observed"]),
             Raw('<span class="passed">passed</span>' if t["passed"] else '<span class="breached">BREACHED</span>'),
             t["note"] or "") for t in report["thresholds"]]
    return '<section id="thresholds"><h2>Thresholds</h2>' + table(
        ["threshold", "observed", "", "note"], rows) + "</section>"


def _charts(report: Mapping[str, Any]) -> str:
    series = report["time_series"]
    buckets, width = series["buckets"], float(series["bucket_seconds"])
    if not buckets:
        return '<section id="over-time"><h2>Over time</h2><p class="muted">no request was recorded</p></section>'
    x_max = len(buckets) * width
    bands = [Band(f["start_s"], f["end_s"], f"{f['name']}: {f['detail']}") for f in series["faults"]]

    def points(value: Any) -> list[tuple[float, float | None]]:
        return [((b["t"] + 0.5) * width, value(b)) for b in buckets]

    parts = ['<section id="over-time"><h2>Over time</h2>']
    if bands:
        parts.append("<p>Shaded: the nemesis's fault windows (" + ", ".join(
            f"{_e(f['name'])} {f['start_s']:.1f}–{f['end_s']:.1f} s" for f in series["faults"]) + ").</p>")
    parts.append(line_chart("chart-throughput", "Throughput and errors (requests per second)", [
        Series("requests/s", points(lambda b: b["requests"] / width), PALETTE[0]),
        Series("errors/s", points(lambda b: b["errors"] / width), PALETTE[3])], x_max=x_max, bands=bands))
    parts.append(line_chart("chart-users", "Virtual users alive, and conversations begun per second", [
        Series("users", points(lambda b: b["users"]), PALETTE[2]),
        Series("arrivals/s", points(lambda b: b["arrivals"] / width), PALETTE[4])], x_max=x_max, bands=bands))
    kinds = sorted({kind for b in buckets for kind in b["latency_ms"]})
    for kind in kinds:
        parts.append(line_chart(f"chart-latency-{kind}", f"Latency of {kind} (ms)", [
            Series(name, points(lambda b, name=name: b["latency_ms"][kind][name] if kind in b["latency_ms"] else None),
                   color) for name, color in (("p50", PALETTE[2]), ("p90", PALETTE[1]), ("p99", PALETTE[3]))],
            x_max=x_max, unit="", bands=bands))
    parts.append(_violations(report, x_max, bands))
    parts.append("</section>")
    return "".join(parts)


def _violations(report: Mapping[str, Any], x_max: float, bands: Sequence[Band]) -> str:
    violations = report["time_series"]["violations"]
    if not violations:
        return '<h3>Violations over time</h3><p class="muted" id="no-violations">no violation was found</p>'
    rows = list(dict.fromkeys(v["property"] for v in sorted(violations, key=lambda v: v["property"])))
    marks = [Mark(v["t"], v["property"], f"#{v['witness']}", f"{v['property']} ({v['class']}) at {v['t']:.2f} s, "
                  f"{v['conversation']}", PALETTE[3] if v["class"] == "bleeding" else PALETTE[1]) for v in violations]
    first = violations[0]
    return ('<h3>Violations over time</h3>'
            f'<p>First: <a href="#{_e(first["witness"])}">{_e(first["property"])}</a> at {first["t"]:.2f} s. '
            'Each mark links to its witness (red: bleeding, orange: loss).</p>'
            + timeline("chart-violations", "Violations by property (click a mark for its witness)", rows, marks,
                       x_max=x_max, bands=bands))


def _scenarios(result: RunResult, report: Mapping[str, Any]) -> str:
    parts = ['<section id="scenarios"><h2>Per scenario</h2>']
    for name in scenario_names(result):
        statuses = property_statuses(result, scenario=name)
        coverage = report["coverage"].get(name)
        parts.append(f'<h3 id="scenario-{_e(name)}">{_e(name)}</h3>')
        if coverage is not None:
            conv = coverage["conversations"]
            share = coverage["share"]
            parts.append(f"<p>{conv['started']:,} conversations ({conv['completed']:,} completed, {conv['failed']:,} "
                         f"failed, {conv['cut']:,} cut); coverage "
                         f"{'not applicable' if not coverage['applicable'] else '-' if share is None else f'{share:.1%}'}"
                         "</p>")
        parts.append(table(["property", "class", "status"],
                            [(s.property, s.cls, _status(s.state, s.count)) for s in statuses]))
    parts.append("</section>")
    return "".join(parts)


def _witnesses(report: Mapping[str, Any]) -> str:
    parts = ['<section id="witnesses"><h2>Witnesses</h2>']
    if not report["anomalies"]:
        parts.append('<p class="muted">none: no violation was found</p>')
    for anomaly in report["anomalies"]:
        fault = "".join(f"<li>{_e(w['name'])} {w['start_s']:.1f}–{w['end_s']:.1f} s: {_e(w['detail'])}</li>"
                        for w in anomaly.get("fault_windows") or ())
        parts.append(
            f'<section class="witness" id="{_e(anomaly["witness"])}">'
            f'<h3>{_e(anomaly["property"])} <span class="muted">({_e(anomaly["class"])}, {_e(anomaly["scenario"])}, '
            f'{_e(anomaly["conversation"])})</span></h3>'
            f'<p>{_e(anomaly["explanation"])}</p><pre class="description">{_e(anomaly["description"])}</pre>'
            + (f'<p>Replay the victim\'s request:</p><pre class="curl"><code>{_e(anomaly["curl"])}</code></pre>'
               if anomaly["curl"] else '<p class="muted">no replay command for this target</p>')
            + (f"<p>During faults:</p><ul>{fault}</ul>" if fault else "")
            + '<p><a href="#chart-violations">back to the timeline</a></p></section>')
    for name, count in report["anomalies_omitted"].items():
        parts.append(f'<p class="muted">{count:,} more {_e(name)} anomalies were counted but not listed.</p>')
    parts.append("</section>")
    return "".join(parts)


def page(title: str, body: str) -> str:
    """A whole self-contained page around ``body`` (markup of ours, its data already escaped)."""
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1">'
            f"<title>{_e(title)}</title><style>{STYLE}</style></head><body>{body}</body></html>\n")


def render_html(
    result: RunResult,
    *,
    thresholds: Iterable[Threshold | ThresholdResult] = (),
    base_url: str | None = None,
    series: TimeSeries | None = None,
    report: Mapping[str, Any] | None = None,
) -> str:
    """The HTML report of ``result`` (module doc). ``report``: its JSON report when the caller
    has built it already (``build_json_report``), else it is built here with ``thresholds``,
    ``base_url`` and ``series``."""
    if report is None:
        report = build_json_report(result, thresholds=thresholds, base_url=base_url, series=series)
    body = "".join((_header(result, report), _coverage(report), _properties(report), _thresholds(report),
                    _charts(report), _scenarios(result, report), _witnesses(report),
                    f'<footer class="muted"><p>{_e(report["schema"])} v{_e(report["version"])}, generated '
                    f'{_e(report["generated_at"])}</p></footer>'))
    return page(f"beatdebate: {verdict_line(result)}", body)


def write_html_report(result: RunResult, path: Path, *, thresholds: Iterable[Threshold | ThresholdResult] = (),
                      series: TimeSeries | None = None, report: Mapping[str, Any] | None = None) -> Path:
    """Write ``render_html`` to ``path`` (parents created); returns the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(result, thresholds=thresholds, series=series, report=report), encoding="utf-8")
    return path


__all__ = ["CSP", "Raw", "page", "render_html", "table", "write_html_report"]
