"""Job steps of custom domains, and the small additions to the tenant's suspend,
reactivate and delete operations that take its custom domains along.

Every step checks before it acts (find-or-create at Cloudflare, rule replaced in place in
the tunnel), so a resumed job converges. Tunnel writes hold the same per-tunnel advisory
lock as the tenant's own routing (``provisioning.operations.TUNNEL_LOCK_CLASS``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from sqlalchemy import delete, func, select, update

from erp_core.context import AppContext
from erp_core.drivers.base import (
    CustomHostnameManager,
    DriverError,
    OdooConfigWriter,
    TransientDriverError,
)
from erp_core.drivers.factory import cloudflare_for, odoo_for, public_hostname
from erp_core.models import OdooServer, Tenant, TenantDomain
from erp_core.provisioning.naming import tenant_database
from erp_core.runner.engine import Operation, Step, StepFailed, StepRun, StepSkipped
from erp_core.tenants.credentials import MISSING, service_credential

_T = TypeVar("_T")
TUNNEL_LOCK_CLASS = 7271  # same lock class as provisioning.operations (one tunnel, one writer)
LIVE_ROUTE_STATUSES = ("pending_dns", "pending_ssl", "active", "failed")


def _now() -> datetime:
    return datetime.now(UTC)


async def with_tunnel_lock(
    ctx: AppContext, tunnel_id: str, action: Callable[[], Awaitable[_T]]
) -> _T:
    """Run a tunnel read-modify-write under ``pg_advisory_xact_lock(7271, hashtext(id))``."""
    async with ctx.db.sessionmaker() as session:
        await session.execute(
            select(func.pg_advisory_xact_lock(TUNNEL_LOCK_CLASS, func.hashtext(tunnel_id)))
        )
        try:
            return await action()
        finally:
            await session.commit()


def _saas(ctx: AppContext) -> CustomHostnameManager | None:
    router = cloudflare_for(ctx)
    return cast(CustomHostnameManager, router) if router is not None else None


async def _load(
    ctx: AppContext, tenant_id: int | None, domain_id: int | None = None
) -> tuple[Tenant, OdooServer | None, list[TenantDomain]]:
    async with ctx.db.sessionmaker() as session:
        tenant = await session.get(Tenant, tenant_id)
        if tenant is None:
            raise StepFailed("El tenant ya no existe.")
        server = (
            await session.get(OdooServer, tenant.odoo_server_id) if tenant.odoo_server_id else None
        )
        query = select(TenantDomain).where(TenantDomain.tenant_id == tenant.id)
        if domain_id is not None:
            query = query.where(TenantDomain.id == domain_id)
        rows = list(await session.scalars(query.order_by(TenantDomain.id)))
        session.expunge_all()
        return tenant, server, rows


async def _one(run: StepRun) -> tuple[Tenant, OdooServer | None, TenantDomain]:
    tenant, server, rows = await _load(run.ctx, run.tenant_id, int(run.params["domain_id"]))
    if not rows:
        raise StepSkipped("El dominio ya no existe.")
    return tenant, server, rows[0]


def _service_for(ctx: AppContext, tenant: Tenant, server: OdooServer) -> str:
    """Odoo for a live tenant; the suspended page (like the subdomain) otherwise."""
    if tenant.status in ("suspended", "suspending"):
        return ctx.settings.erp_core_public_url.rstrip("/")
    return server.url.rstrip("/")


async def _route(
    ctx: AppContext, tenant: Tenant, server: OdooServer | None, hostname: str, service: str | None
) -> bool:
    """Write (``service``) or remove (``None``) the hostname's ingress rules."""
    saas = _saas(ctx)
    if saas is None:
        raise StepSkipped("Cloudflare no está configurado.")
    if server is None or not server.tunnel_id:
        raise StepSkipped("El servidor del tenant no tiene túnel asignado.")
    tunnel_id = server.tunnel_id
    try:
        if service is None:
            return await with_tunnel_lock(
                ctx, tunnel_id, lambda: saas.remove_route(tunnel_id, hostname)
            )
        return await with_tunnel_lock(
            ctx,
            tunnel_id,
            lambda: saas.ensure_host_route(
                tunnel_id,
                hostname,
                service,
                http_host_header=public_hostname(ctx, tenant.subdomain),
            ),
        )
    finally:
        await saas.aclose()


