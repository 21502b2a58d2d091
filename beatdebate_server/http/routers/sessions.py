"""``/sessions``: open a session, read its recorded history, end it (contract, "Sessions").

No route lists sessions: an id is the only key to a session, and only the server mints one.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request, Response, status

from ...ids import SESSION_ID_PATTERN
from ..deps import RequestIdDep, ServiceDep, SettingsDep, StoreDep, ThrottleDep
from ..middleware import SESSION_ID_KEY
from ..schemas import (
    ERROR_RESPONSES,
    LIMITED_RESPONSES,
    ErrorDetail,
    SessionCreated,
    SessionHistory,
)
from ..views import history_view, session_created_view

router = APIRouter(prefix="/sessions", tags=["sessions"])

SessionIdPath = Annotated[str, Path(
    min_length=16, max_length=128, pattern=SESSION_ID_PATTERN,
    description="A session id the server returned: 16–128 characters of [A-Za-z0-9_-].")]
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorDetail, "description": "No such session (unknown, "
                                                         "expired, deleted or evicted)."}}


@router.post("", status_code=status.HTTP_201_CREATED, response_model=SessionCreated,
             responses=LIMITED_RESPONSES, summary="Start a fresh session")
async def create_session(request: Request, service: ServiceDep, settings: SettingsDep,
                         throttle: ThrottleDep, request_id: RequestIdDep) -> dict[str, Any]:
    throttle.admit_new_session(request.scope)  # RateLimited: 429, nothing created
    session = await service.open_session()
    request.scope[SESSION_ID_KEY] = session.session_id
    return session_created_view(session, ttl_seconds=settings.session_ttl)


@router.get("/{session_id}", response_model=SessionHistory,
            responses={**_NOT_FOUND, **ERROR_RESPONSES},
            summary="A session's recorded turns")
async def read_session(session_id: SessionIdPath, request: Request, store: StoreDep,
                       settings: SettingsDep, request_id: RequestIdDep) -> dict[str, Any]:
    request.scope[SESSION_ID_KEY] = session_id
    session = await store.load(session_id)
    if session is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such session (unknown, expired, "
                                                       "deleted or evicted)")
    return history_view(session, ttl_seconds=settings.session_ttl)


@router.delete("/{session_id}", status_code=status.HTTP_204_NO_CONTENT,
               response_class=Response, responses={**_NOT_FOUND, **ERROR_RESPONSES},
               summary="End a session (new chat, page refresh)")
async def delete_session(session_id: SessionIdPath, request: Request, service: ServiceDep,
                         request_id: RequestIdDep) -> Response:
    request.scope[SESSION_ID_KEY] = session_id
    if not await service.delete_session(session_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such session")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
