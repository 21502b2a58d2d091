"""Helpers for the Locust tests: running ``beatdebate locust`` as a subprocess (Locust is
never imported in-process: it monkey-patches the interpreter with gevent), and reading the
reports it writes."""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from loadtest.locustfile.options import add_arguments

REPO = Path(__file__).resolve().parents[2]
RUN_TIMEOUT = 240          # seconds: server start-up, the run, the final verdict, reports
USERS = ["-u", "12", "-r", "12"]


@dataclass
class LocustRun:
    code: int
    output: str
    directory: Path

    @property
    def failures_csv(self) -> Path:
        return self.directory / "run_failures.csv"

    @property
    def html(self) -> Path:
        return self.directory / "report.html"

    def isolation_failures(self) -> set[str]:
        """The ``isolation:<property>`` names in the failures CSV, without the prefix."""
        with self.failures_csv.open(newline="") as handle:
            return {row["Name"].removeprefix("isolation:") for row in csv.DictReader(handle)
                    if row["Name"].startswith("isolation:")}

    def board(self) -> dict[str, Any]:
        return orjson.loads((self.directory / "isolation.json").read_bytes())

    def requests(self) -> set[tuple[str, str]]:
        """The (method, name) rows of the statistics CSV, without the aggregate."""
        with (self.directory / "run_stats.csv").open(newline="") as handle:
            return {(row["Type"], row["Name"]) for row in csv.DictReader(handle) if row["Name"] != "Aggregated"}


def command(*args: str) -> list[str]:
    """``beatdebate locust ARGS`` as a user runs it: the installed command beside this interpreter."""
    return [str(Path(sys.executable).with_name("beatdebate")), "locust", *args]


def run_headless(directory: Path, *args: str, run_time: str = "8s",
                 users: Sequence[str] = USERS) -> LocustRun:
    """``beatdebate locust --headless`` with CSV, HTML and isolation JSON reports in ``directory``."""
    argv = command(*args, "--headless", *users, "-t", run_time, "--only-summary",
                   "--csv", str(directory / "run"), "--html", str(directory / "report.html"),
                   "--isolation-json", str(directory / "isolation.json"))
    done = subprocess.run(argv, cwd=directory, capture_output=True, text=True, timeout=RUN_TIMEOUT,
                          env={**os.environ, "PYTHONUNBUFFERED": "1"})
    return LocustRun(done.returncode, done.stdout + done.stderr, directory)


class _Parser(argparse.ArgumentParser):
    """argparse without Locust's ``include_in_web_ui`` keyword."""

    def add_argument(self, *args: Any, include_in_web_ui: bool = False, **kwargs: Any) -> Any:
        return super().add_argument(*args, **kwargs)


def options(*argv: str) -> argparse.Namespace:
    """The locustfile's own options (``loadtest.locustfile.options``) parsed from ``argv``, as
    Locust's parser gives them, without Locust."""
    parser = _Parser()
    add_arguments(parser)
    return parser.parse_args(argv)
