"""Fixtures of the Locust tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from beatdebate_locust import REPO


@pytest.fixture
def artifacts() -> Path:
    """Where a test leaves files worth keeping (screenshots): ``test-artifacts/locust``."""
    path = Path(os.environ.get("TEST_ARTIFACTS", REPO / "test-artifacts")) / "locust"
    path.mkdir(parents=True, exist_ok=True)
    return path