async def _delete_at_cloudflare(ctx: AppContext, row: TenantDomain) -> bool:
    saas = _saas(ctx)
    if saas is None:
        raise StepSkipped("Cloudflare no está configurado.")
    try:
        found = (
            await saas.get_custom_hostname(row.cloudflare_id)
            if row.cloudflare_id
            else await saas.find_custom_hostname(row.hostname)
        )
        if found is None:
            return False
        return await saas.delete_custom_hostname(found.id)
    finally:
        await saas.aclose()


# --- domain_add ------------------------------------------------------------------------------


async def create_custom_hostname(run: StepRun) -> dict[str, Any]:
    """Find or create the custom hostname; its origin is the tenant's own hostname (so it
    reaches the tunnel of the tenant's server) and the records it waits for are saved."""
    # cycle: domains.service starts these operations, and this step reuses its status mapping.
    from erp_core.domains.service import apply_hostname

    tenant, _server, row = await _one(run)
    saas = _saas(run.ctx)
    if saas is None:
        # A failure, not a skip: the domain could never leave pending_dns otherwise.
        raise StepFailed(
            "Cloudflare no está configurado (token, cuenta y zona en Ajustes); el dominio no "
            "puede publicarse."
        )
    origin = public_hostname(run.ctx, tenant.subdomain)
    try:
        found = await saas.ensure_custom_hostname(
            row.hostname, ssl_method=cast(Any, row.ssl_method), origin=origin
        )
        fallback = await saas.get_fallback_origin()
        if fallback is None:
            fallback = await saas.set_fallback_origin(origin)
            await run.log("warning", f"La zona no tenía origen de respaldo; se asignó {origin}.")
    finally:
        await saas.aclose()
    async with run.session() as session:
        fresh = await session.get(TenantDomain, row.id, with_for_update=True)
        if fresh is not None:
            apply_hostname(fresh, found, _now())
    await run.log("info", f"Dominio {row.hostname} registrado en Cloudflare ({found.status}).")
    return {"custom_hostname_id": found.id, "fallback_origin": fallback.origin}


async def route_custom_hostname(run: StepRun) -> dict[str, Any]:
    tenant, server, row = await _one(run)
    if server is None:
        raise StepFailed("El tenant no tiene servidor Odoo asignado.")
    service = _service_for(run.ctx, tenant, server)
    changed = await _route(run.ctx, tenant, server, row.hostname, service)
    await run.log("info", f"Ruta {row.hostname} → {service} (Host {tenant.subdomain}).")
    return {"service": service, "changed": changed}


async def domain_add_done(run: StepRun) -> None:
    """The domain's state already follows Cloudflare; nothing else to record."""


async def domain_add_failed(run: StepRun, reason: str) -> None:
    async with run.session() as session:
        await session.execute(
            update(TenantDomain)
            .where(TenantDomain.id == int(run.params["domain_id"]))
            .where(TenantDomain.status != "removing")
            .values(status="failed", status_reason=reason)
        )


# --- domain_remove ---------------------------------------------------------------------------


async def unroute_custom_hostname(run: StepRun) -> dict[str, Any]:
    tenant, server, row = await _one(run)
    return {"removed": await _route(run.ctx, tenant, server, row.hostname, None)}


async def delete_custom_hostname(run: StepRun) -> dict[str, Any]:
    _tenant, _server, row = await _one(run)
    return {"deleted": await _delete_at_cloudflare(run.ctx, row)}


