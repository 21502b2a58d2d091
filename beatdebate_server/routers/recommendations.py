"""``POST /recommendations``: one turn (contract, "Recommendations").

The hot route takes no dependencies and no header parameter (each costs FastAPI a
resolution step per request): it reads the service from ``app.state`` and the request id
that the middleware settled (and already refused with ``422`` when malformed).
"""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request, Response

from ..ids import mint_request_id
from ..middleware import REQUEST_ID_KEY, REQUEST_ID_PARAMETER, SESSION_ID_KEY
from ..schemas import ERROR_RESPONSES, RecommendationRequest, RecommendationResponse
from ..service import TurnRequest, TurnService

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


@router.post("/recommendations", response_model=RecommendationResponse,
             responses=ERROR_RESPONSES,
             openapi_extra={"parameters": [REQUEST_ID_PARAMETER]},
             summary="Recommend tracks, recorded as the next turn of a session")
async def recommend(body: RecommendationRequest, request: Request) -> Response:
    """Answer ``query`` in the context of the session's own earlier turns.

    Without ``session_id`` (or with one the server does not hold) a new session is started
    under a server-minted id, and ``session_created`` is true.
    """
    service: TurnService = request.app.state.service
    request_id = request.scope.get(REQUEST_ID_KEY) or mint_request_id()
    result = await service.take_turn(TurnRequest(
        query=body.query, session_id=body.session_id, limit=body.max_recommendations,
        include_previews=body.include_previews, request_id=request_id))
    # For the request log line; hashed only if that line is written (at debug).
    request.scope[SESSION_ID_KEY] = result["session_id"]
    # Built as plain data and encoded once; ``RecommendationResponse`` documents the shape.
    return _EncodedAnswer(orjson.dumps(result))
