"""A deleted tenant keeps its page, its backups and its history; a copy names its source."""

from __future__ import annotations

from typing import Any

import httpx

from erp_core.context import AppContext
from erp_core.lab import LabStack

from .conftest import active_tenant, wait_job, wait_tenant


async def test_deleted_tenant_keeps_page_backups_and_restores_as_new_tenant(
    client: httpx.AsyncClient,
    operator: dict[str, Any],
    lab_ctx: AppContext,
    lab_stack: LabStack,
    worker: None,
) -> None:
    h = operator["headers"]
    tenant = await active_tenant(client, h, "adios")
    deleting = await client.delete(f"/api/tenants/{tenant['id']}", headers=h)
    assert deleting.status_code == 202
    assert (await wait_tenant(client, h, tenant["id"], "deleted", "failed"))["status"] == "deleted"
    # The tenant reads "deleted" a moment before the runner closes its job (two transactions):
    # the history below is the job's, so wait for the job itself.
    assert (await wait_job(client, h, deleting.json()["data"]["job_id"]))["status"] == "succeeded"

    page = await client.get(f"/api/tenants/{tenant['id']}", headers=h)
    assert page.status_code == 200
    detail = page.json()["data"]
    assert detail["status"] == "deleted" and detail["restored_from"] is None
    assert detail["admin_login"]
    titles = [(o["title"], o["status_label"]) for o in detail["operations"]]
    assert titles == [("Eliminación", "Completado"), ("Creación", "Completado")]

    backups = (await client.get(f"/api/tenants/{tenant['id']}/backups", headers=h)).json()
    [pre_delete] = [b for b in backups["data"] if b["kind"] == "pre-delete"]

    copy = await client.post(
        f"/api/tenants/{tenant['id']}/restore",
        json={"backup_id": pre_delete["id"], "mode": "copy", "subdomain": "adios-vuelve"},
        headers=h,
    )
    assert copy.status_code == 202, copy.text
    data = copy.json()["data"]
    assert (await wait_job(client, h, data["job_id"]))["status"] == "succeeded"
    assert (await wait_tenant(client, h, data["tenant_id"], "active"))["status"] == "active"
    restored = (await client.get(f"/api/tenants/{data['tenant_id']}", headers=h)).json()["data"]
    assert restored["restored_from"] == {"id": tenant["id"], "subdomain": "adios"}
    assert restored["operations"][0]["title"] == "Restauración como nuevo tenant"
    assert "adios-vuelve" in lab_stack.odoo_state.names()