async def _set_base_url(run: StepRun, url: str) -> None:
    tenant, server, _rows = await _load(run.ctx, run.tenant_id, -1)
    if server is None:
        raise StepFailed("El tenant no tiene servidor Odoo asignado.")
    odoo = odoo_for(run.ctx, server)
    try:
        if not isinstance(odoo, OdooConfigWriter):
            raise StepFailed(
                "Este servidor Odoo no permite cambiar web.base.url desde la plataforma; "
                "cámbielo en Ajustes técnicos › Parámetros del sistema."
            )
        login, password, who = await _odoo_login(run, odoo, tenant)
        database = tenant_database(tenant)  # a suspended tenant's sits under __susp_…
        await odoo.set_config_param(database, login, password, "web.base.url", url)
        # Odoo rewrites web.base.url with the URL of every administrator's web login
        # (res.users.authenticate) unless frozen; behind the Host rewrite that URL is the
        # subdomain, which would silently undo the primary domain.
        await odoo.set_config_param(database, login, password, "web.base.url.freeze", "True")
    finally:
        await odoo.aclose()
    await run.log("info", f"web.base.url = {url} (web.base.url.freeze = True; como {who})")


async def _odoo_login(run: StepRun, odoo: OdooConfigWriter, tenant: Tenant) -> tuple[str, str, str]:
    """The tenant's service user; the admin password the operator typed when the tenant has
    none, or when the service user no longer logs in (removed or changed inside Odoo)."""
    typed = run.secret("admin_password") if "admin_password_enc" in run.params else None
    credential = service_credential(run.ctx, tenant)
    if credential is not None:
        if typed is None:
            return credential.login, credential.password, "usuario de servicio"
        try:
            await odoo.verify_login(tenant_database(tenant), credential.login, credential.password)
            return credential.login, credential.password, "usuario de servicio"
        except TransientDriverError:
            raise
        except DriverError:
            await run.log(
                "warning",
                "El usuario de servicio no inicia sesión en Odoo; se usa la contraseña del "
                "administrador indicada.",
            )
    if typed is None:
        raise StepFailed(MISSING)
    return tenant.admin_login, typed, "administrador"


async def reset_base_url(run: StepRun) -> dict[str, Any]:
    if not run.params.get("reset_base_url"):
        raise StepSkipped("El dominio no era el principal.")
    tenant, _server, _rows = await _load(run.ctx, run.tenant_id, -1)
    url = f"https://{public_hostname(run.ctx, tenant.subdomain)}"
    await _set_base_url(run, url)
    return {"web_base_url": url}


async def domain_remove_done(run: StepRun) -> None:
    async with run.session() as session:
        await session.execute(
            delete(TenantDomain).where(TenantDomain.id == int(run.params["domain_id"]))
        )


async def domain_remove_failed(run: StepRun, reason: str) -> None:
    async with run.session() as session:
        await session.execute(
            update(TenantDomain)
            .where(TenantDomain.id == int(run.params["domain_id"]))
            .values(status="failed", status_reason=f"No se pudo eliminar: {reason}")
        )


# --- domain_primary --------------------------------------------------------------------------


async def set_primary_base_url(run: StepRun) -> dict[str, Any]:
    url = str(run.params["url"])
    await _set_base_url(run, url)
    return {"web_base_url": url}


async def domain_primary_done(run: StepRun) -> None:
    domain_id = int(run.params["domain_id"])
    async with run.session() as session:
        await session.execute(
            update(TenantDomain)
            .where(TenantDomain.tenant_id == run.tenant_id, TenantDomain.id != domain_id)
            .values(is_primary=False)
        )
        await session.flush()
        await session.execute(
            update(TenantDomain).where(TenantDomain.id == domain_id).values(is_primary=True)
        )


async def domain_primary_failed(run: StepRun, reason: str) -> None:
    """The job's error says why; the previous primary domain stays as it was."""


# --- the tenant's suspend / reactivate / delete ----------------------------------------------


