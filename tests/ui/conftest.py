"""Fixtures of the chat page's tests: a catalog, real ``beatdebate serve --ui`` processes
(clean, and with ``--defect ui-global-session``), and where screenshots go."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:   # the checkout's packages, not a same-named test folder
    sys.path.insert(0, str(ROOT))
HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from loadtest.embedded import embedded_server  # noqa: E402
from ui_catalog import write_ui_catalog  # noqa: E402

ARTIFACTS = ROOT / "test-artifacts" / "ui"


@pytest.fixture(scope="session")
def ui_catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_ui_catalog(tmp_path_factory.mktemp("ui-catalog") / "catalog.jsonl")


@pytest.fixture(scope="session")
def ui_server(ui_catalog: Path) -> Iterator[str]:
    """A clean ``beatdebate serve --ui``; yields its base URL."""
    with embedded_server(extra_args=["--ui", "--catalog", str(ui_catalog)]) as url:
        yield url


@pytest.fixture(scope="session")
def shipped_ui_server() -> Iterator[str]:
    """``beatdebate serve --ui`` on the shipped catalog, as a user starts it."""
    with embedded_server(extra_args=["--ui"]) as url:
        yield url


@pytest.fixture(scope="session")
def defective_ui_server(ui_catalog: Path) -> Iterator[str]:
    """``beatdebate serve --ui --defect ui-global-session``: one id for every tab."""
    with embedded_server(extra_args=["--ui", "--catalog", str(ui_catalog)],
                         defect="ui-global-session") as url:
        yield url


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
