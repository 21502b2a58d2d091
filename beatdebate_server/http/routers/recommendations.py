"""``POST /recommendations``: one turn (contract, "Recommendations").

Two doors lead to the same turn:

- ``recommend``, the FastAPI route: it documents the contract in ``/openapi.json`` and
  answers every request the fast path passes on, with FastAPI's standard errors.
- ``TurnFastPath``, a pure ASGI layer in front of the router. FastAPI's per-request
  machinery (routing, dependency solving, ``Request`` objects, JSON decoding through the
  standard library, field-by-field body validation) cost about as much CPU as the whole
  turn. The fast path takes only a request it is sure of: ``POST /recommendations`` with a
  JSON body (no content type, or ``application/json``) that the same
  ``RecommendationRequest`` model validates, straight from the bytes. Anything else (a
  malformed body, another content type, a body that fails validation) goes on to the route
  unchanged, so every error keeps the route's status and shape.
"""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute
from pydantic import ValidationError
from starlette.types import ASGIApp, Receive, Scope, Send

from ...ids import mint_request_id
from ...limits import RateLimited
from ...service.turn import SessionService, TurnRequest
from ...store.base import StoreUnavailable
from ..errors import store_unavailable_response
from ..middleware import REQUEST_ID_KEY, REQUEST_ID_PARAMETER, SESSION_ID_KEY, read_body, replay
from ..schemas import LIMITED_RESPONSES, RecommendationRequest, RecommendationResponse
from ..throttle import Throttle, rate_limited_response
from ..views import turn_answer_view

PATH = "/recommendations"

router = APIRouter(tags=["recommendations"])


class _EncodedAnswer(Response):
    """A 200 with a body already encoded as JSON.

    What ``Response(body, media_type="application/json")`` sends, byte for byte, without
    its general header logic (a caller's headers, charsets, bodyless statuses).
    """

    media_type = "application/json"

    def __init__(self, body: bytes) -> None:
        self.status_code = 200
        self.background = None
        self.body = body
        self.raw_headers = [(b"content-length", str(len(body)).encode("latin-1")),
                            (b"content-type", b"application/json")]


async def _take_turn(service: SessionService, body: RecommendationRequest,
                     scope: Scope) -> _EncodedAnswer:
    """The turn both doors take: answered, recorded, encoded once. Raises ``RateLimited``
    past the client's turn rate, or new-session rate for a turn that starts a session."""
    request_id = scope.get(REQUEST_ID_KEY) or mint_request_id()
    throttle: Throttle = scope["app"].state.throttle
    client = throttle.admit_turn(scope)
    outcome = await service.take_turn(TurnRequest(
        query=body.query, session_id=body.session_id, limit=body.max_recommendations,
        request_id=request_id, client=client))
    # For the request log line; hashed only if that line is written (at debug).
    scope[SESSION_ID_KEY] = outcome.session_id
    # Built as plain data and encoded once; ``RecommendationResponse`` documents the shape.
    return _EncodedAnswer(orjson.dumps(turn_answer_view(
        outcome, include_previews=body.include_previews)))


@router.post(PATH, response_model=RecommendationResponse,
             responses=LIMITED_RESPONSES,
             openapi_extra={"parameters": [REQUEST_ID_PARAMETER]},
             summary="Recommend tracks, recorded as the next turn of a session")
async def recommend(body: RecommendationRequest, request: Request) -> Response:
    """Answer ``query`` in the context of the session's own earlier turns.

    Without ``session_id`` (or with one the server does not hold) a new session is started
    under a server-minted id, and ``session_created`` is true.
    """
    return await _take_turn(request.app.state.service, body, request.scope)


class TurnFastPath:
    """Answers well-formed ``POST /recommendations`` before FastAPI's routing (see above).

    It sits inside ``RequestMiddleware``, which has already refused an oversized body and
    a malformed ``X-Request-ID`` and settled the request id.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._route: APIRoute | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != PATH
                or not _is_json(scope)):
            await self.app(scope, receive, send)
            return
        # No limit here: ``RequestMiddleware`` has refused a body over it already. A client
        # gone before its body arrived whole raises ``ClientGone``: no turn (issue 16).
        body = await read_body(receive)
        assert body is not None
        try:
            parsed = RecommendationRequest.model_validate_json(body)
        except ValidationError:
            # The route answers it, with FastAPI's 422 and its exact ``loc``s.
            await self.app(scope, replay(body, receive), send)
            return
        # The route's object, for the request log and metrics (its path template).
        scope["route"] = self._route or self._find_route(scope)
        try:
            response: Response = await _take_turn(scope["app"].state.service, parsed, scope)
        except StoreUnavailable as exc:
            # What the app's handler answers: the turn recorded nothing, so a retry is safe.
            response = store_unavailable_response(exc, scope.get(REQUEST_ID_KEY))
        except RateLimited as exc:
            response = rate_limited_response(exc)
        await response(scope, receive, send)

    def _find_route(self, scope: Scope) -> APIRoute:
        self._route = next(route for route in scope["app"].router.routes
                           if isinstance(route, APIRoute) and route.path == PATH)
        return self._route


def _is_json(scope: Scope) -> bool:
    """No content type, or ``application/json`` (any parameters): what FastAPI decodes as
    JSON; the ``+json`` types and anything unusual are left to the route."""
    for name, value in scope["headers"]:
        if name == b"content-type":
            return value.split(b";", 1)[0].strip().lower() == b"application/json"
    return True
