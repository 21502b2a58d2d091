"""The launcher: check the settings, then run uvicorn (``beatdebate serve``, ``python -m
beatdebate_server``).

Nothing in the package imports this module: it sits on top of every layer. Exit codes
(``ServeRefused.exit_code``, defined in ``settings.py`` so that the chat page can refine
it): 2 for settings that cannot be served (several workers with the memory store, an
unreachable Redis, an unreadable catalog, ``--ui`` without Gradio). With one worker the app
object is built here, around a recommender built once; with several (a Redis store only)
uvicorn starts ``create_app_from_env`` in each worker, and the settings travel as
``BEATDEBATE_*`` environment variables.

Every connection goes through ``http/protocol.py``'s ``GuardedProtocol`` (deadlines for a
request's head and body, a cap on its head's size) and uvicorn's ``limit_concurrency``
(``--max-connections``): what a slow or greedy client may hold (docs/security.md).
"""

from __future__ import annotations

import asyncio
import gc
import os
from collections.abc import Mapping
from typing import Any

import uvicorn
from fastapi import FastAPI
from pydantic import ValidationError

from .catalog.load import CatalogError
from .http.app import build_recommender, create_app
from .http.protocol import WORKER_PROTOCOL, connection_limits, guarded_protocol
from .logs import configure_logging, uvicorn_log_config
from .recommender import Recommender
from .settings import ServeRefused, Settings, workers_refusal
from .store import open_store
from .store.base import StoreUnavailable
from .ui import require_gradio

FACTORY = f"{__name__}:create_app_from_env"

__all__ = ["ServeRefused", "check_settings", "create_app_from_env", "serve", "tune_gc",
           "uvicorn_options"]


def check_settings(settings: Settings) -> Recommender:
    """Refuse what cannot work, and build the recommender (which checks the catalog)."""
    refusal = workers_refusal(settings)
    if refusal is not None:
        raise ServeRefused(refusal)
    if settings.store_kind == "redis":
        asyncio.run(_reach_store(settings))
    if settings.ui:  # before listening: is the optional extra 'ui' (Gradio) installed?
        require_gradio()
    catalog = settings.catalog or "(the shipped catalog)"
    try:
        return build_recommender(settings)
    except CatalogError as exc:
        raise ServeRefused(f"cannot load the catalog: {exc}") from exc
    except OSError as exc:
        raise ServeRefused(f"cannot read the catalog {catalog}: {exc}") from exc


async def _reach_store(settings: Settings) -> None:
    """Fail before listening, in one line, when the shared store cannot be reached."""
    store = open_store(settings)
    try:
        await store.start()
        await store.ping()
    except StoreUnavailable as exc:
        # The store's own message names its URL with any password masked; never repeat the raw URL.
        raise ServeRefused(f"cannot reach the session store: {exc}") from exc
    finally:
        await store.close()


def tune_gc() -> None:
    """GC settings for a server process, called once the catalog is loaded.

    The catalog and indexes live as long as the process: ``freeze`` keeps them out of
    the cyclic GC's full collections (a synthetic catalog has a million tracks). Sessions
    are long-lived too, and every request allocates a few hundred objects, so young
    collections run every 10,000 allocations rather than 700.
    """
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


def create_app_from_env() -> FastAPI:
    """The uvicorn factory for worker processes: settings from ``BEATDEBATE_*`` variables."""
    settings = Settings()
    configure_logging(level=settings.log_level, fmt=settings.log_format)
    app = create_app(settings, recommender=build_recommender(settings))
    tune_gc()
    return app


def settings_from_options(given: Mapping[str, Any]) -> Settings:
    """``Settings`` from command-line options (field name -> value; absent: the variable or
    the default). Raises ``ServeRefused`` naming each bad option as its flag (``--port``)."""
    try:
        return Settings(**given)
    except ValidationError as exc:
        raise ServeRefused("; ".join(f"--{'-'.join(map(str, e['loc'])).replace('_', '-')}: {e['msg']}"
                                     for e in exc.errors())) from None


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """``uvicorn.run``'s keyword arguments for ``settings``, the app aside."""
    # One worker runs in this process: its protocol class carries the limits. Worker
    # processes import theirs by name, and read the limits from BEATDEBATE_* variables.
    protocol: type[asyncio.Protocol] | str = (
        guarded_protocol(connection_limits(settings)) if settings.workers == 1
        else WORKER_PROTOCOL)
    return {"host": settings.host, "port": settings.port, "access_log": False,
            "log_config": uvicorn_log_config(level=settings.log_level,
                                             fmt=settings.log_format),
            "log_level": settings.log_level, "timeout_graceful_shutdown": 10,
            "http": protocol, "limit_concurrency": settings.max_connections,
            "backlog": settings.backlog, "timeout_keep_alive": settings.keep_alive}


def serve(settings: Settings) -> None:
    """Run the server until SIGTERM/SIGINT (uvicorn's graceful shutdown; the lifespan
    closes the store). Raises ``ServeRefused`` before listening for bad settings."""
    recommender = check_settings(settings)
    configure_logging(level=settings.log_level, fmt=settings.log_format)
    tune_gc()
    common = uvicorn_options(settings)
    if settings.workers == 1:
        app = create_app(settings, recommender=recommender)
        uvicorn.run(app, **common)
        return
    del recommender  # each worker builds its own from the same settings
    for key in [k for k in os.environ if k.startswith("BEATDEBATE_")]:
        del os.environ[key]
    os.environ.update(settings.to_env())
    uvicorn.run(FACTORY, factory=True, workers=settings.workers, **common)
