"""Exception handlers: what a failure looks like on the wire.

- ``StoreUnavailable`` → ``503 {"detail": ...}``. The store raises it before writing, and
  a turn records nothing until its last step, so nothing is half-written. The detail is a
  fixed sentence: the exception's text (which names the Redis host) goes to the log only.
- Validation errors keep FastAPI's standard ``422`` shape (``detail[].loc`` names the field);
  a body FastAPI cannot decode at all (its ``400``) is such a ``422`` too. The body echoes
  the bad input, which may hold a lone surrogate (JSON's ``"\\ud800"``) that UTF-8 cannot
  carry: such a body is written with ASCII escapes instead of failing as a ``500``. It may
  also hold a number JSON cannot write (``NaN``, ``Infinity``, ``1e400``, which Python's
  JSON reader takes): echoed as the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"``
  (issue 16: these were 500s without ``X-Request-ID``).
- ``RateLimited`` → ``429`` with ``Retry-After`` (``throttle.py``).
- ``405`` lists every method of the resource in ``Allow``, not just the first route's.
- Anything else is a bug of ours: logged with its traceback, answered ``500`` with no
  internals in the body. The tests and the schemathesis run hold that no client input
  reaches this.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..limits import RateLimited
from ..store.base import StoreUnavailable
from .middleware import REQUEST_ID_KEY, ClientGone, is_client_gone
from .throttle import rate_limited_response

log = logging.getLogger("beatdebate.server")


class _EchoingJSONResponse(JSONResponse):
    """A JSON body that may echo a client's input: UTF-8 when it can, ASCII escapes when
    the input holds what UTF-8 cannot encode (a lone surrogate)."""

    def render(self, content: Any) -> bytes:
        try:
            return super().render(content)
        except UnicodeEncodeError:
            return json.dumps(content, ensure_ascii=True, allow_nan=False,
                              separators=(",", ":")).encode("ascii")
        except ValueError:  # NaN or an infinity in the echoed input
            return self.render(_finite(content))


def _finite(value: Any) -> Any:
    """``value`` with every non-finite float written as the name JSON readers use for it."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


async def _invalid_request(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # FastAPI's own answer (``request_validation_exception_handler``), safely encoded.
    errors = jsonable_encoder(exc.errors())
    content_type = request.headers.get("content-type")
    if content_type is not None:
        for error in errors:
            if error.get("type") == "model_attributes_type" and error.get("loc") == ["body"]:
                # A body sent as a form (``curl -d`` without a JSON header): FastAPI reads
                # it as bytes and says only that it is not an object.
                error["msg"] = ("The body must be a JSON object sent with Content-Type: "
                                f"application/json; this request's is {content_type!r}")
    return _EchoingJSONResponse({"detail": errors}, status_code=422)


def store_unavailable_response(exc: Exception, request_id: str | None) -> JSONResponse:
    """The ``503`` for a turn the store refused; ``Retry-After``: nothing was recorded."""
    log.error("session store unavailable: %s", exc, extra={"request_id": request_id})
    return JSONResponse({"detail": "the session store is unavailable; nothing was recorded, "
                                   "try again shortly"}, status_code=503,
                        headers={"Retry-After": "1"})


async def _store_unavailable(request: Request, exc: Exception) -> JSONResponse:
    return store_unavailable_response(exc, request.scope.get(REQUEST_ID_KEY))


async def _rate_limited(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RateLimited)
    return rate_limited_response(exc)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error", exc_info=exc,
              extra={"request_id": request.scope.get(REQUEST_ID_KEY)})
    return JSONResponse({"detail": "internal server error"}, status_code=500)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and is_client_gone(exc):
        # FastAPI's 400 for a body it could not read because its client left: nobody to
        # answer, and nothing may be done (``RequestMiddleware`` counts it).
        raise ClientGone from exc
    if exc.status_code == 400 and request.scope.get("route") is not None:
        # FastAPI answers 400 for a body it cannot even decode (not UTF-8, say); the
        # contract wants malformed JSON to be a 422 in the standard shape.
        return JSONResponse({"detail": [{"type": "json_invalid", "loc": ["body"],
                                         "msg": "the body is not valid JSON",
                                         "input": None, "ctx": {"error": str(exc.detail)}}]},
                            status_code=422)
    if exc.status_code == 405:
        # Starlette lists only the first route that matched the path; ``Allow`` must list
        # every method of the resource (GET and DELETE of /sessions/{id}).
        path = request.scope["path"]
        methods = {method for regex, route_methods in request.app.state.route_methods
                   if regex.match(path) for method in route_methods}
        if methods:
            exc.headers = {**(exc.headers or {}), "Allow": ", ".join(sorted(methods))}
    return await http_exception_handler(request, exc)


def install_error_handlers(app: FastAPI, routers: Iterable[APIRouter]) -> None:
    """Map failures to responses; ``routers`` are the app's, for 405's ``Allow`` header."""
    app.state.route_methods = [(route.path_regex, frozenset(route.methods or ()))
                               for router in routers for route in router.routes
                               if isinstance(route, APIRoute)]
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(StoreUnavailable, _store_unavailable)
    app.add_exception_handler(RateLimited, _rate_limited)
    app.add_exception_handler(Exception, _unexpected)
