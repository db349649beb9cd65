"""The seed's dashboard endpoints, cached (Redis or in-process) and invalidated on writes."""

from __future__ import annotations

from fastapi import APIRouter, Response

from erp_core.api import Envelope, error_responses
from erp_core.dashboard import service
from erp_core.dashboard.cache_hooks import DASHBOARD_ALL, DASHBOARD_METRICS
from erp_core.dashboard.schemas import DashboardAll, DashboardMetricsOut
from erp_core.deps import Ctx, Session, Viewer

router = APIRouter(prefix="/api/dashboard", tags=["dashboard"])


async def _cached(ctx: Ctx, session: Session, key: str, *, full: bool) -> Response:
    body = await ctx.cache.get(key)
    hit = body is not None
    if body is None:
        data = await service.build(session, ctx, full=full)
        meta = {"configured": service.configured(ctx)}
        # Through the response model: ISO dates, and bytes that always match the OpenAPI schema.
        if full:
            body = (
                Envelope[DashboardAll](data=DashboardAll.model_validate(data), meta=meta)
                .model_dump_json()
                .encode()
            )
        else:
            metrics = DashboardMetricsOut.model_validate(
                data["metrics"] | {"generated_at": data["generated_at"]}
            )
            body = Envelope[DashboardMetricsOut](data=metrics, meta=meta).model_dump_json().encode()
        await ctx.cache.set(key, body, ctx.settings.erp_core_cache_ttl_seconds)
    return Response(
        body, media_type="application/json", headers={"X-Cache": "hit" if hit else "miss"}
    )


@router.get(
    "/metrics", response_model=Envelope[DashboardMetricsOut], responses=error_responses(401)
)
async def dashboard_metrics(actor: Viewer, ctx: Ctx, session: Session) -> Response:
    return await _cached(ctx, session, DASHBOARD_METRICS, full=False)


@router.get("/all", response_model=Envelope[DashboardAll], responses=error_responses(401))
async def dashboard_all(actor: Viewer, ctx: Ctx, session: Session) -> Response:
    return await _cached(ctx, session, DASHBOARD_ALL, full=True)
