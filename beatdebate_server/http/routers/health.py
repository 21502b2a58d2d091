"""``GET /health`` and ``GET /metrics``: for load balancers and Prometheus."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from ...store.base import StoreUnavailable
from ..deps import MetricsDep, StoreDep
from ..metrics import CONTENT_TYPE
from ..schemas import Health

router = APIRouter(tags=["operations"])


@router.get("/health", response_model=Health,
            responses={503: {"model": Health, "description": "The store is unreachable."}},
            summary="Liveness, the store kind and the live session count")
async def health(store: StoreDep) -> JSONResponse:
    try:
        await store.ping()
        stats = await store.stats()
    except StoreUnavailable as exc:
        return JSONResponse({"status": "unavailable", "store": store.kind,
                             "detail": f"session store unavailable: {exc}"}, status_code=503)
    return JSONResponse({"status": "ok", "store": store.kind, "sessions": stats.live})


@router.get("/metrics", response_class=Response,
            responses={200: {"content": {CONTENT_TYPE.split(";")[0]: {}},
                             "description": "Prometheus text exposition format."}},
            summary="Prometheus metrics")
async def metrics(store: StoreDep, instruments: MetricsDep) -> Response:
    return Response(instruments.render(await store.stats()), media_type=CONTENT_TYPE)
