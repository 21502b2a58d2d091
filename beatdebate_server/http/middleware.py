"""The ASGI layer around every request: body limit, request id, latency, request log.

A pure ASGI middleware (no ``BaseHTTPMiddleware``: it would cost a task per request):

- *body limit*: a declared ``Content-Length`` over the limit is refused with ``413`` before
  reading; otherwise the body is read here, counting bytes as they stream (a chunked body
  declares no length), refused past the limit, and replayed to the app.
- *abandoned body*: a client that goes away before its body arrived whole gets nothing
  done: ``read_body`` raises ``ClientGone`` rather than hand on what arrived, which may
  look like a whole request (issue 16). Such a request is counted with status ``499``
  (nginx's "client closed request"): nobody is left to answer.
- *request id*: a well-formed ``X-Request-ID`` is kept, an absent one minted; either is
  echoed in the response header and left in the scope for the route. A malformed one on
  a contract route is answered ``422`` here, in FastAPI's standard shape.
- *request log* and *metrics*: one line per request with the route template (never the
  raw path, which may hold a session id), status, duration, request id and the hashed
  session. A request answered before routing (413, a malformed id's 422) is labelled
  with the route its path matches (``route_template``). It is
  written at ``debug`` (``--log-level debug``): at the default ``info`` a line per request
  cost the hot route about a tenth of its CPU, and the latency histogram in ``/metrics``
  already counts every request by route. Session lifecycle events (created, expired,
  evicted, deleted) and failures stay at ``info`` and above.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson
from fastapi.routing import APIRoute
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..ids import REQUEST_ID_PATTERN, hash_id, is_well_formed_request_id, mint_request_id
from .metrics import Metrics

log = logging.getLogger("beatdebate.request")

REQUEST_ID_KEY = "beatdebate.request_id"
# The session a route served, raw: hashed (``hash_id``) only when the request line is
# written, since most requests are not logged; the raw id never reaches a log.
SESSION_ID_KEY = "beatdebate.session_id"
_BODYLESS = frozenset({"GET", "HEAD", "OPTIONS"})
CLIENT_GONE = 499  # the status a request is counted with when its client left mid-body
# Where ``X-Request-ID`` is part of the contract (and documented): a malformed one is a 422.
_REQUEST_ID_PATHS = ("/recommendations", "/sessions")

# The header as OpenAPI documents it, for routes that take it.
REQUEST_ID_PARAMETER: dict[str, Any] = {
    "name": "X-Request-ID", "in": "header", "required": False,
    "description": "Echoed in the response header and body and recorded with the turn; "
                   "made up when absent. Malformed: 422.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 128,
               "pattern": REQUEST_ID_PATTERN, "title": "X-Request-ID"}}


class ClientGone(Exception):
    """The client went away before its request body arrived whole: act on none of it."""


class RequestMiddleware:
    def __init__(self, app: ASGIApp, *, metrics: Metrics, max_body_bytes: int) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        declared_length: int | None = None
        request_id: str | None = None
        malformed = False
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                candidate = value.decode("latin-1")
                if is_well_formed_request_id(candidate):
                    request_id = candidate
                else:
                    malformed = True  # the route's header validation answers 422
            elif name == b"content-length":
                try:
                    declared_length = int(value)
                except ValueError:
                    declared_length = None
        if request_id is None and not malformed:
            request_id = mint_request_id()
        scope[REQUEST_ID_KEY] = request_id
        if malformed and scope["path"].startswith(_REQUEST_ID_PATHS):
            await self._bad_request_id(scope, send)
            self._record(scope, 422, time.perf_counter() - started, None)
            return
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                if request_id is not None:
                    headers = list(message.get("headers", ()))
                    headers.append((b"x-request-id", request_id.encode("latin-1")))
                    message = {**message, "headers": headers}
            await send(message)

        try:
            if scope["method"] in _BODYLESS:
                await self.app(scope, receive, send_with_id)
            elif declared_length is not None:
                # The server stops a body at its declared length, so the declaration is
                # all there is to check; only a chunked body must be counted.
                if declared_length > self.max_body_bytes:
                    await self._too_large(send_with_id)
                else:
                    await self.app(scope, receive, send_with_id)
            else:
                body = await read_body(receive, limit=self.max_body_bytes)
                if body is None:
                    await self._too_large(send_with_id)
                else:
                    await self.app(scope, replay(body, receive), send_with_id)
        except ClientGone:
            status = CLIENT_GONE  # raised here, by the fast path, or for the route (errors.py)
        finally:
            self._record(scope, status, time.perf_counter() - started, request_id)

    async def _bad_request_id(self, scope: Scope, send: Send) -> None:
        # Checked here rather than as a FastAPI header parameter, which cost the hot route
        # more than a tenth of its time; the answer has FastAPI's standard 422 shape.
        value = next(v for n, v in scope["headers"] if n == b"x-request-id")
        body = orjson.dumps({"detail": [{
            "type": "string_pattern_mismatch", "loc": ["header", "X-Request-ID"],
            "msg": f"String should match pattern '{REQUEST_ID_PATTERN}'",
            "input": value.decode("latin-1"), "ctx": {"pattern": REQUEST_ID_PATTERN}}]})
        await send({"type": "http.response.start", "status": 422,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    async def _too_large(self, send: Send) -> None:
        body = orjson.dumps({"detail": f"request body is over {self.max_body_bytes} bytes "
                                       f"({self.max_body_bytes // 1024} KiB)"})
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})

    def _record(self, scope: Scope, status: int, seconds: float,
                request_id: str | None) -> None:
        route = scope.get("route")
        template = getattr(route, "path", None) or route_template(scope)
        self.metrics.observe_request(scope["method"], template, status, seconds)
        if log.isEnabledFor(logging.DEBUG):
            extra: dict[str, Any] = {"method": scope["method"], "route": template,
                                     "status": status, "duration_ms": round(seconds * 1000, 3),
                                     "request_id": request_id}
            session_id = scope.get(SESSION_ID_KEY)
            if session_id is not None:
                extra["session"] = hash_id(session_id)
            # ``makeRecord`` + ``handle`` is ``log.debug`` without the caller-frame lookup,
            # the costliest part of a log call, on a line that is written per request.
            log.handle(log.makeRecord(log.name, logging.DEBUG, __file__, 0, "request", (),
                                      None, extra=extra))


def route_template(scope: Scope) -> str:
    """The path template of the app's route that ``scope``'s path matches, for a request
    answered before routing; ``unmatched`` when none does (never the raw path)."""
    app = scope.get("app")
    path = scope.get("path", "")
    for route in getattr(getattr(app, "router", None), "routes", ()):
        if isinstance(route, APIRoute) and route.path_regex.match(path):
            return route.path
    return "unmatched"


def is_client_gone(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) says the client left before its body arrived."""
    return isinstance(exc, ClientGone | ClientDisconnect) or isinstance(
        exc.__cause__, ClientGone | ClientDisconnect)


async def read_body(receive: Receive, *, limit: int | None = None) -> bytes | None:
    """The whole request body, or None as soon as it passes ``limit``. Raises
    ``ClientGone`` if the client goes away before the body arrived whole."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # http.disconnect: the client went away
            raise ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if limit is not None and size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def replay(body: bytes, receive: Receive) -> Receive:
    """``receive`` for an app downstream of a layer that has read the body already."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
