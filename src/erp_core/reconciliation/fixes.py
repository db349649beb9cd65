"""Fixes: each an ordinary job (``jobs`` row, ordered idempotent steps, deferred after the
request commits). Every step re-reads the current state before acting, so a fix that lost
a race with a tenant operation does nothing rather than undo it. Nothing here runs on its
own: an operator asks for each fix. An orphan database is dropped only after a verified
backup of it is in the backup store.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import select, update

from erp_core.backups.core import verify_object
from erp_core.drivers.base import DriverError
from erp_core.drivers.factory import cloudflare_for, cluster_for, gateway_for, odoo_for, store_for
from erp_core.drivers.store import StoreError
from erp_core.drivers.stripe import StripeGateway, cancel_subscription, retrieve_subscription
from erp_core.models import DedicatedContainer, Job, OdooServer, ReconciliationFinding, Tenant
from erp_core.provisioning import operations as tenant_ops
from erp_core.provisioning.backup import BackupInvalid
from erp_core.provisioning.naming import suspended_database_name
from erp_core.reconciliation import ORPHAN_BACKUP_PREFIX
from erp_core.reconciliation.checks import odoo as odoo_check
from erp_core.reconciliation.checks import proxmox as proxmox_check
from erp_core.reconciliation.checks import routing
from erp_core.reconciliation.checks import stripe as stripe_check
from erp_core.runner.engine import Operation, Step, StepFailed, StepRun, StepSkipped


def _now() -> datetime:
    return datetime.now(UTC)


async def _finding(run: StepRun) -> ReconciliationFinding:
    async with run.session() as session:
        finding = await session.get(ReconciliationFinding, int(run.params["finding_id"]))
        if finding is None:
            raise StepFailed("El desajuste ya no existe.")
        session.expunge(finding)
        return finding


async def mark_fixed(run: StepRun) -> None:
    """The fix verified its effect: close the finding now (the next audit confirms)."""
    async with run.session() as session:
        await session.execute(
            update(ReconciliationFinding)
            .where(
                ReconciliationFinding.id == int(run.params["finding_id"]),
                ReconciliationFinding.resolved_at.is_(None),
            )
            .values(resolved_at=_now())
        )
    # cycle: reconciliation.service starts these fix jobs (FIX_FOR_KIND, AUDIT).
    from erp_core.reconciliation.service import findings_changed

    await findings_changed(run.ctx)


async def fix_failed(run: StepRun, reason: str) -> None:
    """The finding stays open; the job's error says why."""


# --- orphan database: verified backup, then drop ------------------------------------------


async def _orphan_server(run: StepRun) -> tuple[OdooServer, str]:
    finding = await _finding(run)
    async with run.session() as session:
        server = await session.get(OdooServer, int(finding.detail["server_id"]))
        if server is None:
            raise StepFailed("El servidor Odoo del desajuste ya no existe.")
        database = str(finding.detail["database"])
        live = await session.scalars(
            select(Tenant.subdomain).where(
                Tenant.odoo_server_id == server.id, Tenant.status != "deleted"
            )
        )
        # Under either of its names (a suspended tenant's database is renamed).
        if any(database in (sub, suspended_database_name(sub)) for sub in live):
            raise StepFailed(f"La base de datos «{database}» ya pertenece a un tenant; no se toca.")
        session.expunge(server)
    return server, database


async def backup_orphan(run: StepRun) -> dict[str, Any]:
    server, database = await _orphan_server(run)
    odoo = odoo_for(run.ctx, server)
    store = store_for(run.ctx.settings)
    key = f"{ORPHAN_BACKUP_PREFIX}{server.id}/{database}-job{run.job_id}.zip"
    try:
        if not await odoo.database_exists(database):
            raise StepSkipped("La base de datos ya no existe; no hay nada que respaldar.")
        async with odoo.backup_stream(database) as chunks:
            put = await store.put(key, chunks)
        await verify_object(store, key, put.sha256)
    except (StoreError, BackupInvalid) as exc:
        raise StepFailed(f"El respaldo previo no es válido: {exc.message}") from exc
    finally:
        await odoo.aclose()
    await run.log("info", f"Respaldo verificado de «{database}»: {key} ({put.size} bytes).")
    return {"key": key, "size": put.size, "sha256": put.sha256, "store": store.name}


async def drop_orphan(run: StepRun) -> dict[str, Any]:
    server, database = await _orphan_server(run)
    backup = run.outputs.get("backup", {})
    odoo = odoo_for(run.ctx, server)
    try:
        if not await odoo.database_exists(database):
            return {"dropped": False}
        if "key" not in backup:
            raise StepFailed("No se elimina una base de datos sin un respaldo verificado.")
        await odoo.drop_database(database)
    finally:
        await odoo.aclose()
    await run.log("info", f"Base de datos huérfana «{database}» eliminada de {server.name}.")
    return {"dropped": True}


