"""BeatDebate: a session-aware music recommender server (HTTP contract v1).

``create_app(settings)`` builds the FastAPI app; ``Settings`` holds every setting;
``python -m beatdebate_server`` runs it. Both names are imported lazily, so that
``import beatdebate_server.catalog`` (or ``.ids``) stays light.

Layers, each importing only the ones before it:

1. ``ids``, ``logs``, ``redaction``, ``limits``, ``settings`` (with ``defects/catalog.py``):
   infrastructure and configuration, importing only each other;
2. the domain core: ``catalog/``, ``session.py`` (Session, Turn) and ``recommender/`` (pure);
3. ``store/``: the ``SessionStore`` seam, memory and Redis;
4. ``service/``: the turn (``TurnService``), answering with fallback, injected faults;
5. ``defects/``: deliberate defects as wrappers around 3 and 4, composed by the app;
6. ``http/`` (the FastAPI app, routes, middleware, the turn fast path) and ``ui/`` (the
   chat page it mounts);
7. the launcher: ``serve.py`` and ``__main__.py``, which nothing imports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .http.app import create_app as create_app
    from .settings import Settings as Settings

__all__ = ["Settings", "create_app"]


def __getattr__(name: str) -> Any:
    # Lazily: the app pulls in FastAPI, and ``import beatdebate_server.catalog`` should not.
    if name == "create_app":
        from .http.app import create_app

        return create_app
    if name == "Settings":
        from .settings import Settings

        return Settings
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
