"""``POST /recommendations``: one turn (contract, "Recommendations").

The hot route: it takes no sub-dependencies (each costs FastAPI a resolution step per
request); it reads the service from ``app.state`` and the request id the middleware
settled, and declares ``X-Request-ID`` itself so that a malformed one is a ``422``.
"""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request, Response

from ..deps import RequestIdHeader
from ..ids import hash_id, mint_request_id
from ..middleware import REQUEST_ID_KEY, SESSION_HASH_KEY
from ..schemas import ERROR_RESPONSES, RecommendationRequest, RecommendationResponse
from ..service import TurnRequest, TurnService

router = APIRouter(tags=["recommendations"])


@router.post("/recommendations", response_model=RecommendationResponse,
             responses=ERROR_RESPONSES,
             summary="Recommend tracks, recorded as the next turn of a session")
async def recommend(body: RecommendationRequest, request: Request,
                    x_request_id: RequestIdHeader = None) -> Response:
    """Answer ``query`` in the context of the session's own earlier turns.

    Without ``session_id`` (or with one the server does not hold) a new session is started
    under a server-minted id, and ``session_created`` is true.
    """
    service: TurnService = request.app.state.service
    request_id = request.scope.get(REQUEST_ID_KEY) or x_request_id or mint_request_id()
    result = await service.take_turn(TurnRequest(
        query=body.query, session_id=body.session_id, limit=body.max_recommendations,
        include_previews=body.include_previews, request_id=request_id))
    request.scope[SESSION_HASH_KEY] = hash_id(result["session_id"])
    # Built as plain data and encoded once; ``RecommendationResponse`` documents the shape.
    return Response(orjson.dumps(result), media_type="application/json")
