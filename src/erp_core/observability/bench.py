"""A baseline route for benchmarks (only with ERP_CORE_BENCH_BASELINE=true).

`GET /api/bench/baseline?of=dashboard` answers, behind the same authentication and middleware
as the real route, the bytes the dashboard cache held at the first call — from memory. Comparing
the two isolates what the real route costs beyond the framework itself.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Response

from erp_core.api import NotFound
from erp_core.dashboard.cache_hooks import DASHBOARD_ALL
from erp_core.deps import Ctx, Session, Viewer

router = APIRouter(prefix="/api/bench", tags=["bench"], include_in_schema=False)
_BYTES: dict[str, bytes] = {}


@router.get("/baseline")
async def baseline(
    actor: Viewer, ctx: Ctx, session: Session, of: Literal["dashboard", "tiny"] = "dashboard"
) -> Response:
    body = _BYTES.get(of)
    if body is None:
        if of == "tiny":
            body = b'{"success":true,"data":{},"meta":{}}'
        else:
            body = await ctx.cache.get(DASHBOARD_ALL)
            if body is None:
                raise NotFound("Lea /api/dashboard/all antes de pedir la línea base.")
        _BYTES[of] = body
    return Response(body, media_type="application/json", headers={"X-Cache": "baseline"})
