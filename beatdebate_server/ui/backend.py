"""The chat page's calls to the backend: the app's own contract routes, in process.

Why the routes and not ``TurnService`` directly: the page is a client of contract v1, as
the original front end was, so everything a client gets (body validation and ``422``s,
``X-Request-ID`` handling, ``503`` for an unreachable store, metrics, the request log with
hashed ids) applies to it too, with no second code path to drift from the API. Why
``httpx.ASGITransport(app)`` and not a socket: no port or host to know (it works behind
any ``--host``/``--port`` and in each worker process), and the call is a coroutine on the
server's own event loop, so a slow turn never blocks other tabs.

A fresh ``AsyncClient`` per call: a shared client would carry one cookie jar for every
tab, which is exactly the kind of shared conversation state this page must not have.
Creating one over an ``ASGITransport`` (``trust_env=False``: no proxy transports) is cheap.

*Origin*: each call says who the page's event came from (the browser's address, and the
value of the server's ``--client-header`` if one is set), so that the backend's per-client
rate limits count each browser apart rather than the whole page as one client.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

_BASE_URL = "http://beatdebate.ui"


@dataclass(frozen=True, slots=True)
class Origin:
    """Who a page event came from, as the backend's rate limits key clients."""

    host: str
    forwarded: str | None = None  # the browser request's ``--client-header`` value, if any


@dataclass(frozen=True, slots=True)
class BackendAnswer:
    status: int
    body: Any  # parsed JSON, or None (a 204, or a body that is not JSON)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def envelope(self) -> dict[str, Any]:
        """The raw answer as the page's JSON output shows it (``docs/ui.md``)."""
        return {"status": self.status, "body": self.body}


class Backend:
    """The four contract calls over ``ASGITransport(app)``. Holds the app, nothing else."""

    def __init__(self, app: Any, *, client_header: str | None = None) -> None:
        self._app = app
        self._client_header = client_header
        self._transport = httpx.ASGITransport(app=app)

    async def _send(self, method: str, path: str, *, request_id: str | None,
                    origin: Origin | None, body: Mapping[str, Any] | None = None
                    ) -> BackendAnswer:
        headers = {"X-Request-ID": request_id} if request_id else {}
        transport = self._transport
        if origin is not None:
            transport = httpx.ASGITransport(app=self._app, client=(origin.host, 0))
            if self._client_header and origin.forwarded:
                headers[self._client_header] = origin.forwarded
        async with httpx.AsyncClient(transport=transport, base_url=_BASE_URL,
                                     trust_env=False, timeout=None) as client:
            response = await client.request(method, path, json=body, headers=headers)
        try:
            parsed = orjson.loads(response.content) if response.content else None
        except orjson.JSONDecodeError:
            parsed = None
        return BackendAnswer(response.status_code, parsed)

    async def recommend(self, query: str, *, session_id: str | None, limit: int,
                        request_id: str | None, origin: Origin | None = None) -> BackendAnswer:
        body: dict[str, Any] = {"query": query, "max_recommendations": limit,
                                "include_previews": True}
        if session_id is not None:
            body["session_id"] = session_id
        return await self._send("POST", "/recommendations", request_id=request_id,
                                origin=origin, body=body)

    async def create_session(self, *, request_id: str | None,
                             origin: Origin | None = None) -> BackendAnswer:
        return await self._send("POST", "/sessions", request_id=request_id, origin=origin)

    async def read_session(self, session_id: str, *, request_id: str | None,
                           origin: Origin | None = None) -> BackendAnswer:
        return await self._send("GET", f"/sessions/{session_id}", request_id=request_id,
                                origin=origin)

    async def delete_session(self, session_id: str, *, request_id: str | None,
                             origin: Origin | None = None) -> BackendAnswer:
        return await self._send("DELETE", f"/sessions/{session_id}", request_id=request_id,
                                origin=origin)


__all__ = ["Backend", "BackendAnswer", "Origin"]
