"""The steps of the dedicated-tenant operations (registered in ``dedicated.py``).

Each step checks before it acts, so a retry or a resumed job re-runs it safely.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from erp_core.context import AppContext
from erp_core.drivers.base import ClusterManager, ClusterResource, DriverError
from erp_core.drivers.factory import cluster_for, odoo_for
from erp_core.infrastructure.placement import (
    NoCapacity,
    PlanResources,
    Thresholds,
    choose_node,
    first_free_ip,
    first_free_vmid,
    live_loads,
)
from erp_core.infrastructure.service import node_tunnel
from erp_core.models import DedicatedContainer, LxcContainer, OdooServer, Plan, Tenant
from erp_core.provisioning import operations as shared
from erp_core.runner.engine import StepFailed, StepRun, StepSkipped
from erp_core.security import generate_password

log = logging.getLogger(__name__)
RESERVE_LOCK = (7273, 1)
FALLBACK_RESOURCES = PlanResources(cores=2, ram_mb=4096, disk_gb=40)


async def plan_resources(session: AsyncSession, plan_code: str) -> PlanResources:
    plan = await session.scalar(select(Plan).where(Plan.code == plan_code))
    if plan is None:
        return FALLBACK_RESOURCES
    return PlanResources(cores=plan.cpu_cores, ram_mb=plan.ram_mb, disk_gb=plan.disk_gb)


# --- helpers --------------------------------------------------------------------------------


def container_url(ctx: AppContext, ip: str) -> str:
    return f"http://{ip}:{ctx.settings.odoo_container_port}"


def _cluster(run: StepRun) -> ClusterManager:
    cluster = cluster_for(run.ctx)
    if cluster is None:
        raise StepFailed(
            "Proxmox no está configurado (PROXMOX_HOST, PROXMOX_TOKEN_ID, PROXMOX_TOKEN_SECRET)."
        )
    return cluster


async def load_tenant(run: StepRun) -> Tenant:
    async with run.session() as session:
        tenant = await session.get(Tenant, run.tenant_id)
        if tenant is None:
            raise StepFailed("El tenant ya no existe.")
        session.expunge(tenant)
        return tenant


async def _link(run: StepRun) -> DedicatedContainer | None:
    async with run.session() as session:
        link = await session.scalar(
            select(DedicatedContainer).where(
                DedicatedContainer.tenant_id == run.tenant_id,
                DedicatedContainer.released_at.is_(None),
            )
        )
        if link is not None:
            session.expunge(link)
        return link


async def _require_link(run: StepRun) -> DedicatedContainer:
    link = await _link(run)
    if link is None:
        raise StepSkipped("El tenant no tiene contenedor dedicado (ya se liberó).")
    return link


async def _find(cluster: ClusterManager, vmid: int) -> ClusterResource | None:
    for resource in await cluster.cluster_resources("vm"):
        if resource.vmid == vmid:
            return resource
    return None


def _hostname(subdomain: str) -> str:
    return f"odoo-{subdomain}"[:63].rstrip("-")


# --- create ---------------------------------------------------------------------------------


async def reserve(run: StepRun) -> dict[str, Any]:
    """Choose a node on live load and reserve a VMID and an address, under one lock."""
    link = await _link(run)
    if link is not None:
        return {"node": link.node, "vmid": link.vmid, "ip": link.ip_address}
    settings = run.ctx.settings
    if settings.proxmox_template_vmid is None or not settings.proxmox_ip_pool:
        raise StepFailed("Faltan PROXMOX_TEMPLATE_VMID o PROXMOX_IP_POOL en los ajustes.")
    tenant = await load_tenant(run)
    cluster = _cluster(run)
    try:
        async with run.session() as session:
            await session.execute(select(func.pg_advisory_xact_lock(*RESERVE_LOCK)))
            # a plan move sizes the container for the plan it moves to, not the current one
            plan = await plan_resources(session, str(run.params.get("plan_to") or tenant.plan))
            rows = await session.execute(
                select(DedicatedContainer.node, func.sum(DedicatedContainer.ram_mb))
                .where(DedicatedContainer.state == "reserved")
                .group_by(DedicatedContainer.node)
            )
            reserved = {node: int(mb or 0) * 1024**2 for node, mb in rows.all()}
            limits = Thresholds(
                settings.placement_min_ram_free_pct,
                settings.placement_min_cpu_idle_pct,
                settings.placement_allow_overcommit,
            )
            try:
                placement = choose_node(await live_loads(cluster, reserved), plan, limits)
            except NoCapacity as exc:
                log.warning("no node qualifies for a dedicated container")
                raise StepFailed(exc.message) from exc
            vmid = await _free_vmid(session, run.ctx, cluster)
            ip = await _free_ip(session, run.ctx)
            link = DedicatedContainer(
                tenant_id=tenant.id,
                node=placement.node,
                vmid=vmid,
                ip_address=ip,
                hostname=_hostname(tenant.subdomain),
                cpu_cores=plan.cores,
                ram_mb=plan.ram_mb,
                disk_gb=plan.disk_gb,
                state="reserved",
                overcommitted=placement.overcommitted,
            )
            session.add(link)
    finally:
        await cluster.aclose()
    if placement.overcommitted:
        await run.log(
            "warning", f"Ningún nodo cumple los umbrales; se sobrecompromete {placement.node}."
        )
    await run.log("info", f"Nodo {placement.node}, VMID {vmid}, dirección {ip}.")
    return {
        "node": placement.node,
        "vmid": vmid,
        "ip": ip,
        "overcommitted": placement.overcommitted,
    }


async def _free_vmid(session: AsyncSession, ctx: AppContext, cluster: ClusterManager) -> int:
    """Lowest VMID that neither the cluster nor a live reservation uses (caller holds the lock)."""
    used = {r.vmid for r in await cluster.cluster_resources("vm") if r.vmid is not None}
    used |= set(
        await session.scalars(
            select(DedicatedContainer.vmid).where(DedicatedContainer.released_at.is_(None))
        )
    )
    used |= set(await session.scalars(select(LxcContainer.vmid)))
    vmid = first_free_vmid(ctx.settings.proxmox_vmid_min, ctx.settings.proxmox_vmid_max, used)
    if vmid is None:
        raise StepFailed("No quedan VMID libres en el rango PROXMOX_VMID_MIN–PROXMOX_VMID_MAX.")
    return vmid


async def _free_ip(session: AsyncSession, ctx: AppContext) -> str:
    used = set(
        await session.scalars(
            select(DedicatedContainer.ip_address).where(DedicatedContainer.released_at.is_(None))
        )
    )
    used |= {ip for ip in await session.scalars(select(LxcContainer.ip_address)) if ip}
    assert ctx.settings.proxmox_ip_pool
    try:
        ip = first_free_ip(ctx.settings.proxmox_ip_pool, used)
    except ValueError as exc:
        raise StepFailed(str(exc)) from exc
    if ip is None:
        raise StepFailed("No quedan direcciones libres en PROXMOX_IP_POOL.")
    return ip


async def release(run: StepRun) -> None:
    """Undo of the reservation: destroy whatever container carries our VMID and hostname,
    then free the VMID and the address."""
    link = await _link(run)
    if link is None:
        return
    await _destroy_container(run, link)
    await _release_link(run, link)


async def _destroy_container(run: StepRun, link: DedicatedContainer) -> bool:
    cluster = _cluster(run)
    try:
        found = await _find(cluster, link.vmid)
        if found is None:
            return False
        if found.name != link.hostname:
            await run.log(
                "warning", f"El VMID {link.vmid} pertenece a otro contenedor; no se toca."
            )
            return False
        if found.status == "running":
            await cluster.stop_container(found.node, link.vmid)
        await cluster.destroy_container(found.node, link.vmid, purge=True)
    finally:
        await cluster.aclose()
    await run.log("info", f"Contenedor {link.vmid} destruido en {found.node}.")
    return True


async def _release_link(run: StepRun, link: DedicatedContainer) -> None:
    async with run.session() as session:
        row = await session.get(DedicatedContainer, link.id)
        assert row is not None
        row.state, row.released_at = "released", func.now()
        if row.odoo_server_id is not None:
            server = await session.get(OdooServer, row.odoo_server_id)
            if server is not None:
                server.state = "down"


async def clone(run: StepRun) -> dict[str, Any]:
    """Full clone of the golden template; a VMID taken behind our back gets a new one."""
    settings = run.ctx.settings
    assert settings.proxmox_template_vmid is not None
    template = settings.proxmox_template_vmid
    cluster = _cluster(run)
    try:
        for _attempt in range(3):
            link = await _require_link(run)
            found = await _find(cluster, link.vmid)
            if found is not None and found.name == link.hostname and found.node == link.node:
                return {"vmid": link.vmid, "node": link.node, "cloned": "earlier"}
            source = await _find(cluster, template)
            if source is None:
                raise StepFailed(f"La plantilla {template} no existe en el clúster.")
            if found is None:
                try:
                    await cluster.clone_container(
                        source.node,
                        template,
                        link.vmid,
                        hostname=link.hostname,
                        full=settings.proxmox_full_clone,
                        storage=settings.proxmox_storage,
                        target_node=link.node,
                    )
                    await run.log("info", f"Plantilla {template} clonada como {link.vmid}.")
                    return {"vmid": link.vmid, "node": link.node, "cloned": "now"}
                except DriverError as exc:
                    if exc.vendor_code != "vmid_exists":
                        raise
            await run.log("warning", f"El VMID {link.vmid} ya está en uso; se reserva otro.")
            await _move_vmid(run, cluster, link)
    finally:
        await cluster.aclose()
    raise StepFailed("No se pudo reservar un VMID libre tras varios intentos.")


async def _move_vmid(run: StepRun, cluster: ClusterManager, link: DedicatedContainer) -> None:
    async with run.session() as session:
        await session.execute(select(func.pg_advisory_xact_lock(*RESERVE_LOCK)))
        row = await session.get(DedicatedContainer, link.id)
        assert row is not None
        row.vmid = await _free_vmid(session, run.ctx, cluster)


async def configure(run: StepRun) -> dict[str, Any]:
    link = await _require_link(run)
    tenant = await load_tenant(run)
    settings = run.ctx.settings
    net0 = f"name=eth0,bridge={settings.proxmox_bridge},ip={link.ip_address}/{settings.proxmox_ip_prefix}"
    if settings.proxmox_gateway:
        net0 += f",gw={settings.proxmox_gateway}"
    cluster = _cluster(run)
    try:
        await cluster.configure_container(
            link.node,
            link.vmid,
            cores=link.cpu_cores,
            memory_mb=link.ram_mb,
            net0=net0,
            onboot=True,
            description=f"Jeturing Core: tenant {tenant.subdomain} (id {tenant.id})",
        )
        config = await cluster.container_config(link.node, link.vmid)
        match = re.search(r"size=(\d+)G", config.get("rootfs", ""))
        current = int(match.group(1)) if match else 0
        if current < link.disk_gb:
            await cluster.resize_disk(link.node, link.vmid, disk="rootfs", size_gb=link.disk_gb)
    finally:
        await cluster.aclose()
    return {"cores": link.cpu_cores, "ram_mb": link.ram_mb, "disk_gb": link.disk_gb, "net0": net0}


async def start(run: StepRun) -> dict[str, Any]:
    link = await _require_link(run)
    cluster = _cluster(run)
    try:
        found = await _find(cluster, link.vmid)
        if found is None:
            raise StepSkipped(f"El contenedor {link.vmid} ya no existe.")
        if found.status != "running":
            await cluster.start_container(found.node, link.vmid)
    finally:
        await cluster.aclose()
    return {"running": True}


async def wait_odoo(run: StepRun) -> dict[str, Any]:
    """Poll the container's ``/web/health`` until Odoo answers (bounded by settings)."""
    link = await _require_link(run)
    settings = run.ctx.settings
    probe = OdooServer(
        url=container_url(run.ctx, link.ip_address),
        master_password_enc=run.ctx.secret_box.encrypt(""),
    )
    odoo = odoo_for(run.ctx, probe)
    deadline = time.monotonic() + settings.odoo_container_start_timeout_seconds
    try:
        while True:
            health = await odoo.health(management=False)  # liveness: no master password yet
            if health["status"] == "ok":
                return {"version": health["version"], "latency_ms": health["latency_ms"]}
            if time.monotonic() >= deadline:
                raise StepFailed(
                    f"Odoo no respondió en {probe.url} tras "
                    f"{settings.odoo_container_start_timeout_seconds:.0f} s: {health['detail']}"
                )
            await asyncio.sleep(
                min(2.0, max(0.1, settings.odoo_container_start_timeout_seconds / 50))
            )
    finally:
        await odoo.aclose()


