"""``POST /recommendations``: one turn (contract, "Recommendations").

The hot route takes no dependencies and no header parameter (each costs FastAPI a
resolution step per request): it reads the service from ``app.state`` and the request id
that the middleware settled (and already refused with ``422`` when malformed).
"""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request, Response

from ..ids import hash_id, mint_request_id
from ..middleware import REQUEST_ID_KEY, REQUEST_ID_PARAMETER, SESSION_HASH_KEY
from ..schemas import ERROR_RESPONSES, RecommendationRequest, RecommendationResponse
from ..service import TurnRequest, TurnService

router = APIRouter(tags=["recommendations"])


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
    request.scope[SESSION_HASH_KEY] = hash_id(result["session_id"])
    # Built as plain data and encoded once; ``RecommendationResponse`` documents the shape.
    return Response(orjson.dumps(result), media_type="application/json")
