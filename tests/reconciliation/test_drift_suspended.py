"""The drift audit and suspension (issue 13): a suspended tenant's database lives under
``__susp_<subdomain>``; that is neither an orphan nor missing. The state and the name
disagreeing is a finding either way (an active tenant locked out, a suspended one still
reachable), and an unowned ``__susp_`` database is an orphan."""

from __future__ import annotations

from typing import Any

import httpx

from erp_core.lab import LabStack
from erp_core.provisioning.naming import suspended_database_name


async def _open(client: httpx.AsyncClient, h: dict[str, str]) -> dict[str, dict[str, Any]]:
    resp = await client.get("/api/reconciliation/findings", params={"per_page": 200}, headers=h)
    assert resp.status_code == 200, resp.text
    return {f["detail"].get("database", f["resource"]): f for f in resp.json()["data"]}


async def test_suspended_databases_in_the_drift_audit(
    client: httpx.AsyncClient,
    operator: dict[str, Any],
    lab_stack: LabStack,
    worker: None,
    wait: Any,
    body: Any,
    audit: Any,
) -> None:
    h = operator["headers"]
    ids = {}
    for name in ("quieta", "activa", "abierta"):
        created = await client.post("/api/tenants", json=body(name), headers=h)
        assert created.status_code == 202, created.text
        ids[name] = created.json()["data"]["id"]
    for tenant_id in ids.values():
        assert (await wait(client, h, tenant_id, "active", "failed"))["status"] == "active"
    for name in ("quieta", "abierta"):
        await client.put(f"/api/tenants/{ids[name]}/suspend", headers=h)
        assert (await wait(client, h, ids[name], "suspended", "failed"))["status"] == "suspended"

    # Two suspended tenants, their databases locked: nothing to report.
    sources = await audit(client, h)
    assert sources["odoo"]["status"] == "ok"
    assert await _open(client, h) == {}

    odoo = lab_stack.odoo_state
    odoo.rename("activa", suspended_database_name("activa"))  # active, but locked out
    odoo.rename(suspended_database_name("abierta"), "abierta")  # suspended, but reachable
    odoo.add_database(suspended_database_name("nadie"))  # a locked database nobody owns
    await audit(client, h)
    found = await _open(client, h)
    assert {k: f["kind"] for k, f in found.items()} == {
        "activa": "locked_database",
        "__susp_abierta": "unlocked_database",  # keyed by the name it should have
        "__susp_nadie": "orphan_database",
    }, found
    assert found["activa"]["tenant_id"] == ids["activa"]
    assert found["activa"]["detail"]["actual"] == "__susp_activa"
    assert "bloqueada" in found["activa"]["message"]
    unlocked = found["__susp_abierta"]
    assert unlocked["tenant_id"] == ids["abierta"] and unlocked["detail"]["actual"] == "abierta"
    assert "sigue admitiendo" in unlocked["message"]
    assert found["activa"]["kind_label"] and unlocked["kind_label"]
