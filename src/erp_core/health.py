"""`GET /api/health`: cheap liveness for load balancers (one round trip to PostgreSQL)."""

from __future__ import annotations

import asyncio
import time

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy import text

from erp_core import __version__
from erp_core.api import Envelope, ServiceUnavailable, error_responses, ok
from erp_core.deps import get_ctx

router = APIRouter(prefix="/api", tags=["health"])


class HealthOut(BaseModel):
    status: str
    version: str
    database: str
    database_latency_ms: float
    lab: bool


@router.get("/health", response_model=Envelope[HealthOut], responses=error_responses(503))
async def health(request: Request) -> object:
    ctx = get_ctx(request)
    started = time.perf_counter()
    try:
        async with asyncio.timeout(2.0), ctx.db.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:
        raise ServiceUnavailable(
            "La base de datos no responde.", code="DATABASE_UNAVAILABLE"
        ) from exc
    latency = round((time.perf_counter() - started) * 1000, 2)
    return ok(
        HealthOut(
            status="ok",
            version=__version__,
            database="ok",
            database_latency_ms=latency,
            lab=ctx.lab_mode,
        )
    )
