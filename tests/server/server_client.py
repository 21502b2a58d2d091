"""What server tests import: the in-process client type and small request helpers.

Kept out of ``conftest.py`` so that ``from server_client import ask`` names one module
whatever other test folders' ``conftest`` files are loaded.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx
from server_fakes import make_catalog

from beatdebate_server.recommender import Recommender

CROWD = 200

ServeApp = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


def build_recommender(crowd: int = CROWD) -> Recommender:
    """The real recommender over the test catalog (with ``crowd`` extra artists)."""
    return Recommender(make_catalog(crowd=crowd))


async def live_sessions(client: httpx.AsyncClient) -> int:
    response = await client.get("/health")
    assert response.status_code == 200
    return int(response.json()["sessions"])


async def ask(client: httpx.AsyncClient, query: str, session_id: str | None = None,
              **fields: Any) -> dict[str, Any]:
    """POST /recommendations and return the 200 body (fails the test on any other status)."""
    body: dict[str, Any] = {"query": query, **fields}
    if session_id is not None:
        body["session_id"] = session_id
    headers = {}
    if "request_id" in fields:
        headers["X-Request-ID"] = str(body.pop("request_id"))
    response = await client.post("/recommendations", json=body, headers=headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result
