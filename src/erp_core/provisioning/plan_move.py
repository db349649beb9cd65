"""A plan change between shared and dedicated hosting: a backup → restore move, as a job.

The customer is told the downtime up front and confirms (see ``portal/billing.py``); then:

1. the target is made ready while the tenant keeps running: a dedicated Proxmox container
   through the dedicated create steps (reserve, clone, configure, start, wait for Odoo,
   register), or the shared Odoo server with the most room;
2. the downtime starts: the current database is locked (renamed to its ``__susp_`` name, so
   nobody writes to it any more), backed up and verified, and restored on the target;
3. the tenant is switched to the target (its server, its route and DNS through Cloudflare,
   its custom domains) and its public URL is verified over HTTP; the downtime ends;
4. only then Stripe's price is changed, and only then the old database (or container) is
   removed — it was kept locked until the new home had answered.

Compensation (any failure before step 3 has verified): every undo runs in reverse, so the
tenant ends where it was, unlocked and routed as before, and the target's copy and any new
container are removed; nothing is lost, the old database was never dropped. Once the new
home has answered over HTTP, the move is never rolled back (the customer may already have
written there): a later failure (Stripe, clean-up) leaves the tenant running on the new
server with the reason shown, for an operator.

Stripe is asked only after the move succeeded: see docs/plan-moves.md for why the price
change follows the move instead of charging first and refunding on failure.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select

from erp_core.backups.core import take_verified_backup, verify_object
from erp_core.dashboard.cache_hooks import tenants_changed
from erp_core.domains import steps as domain_steps
from erp_core.drivers.base import OdooDatabaseManager
from erp_core.drivers.factory import (
    cloudflare_for,
    gateway_for,
    odoo_for,
    public_hostname,
    store_for,
)
from erp_core.drivers.store import StoreError
from erp_core.models import Backup, OdooServer, Subscription, Tenant, TenantDeployment
from erp_core.plans import MOVE_DOWNTIME_MINUTES
from erp_core.portal.plan_mail import queue_plan_changed
from erp_core.provisioning import dedicated_steps as dedicated
from erp_core.provisioning import operations as shared
from erp_core.provisioning.backup import BackupInvalid
from erp_core.provisioning.naming import database_candidates
from erp_core.runner.engine import Operation, Step, StepFailed, StepRun, StepSkipped
from erp_core.tenants.credentials import service_credential

log = logging.getLogger(__name__)
TO_DEDICATED = "move_to_dedicated"
TO_SHARED = "move_to_shared"
MOVE_KINDS = (TO_DEDICATED, TO_SHARED)
BACKUP_KIND = "pre-move"
DOWNTIME_MINUTES = MOVE_DOWNTIME_MINUTES  # stated to the customer before they confirm


# --- helpers ---------------------------------------------------------------------------------


def _settled(run: StepRun) -> bool:
    """The new home answered over HTTP: from here on the move is never undone."""
    return "verify_http" in run.outputs


def _target_id(run: StepRun) -> int:
    target = run.outputs.get("target", {}).get("odoo_server_id")
    if target is None:
        raise StepFailed("El servidor de destino no está registrado.")
    return int(target)


async def _server(run: StepRun, server_id: int) -> OdooServer:
    async with run.session() as session:
        server = await session.get(OdooServer, server_id)
        if server is None:
            raise StepFailed(f"El servidor Odoo {server_id} ya no existe.")
        session.expunge(server)
        return server


async def _odoo(run: StepRun, server_id: int) -> tuple[OdooServer, OdooDatabaseManager]:
    server = await _server(run, server_id)
    return server, odoo_for(run.ctx, server)


# --- target ----------------------------------------------------------------------------------


async def pick_shared_server(run: StepRun) -> dict[str, Any]:
    """The shared server with the most room (the tenant stays on its container meanwhile)."""
    async with run.session() as session:
        chosen = await shared.roomiest_server(session, int(run.tenant_id or 0))
        name, server_id = chosen.name, chosen.id
    await run.log("info", f"Servidor compartido de destino: {name}.")
    return {"odoo_server_id": server_id, "name": name}


async def register_target(run: StepRun) -> dict[str, Any]:
    """Register the new container as an Odoo server without moving the tenant to it yet."""
    registered = await dedicated.register_container(run, adopt=False)
    return {**registered, "name": f"contenedor {registered['url']}"}


# --- downtime: lock, back up, restore, check ---------------------------------------------


async def unlock_source(run: StepRun) -> None:
    """Undo of the lock: the tenant's database takes its own name back (Odoo serves it)."""
    if _settled(run):
        return
    await shared.unlock_database(run)


