"""``GET /health`` and ``GET /metrics``: for load balancers and Prometheus.

Neither says where the store is or why it failed: anyone may call them, and a Redis
URL names a host, a port, a database and perhaps a password (issue 16). The log has the
reason. ``/metrics`` answers while the store is down, with ``beatdebate_store_up 0`` and
the store's last counts: a scrape that fails tells an operator less than one that says so.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from ...store.base import StoreUnavailable
from ..deps import MetricsDep, StoreDep
from ..metrics import CONTENT_TYPE
from ..schemas import Health

log = logging.getLogger("beatdebate.server")

router = APIRouter(tags=["operations"])


@router.get("/health", response_model=Health,
            responses={503: {"model": Health, "description": "The store is unreachable."}},
            summary="Liveness, the store kind and the live session count")
async def health(store: StoreDep) -> JSONResponse:
    try:
        await store.ping()
        stats = await store.stats()
    except StoreUnavailable as exc:
        log.warning("health: session store unavailable: %s", exc)
        return JSONResponse({"status": "unavailable", "store": store.kind,
                             "detail": "session store unavailable"}, status_code=503)
    return JSONResponse({"status": "ok", "store": store.kind, "sessions": stats.live})


@router.get("/metrics", response_class=Response,
            responses={200: {"content": {CONTENT_TYPE.split(";")[0]: {}},
                             "description": "Prometheus text exposition format."}},
            summary="Prometheus metrics")
async def metrics(store: StoreDep, instruments: MetricsDep) -> Response:
    try:
        stats = await store.stats()
    except StoreUnavailable as exc:
        log.warning("metrics: session store unavailable: %s", exc)
        stats = None
    return Response(instruments.render(stats), media_type=CONTENT_TYPE)
