"""Invalidate cached read models (the dashboard) when what they show changes.

Call `invalidate_dashboard` after a write that changes tenants, subscriptions or nodes; the
next read recomputes, so a write is visible at once despite the cache TTL.
"""

from __future__ import annotations

from erp_core.context import AppContext

DASHBOARD_ALL = "dashboard:all"
DASHBOARD_METRICS = "dashboard:metrics"
DASHBOARD_KEYS = (DASHBOARD_ALL, DASHBOARD_METRICS)


async def invalidate_dashboard(ctx: AppContext) -> None:
    await ctx.cache.delete(*DASHBOARD_KEYS)


tenants_changed = invalidate_dashboard
