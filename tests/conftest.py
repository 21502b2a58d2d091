"""Fixtures shared by every test module.

Services: in CI (``CI=true``) a test that needs Redis or a browser *fails* when it is
missing; on a developer machine it is skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator

import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
# Redis for the tests: a server, and the databases a run may claim (see ``redis_database``).
REDIS_TEST_SERVER = os.environ.get("BEATDEBATE_TEST_REDIS", "redis://127.0.0.1:6379")
REDIS_TEST_DATABASES = range(15, 7, -1)
CLAIM_SECONDS = 3600  # a crashed run's claim lapses; a whole run takes minutes
CHROMIUM = "/usr/bin/chromium"


def missing_service(reason: str) -> None:
    """Fail in CI, skip elsewhere: CI must never pass by skipping what it was asked to test."""
    if IN_CI:
        pytest.fail(f"required service missing in CI: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def redis_database() -> Iterator[str]:
    """The URL of a Redis database that this test run has to itself.

    Each test flushes its database, so two runs on one machine (two checkouts, say) must
    not share one: a run claims the first free database of 15 down to 8 with a key in
    database 0 and gives it back at the end.
    """
    import redis

    admin = redis.Redis.from_url(f"{REDIS_TEST_SERVER}/0", socket_connect_timeout=1)
    try:
        admin.ping()
    except redis.RedisError as exc:
        missing_service(f"Redis at {REDIS_TEST_SERVER} is not answering ({exc})")
    owner = f"{os.getpid()}-{uuid.uuid4().hex}"
    for database in REDIS_TEST_DATABASES:
        claim = f"beatdebate-tests:claim:{database}"
        if admin.set(claim, owner, nx=True, ex=CLAIM_SECONDS):
            break
    else:
        pytest.fail(f"every test database of {REDIS_TEST_SERVER} ({REDIS_TEST_DATABASES.start}"
                    f" down to {REDIS_TEST_DATABASES.stop + 1}) is claimed by another run",
                    pytrace=False)
    try:
        yield f"{REDIS_TEST_SERVER}/{database}"
    finally:
        if admin.get(claim) == owner.encode():
            admin.delete(claim)
        admin.close()


@pytest.fixture
def redis_url(redis_database: str) -> Iterator[str]:
    """This run's own Redis database, flushed before and after each test."""
    import redis

    client = redis.Redis.from_url(redis_database, socket_connect_timeout=1)
    client.flushdb()
    yield redis_database
    client.flushdb()
    client.close()


@pytest.fixture
def chromium_path() -> str:
    if not shutil.which(CHROMIUM):
        missing_service(f"{CHROMIUM} is not installed (apt-get install chromium)")
    return CHROMIUM
