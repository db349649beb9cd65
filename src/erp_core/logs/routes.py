"""`GET /api/logs/status`: the seed's service health page."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from erp_core.api import Envelope, error_responses, ok
from erp_core.deps import Ctx, Viewer
from erp_core.logs.health import facts, overall, run_checks

router = APIRouter(prefix="/api/logs", tags=["logs"])


class FactOut(BaseModel):
    label: str
    value: str


class CheckOut(BaseModel):
    name: str
    label: str
    status: Literal["ok", "degraded", "down", "not_configured"]
    message: str
    latency_ms: float | None
    details: dict[str, Any]
    facts: list[FactOut] = Field(
        default_factory=list, description="Detalles con etiqueta y valor legible, para mostrar"
    )


class StatusOut(BaseModel):
    overall: Literal["ok", "degraded", "down"]
    checked_at: datetime
    checks: list[CheckOut]


@router.get("/status", response_model=Envelope[StatusOut], responses=error_responses(401))
async def service_status(actor: Viewer, ctx: Ctx) -> object:
    results = await run_checks(ctx)
    checks = [CheckOut(**r.__dict__, facts=facts(r.details)) for r in results]
    return ok(StatusOut(overall=overall(results), checked_at=datetime.now(UTC), checks=checks))