async def backup_source(run: StepRun) -> dict[str, Any]:
    """A verified backup of the locked database: what the target is restored from."""
    tenant, _server_row, odoo = await shared.tenant_odoo(run)
    try:
        database = await shared.locate_database(odoo, tenant)
        if database is None:
            raise StepFailed(f"La base de datos «{tenant.subdomain}» no existe en Odoo.")
        taken = await take_verified_backup(run, odoo, tenant, BACKUP_KIND, database)
    finally:
        await odoo.aclose()
    return taken.as_output()


async def restore_on_target(run: StepRun) -> dict[str, Any]:
    """Load the verified backup on the target under the tenant's own database name (the
    same database: ``copy=False`` keeps its uuid, users and service user)."""
    tenant = await shared.load_tenant(run)
    backup_id = int(run.outputs["backup"]["backup_id"])
    async with run.session() as session:
        row = await session.get(Backup, backup_id)
        if row is None or row.status != "succeeded" or not row.location:
            raise StepFailed("El respaldo del traslado ya no está disponible.")
        session.expunge(row)
    store = store_for(run.ctx.settings, row.store)
    server, odoo = await _odoo(run, _target_id(run))
    try:
        await verify_object(store, row.location, row.sha256)
        if await odoo.database_exists(tenant.subdomain):
            await run.log("info", "Se descarta la copia de un intento anterior en el destino.")
            await odoo.drop_database(tenant.subdomain)
        await run.log("info", f"Cargando el respaldo {row.id} en {server.name}…")
        async with store.local_copy(row.location) as path:
            await odoo.restore_from_file(tenant.subdomain, path, copy=False, neutralize=False)
    except BackupInvalid as exc:
        raise StepFailed(f"El respaldo está dañado y no se restaura: {exc.message}") from exc
    except StoreError as exc:
        raise StepFailed(exc.message) from exc
    finally:
        await odoo.aclose()
    return {"database": tenant.subdomain, "server": server.name, "backup_id": backup_id}


async def drop_target_copy(run: StepRun) -> None:
    """Undo of the restore: the target's copy goes (the locked original is untouched)."""
    if _settled(run):
        return
    tenant = await shared.load_tenant(run)
    _server_row, odoo = await _odoo(run, _target_id(run))
    try:
        if await odoo.database_exists(tenant.subdomain):
            await odoo.drop_database(tenant.subdomain)
    finally:
        await odoo.aclose()


async def check_target(run: StepRun) -> dict[str, Any]:
    """The restored database opens on the target: listed, and the tenant's service user (or
    at least Odoo's login page) answers there."""
    tenant = await shared.load_tenant(run)
    _server_row, odoo = await _odoo(run, _target_id(run))
    try:
        if not await odoo.database_exists(tenant.subdomain):
            raise StepFailed("El destino no lista la base de datos restaurada.")
        credential = service_credential(run.ctx, tenant)
        if credential is not None:
            uid = await odoo.verify_login(tenant.subdomain, credential.login, credential.password)
            await run.log("info", "La base restaurada admite el usuario de servicio.")
            return {"uid": uid}
        if not await odoo.login_page_ok(public_hostname(run.ctx, tenant.subdomain)):
            raise StepFailed("La base restaurada no abre la página de inicio de sesión.")
    finally:
        await odoo.aclose()
    return {"login_page": True}


# --- switch over -------------------------------------------------------------------------


async def switch_to_target(run: StepRun) -> dict[str, Any]:
    """Point the tenant at the target server: routing, custom domains, checks and every later
    operation follow ``tenant.odoo_server_id`` from here."""
    target = _target_id(run)
    async with run.session() as session:
        tenant = await session.get(Tenant, run.tenant_id, with_for_update=True)
        assert tenant is not None
        tenant.odoo_server_id = target
    if run.params.get("direction") == "to_dedicated":
        await dedicated.set_link_state(run, "active", "active")
    return {"odoo_server_id": target, "from_server_id": int(run.params["source_server_id"])}


