"""BeatDebate: a session-aware music recommender server (HTTP contract v1).

``create_app(settings)`` builds the FastAPI app; ``Settings`` holds every setting. Both are
imported lazily, so that ``import beatdebate_server.catalog`` (or ``.ids``) stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import create_app as create_app
    from .settings import Settings as Settings

__all__ = ["Settings", "create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from .app import create_app

        return create_app
    if name == "Settings":
        from .settings import Settings

        return Settings
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
