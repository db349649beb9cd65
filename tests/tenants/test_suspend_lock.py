"""Suspension enforced inside Odoo (issue 13), on the lab: the database is renamed to its
reserved name, so Odoo refuses the tenant's logins under its usual name through any host;
a retried suspend finds the rename done and rolls forward; a failed rename leaves the
tenant active with the vendor's words in the job log; backup and delete of a suspended
tenant work. The same sequence runs on a real Odoo 19 in tests/real_odoo."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from sqlalchemy import select

from erp_core.context import AppContext
from erp_core.lab import LabStack
from erp_core.models import Backup, JobLog
from erp_core.provisioning.naming import suspended_database_name


async def _rpc_login(stack: LabStack, db: str, login: str, password: str, host: str) -> Any:
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.post(
            f"{stack.odoo.url}/jsonrpc",
            headers={"Host": host},
            json={
                "jsonrpc": "2.0",
                "method": "call",
                "params": {"service": "common", "method": "login", "args": [db, login, password]},
                "id": 1,
            },
        )
    return response.json()


async def _job(client: httpx.AsyncClient, h: dict[str, str], job_id: int) -> dict[str, Any]:
    data: dict[str, Any] = (await client.get(f"/api/jobs/{job_id}", headers=h)).json()["data"]
    return data


async def wait_job(client: httpx.AsyncClient, h: dict[str, str], job_id: int) -> dict[str, Any]:
    for _ in range(300):
        data = await _job(client, h, job_id)
        if data["status"] in ("succeeded", "failed"):
            return data
        await asyncio.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish")


async def _log(ctx: AppContext, job_id: int) -> list[tuple[str, str]]:
    async with ctx.db.sessionmaker() as session:
        rows = await session.scalars(select(JobLog).where(JobLog.job_id == job_id))
        return [(r.level, r.message) for r in rows]


async def _create(
    client: httpx.AsyncClient, h: dict[str, str], wait: Any, body: Any, sub: str
) -> dict[str, Any]:
    created = await client.post("/api/tenants", json=body(sub), headers=h)
    assert created.status_code == 202, created.text
    data: dict[str, Any] = created.json()["data"]
    assert (await wait(client, h, data["id"], "active", "failed"))["status"] == "active"
    return data


async def test_suspend_locks_the_database_and_reactivate_restores_it(
    client: httpx.AsyncClient,
    admin: dict[str, Any],
    lab_stack: LabStack,
    lab_ctx: AppContext,
    worker: None,
    wait: Any,
    body: Any,
) -> None:
    h = admin["headers"]
    data = await _create(client, h, wait, body, "cerrada")
    login, password = data["admin_login"], data["admin_password"]
    await _create(client, h, wait, body, "vecina")
    locked = suspended_database_name("cerrada")
    lab_stack.odoo_state.get("cerrada").company_name = "Antes de suspender"

    resp = await client.put(f"/api/tenants/{data['id']}/suspend", headers=h)
    assert resp.status_code == 202
    suspended = await wait(client, h, data["id"], "suspended", "failed", "active")
    assert suspended["status"] == "suspended", suspended["last_error"]
    names = lab_stack.odoo_state.names()
    assert locked in names and "cerrada" not in names
    for host in ("cerrada.sajet.us", "vecina.sajet.us"):
        refused = await _rpc_login(lab_stack, "cerrada", login, password, host)
        assert "error" in refused and "does not exist" in str(refused["error"]), refused
    job = await _job(client, h, resp.json()["data"]["job_id"])
    assert job["steps"][0]["name"] == "lock_database"
    log = await _log(lab_ctx, job["id"])
    assert any(f"renombrada cerrada → {locked}" in m for _, m in log), log

    # Backup of a suspended tenant: its locked database, through its own Host.
    backup = await client.post(f"/api/tenants/{data['id']}/backups", headers=h)
    assert backup.status_code == 202, backup.text
    backup_job = await wait_job(client, h, backup.json()["data"]["job_id"])
    assert backup_job["status"] == "succeeded", backup_job["error"]

    resp = await client.put(f"/api/tenants/{data['id']}/reactivate", headers=h)
    assert resp.status_code == 202
    active = await wait(client, h, data["id"], "active", "failed", "suspended")
    assert active["status"] == "active", active["last_error"]
    assert "cerrada" in lab_stack.odoo_state.names() and locked not in lab_stack.odoo_state.names()
    ok = await _rpc_login(lab_stack, "cerrada", login, password, "cerrada.sajet.us")
    assert isinstance(ok.get("result"), int), ok
    assert lab_stack.odoo_state.get("cerrada").company_name == "Antes de suspender"


async def test_a_retried_suspend_finds_the_rename_done(
    client: httpx.AsyncClient,
    admin: dict[str, Any],
    lab_stack: LabStack,
    lab_ctx: AppContext,
    worker: None,
    wait: Any,
    body: Any,
) -> None:
    """The rename succeeded, routing failed: the tenant is ``failed`` (its database is
    locked); the retry skips the rename and finishes the suspension."""
    h = admin["headers"]
    data = await _create(client, h, wait, body, "reintento")
    lab_stack.faults.set(
        "cf.put_configuration",
        fail_times=-1,
        status=400,
        error_code=1055,
        message="Invalid tunnel configuration",
    )
    resp = await client.put(f"/api/tenants/{data['id']}/suspend", headers=h)
    failed = await wait(client, h, data["id"], "failed", "suspended", "active")
    assert failed["status"] == "failed"
    assert suspended_database_name("reintento") in lab_stack.odoo_state.names()

    lab_stack.faults.clear()
    retry = await client.post(f"/api/tenants/{data['id']}/retry", headers=h)
    assert retry.status_code == 202, retry.text
    done = await wait(client, h, data["id"], "suspended", "failed", "active")
    assert done["status"] == "suspended", done["last_error"]
    job = await _job(client, h, retry.json()["data"]["job_id"])
    lock = next(s for s in job["steps"] if s["name"] == "lock_database")
    assert lock["status"] == "succeeded"
    log = await _log(lab_ctx, job["id"])
    assert any("ya se llamaba" in m for _, m in log), log
    assert resp.json()["data"]["job_id"] != retry.json()["data"]["job_id"]


async def test_a_failed_rename_leaves_the_tenant_active_with_the_vendor_detail(
    client: httpx.AsyncClient,
    admin: dict[str, Any],
    lab_stack: LabStack,
    lab_ctx: AppContext,
    worker: None,
    wait: Any,
    body: Any,
) -> None:
    h = admin["headers"]
    data = await _create(client, h, wait, body, "ocupada")
    lab_stack.faults.set(
        "db.rename",
        fail_times=-1,
        error_name="builtins.Exception",
        message='Couldn\'t rename database ocupada: database "ocupada" is being accessed',
    )
    resp = await client.put(f"/api/tenants/{data['id']}/suspend", headers=h)
    assert resp.status_code == 202
    back = await wait(client, h, data["id"], "active", "failed", "suspended")
    assert back["status"] == "active"
    assert back["last_error"], back
    assert "ocupada" in lab_stack.odoo_state.names()
    log = await _log(lab_ctx, resp.json()["data"]["job_id"])
    vendor = [m for level, m in log if level == "warning" and "Detalle del proveedor" in m]
    assert vendor and "being accessed" in vendor[0], log
    # routing never moved: the tenant's hostname still reaches Odoo
    ingress = lab_stack.cloudflare_state.ingress(lab_stack.tunnel_ids[0])
    route = next(
        r for r in ingress if r.get("hostname") == "ocupada.sajet.us" and not r.get("path")
    )
    assert route["service"] == lab_ctx.settings.odoo_url.rstrip("/")


async def test_delete_of_a_suspended_tenant_backs_up_and_drops_the_locked_database(
    client: httpx.AsyncClient,
    admin: dict[str, Any],
    lab_stack: LabStack,
    lab_ctx: AppContext,
    worker: None,
    wait: Any,
    body: Any,
) -> None:
    h = admin["headers"]
    data = await _create(client, h, wait, body, "impaga")
    await client.put(f"/api/tenants/{data['id']}/suspend", headers=h)
    assert (await wait(client, h, data["id"], "suspended", "failed"))["status"] == "suspended"
    resp = await client.delete(f"/api/tenants/{data['id']}", headers=h)
    assert resp.status_code == 202
    gone = await wait(client, h, data["id"], "deleted", "failed", "suspended")
    assert gone["status"] == "deleted", gone["last_error"]
    names = lab_stack.odoo_state.names()
    assert "impaga" not in names and suspended_database_name("impaga") not in names
    async with lab_ctx.db.sessionmaker() as session:
        rows = list(await session.scalars(select(Backup).where(Backup.tenant_id == data["id"])))
    assert [(r.kind, r.status, r.database_name) for r in rows] == [
        ("pre-delete", "succeeded", suspended_database_name("impaga"))
    ]


async def test_restore_in_place_of_a_suspended_tenant_keeps_it_locked(
    client: httpx.AsyncClient,
    admin: dict[str, Any],
    lab_stack: LabStack,
    worker: None,
    wait: Any,
    body: Any,
) -> None:
    h = admin["headers"]
    data = await _create(client, h, wait, body, "restaurada")
    locked = suspended_database_name("restaurada")
    await client.put(f"/api/tenants/{data['id']}/suspend", headers=h)
    assert (await wait(client, h, data["id"], "suspended", "failed"))["status"] == "suspended"
    backup = await client.post(f"/api/tenants/{data['id']}/backups", headers=h)
    assert (await wait_job(client, h, backup.json()["data"]["job_id"]))["status"] == "succeeded"
    listed = (await client.get(f"/api/tenants/{data['id']}/backups", headers=h)).json()["data"]
    lab_stack.odoo_state.get(locked).company_name = "Cambiada"
    restored = await client.post(
        f"/api/tenants/{data['id']}/restore",
        json={"backup_id": listed[0]["id"], "mode": "in_place"},
        headers=h,
    )
    assert restored.status_code == 202, restored.text
    job = await wait_job(client, h, restored.json()["data"]["job_id"])
    assert job["status"] == "succeeded", job["error"]
    steps = {s["name"]: s["status"] for s in job["steps"]}
    assert steps["swap"] == "succeeded" and steps["verify_http"] == "skipped"
    names = lab_stack.odoo_state.names()
    assert locked in names and "restaurada" not in names
    assert lab_stack.odoo_state.get(locked).company_name == "Empresa restaurada"
    tenant = (await client.get(f"/api/tenants/{data['id']}", headers=h)).json()["data"]
    assert tenant["status"] == "suspended"


def test_suspended_name_fits_postgres_and_stays_unique() -> None:
    assert suspended_database_name("acme") == "__susp_acme"
    long_a, long_b = "a" * 62 + "b", "a" * 62 + "c"
    names = {suspended_database_name(long_a), suspended_database_name(long_b)}
    assert len(names) == 2 and all(len(n.encode()) <= 63 for n in names)
    assert suspended_database_name(long_a) == suspended_database_name(long_a)
    assert suspended_database_name("x" * 56) == "__susp_" + "x" * 56  # exactly 63: kept
