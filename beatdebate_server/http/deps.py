"""FastAPI dependencies: how a route reaches the app's settings, store, service and metrics.

Dependencies are ``async def`` on purpose: FastAPI runs a plain ``def`` dependency in a
worker thread, a hop that cost more than the whole turn. Everything lives on
``app.state`` (set by ``create_app`` and its lifespan); nothing is a module global, so
two apps in one process (tests) never share a session or a counter.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from ..ids import REQUEST_ID_PATTERN, mint_request_id
from ..service.turn import SessionService
from ..settings import Settings
from ..store.base import SessionStore
from .metrics import Metrics
from .middleware import REQUEST_ID_KEY
from .throttle import Throttle


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_store(request: Request) -> SessionStore:
    store: SessionStore = request.app.state.store
    return store


async def get_service(request: Request) -> SessionService:
    service: SessionService = request.app.state.service
    return service


async def get_metrics(request: Request) -> Metrics:
    metrics: Metrics = request.app.state.metrics
    return metrics


async def get_throttle(request: Request) -> Throttle:
    throttle: Throttle = request.app.state.throttle
    return throttle


# The optional ``X-Request-ID`` header: validated (a malformed one is a 422) and documented.
RequestIdHeader = Annotated[str | None, Header(
    alias="X-Request-ID", min_length=1, max_length=128, pattern=REQUEST_ID_PATTERN,
    description="Echoed in the response header and body and recorded with the turn; "
                "made up when absent.")]


async def get_request_id(request: Request, x_request_id: RequestIdHeader = None) -> str:
    """The request's id: the header's value, or the one the middleware made up."""
    request_id = request.scope.get(REQUEST_ID_KEY)
    if isinstance(request_id, str):
        return request_id
    return x_request_id or mint_request_id()


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[SessionStore, Depends(get_store)]
ServiceDep = Annotated[SessionService, Depends(get_service)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
ThrottleDep = Annotated[Throttle, Depends(get_throttle)]
RequestIdDep = Annotated[str, Depends(get_request_id)]