async def secure_odoo(run: StepRun) -> dict[str, Any]:
    """Register the container as this tenant's Odoo server and replace the template's master
    password with a random one of its own (written encrypted before it is used)."""
    return await register_container(run, adopt=True)


async def register_container(run: StepRun, *, adopt: bool) -> dict[str, Any]:
    """:func:`secure_odoo`; ``adopt=False`` (a plan move) leaves the tenant on its current
    server until the move switches it over, so a failed move never strands it."""
    settings = run.ctx.settings
    if not settings.odoo_template_master_password:
        raise StepFailed("ODOO_TEMPLATE_MASTER_PASSWORD no está configurada.")
    link = await _require_link(run)
    box = run.ctx.secret_box
    url = container_url(run.ctx, link.ip_address)
    async with run.session() as session:
        row = await session.get(DedicatedContainer, link.id, with_for_update=True)
        assert row is not None
        if row.master_password_enc is None:
            row.master_password_enc = box.encrypt(generate_password(32))
        tunnel = await node_tunnel(session, run.ctx, row.node)
        server = await session.get(OdooServer, row.odoo_server_id) if row.odoo_server_id else None
        if server is None:
            server = OdooServer(
                name=f"ct{row.vmid}-t{row.tenant_id}",
                url=url,
                master_password_enc=box.encrypt(settings.odoo_template_master_password),
                capacity=0,
                state="active",
                mode="rpc",
                is_default=False,
            )
            session.add(server)
            await session.flush()
            row.odoo_server_id = server.id
        server.url, server.tunnel_id = url, tunnel
        if adopt:
            tenant = await session.get(Tenant, row.tenant_id)
            assert tenant is not None
            tenant.odoo_server_id = server.id
        new_enc, current_enc, server_id = (
            row.master_password_enc,
            server.master_password_enc,
            server.id,
        )
    if current_enc != new_enc:
        await _rotate_master(run, server_id, current_enc, new_enc)
    return {"odoo_server_id": server_id, "url": url, "tunnel_id": tunnel}