# --- routing -----------------------------------------------------------------------------


async def reroute(run: StepRun) -> dict[str, Any]:
    """Recreate or correct the tenant's route and CNAME from its current state."""
    if run.tenant_id is None:
        raise StepFailed("El desajuste no indica el tenant.")
    async with run.session() as session:
        tenant = await session.get(Tenant, run.tenant_id)
        status = tenant.status if tenant else None
    if status == "active":
        return await tenant_ops.route_active(run)
    if status == "suspended":
        return await tenant_ops.route_suspended(run)
    raise StepFailed("El tenant ya no está activo ni suspendido; no se publica.")


async def _still_orphan_host(run: StepRun, hostname: str, tunnel_id: str | None) -> bool:
    """True when no live tenant routed through ``tunnel_id`` owns ``hostname`` now."""
    label = hostname.removesuffix("." + run.ctx.settings.base_domain.lower())
    async with run.session() as session:
        row = (
            await session.execute(
                select(Tenant.id, OdooServer.tunnel_id)
                .join(OdooServer, OdooServer.id == Tenant.odoo_server_id, isouter=True)
                .where(Tenant.subdomain == label, Tenant.status != "deleted")
            )
        ).first()
    if row is None:
        return True
    return tunnel_id is not None and row[1] != tunnel_id


async def remove_orphan_rule(run: StepRun) -> dict[str, Any]:
    finding = await _finding(run)
    tunnel_id, hostname = str(finding.detail["tunnel_id"]), str(finding.detail["hostname"])
    if not await _still_orphan_host(run, hostname, tunnel_id):
        raise StepFailed(f"{hostname} pertenece ahora a un tenant en ese túnel; no se retira.")
    router = cloudflare_for(run.ctx)
    if router is None:
        raise StepFailed("Cloudflare no está configurado.")
    try:
        removed = await tenant_ops.with_tunnel_lock(
            run, tunnel_id, lambda: router.remove_route(tunnel_id, hostname)
        )
    finally:
        await router.aclose()
    await run.log("info", f"Regla de {hostname} {'retirada' if removed else 'ya no estaba'}.")
    return {"removed": bool(removed)}


async def remove_orphan_record(run: StepRun) -> dict[str, Any]:
    finding = await _finding(run)
    hostname = str(finding.detail["hostname"])
    if not await _still_orphan_host(run, hostname, None):
        raise StepFailed(f"{hostname} pertenece ahora a un tenant; el registro no se borra.")
    router = cloudflare_for(run.ctx)
    if router is None:
        raise StepFailed("Cloudflare no está configurado.")
    try:
        removed = await router.remove_cname(hostname)
    finally:
        await router.aclose()
    await run.log("info", f"Registro DNS {hostname} {'borrado' if removed else 'ya no estaba'}.")
    return {"removed": removed}


# --- Stripe ------------------------------------------------------------------------------


async def cancel_stray_subscription(run: StepRun) -> dict[str, Any]:
    finding = await _finding(run)
    sub_id = str(finding.detail["subscription_id"])
    async with run.session() as session:
        tenant = await session.get(Tenant, finding.tenant_id) if finding.tenant_id else None
        if tenant is not None and tenant.status not in ("deleted", "suspended"):
            raise StepFailed(
                f"El tenant «{tenant.subdomain}» volvió a estar activo; no se cancela la "
                "suscripción."
            )
    gateway = gateway_for(run.ctx)
    if gateway is None:
        raise StepFailed("Stripe no está configurado.")
    stripe_gateway = cast(StripeGateway, gateway)
    try:
        current = await retrieve_subscription(stripe_gateway, sub_id)
        if current.get("status") == "canceled":
            return {"canceled": False, "status": "canceled"}
        result = await cancel_subscription(stripe_gateway, sub_id)
    except DriverError:
        raise
    finally:
        await gateway.aclose()
    await run.log("info", f"Suscripción {sub_id} cancelada en Stripe.")
    return {"canceled": True, "status": str(result.get("status"))}


# --- Proxmox ------------------------------------------------------------------------------


