"""Reports of a run: the live dashboard, the end-of-run summary, the JSON report (with the run
over time, ``timeseries``), JUnit XML, the HTML page, and ``conclude``, which ends a run with
them and comes to its exit code. ``compare`` reads two JSON reports and says what changed.

All of them read a property's status and the verdict from ``loadtest.report.status``, so that
they cannot disagree.
"""

from loadtest.report.conclusion import conclude as conclude
from loadtest.report.dashboard import Dashboard as Dashboard
from loadtest.report.html import render_html as render_html
from loadtest.report.html import write_html_report as write_html_report
from loadtest.report.json_report import REPORT_SCHEMA as REPORT_SCHEMA
from loadtest.report.json_report import REPORT_VERSION as REPORT_VERSION
from loadtest.report.json_report import build_json_report as build_json_report
from loadtest.report.json_report import write_json_report as write_json_report
from loadtest.report.junit import build_junit as build_junit
from loadtest.report.junit import write_junit as write_junit
from loadtest.report.status import PropertyStatus as PropertyStatus
from loadtest.report.status import property_statuses as property_statuses
from loadtest.report.status import verdict_line as verdict_line
from loadtest.report.summary import render_summary as render_summary
from loadtest.report.timeseries import TimeSeries as TimeSeries
from loadtest.report.timeseries import run_time_series as run_time_series
from loadtest.report.timeseries import time_series as time_series

__all__ = [
    "REPORT_SCHEMA",
    "REPORT_VERSION",
    "Dashboard",
    "PropertyStatus",
    "TimeSeries",
    "build_json_report",
    "build_junit",
    "conclude",
    "property_statuses",
    "render_html",
    "render_summary",
    "run_time_series",
    "time_series",
    "verdict_line",
    "write_html_report",
    "write_json_report",
    "write_junit",
]
