"""``beatdebate compare``: the same report exits 0, new violations 1, a breached relative
threshold 3, anything unreadable 2; version 1 reports are read too."""

from __future__ import annotations

import subprocess
import sys
from io import StringIO
from pathlib import Path
from typing import Any

import orjson
import pytest
from report_runs import run_result
from rich.console import Console
from typer.testing import CliRunner

from cli import app
from loadtest.errors import UsageError
from loadtest.outcome import ExitCode
from loadtest.report.compare import compare, parse_relative_threshold, render_compare_html, run_compare
from loadtest.report.json_report import write_json_report
from loadtest.result import RunResult

BEATDEBATE = Path(sys.executable).with_name("beatdebate")


def _write(tmp_path: Path, name: str, result: RunResult) -> Path:
    path = tmp_path / f"{name}.json"
    write_json_report(result, path)
    return path


def _run(base: Path, new: Path, *thresholds: str, html: Path | None = None) -> tuple[ExitCode, str]:
    out = StringIO()
    code = run_compare(base, new, thresholds=thresholds, html_path=html, console=Console(file=out, width=140))
    return code, out.getvalue()


@pytest.fixture
def clean(tmp_path: Path) -> Path:
    return _write(tmp_path, "clean", run_result(bleeding=False))


def test_a_report_against_itself_exits_0_and_every_change_is_nil(clean: Path) -> None:
    code, text = _run(clean, clean, "p99<+10%", "errors<+0.5pp", "rps>-5%", "coverage>=-1pp")
    assert code == ExitCode.OK, text
    comparison = compare(clean, clean)
    assert comparison.changes and all(c.relative in (0.0, None) for c in comparison.changes)
    assert "no new violation, every threshold held" in text


def test_new_violations_exit_1_and_are_named(tmp_path: Path, clean: Path) -> None:
    bled = _write(tmp_path, "bled", run_result(bleeding=True))
    code, text = _run(clean, bled, "p99<+10%")
    assert code == ExitCode.ISOLATION
    assert "NEW VIOLATIONS: foreign-anchor" in text
    assert compare(clean, bled).new_violations == ("foreign-anchor",)
    # Violations BASE had already are not new: the same bleeding run against itself passes.
    assert _run(bled, bled)[0] == ExitCode.OK
    # Fixed is not worse.
    assert _run(bled, clean)[0] == ExitCode.OK


def test_a_slower_run_breaches_a_relative_latency_threshold_with_exit_3(tmp_path: Path, clean: Path) -> None:
    slower = _write(tmp_path, "slower", run_result(bleeding=False, slower=1.5))
    code, text = _run(clean, slower, "p99<+10%")
    assert code == ExitCode.THRESHOLD, text
    assert "threshold p99<+10%: BREACHED" in text and "+50." in text
    assert _run(clean, slower, "p99<+60%")[0] == ExitCode.OK
    assert _run(clean, slower, "follow_up.p90<+20ms")[0] == ExitCode.OK       # +10 ms at most
    assert _run(clean, slower, "follow_up.max<+5ms")[0] == ExitCode.THRESHOLD  # 30 ms -> 45 ms
    assert _run(slower, clean, "p99<+10%")[0] == ExitCode.OK                  # faster is fine


def test_error_rate_thresholds_are_in_percentage_points(tmp_path: Path, clean: Path) -> None:
    failing = _write(tmp_path, "failing", run_result(bleeding=False, errors=1))   # 1 of 6 requests: +16.7pp
    assert _run(clean, failing, "errors<+0.5pp")[0] == ExitCode.THRESHOLD
    assert _run(clean, failing, "errors<+20pp")[0] == ExitCode.OK
    assert _run(clean, failing, "coverage>=-20pp")[0] == ExitCode.THRESHOLD     # 100% -> 75%
    assert _run(clean, failing, "coverage>=-30pp")[0] == ExitCode.OK
    code, text = _run(clean, failing, "errors<+0.5pp")
    assert "+16.67pp" in text


def test_an_unmeasurable_change_breaches(tmp_path: Path, clean: Path) -> None:
    # history_read: neither run has one, so the change cannot be measured and must not pass.
    assert _run(clean, clean, "history_read.p99<+10%")[0] == ExitCode.THRESHOLD


def _version_1(path: Path, tmp_path: Path) -> Path:
    data: dict[str, Any] = orjson.loads(path.read_bytes())
    data["version"] = 1
    del data["time_series"]
    for anomaly in data["anomalies"]:
        del anomaly["witness"]
    old = tmp_path / "v1.json"
    old.write_bytes(orjson.dumps(data))
    return old


def test_a_version_1_report_is_read(tmp_path: Path, clean: Path) -> None:
    old = _version_1(clean, tmp_path)
    slower = _write(tmp_path, "slower", run_result(bleeding=False, slower=1.5))
    assert _run(old, clean, "p99<+10%")[0] == ExitCode.OK
    assert _run(old, slower, "p99<+10%")[0] == ExitCode.THRESHOLD
    page = render_compare_html(compare(old, slower))
    assert 'id="change-table"' in page and 'id="chart-throughput"' in page   # NEW's series alone