async def _rotate_master(run: StepRun, server_id: int, current_enc: str, new_enc: str) -> None:
    new_password = run.ctx.secret_box.decrypt(new_enc)
    async with run.session() as session:
        server = await session.get(OdooServer, server_id)
        assert server is not None
        session.expunge(server)
    odoo = odoo_for(run.ctx, server)
    try:
        await odoo.change_master_password(new_password)
    except DriverError as exc:
        if exc.vendor_code != "odoo.exceptions.AccessDenied":
            raise
        server.master_password_enc = new_enc  # a crash after Odoo changed it: already rotated?
        retry = odoo_for(run.ctx, server)
        try:
            await retry.change_master_password(new_password)
        except DriverError:
            raise StepFailed(
                "Odoo rechazó la contraseña maestra de la plantilla "
                "(revise ODOO_TEMPLATE_MASTER_PASSWORD)."
            ) from exc
        finally:
            await retry.aclose()
    finally:
        await odoo.aclose()
    async with run.session() as session:
        row = await session.get(OdooServer, server_id)
        assert row is not None
        row.master_password_enc = new_enc
    await run.log("info", "Contraseña maestra de Odoo sustituida por una propia del contenedor.")


async def set_link_state(run: StepRun, state: str, server_state: str | None = None) -> None:
    async with run.session() as session:
        row = await session.scalar(
            select(DedicatedContainer).where(
                DedicatedContainer.tenant_id == run.tenant_id,
                DedicatedContainer.released_at.is_(None),
            )
        )
        if row is None:
            return
        row.state = state
        if server_state and row.odoo_server_id is not None:
            server = await session.get(OdooServer, row.odoo_server_id)
            if server is not None:
                server.state = server_state


