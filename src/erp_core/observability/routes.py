"""`GET /metrics` in Prometheus text format: bearer ERP_CORE_METRICS_TOKEN when set,
otherwise loopback callers only."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from erp_core.api import Forbidden, Unauthorized
from erp_core.deps import Ctx
from erp_core.observability.metrics import REGISTRY

router = APIRouter(tags=["observability"])
LOOPBACK = ("127.", "::1")


@router.get(
    "/metrics",
    include_in_schema=True,
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}}},
)
async def metrics(request: Request, ctx: Ctx) -> Response:
    token = ctx.settings.erp_core_metrics_token
    if token:
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.encode()):
            raise Unauthorized("Se requiere el token de métricas.")
    else:
        host = request.client.host if request.client else ""
        if not host.startswith(LOOPBACK):
            raise Forbidden(
                "Las métricas solo se sirven a la máquina local (defina ERP_CORE_METRICS_TOKEN)."
            )
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
