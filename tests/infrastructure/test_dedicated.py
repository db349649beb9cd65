"""Dedicated tenants end to end against the lab: Proxmox (HTTPS), the container's own Odoo,
Cloudflare and the edge — all real HTTP on loopback, driven by the real worker."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from sqlalchemy import select

from erp_core.context import AppContext
from erp_core.lab import LabStack, ProxmoxLab
from erp_core.models import Backup, DedicatedContainer, Job, JobStep, OdooServer

from .conftest import TEMPLATE_MASTER, add_plan, start_create, start_operation, wait_tenant


async def _link(ctx: AppContext, tenant_id: int) -> DedicatedContainer:
    async with ctx.db.sessionmaker() as session:
        link = await session.scalar(
            select(DedicatedContainer)
            .where(DedicatedContainer.tenant_id == tenant_id)
            .order_by(DedicatedContainer.id.desc())
        )
    assert link is not None
    return link


async def _edge_login(stack: LabStack, host: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=10) as http:
        return await http.get(f"{stack.edge.url}/web/login", headers={"Host": host})


def _service_for(stack: LabStack, host: str) -> str | None:
    for rule in stack.cloudflare_state.ingress(stack.tunnel_ids[0]):
        if rule.get("hostname") == host and not rule.get("path"):
            return str(rule["service"])
    return None


async def test_dedicated_create_suspend_reactivate_delete(
    ctx: AppContext, worker: None, pve_lab: ProxmoxLab, lab_stack: LabStack, settings: Any
) -> None:
    await add_plan(ctx, cpu_cores=2, ram_mb=3072, disk_gb=12)
    tenant_id = await start_create(ctx, "globex")
    tenant = await wait_tenant(ctx, tenant_id, "active", "failed")
    assert tenant.status == "active", tenant.last_error

    link = await _link(ctx, tenant_id)
    assert link.state == "active" and link.released_at is None
    container = pve_lab.state.containers[link.vmid]
    assert container.status == "running"
    assert container.config["cores"] == "2" and container.config["memory"] == "3072"
    assert "size=12G" in container.config["rootfs"]
    assert f"ip={link.ip_address}/8" in container.config["net0"]
    assert link.ip_address.startswith("127.0.0.")
    # the database lives in the container's own Odoo, not on the shared server
    assert "globex" in container.odoo.names()
    assert "globex" not in lab_stack.odoo_state.names()
    assert container.odoo.get("globex").company_name == "Empresa globex"
    # the template's master password was replaced by the container's own one
    assert container.odoo.master_password != TEMPLATE_MASTER
    async with ctx.db.sessionmaker() as session:
        server = await session.get(OdooServer, tenant.odoo_server_id)
    assert server is not None and server.capacity == 0
    assert ctx.secret_box.decrypt(server.master_password_enc) == container.odoo.master_password
    assert link.master_password_enc == server.master_password_enc
    # published through the node's tunnel to the container's address
    service = f"http://{link.ip_address}:{settings.odoo_container_port}"
    assert _service_for(lab_stack, "globex.sajet.us") == service
    page = await _edge_login(lab_stack, "globex.sajet.us")
    assert page.status_code == 200 and 'name="login"' in page.text

    await start_operation(ctx, tenant_id, "suspend", "suspending")
    tenant = await wait_tenant(ctx, tenant_id, "suspended", "failed")
    assert tenant.status == "suspended", tenant.last_error
    assert pve_lab.state.containers[link.vmid].status == "stopped"
    assert _service_for(lab_stack, "globex.sajet.us") == settings.erp_core_public_url

    await start_operation(ctx, tenant_id, "reactivate", "reactivating")
    tenant = await wait_tenant(ctx, tenant_id, "active", "failed")
    assert tenant.status == "active", tenant.last_error
    assert pve_lab.state.containers[link.vmid].status == "running"
    assert _service_for(lab_stack, "globex.sajet.us") == service
    assert (await _edge_login(lab_stack, "globex.sajet.us")).status_code == 200

    await start_operation(ctx, tenant_id, "suspend", "suspending")
    assert (await wait_tenant(ctx, tenant_id, "suspended", "failed")).status == "suspended"
    await start_operation(ctx, tenant_id, "delete", "deleting")
    tenant = await wait_tenant(ctx, tenant_id, "deleted", "failed")
    assert tenant.status == "deleted", tenant.last_error
    assert link.vmid not in pve_lab.state.containers
    released = await _link(ctx, tenant_id)
    assert released.state == "released" and released.released_at is not None
    assert _service_for(lab_stack, "globex.sajet.us") is None
    assert not [
        r for r in lab_stack.cloudflare_state.dns_records.values() if r["name"] == "globex.sajet.us"
    ]
    async with ctx.db.sessionmaker() as session:
        backup = await session.scalar(select(Backup).where(Backup.tenant_id == tenant_id))
    assert backup is not None and backup.status == "succeeded" and backup.kind == "pre-delete"


async def test_two_dedicated_tenants_at_once_get_distinct_vmids(
    ctx: AppContext, worker: None, pve_lab: ProxmoxLab
) -> None:
    await add_plan(ctx)
    first, second = await asyncio.gather(start_create(ctx, "alpha"), start_create(ctx, "beta"))
    for tenant_id in (first, second):
        tenant = await wait_tenant(ctx, tenant_id, "active", "failed")
        assert tenant.status == "active", tenant.last_error
    a, b = await _link(ctx, first), await _link(ctx, second)
    assert a.vmid != b.vmid and a.ip_address != b.ip_address
    assert {a.vmid, b.vmid} <= set(pve_lab.state.containers)
    assert pve_lab.state.containers[a.vmid].config["hostname"] == "odoo-alpha"
    assert pve_lab.state.containers[b.vmid].config["hostname"] == "odoo-beta"


async def test_vmid_used_outside_the_control_plane_is_skipped(
    ctx: AppContext, worker: None, pve_lab: ProxmoxLab, pve: Any
) -> None:
    await add_plan(ctx)
    # A container made by hand holds the first VMID of our range.
    await pve.clone_container("pve1", 9000, 1000, hostname="manual")
    tenant_id = await start_create(ctx, "initech")
    tenant = await wait_tenant(ctx, tenant_id, "active", "failed")
    assert tenant.status == "active", tenant.last_error
    link = await _link(ctx, tenant_id)
    assert link.vmid != 1000
    assert pve_lab.state.containers[1000].config["hostname"] == "manual"


async def test_failed_task_compensates_and_explains(
    ctx: AppContext, worker: None, pve_lab: ProxmoxLab, lab_stack: LabStack
) -> None:
    await add_plan(ctx)
    message = "startup for container '1000' failed: unable to mount rootfs"
    pve_lab.faults.set("pve.start.task", fail_times=1, message=message)
    tenant_id = await start_create(ctx, "umbrella")
    tenant = await wait_tenant(ctx, tenant_id, "failed", "active")
    assert tenant.status == "failed"
    assert tenant.last_error is not None
    assert tenant.last_error.startswith("Falló el paso «Arrancar el contenedor»: Proxmox no pudo")
    assert message in tenant.last_error
    # compensation: the clone is destroyed and the VMID and address are free again
    assert [v for v in pve_lab.state.containers if v != 9000] == []
    link = await _link(ctx, tenant_id)
    assert link.state == "released" and link.released_at is not None
    async with ctx.db.sessionmaker() as session:
        job = await session.scalar(select(Job).where(Job.tenant_id == tenant_id))
        assert job is not None and job.status == "failed"
        steps = {
            s.name: s.status
            for s in await session.scalars(select(JobStep).where(JobStep.job_id == job.id))
        }
    assert steps["reserve"] == "compensated" and steps["start"] == "failed"
    assert _service_for(lab_stack, "umbrella.sajet.us") is None


async def test_no_node_qualifies_fails_with_reasons(
    ctx: AppContext, worker: None, pve_lab: ProxmoxLab
) -> None:
    await add_plan(ctx)
    for node in pve_lab.state.nodes.values():
        node.cpu_load = 0.9
    tenant_id = await start_create(ctx, "hooli")
    tenant = await wait_tenant(ctx, tenant_id, "failed", "active")
    assert tenant.last_error is not None
    assert "Ningún nodo de Proxmox tiene capacidad" in tenant.last_error
    assert "pve1: CPU libre en la última hora 10 % < 50 %" in tenant.last_error
    assert [v for v in pve_lab.state.containers if v != 9000] == []


async def test_busy_node_is_avoided_and_overcommit_is_flagged(
    ctx: AppContext, worker: None, pve_lab: ProxmoxLab, settings: Any
) -> None:
    await add_plan(ctx)
    pve_lab.state.nodes["pve1"].cpu_load = 0.8
    tenant_id = await start_create(ctx, "stark")
    assert (await wait_tenant(ctx, tenant_id, "active", "failed")).status == "active"
    assert (await _link(ctx, tenant_id)).node == "pve2"

    pve_lab.state.nodes["pve2"].cpu_load = 0.95
    ctx.settings.placement_allow_overcommit = True  # the settings the running jobs read
    second = await start_create(ctx, "wayne")
    assert (await wait_tenant(ctx, second, "active", "failed")).status == "active"
    link = await _link(ctx, second)
    assert link.overcommitted and link.node == "pve1"