async def stop(run: StepRun) -> dict[str, Any]:
    """Clean shutdown (Proxmox force-stops after the timeout); nothing to do if stopped."""
    link = await _require_link(run)
    cluster = _cluster(run)
    try:
        found = await _find(cluster, link.vmid)
        if found is None:
            raise StepSkipped(f"El contenedor {link.vmid} ya no existe.")
        if found.status == "running":
            await cluster.shutdown_container(found.node, link.vmid, timeout=60)
    finally:
        await cluster.aclose()
    return {"stopped": True}


async def backup(run: StepRun) -> dict[str, Any]:
    await _require_link(run)
    return await shared.backup_before_delete(run)


async def unroute(run: StepRun) -> dict[str, Any]:
    tenant = await load_tenant(run)
    if tenant.odoo_server_id is None:
        raise StepSkipped("El tenant nunca llegó a publicarse.")
    return await shared.unroute(run)


async def destroy(run: StepRun) -> dict[str, Any]:
    """Destroy the container (purge) and free its VMID and address — never a database that
    has no verified backup."""
    link = await _require_link(run)
    if "backup_id" not in run.outputs.get("backup", {}):
        await _refuse_if_database_exists(run)
    destroyed = await _destroy_container(run, link)
    await _release_link(run, link)
    return {"vmid": link.vmid, "destroyed": destroyed}


async def _refuse_if_database_exists(run: StepRun) -> None:
    tenant = await load_tenant(run)
    if tenant.odoo_server_id is None:
        return
    async with run.session() as session:
        server = await session.get(OdooServer, tenant.odoo_server_id)
        if server is None:
            return
        session.expunge(server)
    odoo = odoo_for(run.ctx, server)
    try:
        exists = await odoo.database_exists(tenant.subdomain)
    except DriverError as exc:
        raise StepFailed(
            f"No se puede comprobar si la base de datos sigue en el contenedor: {exc.message}"
        ) from exc
    finally:
        await odoo.aclose()
    if exists:
        raise StepFailed(
            "No se destruye un contenedor con base de datos sin un respaldo verificado."
        )
