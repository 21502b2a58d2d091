"""Fixtures shared by every test module.

Services: in CI (``CI=true``) a test that needs Redis or a browser *fails* when it is
missing; on a developer machine it is skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
REDIS_TEST_URL = os.environ.get("BEATDEBATE_TEST_REDIS", "redis://127.0.0.1:6379/15")
CHROMIUM = "/usr/bin/chromium"


def missing_service(reason: str) -> None:
    """Fail in CI, skip elsewhere: CI must never pass by skipping what it was asked to test."""
    if IN_CI:
        pytest.fail(f"required service missing in CI: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A dedicated Redis database, flushed before and after each test."""
    import redis

    client = redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError as exc:
        missing_service(f"Redis at {REDIS_TEST_URL} is not answering ({exc})")
    client.flushdb()
    yield REDIS_TEST_URL
    client.flushdb()
    client.close()


@pytest.fixture
def chromium_path() -> str:
    if not shutil.which(CHROMIUM):
        missing_service(f"{CHROMIUM} is not installed (apt-get install chromium)")
    return CHROMIUM
