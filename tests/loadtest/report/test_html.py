"""The HTML report: self-contained, every chart present, marks linking to witnesses, nothing of
the target's inserted as markup; ``conclude`` and ``beatdebate check --html`` write it."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from io import StringIO
from pathlib import Path

import orjson
from report_runs import HOSTILE, run_result
from rich.console import Console
from typer.testing import CliRunner

from cli import app
from loadtest.history import FaultWindow, write_history
from loadtest.report.conclusion import conclude
from loadtest.report.html import CSP, render_html
from loadtest.thresholds import evaluate, parse_threshold


class _Page(HTMLParser):
    """What a browser would build: element tags, ids, links, and every attribute."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += attrs
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(values["id"] or "")
        if tag == "a" and values.get("href"):
            self.links.append(values["href"] or "")


def _parse(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    return page


def test_the_page_has_every_chart_and_each_violation_mark_links_to_its_witness() -> None:
    text = render_html(run_result(), thresholds=[parse_threshold("p99<1s")])
    page = _parse(text)
    assert {"chart-throughput", "chart-users", "chart-latency-first_query", "chart-latency-follow_up",
            "chart-violations", "verdict", "coverage", "properties", "thresholds", "scenarios",
            "witnesses"} <= page.ids
    assert "witness-foreign-anchor-1" in page.ids
    marks = re.findall(r'<a class="mark" href="#([^"]+)"', text)
    assert marks == ["witness-foreign-anchor-1"]
    assert set(marks) <= page.ids
    assert "FAIL: bleeding 1, loss 0" in text
    assert "curl -sS -i -X POST http://127.0.0.1:8765/recommendations" in text.replace("&#x27;", "'")


def test_nothing_is_fetched_and_nothing_from_the_target_becomes_markup() -> None:
    text = render_html(run_result())
    page = _parse(text)
    assert "script" not in page.tags and "img" not in page.tags and "link" not in page.tags
    assert not [name for name, _ in page.attributes if name.startswith("on")]
    assert f'content="{CSP}"' in text and "default-src 'none'" in CSP
    assert not re.search(r'(src|href)="(https?:)?//', text)    # the SVG namespace is an xmlns, not a fetch
    assert HOSTILE not in text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in text   # shown, as text


def test_fault_windows_are_shaded_on_the_charts() -> None:
    window = FaultWindow("pause-worker", 1.0, 2.5, "worker 4242 stopped")
    text = render_html(run_result(faults=(window,)))
    charts = re.findall(r'<svg id="(chart-[^"]+)".*?</svg>', text)
    shaded = re.findall(r'<svg id="(chart-[^"]+)"(?:(?!</svg>).)*class="fault"', text)
    assert shaded == charts and len(charts) >= 4
    assert "pause-worker: worker 4242 stopped" in text


def test_a_clean_run_says_no_violation_and_draws_no_timeline() -> None:
    page = _parse(render_html(run_result(bleeding=False)))
    assert "no-violations" in page.ids and "chart-violations" not in page.ids
    assert not [link for link in page.links if link.startswith("#witness-")]


def test_conclude_writes_the_html_beside_the_json_from_one_time_series(tmp_path: Path) -> None:
    result = run_result()
    code = conclude(result, console=Console(file=StringIO()), quiet=True,
                    thresholds=evaluate([parse_threshold("p99<1us")], result),
                    json_path=tmp_path / "r.json", html_path=tmp_path / "r" / "r.html")
    assert int(code) == 1
    html = (tmp_path / "r" / "r.html").read_text()
    data = orjson.loads((tmp_path / "r.json").read_bytes())
    assert data["time_series"]["violations"][0]["witness"] in _parse(html).ids
    assert 'class="breached"' in html    # the threshold that failed is shown as breached


def test_check_writes_the_html_of_a_recorded_history(tmp_path: Path) -> None:
    history, out = tmp_path / "run.jsonl", tmp_path / "check.html"
    write_history(history, run_result().ops)
    outcome = CliRunner().invoke(app, ["check", str(history), "--quiet", "--html", str(out)])
    assert outcome.exit_code == 1, outcome.output     # the checker finds the foreign anchor again
    page = _parse(out.read_text())
    assert {"chart-throughput", "chart-users", "chart-violations", "verdict", "witness-foreign-anchor-1"} <= page.ids


def test_gate_writes_the_html_even_when_the_target_never_answered(tmp_path: Path) -> None:
    out = tmp_path / "gate.html"
    invoked = CliRunner().invoke(app, ["gate", "--target", "http://127.0.0.1:9", "--quiet", "--json",
                                       str(tmp_path / "gate.json"), "--junit", str(tmp_path / "gate.xml"),
                                       "--html", str(out)])
    assert invoked.exit_code == 4, invoked.output
    text = out.read_text()
    assert "harness error: target unreachable" in text and "no request was recorded" in text
    assert str(out) in invoked.output     # named beside the other reports
