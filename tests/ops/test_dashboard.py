"""Dashboard figures equal direct queries; constant query count; cache hit and invalidation;
a dead Redis degrades to direct queries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy import event

from erp_core.cache import RedisCache
from erp_core.context import AppContext
from erp_core.main import create_app


def seed(database_url: str, tenants: int, prefix: str = "t") -> None:
    """Customers and tenants with a status history, nodes with samples, jobs."""
    now = datetime.now(UTC)
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "INSERT INTO customers (email, company_name) SELECT 'c@x.com', 'C' "
            "WHERE NOT EXISTS (SELECT 1 FROM customers)"
        )
        conn.execute(
            "INSERT INTO odoo_servers (name, url, master_password_enc, capacity, state, mode, is_default) "
            "VALUES ('s1', 'http://127.0.0.1:9', 'x', 100, 'active', 'rpc', true) ON CONFLICT DO NOTHING"
        )
        statuses = ["active", "active", "suspended", "failed", "deleted"]
        for i in range(tenants):
            status = statuses[i % len(statuses)]
            created = now - timedelta(days=40 * (i % 3), hours=1)
            tid = conn.execute(
                "INSERT INTO tenants (customer_id, subdomain, company_name, plan, status, language, "
                "admin_login, odoo_server_id, created_at) VALUES ((SELECT min(id) FROM customers), %s, %s, %s, %s, "
                "'es_ES', 'a', (SELECT min(id) FROM odoo_servers), %s) "
                "RETURNING id",
                (f"{prefix}{i:03d}", f"Empresa {i}", ["basic", "pro"][i % 2], status, created),
            ).fetchone()[0]  # type: ignore[index]
            conn.execute(
                "INSERT INTO tenant_status_changes (tenant_id, status, at) VALUES (%s, 'provisioning', %s), (%s, %s, %s)",
                (tid, created, tid, status, created + timedelta(minutes=1)),
            )
        for n, (cpu_total, ram_total) in enumerate(((8, 32 * 2**30), (16, 64 * 2**30))):
            nid = conn.execute(
                "INSERT INTO proxmox_nodes (hostname, status, cpu_total, ram_total, disk_total) "
                "VALUES (%s, 'online', %s, %s, %s) RETURNING id",
                (f"{prefix}pve{n}", cpu_total, ram_total, 1000 * 2**30),
            ).fetchone()[0]  # type: ignore[index]
            for minutes, cpu in ((10, 0.9), (1, 0.25 * (n + 1))):  # the latest sample wins
                conn.execute(
                    "INSERT INTO resource_metrics (node_id, cpu, ram, disk, netin, netout, timestamp) "
                    "VALUES (%s, %s, %s, %s, 0, 0, %s)",
                    (nid, cpu, ram_total // 2, 100 * 2**30, now - timedelta(minutes=minutes)),
                )
        conn.execute(
            "INSERT INTO jobs (kind, status, params, progress, runs) VALUES ('create', 'running', '{}', 0, 1)"
        )
        conn.execute(
            "INSERT INTO jobs (kind, tenant_id, status, params, progress, runs, error, finished_at) "
            "VALUES ('create', (SELECT max(id) FROM tenants), 'failed', '{}', 50, 1, 'Falló el paso X', now())"
        )


async def test_dashboard_matches_direct_queries(
    client: httpx.AsyncClient, admin: dict[str, Any], database_url: str
) -> None:
    seed(database_url, 10)
    resp = await client.get("/api/dashboard/all", headers=admin["headers"])
    assert resp.status_code == 200
    body = resp.json()
    data, metrics = body["data"], body["data"]["metrics"]
    with psycopg.connect(database_url) as conn:
        by_status = dict(
            conn.execute("SELECT status, count(*) FROM tenants GROUP BY status").fetchall()
        )
    assert metrics["tenants_by_status"] == by_status
    assert metrics["tenants_total"] == 8  # deleted ones are not counted
    assert metrics["tenants_by_plan"] == {"basic": 4, "pro": 4}
    assert metrics["jobs"] == {"running": 1, "queued": 0, "failed_24h": 1}
    # cluster: latest samples only: cpu 0.25*8 + 0.5*16 = 10 busy cores of 24
    assert metrics["cluster"]["cpu_used"] == 10.0 and metrics["cluster"]["cpu_total"] == 24
    assert metrics["cluster"]["ram_used"] == (32 * 2**30) // 2 + (64 * 2**30) // 2
    assert [n["hostname"] for n in data["nodes"]] == ["tpve0", "tpve1"]
    assert data["odoo_servers"][0]["tenants"] == 6 and data["odoo_servers"][0]["free"] == 94
    assert len(data["recent_tenants"]) == 8
    assert data["failed_jobs"][0]["error"] == "Falló el paso X"
    series = data["tenant_series"]
    assert len(series) == 12
    assert series[-1]["counts"] == by_status
    assert body["meta"]["configured"] == {"stripe": False, "cloudflare": False, "proxmox": False}
    assert metrics["mrr"] == 0 and metrics["mrr_change"] is None


async def test_query_count_is_constant(
    ctx: AppContext, client: httpx.AsyncClient, admin: dict[str, Any], database_url: str
) -> None:
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    await client.get("/api/auth/me", headers=admin["headers"])  # the caller's status is cached now
    event.listen(ctx.db.engine.sync_engine, "before_cursor_execute", count)
    try:
        seed(database_url, 3)
        await client.get("/api/dashboard/all", headers=admin["headers"])
        small = len(statements)
        statements.clear()
        await ctx.cache.delete("dashboard:all")
        seed(database_url, 40, prefix="u")
        await client.get("/api/dashboard/all", headers=admin["headers"])
        large = len(statements)
    finally:
        event.remove(ctx.db.engine.sync_engine, "before_cursor_execute", count)
    assert small == large
    assert large <= 15


async def test_cache_hit_then_invalidated_by_a_write(
    client: httpx.AsyncClient, admin: dict[str, Any], database_url: str
) -> None:
    seed(database_url, 5)
    h = admin["headers"]
    first = await client.get("/api/dashboard/all", headers=h)
    second = await client.get("/api/dashboard/all", headers=h)
    assert first.headers["x-cache"] == "miss" and second.headers["x-cache"] == "hit"
    assert first.content == second.content
    body = {"company_name": "Nueva SA", "email": "n@nueva.com", "subdomain": "nueva", "plan": "pro"}
    assert (await client.post("/api/tenants", json=body, headers=h)).status_code == 202
    third = await client.get("/api/dashboard/all", headers=h)
    assert third.headers["x-cache"] == "miss"
    assert third.json()["data"]["metrics"]["tenants_by_status"]["provisioning"] == 1


async def test_metrics_endpoint_is_the_metrics_section(
    client: httpx.AsyncClient, admin: dict[str, Any], database_url: str
) -> None:
    seed(database_url, 5)
    resp = await client.get("/api/dashboard/metrics", headers=admin["headers"])
    assert resp.status_code == 200
    assert resp.json()["data"]["tenants_by_status"] == {
        "active": 2,
        "suspended": 1,
        "failed": 1,
        "deleted": 1,
    }


@pytest.mark.parametrize("url", ["redis://127.0.0.1:1/0"])
async def test_dead_redis_degrades_to_direct_queries(
    ctx: AppContext, admin: dict[str, Any], database_url: str, url: str
) -> None:
    seed(database_url, 5)
    ctx.cache = RedisCache(url)
    app = create_app(ctx=ctx)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        for _ in range(2):
            resp = await http.get("/api/dashboard/all", headers=admin["headers"])
            assert resp.status_code == 200
            assert resp.headers["x-cache"] == "miss"
        login = await http.post(
            "/api/auth/login", json={"email": admin["email"], "password": admin["password"]}
        )
        assert login.status_code == 200


async def test_failed_job_leaves_the_list_once_its_retry_succeeded(
    client: httpx.AsyncClient, admin: dict[str, Any], database_url: str
) -> None:
    seed(database_url, 10)
    with psycopg.connect(database_url) as conn:
        tenant = conn.execute("SELECT max(id) FROM tenants").fetchone()
        assert tenant is not None
        conn.execute(  # another operation on the tenant succeeding does not excuse it
            "INSERT INTO jobs (kind, tenant_id, status, params, progress, runs, finished_at) "
            "VALUES ('backup', %s, 'succeeded', '{}', 100, 1, now())",
            (tenant[0],),
        )
    resp = await client.get("/api/dashboard/all", headers=admin["headers"])
    assert [j["error"] for j in resp.json()["data"]["failed_jobs"]] == ["Falló el paso X"]
    with psycopg.connect(database_url) as conn:
        conn.execute(  # the retry: the same operation, later, succeeded
            "INSERT INTO jobs (kind, tenant_id, status, params, progress, runs, finished_at) "
            "VALUES ('create', %s, 'succeeded', '{}', 100, 1, now())",
            (tenant[0],),
        )
    await client.put(  # any write invalidates the dashboard cache
        "/api/settings/billing_grace_days", json={"value": "8"}, headers=admin["headers"]
    )
    resp = await client.get("/api/dashboard/all", headers=admin["headers"])
    assert resp.json()["data"]["failed_jobs"] == []
