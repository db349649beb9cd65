"""Dashboard read model: every figure comes from one round of SQL queries (a constant number,
whatever the number of tenants, nodes or servers), never from per-row Python loops.

Sources that are not configured (no Stripe, no Proxmox) contribute empty sections and are
named in `configured`, so the UI can say what is missing instead of showing zeros.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from erp_core.billing import metrics as billing_metrics
from erp_core.context import AppContext

TENANT_SERIES_SQL = text("""
WITH months AS (
  SELECT generate_series(
    date_trunc('month', now() AT TIME ZONE 'UTC') - interval '11 months',
    date_trunc('month', now() AT TIME ZONE 'UTC'),
    interval '1 month') AS m
), points AS (
  SELECT m, LEAST((m + interval '1 month') AT TIME ZONE 'UTC', now()) AS t FROM months
)
SELECT to_char(p.m, 'YYYY-MM') AS month, s.status, count(s.tenant_id) AS n
FROM points p
LEFT JOIN LATERAL (
  SELECT DISTINCT ON (c.tenant_id) c.tenant_id, c.status
  FROM tenant_status_changes c
  WHERE c.at < p.t
  ORDER BY c.tenant_id, c.at DESC, c.id DESC
) s ON true
GROUP BY 1, 2
ORDER BY 1
""")

COUNTS_SQL = text("""
SELECT
  count(*) FILTER (WHERE created_at >= date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')
    AS new_this_month,
  count(*) FILTER (
    WHERE created_at >= (date_trunc('month', now() AT TIME ZONE 'UTC') - interval '1 month') AT TIME ZONE 'UTC'
      AND created_at < date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC') AS new_last_month
FROM tenants
""")

JOBS_SQL = text("""
SELECT
  count(*) FILTER (WHERE status = 'running') AS running,
  count(*) FILTER (WHERE status = 'queued') AS queued,
  count(*) FILTER (WHERE status = 'failed' AND finished_at >= now() - interval '24 hours') AS failed_24h
FROM jobs
WHERE status IN ('running', 'queued') OR finished_at >= now() - interval '24 hours'
""")

NODES_SQL = text("""
SELECT n.id, n.hostname, n.status, n.cpu_total, n.ram_total, n.disk_total,
       m.cpu, m.ram, m.disk, m.timestamp
FROM proxmox_nodes n
LEFT JOIN LATERAL (
  SELECT r.cpu, r.ram, r.disk, r.timestamp FROM resource_metrics r
  WHERE r.node_id = n.id ORDER BY r.timestamp DESC LIMIT 1
) m ON true
WHERE n.status <> 'vanished'
ORDER BY n.hostname
""")

SERVERS_SQL = text("""
SELECT s.id, s.name, s.state, s.mode, s.capacity, s.is_default, count(t.id) AS tenants
FROM odoo_servers s
LEFT JOIN tenants t ON t.odoo_server_id = s.id AND t.status NOT IN ('deleted', 'failed')
GROUP BY s.id ORDER BY s.id
""")

RECENT_TENANTS_SQL = text("""
SELECT t.id, t.subdomain, t.company_name, t.plan, t.status, t.created_at, c.email
FROM tenants t JOIN customers c ON c.id = t.customer_id
WHERE t.status <> 'deleted'
ORDER BY t.created_at DESC, t.id DESC LIMIT 10
""")

FAILED_JOBS_SQL = text("""
SELECT j.id, j.tenant_id, t.subdomain, j.kind, j.error, j.finished_at
FROM jobs j LEFT JOIN tenants t ON t.id = j.tenant_id
WHERE j.status = 'failed'
  -- a failure a later run of the same operation fixed (a retry) is no longer news
  AND NOT EXISTS (
    SELECT 1 FROM jobs r
    WHERE r.tenant_id IS NOT DISTINCT FROM j.tenant_id AND r.id > j.id
      AND r.status = 'succeeded'
      AND regexp_replace(r.kind, '_dedicated$', '') = regexp_replace(j.kind, '_dedicated$', '')
  )
ORDER BY j.finished_at DESC NULLS LAST, j.id DESC LIMIT 10
""")

DRIFT_SQL = text("""
SELECT count(*) FILTER (WHERE source <> 'usage') AS open_findings,
       count(DISTINCT tenant_id) FILTER (WHERE source = 'usage') AS tenants_over_limit
FROM reconciliation_findings
WHERE resolved_at IS NULL
""")

SUBSCRIPTIONS_SQL = text("""
SELECT coalesce(sum(mrr) FILTER (WHERE status IN ('active', 'past_due')), 0) AS mrr,
       count(*) AS subscriptions
FROM subscriptions
""")


def _group_counts(rows: Any) -> dict[str, int]:
    return {str(key): int(n) for key, n in rows}


async def _billing_section(session: AsyncSession, ctx: AppContext) -> dict[str, Any]:
    """MRR figures from billing's metrics when that room is present, else current MRR only."""
    summary = getattr(billing_metrics, "dashboard_summary", None)
    if summary is not None:
        result: dict[str, Any] = await summary(session, ctx)
        return result
    row = (await session.execute(SUBSCRIPTIONS_SQL)).one()
    mrr = int(Decimal(row.mrr).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return {
        "currency": ctx.settings.billing_currency,
        "mrr": mrr,
        "arr": mrr * 12,
        "mrr_change": None,
        "customer_churn_rate": None,
        "mrr_series": [],
    }


async def build(session: AsyncSession, ctx: AppContext, *, full: bool) -> dict[str, Any]:
    by_status = _group_counts(
        await session.execute(text("SELECT status, count(*) FROM tenants GROUP BY status"))
    )
    by_plan = _group_counts(
        await session.execute(
            text("SELECT plan, count(*) FROM tenants WHERE status <> 'deleted' GROUP BY plan")
        )
    )
    counts = (await session.execute(COUNTS_SQL)).one()
    jobs = (await session.execute(JOBS_SQL)).one()
    nodes_rows = (await session.execute(NODES_SQL)).all()
    drift = (await session.execute(DRIFT_SQL)).one()
    billing = await _billing_section(session, ctx)

    nodes = [
        {
            "id": r.id,
            "hostname": r.hostname,
            "status": r.status,
            "cpu_total": r.cpu_total,
            "cpu_usage": r.cpu,
            "ram_used": r.ram,
            "ram_total": r.ram_total,
            "disk_used": r.disk,
            "disk_total": r.disk_total,
            "sampled_at": r.timestamp,
        }
        for r in nodes_rows
    ]
    sampled = [n for n in nodes if n["sampled_at"] is not None]
    cluster = None
    if sampled:
        cluster = {
            "cpu_used": round(sum((n["cpu_usage"] or 0) * n["cpu_total"] for n in sampled), 3),
            "cpu_total": sum(n["cpu_total"] for n in sampled),
            "ram_used": sum(n["ram_used"] or 0 for n in sampled),
            "ram_total": sum(n["ram_total"] for n in sampled),
            "disk_used": sum(n["disk_used"] or 0 for n in sampled),
            "disk_total": sum(n["disk_total"] for n in sampled),
        }
    metrics = {
        "tenants_by_status": by_status,
        "tenants_by_plan": by_plan,
        "tenants_total": sum(v for k, v in by_status.items() if k != "deleted"),
        "new_tenants_this_month": counts.new_this_month,
        "new_tenants_last_month": counts.new_last_month,
        "currency": billing["currency"],
        "mrr": billing["mrr"],
        "mrr_change": billing["mrr_change"],
        "arr": billing["arr"],
        "customer_churn_rate": billing["customer_churn_rate"],
        "cluster": cluster,
        "jobs": {"running": jobs.running, "queued": jobs.queued, "failed_24h": jobs.failed_24h},
        "drift": {
            "open_findings": drift.open_findings,
            "tenants_over_limit": drift.tenants_over_limit,
        },
    }
    data: dict[str, Any] = {"metrics": metrics}
    if full:
        series: dict[str, dict[str, int]] = {}
        for row in await session.execute(TENANT_SERIES_SQL):
            bucket = series.setdefault(row.month, {})
            if row.status is not None:
                bucket[row.status] = int(row.n)
        data.update(
            recent_tenants=[dict(r._mapping) for r in await session.execute(RECENT_TENANTS_SQL)],
            nodes=nodes,
            odoo_servers=[
                {**dict(r._mapping), "free": max(r.capacity - r.tenants, 0)}
                for r in await session.execute(SERVERS_SQL)
            ],
            mrr_series=billing["mrr_series"],
            tenant_series=[{"month": m, "counts": c} for m, c in sorted(series.items())],
            failed_jobs=[dict(r._mapping) for r in await session.execute(FAILED_JOBS_SQL)],
        )
    data["generated_at"] = datetime.now(UTC)
    return data


def configured(ctx: AppContext) -> dict[str, bool]:
    settings = ctx.settings
    return {
        "stripe": settings.stripe_configured,
        "cloudflare": settings.cloudflare_configured,
        "proxmox": bool(getattr(settings, "proxmox_host", None)),
    }
