"""``create_app(settings)``: the FastAPI application, and its lifespan.

This is where the server is composed: the store the settings name, the recommender, the
turn service, the routes and middleware, and (only with ``--defect``) the defect's
wrappers around the store, the answering step or the service (``defects/wrappers.py``).
The lifespan does the heavy work once per process: load the catalog, build the
``Recommender`` (its indexes), start the session store and its sweeper; at shutdown
(SIGTERM/SIGINT via uvicorn) it closes the store. Everything the routes need hangs off
``app.state``; nothing here is a module global, and importing this module is cheap.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from ..catalog.load import load_catalog
from ..defects.catalog import DEFECTS
from ..defects.wrappers import wrappers_for
from ..recommender import Recommender
from ..service.answers import Answers
from ..service.faults import FaultInjector
from ..service.turn import TurnService
from ..session import Clock
from ..settings import Settings
from ..store import open_store
from ..store.base import SessionStore
from ..ui import mount_ui
from .errors import install_error_handlers
from .metrics import Metrics
from .middleware import RequestMiddleware
from .routers import health, recommendations, sessions
from .routers.recommendations import TurnFastPath
from .schemas import MAX_BODY_BYTES
from .throttle import Throttle

log = logging.getLogger("beatdebate.server")

API_VERSION = "1.0.0"


def build_recommender(settings: Settings) -> Recommender:
    """Load the catalog named by the settings and index it (raises ``CatalogError``)."""
    return Recommender(load_catalog(settings.catalog))


def create_app(settings: Settings, *, store: SessionStore | None = None,
               recommender: Recommender | None = None, clock: Clock | None = None) -> FastAPI:
    """The server for ``settings``. A test may pass its own store, recommender and clock.

    Nothing heavy happens here: the catalog is loaded and the store started when the
    lifespan is entered (uvicorn does that; an in-process test enters
    ``app.router.lifespan_context(app)`` itself).
    """
    clock = clock or time.time
    # The defect's wrappers, if any: applied here, once; with no defect they are identities.
    defect = wrappers_for(settings.defect)
    the_store = defect.wrap_store(store if store is not None
                                  else open_store(settings, clock=clock))
    metrics = Metrics()
    throttle = Throttle(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        started = time.perf_counter()
        the_recommender = recommender if recommender is not None else build_recommender(settings)
        await the_store.start()
        answers = defect.wrap_answers(Answers(
            the_recommender, primary_timeout=settings.primary_timeout,
            faults=FaultInjector(rate=settings.fault_rate, latency=settings.fault_latency,
                                 seed=settings.fault_seed)))
        app.state.service = defect.wrap_service(
            TurnService(store=the_store, recommender=the_recommender, answers=answers,
                        metrics=metrics, clock=clock,
                        admit_session=throttle.admit_session), the_store)
        if settings.defect is not None:
            log.warning("DELIBERATE DEFECT ENABLED: %s: %s. This server bleeds context on "
                        "purpose; never run it for real users.", settings.defect,
                        DEFECTS[settings.defect].description, extra={"defect": settings.defect})
        log.info("server ready", extra={"store": the_store.kind,
                                        "startup_ms": round((time.perf_counter() - started)
                                                            * 1000, 1)})
        try:
            yield
        finally:
            await the_store.close()
            log.info("server stopped; session store closed", extra={"store": the_store.kind})

    app = FastAPI(
        title="BeatDebate",
        version=API_VERSION,
        summary="A session-aware music recommender (HTTP contract v1).",
        description="Sessions are minted by the server; every follow-up is resolved "
                    "against the session's own earlier turns.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.store = the_store
    app.state.metrics = metrics
    app.state.throttle = throttle
    # The hot route's router first: FastAPI tries routes in order. The routes go straight
    # onto the app, complete as their routers built them (prefix, tags, responses): an
    # ``include_router`` branch is matched lazily, twice per request, which cost the hot
    # route about 5% of its CPU. (Such routes do not see ``app.dependency_overrides``;
    # nothing here uses them.) They go *before* FastAPI's own docs routes (/openapi.json,
    # /docs, /redoc; no path in common), so that the hot route is the first one tried.
    routers = (recommendations.router, sessions.router, health.router)
    app.router.routes[0:0] = [route for router in routers for route in router.routes]
    install_error_handlers(app, routers)
    if settings.ui:  # the chat page at /ui (docs/ui.md); imports Gradio only then
        mount_ui(app, defect=settings.defect, client_header=settings.client_header)
    # Added first, so it runs inside ``RequestMiddleware`` (body limit, request id, log).
    app.add_middleware(TurnFastPath)
    app.add_middleware(RequestMiddleware, metrics=metrics, max_body_bytes=MAX_BODY_BYTES)
    return app