async def switch_back(run: StepRun) -> None:
    """Undo of the switch: the tenant points at its old server again, its route and custom
    domains go back there, and the target's tunnel forgets the hostname."""
    if _settled(run):
        return
    source = int(run.params["source_server_id"])
    async with run.session() as session:
        tenant = await session.get(Tenant, run.tenant_id, with_for_update=True)
        assert tenant is not None
        tenant.odoo_server_id = source
    await _reroute_source_and_forget_target(run)


async def _reroute_source_and_forget_target(run: StepRun) -> None:
    for reroute in (shared.route_active, domain_steps.route_domains_active):
        try:
            await reroute(run)
        except StepSkipped:  # nothing routed (no Cloudflare, no custom domain)
            continue
    target = await _server(run, _target_id(run))
    source = await _server(run, int(run.params["source_server_id"]))
    await _forget_on_tunnel(run, target, keep=source)


async def _forget_on_tunnel(run: StepRun, server: OdooServer, *, keep: OdooServer) -> bool:
    """Remove the tenant's ingress rule from ``server``'s tunnel unless ``keep`` uses the
    same tunnel (then the rule just written there is the live one)."""
    if not server.tunnel_id or server.tunnel_id == keep.tunnel_id:
        return False
    router = cloudflare_for(run.ctx)
    if router is None:
        return False
    tenant = await shared.load_tenant(run)
    hostname = public_hostname(run.ctx, tenant.subdomain)
    tunnel = server.tunnel_id
    try:
        return bool(
            await shared.with_tunnel_lock(
                run, tunnel, lambda: router.remove_route(tunnel, hostname)
            )
        )
    finally:
        await router.aclose()


# --- after the move: price, then clean-up -----------------------------------------------------


async def change_price(run: StepRun) -> dict[str, Any]:
    """Stripe's price changes now that the new home works (prorated from now)."""
    sub_id = run.params.get("stripe_subscription_id")
    price_id = run.params.get("price_id")
    if not sub_id or not price_id:
        raise StepSkipped("El tenant no tiene suscripción de Stripe que actualizar.")
    gateway = gateway_for(run.ctx)
    if gateway is None:
        raise StepFailed("Stripe no está configurado: el nuevo precio no se puede aplicar.")
    try:
        updated = await gateway.change_subscription_price(
            subscription_id=str(sub_id),
            price_id=str(price_id),
            idempotency_key=f"erp-plan-move-{run.job_id}",
        )
    finally:
        await gateway.aclose()
    await run.log("info", f"Stripe cobra ahora el plan «{run.params['plan_to']}» (prorrateado).")
    return {"subscription": str(updated.get("id") or sub_id)}


async def remove_old_database(run: StepRun) -> dict[str, Any]:
    """Drop the locked original on the shared server (its verified backup is kept), and
    its ingress rule when the new home uses another tunnel."""
    if "backup_id" not in run.outputs.get("backup", {}):
        raise StepFailed("No se elimina la base anterior sin un respaldo verificado.")
    tenant = await shared.load_tenant(run)
    source, odoo = await _odoo(run, int(run.params["source_server_id"]))
    try:
        dropped = None
        for name in database_candidates(tenant):
            if await odoo.database_exists(name):
                await odoo.drop_database(name)
                dropped = name
    finally:
        await odoo.aclose()
    target = await _server(run, _target_id(run))
    unrouted = await _forget_on_tunnel(run, source, keep=target)
    await run.log("info", f"Base anterior eliminada de {source.name}.")
    return {"dropped": dropped, "unrouted": unrouted}


async def remove_old_container(run: StepRun) -> dict[str, Any]:
    """Destroy the old container (the tenant's only live link: the target is shared) and
    free its VMID and address; its node's tunnel forgets the hostname."""
    source = await _server(run, int(run.params["source_server_id"]))
    target = await _server(run, _target_id(run))
    unrouted = await _forget_on_tunnel(run, source, keep=target)
    destroyed = await dedicated.destroy(run)  # refuses without the verified backup
    return {**destroyed, "unrouted": unrouted}


# --- outcome ---------------------------------------------------------------------------------