async def _route_all(run: StepRun, *, suspended: bool) -> dict[str, Any]:
    tenant, server, rows = await _load(run.ctx, run.tenant_id)
    rows = [r for r in rows if r.status in LIVE_ROUTE_STATUSES]
    if not rows:
        raise StepSkipped("El tenant no tiene dominios personalizados.")
    if server is None:
        raise StepFailed("El tenant no tiene servidor Odoo asignado.")
    service = (
        run.ctx.settings.erp_core_public_url.rstrip("/") if suspended else server.url.rstrip("/")
    )
    for row in rows:
        await _route(run.ctx, tenant, server, row.hostname, service)
    await run.log("info", f"{len(rows)} dominio(s) personalizado(s) → {service}.")
    return {"domains": [r.hostname for r in rows], "service": service}


async def route_domains_suspended(run: StepRun) -> dict[str, Any]:
    """Suspend: every custom domain shows the suspended page, like the subdomain."""
    return await _route_all(run, suspended=True)


async def route_domains_active(run: StepRun) -> dict[str, Any]:
    """Reactivate: every custom domain goes back to the tenant's Odoo."""
    return await _route_all(run, suspended=False)


async def remove_all_domains(run: StepRun) -> dict[str, Any]:
    """Delete the tenant's custom hostnames at Cloudflare and their ingress rules, then
    the rows (so the names are free for someone else)."""
    tenant, server, rows = await _load(run.ctx, run.tenant_id)
    if not rows:
        raise StepSkipped("El tenant no tiene dominios personalizados.")
    removed = []
    for row in rows:
        try:
            await _route(run.ctx, tenant, server, row.hostname, None)
        except StepSkipped:
            pass
        try:
            await _delete_at_cloudflare(run.ctx, row)
        except StepSkipped:
            pass
        async with run.session() as session:
            await session.execute(delete(TenantDomain).where(TenantDomain.id == row.id))
        removed.append(row.hostname)
    await run.log("info", f"Dominios personalizados retirados: {', '.join(removed)}.")
    return {"removed": removed}


async def cleanup_expired(ctx: AppContext, domain_id: int) -> None:
    """Expiry (periodic job): remove the custom hostname at Cloudflare and its ingress."""
    async with ctx.db.sessionmaker() as session:
        row = await session.get(TenantDomain, domain_id)
        tenant_id = row.tenant_id if row is not None else None
    if tenant_id is None:
        return
    tenant, server, rows = await _load(ctx, tenant_id, domain_id)
    if not rows:
        return
    try:
        await _route(ctx, tenant, server, rows[0].hostname, None)
    except StepSkipped:
        pass
    try:
        await _delete_at_cloudflare(ctx, rows[0])
    except StepSkipped:
        pass


DOMAIN_ADD = Operation(
    kind="domain_add",
    label="Añadir dominio personalizado",
    steps=(
        Step("custom_hostname", "Registrar el dominio en Cloudflare", create_custom_hostname),
        Step("route", "Dirigir el dominio al Odoo del tenant", route_custom_hostname),
    ),
    compensate_on_failure=False,
    on_success=domain_add_done,
    on_failure=domain_add_failed,
)
DOMAIN_REMOVE = Operation(
    kind="domain_remove",
    label="Eliminar dominio personalizado",
    steps=(
        Step("route", "Retirar la ruta del dominio", unroute_custom_hostname),
        Step("custom_hostname", "Eliminar el dominio en Cloudflare", delete_custom_hostname),
        Step("web_base_url", "Restaurar web.base.url", reset_base_url),
    ),
    compensate_on_failure=False,
    on_success=domain_remove_done,
    on_failure=domain_remove_failed,
)
DOMAIN_PRIMARY = Operation(
    kind="domain_primary",
    label="Cambiar el dominio principal",
    steps=(Step("web_base_url", "Actualizar web.base.url en Odoo", set_primary_base_url),),
    compensate_on_failure=False,
    on_success=domain_primary_done,
    on_failure=domain_primary_failed,
)

# Registered by erp_core.composition.
OPERATIONS = (DOMAIN_ADD, DOMAIN_REMOVE, DOMAIN_PRIMARY)
