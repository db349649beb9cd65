"""Drift audit over N tenants (default 1,000): vendor requests per source, counted by the lab
emulators themselves (their per-operation call counters), and the audit's wall time,
against a baseline that asks per tenant (``db_exist`` and a DNS lookup by name for each
tenant: what an audit without list calls would do). Goal: one page walk per source, i.e.
requests per source independent of the tenant count (pages of 100).

    .venv/bin/python bench/bench_reconciliation.py [--tenants 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import time
from collections import Counter

import psycopg
from common import report, scratch_database

from erp_core.cache import MemoryCache
from erp_core.composition import build_queue
from erp_core.config import Settings
from erp_core.context import AppContext
from erp_core.db import Database, to_libpq_url
from erp_core.drivers.cloudflare import TUNNEL_DOMAIN, CloudflareManager
from erp_core.drivers.factory import odoo_for
from erp_core.lab import LabStack, StripeLabHandle, start_lab_stack, start_stripe_lab
from erp_core.lab.runtime import point_settings_at_lab
from erp_core.reconciliation.service import run_audit
from erp_core.security import SecretBox
from erp_core.tenants.servers import ensure_default_server

SOURCE_OF = {"db": "odoo", "common": "odoo", "object": "odoo", "web": "odoo"}


def _source(operation: str) -> str:
    head = operation.split(".", 1)[0]
    if head == "stripe":
        return "stripe"
    if head == "cf":
        return "cloudflare"
    return SOURCE_OF.get(head, head)


def _seed(url: str, count: int, server_id: int) -> None:
    with psycopg.connect(to_libpq_url(url)) as conn:
        conn.execute(
            "INSERT INTO customers (email, company_name) SELECT 'c' || g || '@bench.example.com', "
            "'Empresa ' || g FROM generate_series(1, %s) g",
            (count,),
        )
        conn.execute(
            "INSERT INTO tenants (customer_id, subdomain, company_name, plan, status, language, "
            "admin_login, odoo_server_id, created_at, updated_at) SELECT g, 'bench' || g, "
            "'Empresa ' || g, 'basic', 'active', 'es_ES', 'admin@bench.example.com', %s, now(), "
            "now() FROM generate_series(1, %s) g",
            (server_id, count),
        )


def _mirror_in_labs(
    stack: LabStack, stripe: StripeLabHandle, count: int, server_url: str, base: str
) -> None:
    """Reality matches the rows (plus one sabotage per source), written straight into the
    emulators' state so setup costs no requests."""
    tunnel = stack.tunnel_ids[0]
    rules = [{"hostname": f"bench{g}.{base}", "service": server_url} for g in range(1, count + 1)]
    rules.append({"hostname": f"fantasma.{base}", "service": server_url})
    cf = stack.cloudflare_state
    with cf.lock:
        cf.configurations[tunnel] = {
            "config": {"ingress": [*rules, {"service": "http_status:404"}]},
            "version": 1,
            "created_at": "2026-01-01T00:00:00Z",
        }
    for g in range(1, count + 1):
        stack.odoo_state.add_database(f"bench{g}", initialized=False)
        cf.add_dns_record(f"bench{g}.{base}", f"{tunnel}.{TUNNEL_DOMAIN}")
    stack.odoo_state.add_database("huerfana", initialized=False)
    table = stripe.state.table("subscription")
    now = stripe.state.now()
    for g in range(1, count + 2):
        sid = f"sub_bench{g:06d}"
        table[sid] = {
            "id": sid,
            "object": "subscription",
            "status": "active",
            "created": now - g,
            "metadata": {"tenant_id": str(g)},
            "items": {"object": "list", "data": []},
        }


