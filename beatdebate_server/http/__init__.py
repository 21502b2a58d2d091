"""The HTTP layer: the FastAPI app over the service (contract v1).

- ``app.py``: ``create_app(settings)``, where the server is composed (and its lifespan);
- ``routers/``: one module per resource; ``routers/recommendations.py`` also holds
  ``TurnFastPath``, the pure ASGI door that answers well-formed turns before routing;
- ``middleware.py`` (body limit, abandoned bodies, request id, request log), ``errors.py``
  (failures on the wire), ``deps.py`` (how a route reaches ``app.state``), ``schemas.py``
  (the contract's bodies as pydantic models), ``views.py`` (records to contract JSON),
  ``metrics.py`` (Prometheus, per app), ``throttle.py`` (per-client rate limits, ``429``);
- ``protocol.py``: below the app, the connection itself (uvicorn's protocol with deadlines
  for a request's head and body and a cap on its head's size), which ``serve`` runs.

It imports the service, the stores and the domain below it; nothing below imports it.
"""

from .app import create_app as create_app

__all__ = ["create_app"]
