"""Plans are rows: a plan an operator creates is usable by POST /api/tenants at once, an
unknown plan is refused with a Spanish 422 and writes nothing."""

from __future__ import annotations

from typing import Any

import httpx


async def test_plan_created_through_api_is_usable_at_once(
    client: httpx.AsyncClient, admin: dict[str, Any], body: Any
) -> None:
    h = admin["headers"]
    plan = {"code": "starter", "name": "Inicial", "monthly_price": 1500, "ram_mb": 1024}
    created = await client.post("/api/billing/plans", json=plan, headers=h)
    assert created.status_code == 201, created.text
    assert created.json()["data"]["code"] == "starter"
    again = await client.post("/api/billing/plans", json=plan, headers=h)
    assert again.status_code == 409 and again.json()["error"] == "PLAN_EXISTS"

    tenant = await client.post("/api/tenants", json=body("nuevo", plan="starter"), headers=h)
    assert tenant.status_code == 202, tenant.text
    tenant_id = tenant.json()["data"]["id"]
    shown = (await client.get(f"/api/tenants/{tenant_id}", headers=h)).json()["data"]
    assert shown["plan"] == "starter"
    listed = await client.get("/api/tenants", params={"plan": "starter"}, headers=h)
    assert [t["id"] for t in listed.json()["data"]] == [tenant_id]


async def test_unknown_plan_is_refused_without_writing(
    client: httpx.AsyncClient, admin: dict[str, Any], body: Any
) -> None:
    h = admin["headers"]
    resp = await client.post("/api/tenants", json=body("fantasma", plan="platino"), headers=h)
    assert resp.status_code == 422
    payload = resp.json()
    assert payload["success"] is False and payload["error"] == "PLAN_NOT_FOUND"
    assert "platino" in payload["detail"]
    listed = await client.get("/api/tenants", params={"q": "fantasma"}, headers=h)
    assert listed.json()["data"] == []
