"""The HTTP routes, one module per resource: sessions, recommendations, health and metrics."""

from __future__ import annotations

from . import health, recommendations, sessions

__all__ = ["health", "recommendations", "sessions"]