async def move_succeeded(run: StepRun) -> None:
    """The tenant is on its new plan: local subscription row, deployment row, customer mail."""
    plan_to, interval = str(run.params["plan_to"]), str(run.params.get("interval") or "month")
    target = await _server(run, _target_id(run))
    async for session in run.ctx.db.session():
        tenant = await session.get(Tenant, run.tenant_id, with_for_update=True)
        assert tenant is not None
        tenant.plan, tenant.status, tenant.last_error = plan_to, "active", None
        sub = await session.scalar(
            select(Subscription)
            .where(Subscription.tenant_id == tenant.id)
            .order_by(Subscription.id.desc())
            .limit(1)
        )
        if sub is not None:
            sub.plan_name, sub.interval = plan_to, interval
        deployment = await session.scalar(
            select(TenantDeployment).where(TenantDeployment.tenant_id == tenant.id)
        )
        if deployment is not None:
            deployment.plan_type, deployment.odoo_server_id = plan_to, target.id
            deployment.service_url = target.url
            deployment.database_name = tenant.subdomain
        await queue_plan_changed(session, run.ctx, tenant, plan_to, interval, key=str(run.job_id))
    await tenants_changed(run.ctx)


async def move_failed(run: StepRun, reason: str) -> None:
    """Where the tenant is now, said plainly: back on its old server (compensated), or on the
    new one (it already answered there), or half-way when an undo failed (``failed``)."""
    if _settled(run):
        note = (
            " Odoo ya funciona en el nuevo servidor; revise la suscripción de Stripe y "
            "elimine la base anterior cuando corresponda."
        )
        await shared.update_tenant(run, status="active", last_error=reason + note)
        return
    incomplete = "La limpieza quedó incompleta" in reason
    status = "failed" if incomplete else "active"
    note = "" if incomplete else " La instancia sigue en su servidor anterior, sin cambios."
    await shared.update_tenant(run, status=status, last_error=reason + note)


# --- operations ------------------------------------------------------------------------------


def _move_steps(cleanup: Step) -> tuple[Step, ...]:
    return (
        Step(
            "lock_database",
            "Inicio del corte: bloquear la base de datos actual",
            shared.lock_database,
            unlock_source,
        ),
        Step("backup", "Respaldo verificado de la base de datos actual", backup_source),
        Step(
            "restore",
            "Restaurar el respaldo en el destino",
            restore_on_target,
            drop_target_copy,
        ),
        Step("check", "Comprobar que la base restaurada abre", check_target),
        Step("switch", "Asignar el tenant al servidor de destino", switch_to_target, switch_back),
        Step("route", "Cambiar la ruta y el DNS en Cloudflare", shared.route_active),
        Step(
            "custom_domains",
            "Cambiar la ruta de los dominios personalizados",
            domain_steps.route_domains_active,
        ),
        Step("verify_http", "Fin del corte: comprobar que la URL responde", shared.verify_http),
        Step("stripe", "Aplicar el nuevo precio en Stripe", change_price),
        cleanup,
    )


MOVE_TO_DEDICATED = Operation(
    kind=TO_DEDICATED,
    label="Traslado a un contenedor dedicado",
    steps=(
        Step(
            "reserve",
            "Elegir nodo y reservar VMID y dirección",
            dedicated.reserve,
            dedicated.release,
        ),
        Step("clone", "Clonar la plantilla de Odoo", dedicated.clone),
        Step("configure", "Asignar CPU, RAM, disco y red del plan", dedicated.configure),
        Step("start", "Arrancar el contenedor", dedicated.start),
        Step("wait_odoo", "Esperar a que Odoo responda en el contenedor", dedicated.wait_odoo),
        Step("target", "Registrar el contenedor como servidor Odoo", register_target),
        *_move_steps(Step("cleanup", "Eliminar la base de datos anterior", remove_old_database)),
    ),
    compensate_on_failure=True,
    on_success=move_succeeded,
    on_failure=move_failed,
)
MOVE_TO_SHARED = Operation(
    kind=TO_SHARED,
    label="Traslado a un servidor compartido",
    steps=(
        Step("target", "Elegir servidor Odoo compartido", pick_shared_server),
        *_move_steps(
            Step(
                "cleanup",
                "Destruir el contenedor anterior y liberar VMID y dirección",
                remove_old_container,
            )
        ),
    ),
    compensate_on_failure=True,
    on_success=move_succeeded,
    on_failure=move_failed,
)

# Registered by erp_core.composition (no registration by import side effect).
OPERATIONS = (MOVE_TO_DEDICATED, MOVE_TO_SHARED)
__all__ = [
    "BACKUP_KIND",
    "DOWNTIME_MINUTES",
    "MOVE_KINDS",
    "OPERATIONS",
    "TO_DEDICATED",
    "TO_SHARED",
]
