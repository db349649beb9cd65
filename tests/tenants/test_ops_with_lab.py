"""Health and connection tests against the lab: a hanging vendor is reported `down` within its
timeout without slowing the other checks."""

from __future__ import annotations

import time
from typing import Any

import httpx

from erp_core.context import AppContext
from erp_core.lab import LabStack
from erp_core.logs import health


async def test_hanging_cloudflare_is_down_within_timeout(
    client: httpx.AsyncClient, admin: dict[str, Any], lab_stack: LabStack, lab_ctx: AppContext
) -> None:
    lab_stack.faults.set("cf.list_tunnels", latency_ms=10_000)
    started = time.monotonic()
    results = {r.name: r for r in await health.run_checks(lab_ctx, timeout=1.0)}
    elapsed = time.monotonic() - started
    assert elapsed < 5
    assert (
        results["cloudflare"].status == "down" and "Sin respuesta" in results["cloudflare"].message
    )
    odoo = [r for name, r in results.items() if name.startswith("odoo:")]
    assert len(odoo) == 1 and odoo[0].status == "ok" and "17.0" in odoo[0].message
    assert results["postgresql"].status == "ok", results["postgresql"]
    lab_stack.faults.clear()
    resp = await client.get("/api/logs/status", headers=admin["headers"])
    checks = {c["name"]: c for c in resp.json()["data"]["checks"]}
    assert (
        checks["cloudflare"]["status"] == "ok" and checks["cloudflare"]["details"]["tunnels"] == 1
    )


async def test_connection_tests_against_the_lab(
    client: httpx.AsyncClient, admin: dict[str, Any], lab_ctx: AppContext
) -> None:
    for integration in ("cloudflare", "odoo"):
        resp = await client.post(f"/api/settings/test/{integration}", headers=admin["headers"])
        data = resp.json()["data"]
        assert data["ok"] is True, data
    resp = await client.put(
        "/api/settings/cloudflare_api_token",
        json={"value": "token-equivocado-123"},
        headers=admin["headers"],
    )
    assert resp.status_code == 200
    data = (await client.post("/api/settings/test/cloudflare", headers=admin["headers"])).json()[
        "data"
    ]
    assert data["ok"] is False
    assert all("token-equivocado" not in c["message"] for c in data["checks"])