def test_the_side_by_side_page(tmp_path: Path, clean: Path) -> None:
    bled = _write(tmp_path, "bled", run_result(bleeding=True, slower=1.5))
    code, _ = _run(clean, bled, "p99<+10%", html=tmp_path / "out" / "cmp.html")
    page = (tmp_path / "out" / "cmp.html").read_text()
    assert code == ExitCode.ISOLATION
    assert "exit 1: new violations: foreign-anchor" in page
    assert page.count('data-series="base"') == page.count('data-series="new"') >= 3   # throughput, errors, p99 per kind
    assert 'class="breached"' in page and "<script" not in page


@pytest.mark.parametrize(("text", "why"), [
    ("p95<+10%", "not p95"),
    ("rps<+1pp", "percentage points"),
    ("follow_up.errors<+1%", "not per request kind"),
    ("errors<+5ms", "only latencies"),
    ("p99<10", "not an expression"),
    ("p99==+10%", "not an expression"),
    ("nosuch.p99<+10%", "unknown request kind"),
    ("avg<+10%", "not avg"),
])
def test_bad_thresholds_are_usage_errors(text: str, why: str) -> None:
    with pytest.raises(UsageError, match=why):
        parse_relative_threshold(text)


def test_thresholds_parse_to_their_units() -> None:
    assert parse_relative_threshold("follow_up.p90<+20ms").limit == pytest.approx(0.020)
    assert parse_relative_threshold("rps>-5%").limit == -5
    assert parse_relative_threshold("med<=+3%").metric == "p50"
    assert parse_relative_threshold("errors<+0.5pp").unit == "pp"


def test_unreadable_reports_exit_2_and_say_why(tmp_path: Path, clean: Path) -> None:
    (tmp_path / "not.json").write_text("nope")
    (tmp_path / "other.json").write_text('{"schema": "something-else"}')
    future = orjson.loads(clean.read_bytes()) | {"version": 99}
    (tmp_path / "future.json").write_bytes(orjson.dumps(future))
    runner = CliRunner()
    for name, why in (("missing.json", "cannot read"), ("not.json", "is not JSON"),
                      ("other.json", "is not a beatdebate-report"), ("future.json", "version 99")):
        outcome = runner.invoke(app, ["compare", str(tmp_path / name), str(clean)])
        assert outcome.exit_code == 2, (name, outcome.output)
        assert why in outcome.output
    outcome = runner.invoke(app, ["compare", str(clean), str(clean), "--threshold", "p99<10"])
    assert outcome.exit_code == 2 and "bad threshold 'p99<10'" in outcome.output


def test_the_installed_command_exits_by_the_table(tmp_path: Path, clean: Path) -> None:
    slower = _write(tmp_path, "slower", run_result(bleeding=False, slower=1.5))
    bled = _write(tmp_path, "bled", run_result(bleeding=True))
    codes = {}
    for new, extra in ((clean, []), (slower, ["--threshold", "p99<+10%"]), (bled, [])):
        done = subprocess.run([str(BEATDEBATE), "compare", str(clean), str(new), *extra], capture_output=True,
                              text=True, check=False, timeout=60)
        codes[new.stem] = done.returncode
    assert codes == {"clean": 0, "slower": 3, "bled": 1}


def test_a_new_run_that_checked_nothing_is_never_no_worse(tmp_path: Path, clean: Path) -> None:
    data = orjson.loads(clean.read_bytes())
    data["verdict"]["outcome"] = "unknown"
    hollow = tmp_path / "hollow.json"
    hollow.write_bytes(orjson.dumps(data))
    code, text = _run(clean, hollow)
    assert code == ExitCode.ISOLATION and "NEW checked nothing" in text and "no new violation" not in text
    assert _run(hollow, clean)[0] == ExitCode.OK


@pytest.mark.slow
def test_real_runs_a_clean_one_then_a_bleeding_one(tmp_path: Path) -> None:
    """Two short runs of the embedded server, the second with a defect: compare says exit 1."""
    reports = {}
    for name, extra in (("clean", []), ("defect", ["--defect", "shared-session"])):
        reports[name] = tmp_path / f"{name}.json"
        done = subprocess.run([str(BEATDEBATE), "simulate", "--users", "10", "--duration", "3s", "--seed", "7",
                               "--quiet", "--json", str(reports[name]), *extra],
                              capture_output=True, text=True, check=False, timeout=120)
        assert done.returncode == (0 if name == "clean" else 1), done.stdout + done.stderr
    worse = subprocess.run([str(BEATDEBATE), "compare", str(reports["clean"]), str(reports["defect"])],
                           capture_output=True, text=True, check=False, timeout=60)
    assert worse.returncode == 1 and "NEW VIOLATIONS" in worse.stdout, worse.stdout + worse.stderr
    same = subprocess.run([str(BEATDEBATE), "compare", str(reports["clean"]), str(reports["clean"]),
                           "--threshold", "p99<+1%", "--threshold", "errors<+0.1pp"],
                          capture_output=True, text=True, check=False, timeout=60)
    assert same.returncode == 0, same.stdout + same.stderr