async def _baseline(ctx: AppContext, count: int) -> float:
    """The per-tenant way: one ``db_exist`` and one DNS lookup by name per tenant."""
    from erp_core.models import OdooServer

    async with ctx.db.sessionmaker() as session:
        server = (await session.execute(OdooServer.__table__.select())).first()
        assert server is not None
        row = await session.get(OdooServer, server.id)
        assert row is not None
    odoo = odoo_for(ctx, row)
    settings = ctx.settings
    cf = CloudflareManager(
        settings.cloudflare_api_token or "",
        account_id=settings.cloudflare_account_id or "",
        zone_id=settings.cloudflare_zone_id or "",
        base_url=settings.cloudflare_api_base,
    )
    started = time.perf_counter()
    try:
        for g in range(1, count + 1):
            await odoo.database_exists(f"bench{g}")
            await cf.find_cname(f"bench{g}.{settings.base_domain}")
    finally:
        await odoo.aclose()
        await cf.aclose()
    return time.perf_counter() - started


async def _run(url: str, stack: LabStack, stripe: StripeLabHandle, count: int) -> None:
    master, token = stack.odoo_state.master_password, _TOKEN
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=url,
        redis_url=None,
        erp_core_secret_key="bench-" + secrets.token_hex(8),
        jwt_secret_key="bench-" + secrets.token_hex(8),
        erp_core_worker_in_process=False,
    )
    point_settings_at_lab(settings, stack, master, token)
    settings.stripe_secret_key = stripe.api_key
    settings.stripe_api_base = stripe.api_base
    assert settings.erp_core_secret_key
    ctx = AppContext(
        settings=settings,
        db=Database(url, pool_size=5),
        cache=MemoryCache(),
        secret_box=SecretBox(settings.erp_core_secret_key),
        queue=build_queue(url),
    )
    try:
        await ensure_default_server(ctx)
        async with ctx.db.sessionmaker() as session:
            from sqlalchemy import select

            from erp_core.models import OdooServer

            server = await session.scalar(select(OdooServer))
            assert server is not None
            server_id, server_url = server.id, server.url
        _seed(url, count, server_id)
        _mirror_in_labs(stack, stripe, count, server_url, settings.base_domain)
        await run_audit(ctx)  # warm imports and pools
        stack.faults.calls.clear()
        started = time.perf_counter()
        result = await run_audit(ctx)
        audit_s = time.perf_counter() - started
        calls: Counter[str] = Counter()
        # ``*.stale`` entries are fault-plan pseudo-operations the lab consults, not requests
        per_operation = {k: v for k, v in stack.faults.calls.items() if not k.endswith(".stale")}
        for operation, n in per_operation.items():
            calls[_source(operation)] += n
        stack.faults.calls.clear()
        baseline_s = await _baseline(ctx, count)
        baseline_calls = sum(v for k, v in stack.faults.calls.items() if not k.endswith(".stale"))
        opened = {s.source: f"{s.status}, {s.observed}" for s in result.sources}
        lines: dict[str, object] = {"tenants": count}
        for source in ("odoo", "cloudflare", "stripe"):
            lines[f"requests: {source}"] = calls.get(source, 0)
        lines["requests: total (audit, all sources)"] = sum(calls.values())
        lines["requests per vendor operation"] = dict(sorted(per_operation.items()))
        lines["status, findings seen per source"] = opened
        lines["audit wall time (s)"] = round(audit_s, 3)
        lines["baseline: per-tenant requests (odoo+dns only)"] = baseline_calls
        lines["baseline wall time (s)"] = round(baseline_s, 3)
        lines["requests ratio baseline/audit"] = round(
            baseline_calls / max(1, calls["odoo"] + calls["cloudflare"]), 1
        )
        lines["time ratio baseline/audit"] = round(baseline_s / audit_s, 2)
        report("reconciliation audit (issue 18)", lines)
    finally:
        await ctx.close()


_TOKEN = secrets.token_urlsafe(24)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tenants", type=int, default=1000)
    args = parser.parse_args()
    master = secrets.token_urlsafe(16)
    stack = start_lab_stack(master_password=master, cloudflare_token=_TOKEN)
    stripe = start_stripe_lab(faults=stack.faults)
    try:
        with scratch_database() as url:
            asyncio.run(_run(url, stack, stripe, args.tenants))
    finally:
        stripe.stop()
        stack.stop()


if __name__ == "__main__":
    main()
