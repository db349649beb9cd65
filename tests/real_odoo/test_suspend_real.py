"""Suspension that a real Odoo 19 enforces (issue 13), through OUR API, one tenant for the
whole sequence (a database create costs 10–50 s on this machine):

create → a record → suspend: the admin's ``/web/session/authenticate`` fails through the
tenant's hostname and through another tenant's, ``/jsonrpc`` ``common.login`` naming the
database fails; a backup of the suspended tenant works → reactivate: the same credentials
log in and the record is still there → suspend again → delete: a verified backup first,
then the database (under its locked name) and its filestore are gone."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from erp_core.context import AppContext
from erp_core.models import Backup
from erp_core.provisioning.naming import suspended_database_name
from odoo_real import RealOdoo, wait_job

DOMAIN = "sajet.us"
pytestmark = pytest.mark.timeout(900)


async def _authenticate(real: RealOdoo, host: str, db: str, login: str, password: str) -> Any:
    """Odoo's web login (JSON) as a browser behind the tunnel sends it: Host = hostname."""
    async with httpx.AsyncClient(timeout=60) as http:
        response = await http.post(
            f"{real.url}/web/session/authenticate",
            headers={"Host": host, "X-Forwarded-Host": host},
            json={
                "jsonrpc": "2.0",
                "method": "call",
                "params": {"db": db, "login": login, "password": password},
                "id": 1,
            },
        )
    assert response.status_code == 200, response.text[:300]
    return response.json()


async def _rpc(real: RealOdoo, service: str, method: str, *args: Any) -> Any:
    async with httpx.AsyncClient(timeout=60) as http:
        response = await http.post(
            f"{real.url}/jsonrpc",
            headers={"Host": f"otro-tenant.{DOMAIN}"},
            json={
                "jsonrpc": "2.0",
                "method": "call",
                "params": {"service": service, "method": method, "args": list(args)},
                "id": 1,
            },
        )
    return response.json()


def _logged_in(answer: Any) -> bool:
    result = answer.get("result")
    if isinstance(result, dict):
        return isinstance(result.get("uid"), int)
    return isinstance(result, int) and result > 0


async def _settle(
    client: httpx.AsyncClient, h: dict[str, str], wait: Any, tenant_id: int, status: str
) -> dict[str, Any]:
    data: dict[str, Any] = await wait(
        client, h, tenant_id, status, "failed", "active", "suspended", timeout=180
    )
    assert data["status"] == status, data["last_error"]
    return data


async def test_suspend_is_enforced_by_odoo_and_reactivate_restores_it(
    client: httpx.AsyncClient,
    admin: dict[str, Any],
    real_odoo: RealOdoo,
    lab_ctx: AppContext,
    worker: None,
    wait: Any,
    body: Any,
) -> None:
    h = admin["headers"]
    sub, other = "rs-candado", "rs-vecino"
    host, other_host = f"{sub}.{DOMAIN}", f"{other}.{DOMAIN}"
    locked = suspended_database_name(sub)
    timings: dict[str, float] = {}

    created = await client.post(
        "/api/tenants", json=body(sub, country="DO", language="es_ES"), headers=h
    )
    assert created.status_code == 202, created.text
    data = created.json()["data"]
    tenant_id, login, password = data["id"], data["admin_login"], data["admin_password"]
    await _settle(client, h, wait, tenant_id, "active")

    # Before: the admin logs in through the tenant's hostname and over /jsonrpc.
    assert _logged_in(await _authenticate(real_odoo, host, sub, login, password))
    uid = (await _rpc(real_odoo, "common", "login", sub, login, password))["result"]
    assert isinstance(uid, int) and uid > 0
    made = await _rpc(
        real_odoo,
        "object",
        "execute_kw",
        sub,
        uid,
        password,
        "res.partner",
        "create",
        [{"name": "Cliente antes de suspender"}],
    )
    partner_id = made["result"]
    partner_id = partner_id[0] if isinstance(partner_id, list) else partner_id
    assert isinstance(partner_id, int), made

    # Suspend: Odoo itself refuses every login naming the tenant's database.
    t0 = time.monotonic()
    resp = await client.put(f"/api/tenants/{tenant_id}/suspend", headers=h)
    assert resp.status_code == 202, resp.text
    await _settle(client, h, wait, tenant_id, "suspended")
    timings["suspend"] = time.monotonic() - t0
    assert locked in real_odoo.databases() and sub not in real_odoo.databases()
    assert real_odoo.filestore(locked).is_dir() and not real_odoo.filestore(sub).exists()
    for through in (host, other_host, "127.0.0.1"):
        refused = await _authenticate(real_odoo, through, sub, login, password)
        assert not _logged_in(refused) and "error" in refused, (through, refused)
        # the reserved name is selected by no hostname we route either
        refused = await _authenticate(real_odoo, through, locked, login, password)
        assert not _logged_in(refused), (through, refused)
    assert not _logged_in(await _rpc(real_odoo, "common", "login", sub, login, password))
    async with httpx.AsyncClient(timeout=60) as http:
        page = await http.get(f"{real_odoo.url}/web/login", headers={"X-Forwarded-Host": host})
    assert page.status_code == 303 and "selector" in page.headers["location"]

    # A suspended tenant is still backed up (retention deletes it later).
    started = await client.post(f"/api/tenants/{tenant_id}/backups", headers=h)
    assert started.status_code == 202, started.text
    job = await wait_job(client, h, started.json()["data"]["job_id"])
    assert job["status"] == "succeeded", job["error"]

    # Reactivate: the same credentials, the same data.
    t0 = time.monotonic()
    resp = await client.put(f"/api/tenants/{tenant_id}/reactivate", headers=h)
    assert resp.status_code == 202, resp.text
    await _settle(client, h, wait, tenant_id, "active")
    timings["reactivate"] = time.monotonic() - t0
    assert sub in real_odoo.databases() and locked not in real_odoo.databases()
    assert _logged_in(await _authenticate(real_odoo, host, sub, login, password))
    assert (await _rpc(real_odoo, "common", "login", sub, login, password))["result"] == uid
    names = real_odoo.sql(sub, "SELECT name FROM res_partner WHERE id = %s", partner_id)
    assert names == [("Cliente antes de suspender",)]

    # Suspend again, then delete: verified backup of the locked database, then all gone.
    await client.put(f"/api/tenants/{tenant_id}/suspend", headers=h)
    await _settle(client, h, wait, tenant_id, "suspended")
    t0 = time.monotonic()
    resp = await client.delete(f"/api/tenants/{tenant_id}", headers=h)
    assert resp.status_code == 202, resp.text
    await _settle(client, h, wait, tenant_id, "deleted")
    timings["delete_suspended"] = time.monotonic() - t0
    assert not {sub, locked} & real_odoo.databases()
    assert not real_odoo.filestore(locked).exists() and not real_odoo.filestore(sub).exists()
    async with lab_ctx.db.sessionmaker() as session:
        rows = list(await session.scalars(select(Backup).where(Backup.tenant_id == tenant_id)))
    kinds = {(r.kind, r.status, r.verification_status, r.database_name) for r in rows}
    assert ("pre-delete", "succeeded", "ok", locked) in kinds, kinds
    assert ("manual", "succeeded", "ok", locked) in kinds, kinds
    print("suspend timings (s):", {k: round(v, 2) for k, v in timings.items()})
