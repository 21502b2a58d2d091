"""Server test fixtures: an app in-process, its lifespan entered, behind an httpx client.

``serve_app(settings, ...)`` is the one way tests talk to the server in-process. The
recommender is the real one over a small test catalog (``server_fakes.make_catalog``);
tests that need the primary to misbehave pass ``StandInRecommender``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from private_redis import PrivateRedis
from server_client import ServeApp, build_recommender

from beatdebate_server.http.app import create_app
from beatdebate_server.recommender import Recommender
from beatdebate_server.settings import Settings


@pytest.fixture(scope="session")
def shared_recommender() -> Recommender:
    # Pure and deterministic, so one instance can serve every test (and indexes build once).
    return build_recommender()


@pytest.fixture
def serve_app(shared_recommender: Any) -> ServeApp:
    @asynccontextmanager
    async def serve(settings: Settings | None = None, *, recommender: Any = None,
                    **kwargs: Any) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(settings or Settings(),
                         recommender=recommender if recommender is not None
                         else shared_recommender, **kwargs)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                client.app = app  # type: ignore[attr-defined]  # for tests that peek at state
                yield client

    return serve


@pytest.fixture
def private_redis(redis_url: str) -> Iterator[PrivateRedis]:
    """A throwaway redis-server of the test's own, for faults that stop or freeze a server:
    the shared one is never touched. Asks for ``redis_url`` so that CI fails, not skips,
    where Redis is not installed."""
    server = PrivateRedis()
    server.start()
    try:
        yield server
    finally:
        server.stop()
