"""``create_app(settings)``: the FastAPI application, and its lifespan.

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
from typing import TYPE_CHECKING

from fastapi import FastAPI

from .defects import make_defect
from .errors import install_error_handlers
from .faults import FaultInjector
from .metrics import Metrics
from .middleware import RequestMiddleware
from .routers import health, recommendations, sessions
from .routers.recommendations import TurnFastPath
from .schemas import MAX_BODY_BYTES
from .service import TurnService
from .settings import DEFECTS, Settings
from .store import open_store
from .store.base import Clock, SessionStore

if TYPE_CHECKING:
    from .recommender import Recommender

log = logging.getLogger("beatdebate.server")

API_VERSION = "1.0.0"


def build_recommender(settings: Settings) -> Recommender:
    """Load the catalog named by the settings and index it (raises ``CatalogError``)."""
    from .catalog.load import load_catalog

    catalog = load_catalog(settings.catalog)
    from .recommender import Recommender

    return Recommender(catalog)


def create_app(settings: Settings, *, store: SessionStore | None = None,
               recommender: Recommender | None = None, clock: Clock | None = None) -> FastAPI:
    """The server for ``settings``. A test may pass its own store, recommender and clock.

    Nothing heavy happens here: the catalog is loaded and the store started when the
    lifespan is entered (uvicorn does that; an in-process test enters
    ``app.router.lifespan_context(app)`` itself).
    """
    clock = clock or time.time
    the_store = store if store is not None else open_store(settings, clock=clock)
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        started = time.perf_counter()
        the_recommender = recommender if recommender is not None else build_recommender(settings)
        await the_store.start()
        app.state.service = TurnService(
            store=the_store, recommender=the_recommender,
            faults=FaultInjector(rate=settings.fault_rate, latency=settings.fault_latency,
                                 seed=settings.fault_seed),
            defect=make_defect(settings.defect), primary_timeout=settings.primary_timeout,
            metrics=metrics, clock=clock)
        if settings.defect is not None:
            log.warning("DELIBERATE DEFECT ENABLED: %s: %s. This server bleeds context on "
                        "purpose; never run it for real users.", settings.defect,
                        DEFECTS[settings.defect], extra={"defect": settings.defect})
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
    # The hot route's router first: FastAPI tries routes in order. The routes go straight
    # onto the app, complete as their routers built them (prefix, tags, responses): an
    # ``include_router`` branch is matched lazily, twice per request, which cost the hot
    # route about 5% of its CPU. (Such routes do not see ``app.dependency_overrides``;
    # nothing here uses them.) They go *before* FastAPI's own docs routes (/openapi.json,
    # /docs, /redoc; no path in common), so that the hot route is the first one tried.
    routers = (recommendations.router, sessions.router, health.router)
    app.router.routes[0:0] = [route for router in routers for route in router.routes]
    install_error_handlers(app, routers)
    if settings.ui:  # the chat page at /ui (docs/ui.md); imports Gradio only here
        from .ui import mount_ui

        mount_ui(app, defect=settings.defect)
    # Added first, so it runs inside ``RequestMiddleware`` (body limit, request id, log).
    app.add_middleware(TurnFastPath)
    app.add_middleware(RequestMiddleware, metrics=metrics, max_body_bytes=MAX_BODY_BYTES)
    return app


def create_app_from_env() -> FastAPI:
    """The uvicorn factory for worker processes: settings from ``BEATDEBATE_*`` variables."""
    from .logs import configure_logging
    from .serve import tune_gc

    settings = Settings()
    configure_logging(level=settings.log_level, fmt=settings.log_format)
    app = create_app(settings, recommender=build_recommender(settings))
    tune_gc()
    return app
