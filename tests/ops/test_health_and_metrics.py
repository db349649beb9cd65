"""Service health rows and the Prometheus endpoint."""

from __future__ import annotations

from typing import Any

import httpx

from erp_core.context import AppContext
from erp_core.main import create_app


async def test_status_reports_each_dependency(
    client: httpx.AsyncClient, viewer: dict[str, Any]
) -> None:
    resp = await client.get("/api/logs/status", headers=viewer["headers"])
    assert resp.status_code == 200
    data = resp.json()["data"]
    checks = {c["name"]: c for c in data["checks"]}
    assert checks["postgresql"]["status"] == "ok" and checks["postgresql"]["latency_ms"] is not None
    assert checks["redis"]["status"] == "not_configured"
    assert checks["queue"]["status"] == "down"  # no worker runs in this test
    assert (
        checks["disk"]["status"] in ("ok", "degraded")
        and checks["disk"]["details"]["free_bytes"] > 0
    )
    for name in ("cloudflare", "stripe", "proxmox", "odoo"):
        assert checks[name]["status"] == "not_configured", name
    assert data["overall"] == "down"
    assert all(c["message"] for c in data["checks"])


async def test_metrics_loopback_only_by_default(ctx: AppContext, client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/health")).status_code == 200
    remote = await client.get("/metrics")  # the fixture's client is 203.0.113.7
    assert remote.status_code == 403 and remote.json()["error"] == "FORBIDDEN"
    app = create_app(ctx=ctx)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 4000))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as local:
        await local.get("/api/health")
        resp = await local.get("/metrics")
    assert resp.status_code == 200
    assert (
        'erp_core_http_requests_total{method="GET",route="/api/health",status="200"}' in resp.text
    )


async def test_metrics_token(ctx: AppContext) -> None:
    ctx.settings.erp_core_metrics_token = "token-de-metricas-123"
    app = create_app(ctx=ctx)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 4000))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        assert (await http.get("/metrics")).status_code == 401
        ok = await http.get("/metrics", headers={"Authorization": "Bearer token-de-metricas-123"})
        assert ok.status_code == 200
