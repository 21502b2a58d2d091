"""Fixtures of the Locust tests.

pytest's prepend import mode puts ``tests/`` on ``sys.path``, where ``tests/loadtest/``
(no ``__init__``) would become a namespace package hiding the real ``loadtest``: put the
checkout first, as ``tests/loadtest/conftest.py`` does (``pythonpath = ["."]`` in the pytest
settings would make both unnecessary).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
if getattr(sys.modules.get("loadtest"), "__file__", "") is None:   # a namespace import came first
    for name in [n for n in sys.modules if n == "loadtest" or n.startswith("loadtest.")]:
        del sys.modules[name]


@pytest.fixture
def artifacts() -> Path:
    """Where a test leaves files worth keeping (screenshots): ``test-artifacts/locust``."""
    path = Path(os.environ.get("TEST_ARTIFACTS", REPO / "test-artifacts")) / "locust"
    path.mkdir(parents=True, exist_ok=True)
    return path
