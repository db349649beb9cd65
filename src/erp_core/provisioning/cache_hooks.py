"""Invalidate cached read models (the dashboard) when tenants change."""

from __future__ import annotations

from erp_core.context import AppContext

DASHBOARD_KEYS = ("dashboard:all", "dashboard:metrics")


async def tenants_changed(ctx: AppContext) -> None:
    await ctx.cache.delete(*DASHBOARD_KEYS)