async def destroy_orphan_container(run: StepRun) -> dict[str, Any]:
    """Stop and destroy a container no live dedicated tenant uses (re-checked first)."""
    finding = await _finding(run)
    vmid = int(finding.detail["vmid"])
    async with run.session() as session:
        in_use = await session.scalar(
            select(DedicatedContainer.id)
            .join(Tenant, Tenant.id == DedicatedContainer.tenant_id)
            .where(
                DedicatedContainer.vmid == vmid,
                DedicatedContainer.released_at.is_(None),
                Tenant.status != "deleted",
            )
        )
    if in_use is not None:
        raise StepFailed(f"El contenedor {vmid} pertenece ahora a un tenant; no se destruye.")
    cluster = cluster_for(run.ctx)
    if cluster is None:
        raise StepFailed("Proxmox no está configurado.")
    try:
        found = next(
            (r for r in await cluster.cluster_resources("vm") if r.vmid == vmid and not r.template),
            None,
        )
        if found is None:
            return {"destroyed": False}
        if found.status == "running":
            await cluster.stop_container(found.node, vmid)
        await cluster.destroy_container(found.node, vmid)
    finally:
        await cluster.aclose()
    await run.log("info", f"Contenedor huérfano {vmid} destruido en {found.node}.")
    return {"destroyed": True, "node": found.node}


def _fix(kind: str, label: str, *steps: Step) -> Operation:
    return Operation(
        kind=kind,
        label=label,
        steps=steps,
        compensate_on_failure=False,
        on_success=mark_fixed,
        on_failure=fix_failed,
    )


DROP_ORPHAN_DATABASE = _fix(
    "fix_orphan_database",
    "Corregir: eliminar base de datos huérfana",
    Step("backup", "Respaldo verificado de la base de datos", backup_orphan),
    Step("drop", "Eliminar la base de datos", drop_orphan),
)
REROUTE = _fix(
    "fix_route",
    "Corregir: restaurar la ruta y el DNS del tenant",
    Step("route", "Publicar en Cloudflare (túnel y DNS)", reroute),
)
REMOVE_RULE = _fix(
    "fix_orphan_ingress",
    "Corregir: retirar regla de túnel huérfana",
    Step("remove_rule", "Retirar la regla del túnel", remove_orphan_rule),
)
REMOVE_RECORD = _fix(
    "fix_orphan_dns",
    "Corregir: borrar registro DNS huérfano",
    Step("remove_record", "Borrar el registro DNS", remove_orphan_record),
)
CANCEL_SUBSCRIPTION = _fix(
    "fix_subscription",
    "Corregir: cancelar suscripción de un tenant inactivo",
    Step("cancel", "Cancelar la suscripción en Stripe", cancel_stray_subscription),
)

DESTROY_CONTAINER = _fix(
    "fix_orphan_container",
    "Corregir: destruir contenedor huérfano",
    Step("destroy", "Detener y destruir el contenedor", destroy_orphan_container),
)

# --- the audit itself, when an operator asks for it -------------------------------------


async def audit_step(run: StepRun) -> dict[str, Any]:
    """Run the audit; the per-source summary is the step's output (read by the API)."""
    from fastapi.encoders import jsonable_encoder

    # cycle: reconciliation.service starts the audit job defined here.
    from erp_core.reconciliation.service import run_audit

    result = await run_audit(run.ctx)
    for source in result.sources:
        level = "warning" if source.status == "failed" else "info"
        await run.log(
            level,
            f"{source.source}: {source.status}, {source.observed} vistos, "
            f"{source.opened} nuevos, {source.resolved} resueltos"
            + (f" ({source.error})" if source.error else ""),
        )
    summary: dict[str, Any] = jsonable_encoder(result.as_dict())
    return summary


async def _nothing(run: StepRun) -> None:
    """The audit job has no side effect to record beyond its findings."""


async def _nothing_failed(run: StepRun, reason: str) -> None:
    """A failed audit leaves findings as they were; the job's error says why."""


AUDIT = Operation(
    kind="reconciliation_audit",
    label="Auditoría de desajustes",
    steps=(Step("audit", "Comparar con los proveedores", audit_step),),
    compensate_on_failure=False,
    on_success=_nothing,
    on_failure=_nothing_failed,
)

FIX_FOR_KIND: dict[str, Operation] = {
    proxmox_check.ORPHAN_CONTAINER: DESTROY_CONTAINER,
    odoo_check.ORPHAN_DATABASE: DROP_ORPHAN_DATABASE,
    routing.MISSING_INGRESS: REROUTE,
    routing.WRONG_SERVICE: REROUTE,
    routing.MISSING_DNS: REROUTE,
    routing.WRONG_DNS_TARGET: REROUTE,
    routing.ORPHAN_INGRESS: REMOVE_RULE,
    routing.ORPHAN_DNS: REMOVE_RECORD,
    stripe_check.CHARGING_DELETED: CANCEL_SUBSCRIPTION,
}
TENANT_SCOPED = frozenset({REROUTE.kind})
"""Fix kinds that run as the tenant's one open job (serialised with its operations)."""

__all__ = ["FIX_FOR_KIND", "TENANT_SCOPED", "Job"]

# Registered by erp_core.composition.
OPERATIONS = (AUDIT, *dict.fromkeys(FIX_FOR_KIND.values()))
