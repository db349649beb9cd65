"""The tenant operations: create, suspend, reactivate, delete — each an ordered list of
idempotent steps (check, then act) with the policy the issue sets: a failed create undoes
what it did; suspend, reactivate and delete roll forward or stop and say where."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from erp_core.backups.core import take_verified_backup
from erp_core.billing.provisioning_step import ensure_stripe_subscription
from erp_core.dashboard.cache_hooks import tenants_changed
from erp_core.domains import steps as domain_steps
from erp_core.drivers.base import (
    CompanyProfile,
    DriverError,
    OdooDatabaseManager,
    PermanentDriverError,
    ServiceUser,
    TransientDriverError,
    TunnelRouter,
)
from erp_core.drivers.factory import cloudflare_for, odoo_for, public_hostname, public_url
from erp_core.mail.lifecycle import tenant_status_mail
from erp_core.models import OdooServer, Tenant, TenantDeployment
from erp_core.provisioning.naming import database_candidates, suspended_database_name
from erp_core.runner.engine import Operation, Step, StepFailed, StepRun, StepSkipped
from erp_core.templates import service as templates
from erp_core.templates import spares
from erp_core.tenants.credentials import new_service_user

log = logging.getLogger(__name__)
TUNNEL_LOCK_CLASS = 7271
_ADOPT_POLL_SECONDS = 1.0
_ADOPT_MIN_WAIT_SECONDS = 300.0  # a create whose HTTP call timed out early still finishes


def _now() -> datetime:
    return datetime.now(UTC)


async def load_tenant(run: StepRun) -> Tenant:
    async with run.session() as session:
        tenant = await session.get(Tenant, run.tenant_id)
        if tenant is None:
            raise StepFailed("El tenant ya no existe.")
        session.expunge(tenant)
        return tenant


async def _server(run: StepRun, tenant: Tenant) -> OdooServer:
    if tenant.odoo_server_id is None:
        raise StepFailed("El tenant no tiene servidor Odoo asignado.")
    async with run.session() as session:
        server = await session.get(OdooServer, tenant.odoo_server_id)
        if server is None:
            raise StepFailed("El servidor Odoo del tenant ya no existe.")
        session.expunge(server)
        return server


async def tenant_odoo(run: StepRun) -> tuple[Tenant, OdooServer, OdooDatabaseManager]:
    tenant = await load_tenant(run)
    server = await _server(run, tenant)
    return tenant, server, odoo_for(run.ctx, server, on_output=_command_output(run))


async def locate_database(odoo: OdooDatabaseManager, tenant: Tenant) -> str | None:
    """The tenant's database as it is on the server now: the name its state says
    (``naming.tenant_database``) or, for a job in flight or a failed tenant, the other one an
    earlier attempt may have left; None when neither exists."""
    for name in database_candidates(tenant):
        if await odoo.database_exists(name):
            return name
    return None


def _command_output(run: StepRun) -> Callable[[str, str], Awaitable[None]]:
    """Host-mode command output (stdout/stderr lines, secrets masked) into the job's log."""

    async def write(stream: str, line: str) -> None:
        await run.log("warning" if stream == "stderr" else "info", line[:2000])

    return write


async def update_tenant(run: StepRun, **values: Any) -> None:
    """Set tenant fields; a status change mails the customer in the same transaction (the
    unit of work runs the outbox's after-commit hook)."""
    async for session in run.ctx.db.session():
        tenant = await session.get(Tenant, run.tenant_id)
        assert tenant is not None
        previous = tenant.status
        for key, value in values.items():
            setattr(tenant, key, value)
        await tenant_status_mail(session, run.ctx, tenant, previous, run.job_id)

    await tenants_changed(run.ctx)


# --- routing (serialised per tunnel: the configuration PUT replaces the whole document) ----


async def with_tunnel_lock(run: StepRun, tunnel_id: str, action: Any) -> Any:
    async with run.ctx.db.sessionmaker() as session:
        await session.execute(
            select(func.pg_advisory_xact_lock(TUNNEL_LOCK_CLASS, func.hashtext(tunnel_id)))
        )
        try:
            return await action()
        finally:
            await session.commit()


def _router_or_skip(run: StepRun, server: OdooServer) -> tuple[TunnelRouter, str]:
    router = cloudflare_for(run.ctx)
    if router is None:
        raise StepSkipped("Cloudflare no está configurado; el tenant no se publica en Internet.")
    if not server.tunnel_id:
        raise StepSkipped(f"El servidor «{server.name}» no tiene túnel asignado.")
    return router, server.tunnel_id


async def _route_to(run: StepRun, service: str) -> dict[str, Any]:
    tenant = await load_tenant(run)
    server = await _server(run, tenant)
    router, tunnel_id = _router_or_skip(run, server)
    hostname = public_hostname(run.ctx, tenant.subdomain)
    try:
        changed = await with_tunnel_lock(
            run, tunnel_id, lambda: router.ensure_route(tunnel_id, hostname, service)
        )
        record = await router.ensure_cname(hostname, tunnel_id)
    finally:
        await router.aclose()
    await run.log(
        "info", f"Ruta {hostname} → {service} ({'actualizada' if changed else 'ya estaba'})."
    )
    return {
        "tunnel_id": tunnel_id,
        "hostname": hostname,
        "service": service,
        "dns_record": record.id,
    }


async def _unroute(run: StepRun) -> dict[str, Any]:
    tenant = await load_tenant(run)
    server = await _server(run, tenant)
    router, tunnel_id = _router_or_skip(run, server)
    hostname = public_hostname(run.ctx, tenant.subdomain)
    try:
        removed = await with_tunnel_lock(
            run, tunnel_id, lambda: router.remove_route(tunnel_id, hostname)
        )
        dns_removed = await router.remove_cname(hostname)
    finally:
        await router.aclose()
    await run.log("info", f"Ruta y DNS de {hostname} retirados.")
    return {"ingress_removed": removed, "dns_removed": dns_removed}


# --- create ---------------------------------------------------------------------------


async def roomiest_server(session: Any, tenant_id: int) -> OdooServer:
    """The active shared server with the most free room (locked), not counting the tenant.
    Dedicated containers are registered with capacity 0, so they never qualify."""
    servers = list(
        await session.scalars(
            select(OdooServer)
            .where(OdooServer.state == "active")
            .order_by(OdooServer.id)
            .with_for_update()
        )
    )
    room = await spares.free_room(session, tenant_id)
    candidates = [(room.get(s.id, 0), s) for s in servers]
    candidates = [c for c in candidates if c[0] > 0]
    if not candidates:
        raise StepFailed(
            "No hay servidores Odoo activos con capacidad libre. Añada un servidor "
            "o aumente la capacidad en Infraestructura."
        )
    chosen: OdooServer = max(candidates, key=lambda c: (c[0], -c[1].id))[1]
    return chosen


async def place(run: StepRun) -> dict[str, Any]:
    """Keep the tenant's server if it still qualifies, else the active one with most room."""
    async with run.session() as session:
        tenant = await session.get(Tenant, run.tenant_id, with_for_update=True)
        assert tenant is not None
        current = (
            await session.get(OdooServer, tenant.odoo_server_id, with_for_update=True)
            if tenant.odoo_server_id is not None
            else None
        )
        if current is not None and current.state == "active":
            chosen = current
        else:
            chosen = await roomiest_server(session, tenant.id)
            tenant.odoo_server_id = chosen.id
        name, server_id = chosen.name, chosen.id
    await run.log("info", f"Servidor asignado: {name}.")
    return {"server_id": server_id}


async def create_database(run: StepRun) -> dict[str, Any]:
    tenant, server, odoo = await tenant_odoo(run)
    password = run.secret("admin_password")
    try:
        if await odoo.database_exists(tenant.subdomain):
            await _adopt_existing(run, odoo, tenant, server, password)
            await run.log("info", "La base de datos ya existía (creada en un intento anterior).")
            return {"created": True, "database": tenant.subdomain}
        claimed = await spares.claim(run, odoo, tenant)
        if claimed is not None:
            return {"created": True, "database": tenant.subdomain, **claimed}
        await _check_language(odoo, tenant, server)
        cloned = await templates.clone_for_tenant(run, odoo, tenant, password)
        if cloned is not None:
            await spares.refill_template(run, int(cloned["template_id"]))
            return {"created": True, "database": tenant.subdomain, **cloned}
        await run.log(
            "info",
            f"Creación completa en Odoo: base de datos {tenant.subdomain} en {server.name}…",
        )
        await odoo.create_database(
            tenant.subdomain,
            admin_login=tenant.admin_login,
            admin_password=password,
            lang=tenant.language,
            country_code=tenant.country,
        )
    finally:
        await odoo.aclose()
    return {"created": True, "database": tenant.subdomain, "path": templates.PATH_FULL}


async def _check_language(odoo: OdooDatabaseManager, tenant: Tenant, server: OdooServer) -> None:
    """Refuse a language the chosen server cannot install before creating anything: Odoo
    answers true and leaves an uninitialised database otherwise."""
    list_languages = getattr(odoo, "list_languages", None)
    if list_languages is None:  # a driver that cannot list them (both Odoo drivers can)
        return
    languages = await list_languages()
    if tenant.language not in languages:
        raise StepFailed(
            f"El idioma «{tenant.language}» no está disponible en el servidor {server.name}."
        )


async def _adopt_existing(
    run: StepRun, odoo: OdooDatabaseManager, tenant: Tenant, server: OdooServer, password: str
) -> None:
    """The database exists: ours from an earlier attempt whose call outlived its timeout,
    or someone else's. Odoo keeps initialising after our client gave up, so a login that
    fails now may work in a few seconds: poll (bounded by the create timeout) before
    calling it foreign."""
    patience = max(run.ctx.settings.odoo_create_timeout_seconds, _ADOPT_MIN_WAIT_SECONDS)
    deadline = time.monotonic() + patience
    waited = False
    while True:
        try:
            await odoo.verify_login(tenant.subdomain, tenant.admin_login, password)
            return
        except TransientDriverError:
            raise
        except DriverError as exc:
            if time.monotonic() >= deadline:
                raise StepFailed(
                    f"Ya existe una base de datos «{tenant.subdomain}» en {server.name} que no "
                    "pertenece a este tenant (o no terminó de inicializarse); no se toca."
                ) from exc
        if not waited:
            await run.log(
                "info",
                "La base de datos existe pero aún no admite el inicio de sesión: se espera a "
                "que Odoo termine de crearla.",
            )
            waited = True
        await asyncio.sleep(_ADOPT_POLL_SECONDS)


async def drop_created_database(run: StepRun) -> None:
    if not run.outputs.get("create_database", {}).get("created"):
        return
    tenant, _server_row, odoo = await tenant_odoo(run)
    try:
        await odoo.drop_database(tenant.subdomain)
    finally:
        await odoo.aclose()


def _cloned(run: StepRun) -> int | None:
    """The template id when this create cloned a template (else Odoo's own create)."""
    created = run.outputs.get("create_database", {})
    if created.get("path") == templates.PATH_TEMPLATE:
        return int(created["template_id"])
    return None


def _claimed(run: StepRun) -> bool:
    """Whether this create renamed a prepared spare (see templates.spares)."""
    return run.outputs.get("create_database", {}).get("path") == spares.PATH_SPARE


async def verify_database(run: StepRun) -> dict[str, Any]:
    """Odoo may report success while init failed: confirm it exists and a login works.
    A clone's administrator is still the template's here: its login is verified at the
    end of the personalisation, when the tenant's own credentials exist."""
    tenant, _server_row, odoo = await tenant_odoo(run)
    try:
        if not await odoo.database_exists(tenant.subdomain):
            raise StepFailed("Odoo informó éxito pero la base de datos no existe.")
        if _cloned(run) is not None or _claimed(run):
            return {"verified_after": "set_company"}
        uid = await odoo.verify_login(
            tenant.subdomain, tenant.admin_login, run.secret("admin_password")
        )
    finally:
        await odoo.aclose()
    return {"uid": uid}


async def set_company(run: StepRun) -> dict[str, Any]:
    """Personalise the database: company name, e-mail, country and its currency, the
    admin's language and ``web.base.url`` = the tenant's public address. A clone is
    personalised as the template's administrator, who then becomes the tenant's (login,
    e-mail, new password) and must log in with those: the same end state as a full create.

    The step ends by logging in with every credential it handed out (the administrator's
    and the service user's), both at once: each login is a PBKDF2 check of ~0.25 s of
    Odoo's CPU, and a server has more than one core."""
    tenant, _server_row, odoo = await tenant_odoo(run)
    if _claimed(run):
        try:
            output = await spares.personalize_claimed(
                run, odoo, tenant, company_profile(run, tenant)
            )
        finally:
            await odoo.aclose()
        return {"company_name": company_profile(run, tenant)["company_name"], **output}
    password = run.secret("admin_password")
    template_id = _cloned(run)
    login, secret = tenant.admin_login, password
    if template_id is not None:
        login, secret = await templates.template_credentials(run, template_id)
    try:
        try:
            output, service = await personalize_database(run, odoo, tenant, login, secret)
            if template_id is not None:
                # the template's scheduled actions were paused at build: the tenant's run
                output["resumed_crons"] = len(
                    await odoo.resume_crons(tenant.subdomain, login, secret)
                )
                await odoo.take_over_admin(
                    tenant.subdomain, login, secret, tenant.admin_login, password
                )
        except PermanentDriverError as exc:
            if template_id is None or exc.vendor_code not in LOGIN_REFUSED:
                raise
            if not await _handed_over(odoo, tenant, password):
                await templates.report_broken(
                    run, tenant, template_id, f"La copia no aceptó la plantilla: {exc.message}"
                )
                raise
            # A retry of this step (a transient error after the hand-over landed): the
            # template's administrator is already the tenant's, so finish as the tenant.
            output, service = await personalize_database(
                run, odoo, tenant, tenant.admin_login, password
            )
        output["uid"], _service_uid = await asyncio.gather(
            odoo.verify_login(tenant.subdomain, tenant.admin_login, password),
            odoo.verify_login(tenant.subdomain, service["login"], service["password"]),
        )
    finally:
        await odoo.aclose()
    await run.log("info", f"Usuario de servicio {service['login']} listo en Odoo.")
    return output


LOGIN_REFUSED = frozenset({"login_failed", "odoo.exceptions.AccessDenied"})
"""How Odoo refuses credentials: ``common.login`` answers false (``login_failed``), a web
session login raises AccessDenied."""


async def _handed_over(odoo: OdooDatabaseManager, tenant: Tenant, password: str) -> bool:
    """Whether the clone's administrator already answers to the tenant's credentials."""
    try:
        await odoo.verify_login(tenant.subdomain, tenant.admin_login, password)
    except PermanentDriverError:
        return False
    return True


async def personalize_database(
    run: StepRun, odoo: OdooDatabaseManager, tenant: Tenant, login: str, password: str
) -> tuple[dict[str, Any], ServiceUser]:
    """Make the tenant database the customer's, logged in as ``login`` (an Odoo
    administrator of that database): company name, e-mail, country and its currency, the
    user's language and ``web.base.url`` = the tenant's public address; then the control
    plane's service user (see :mod:`erp_core.tenants.credentials`), returned unverified:
    the caller proves it with a login.

    The one personalisation for every way a tenant database comes to be (a fresh create, a
    cloned template): callers pass the credentials that work in *that* database. A clone is
    personalised as the template's administrator before the hand-over, which is why the
    language set here lands on the user that becomes the tenant's admin."""
    profile = company_profile(run, tenant)
    await odoo.personalize(tenant.subdomain, login, password, profile)
    service = await provision_service_user(run, odoo, tenant, login, password)
    return {"company_name": profile["company_name"], "base_url": profile["base_url"]}, service


def company_profile(run: StepRun, tenant: Tenant) -> CompanyProfile:
    """What makes a tenant database the customer's (every create path uses this one)."""
    return {
        "company_name": str(run.params.get("company_name") or tenant.company_name),
        "email": tenant.admin_login,  # the customer's e-mail (see tenants.service)
        "country_code": tenant.country,
        "lang": tenant.language,
        "base_url": public_url(run.ctx, tenant.subdomain),
    }


async def provision_service_user(
    run: StepRun, odoo: OdooDatabaseManager, tenant: Tenant, login: str, password: str
) -> ServiceUser:
    """Create (or reset) the service user as ``login`` with a new random password and keep
    it encrypted on the tenant. The new password is stored *before* Odoo gets it: if the
    step dies in between, a re-run resets it again with ``login``."""
    user = new_service_user(run.ctx)
    async with run.session() as session:
        row = await session.get(Tenant, tenant.id)
        assert row is not None
        row.service_login = user["login"]
        row.service_password_enc = run.ctx.secret_box.encrypt(user["password"])
    await odoo.ensure_service_user(tenant.subdomain, login, password, user)
    return user


async def route_active(run: StepRun) -> dict[str, Any]:
    tenant = await load_tenant(run)
    server = await _server(run, tenant)
    return await _route_to(run, server.url.rstrip("/"))


async def remove_route(run: StepRun) -> None:
    if run.outputs.get("route", {}).get("skipped"):
        return
    try:
        await _unroute(run)
    except StepSkipped:
        return


async def verify_http(run: StepRun) -> dict[str, Any]:
    tenant, _server_row, odoo = await tenant_odoo(run)
    if tenant.status == "suspended":  # e.g. a restore: its database stays locked
        await odoo.aclose()
        raise StepSkipped("El tenant está suspendido: su base de datos sigue bloqueada en Odoo.")
    hostname = public_hostname(run.ctx, tenant.subdomain)
    settings = run.ctx.settings
    routed = "tunnel_id" in run.outputs.get("route", {})
    try:
        if not await odoo.login_page_ok(hostname):
            raise TransientDriverError(
                f"Odoo aún no sirve la página de inicio de sesión de {hostname}."
            )
        checked_public = False
        if routed and settings.erp_core_verify_public_url:
            via = settings.erp_core_public_check_via or f"https://{hostname}"
            if not await odoo.login_page_ok(hostname, via_url=via):
                raise TransientDriverError(
                    f"https://{hostname} aún no responde a través del túnel."
                )
            checked_public = True
    finally:
        await odoo.aclose()
    await run.log(
        "info",
        f"https://{hostname} responde." if checked_public else "Odoo responde en el servidor.",
    )
    return {"public_checked": checked_public}


async def create_succeeded(run: StepRun) -> None:
    """Queue the replacement of the spare this create used (database rows only: the
    preparation runs as its own job), then the tenant is active. In this order: a tenant
    that reads ``active`` takes its next operation at once (the job ends right after this);
    queued after, the refill kept the job open and a suspend got 409 ``TENANT_BUSY``."""
    await spares.refill_after_create(run)
    tenant = await load_tenant(run)
    server = await _server(run, tenant)
    route = run.outputs.get("route", {})
    async with run.session() as session:
        started = await session.scalar(
            select(func.min(Tenant.created_at)).where(Tenant.id == tenant.id)
        )
        deployment = await session.scalar(
            select(TenantDeployment).where(TenantDeployment.tenant_id == tenant.id)
        )
        if deployment is None:
            deployment = TenantDeployment(
                tenant_id=tenant.id,
                subdomain=tenant.subdomain,
                plan_type=tenant.plan,
                status="active",
                database_name=tenant.subdomain,
            )
            session.add(deployment)
        deployment.subdomain = tenant.subdomain
        deployment.plan_type = tenant.plan
        deployment.status = "active"
        deployment.odoo_server_id = server.id
        deployment.database_name = tenant.subdomain
        deployment.tunnel_id = route.get("tunnel_id")
        deployment.tunnel_url = f"https://{public_hostname(run.ctx, tenant.subdomain)}"
        deployment.service_url = server.url
        deployment.provisioned_at = _now()
        if started is not None:
            deployment.provision_ms = int((_now() - started).total_seconds() * 1000)
    await update_tenant(run, status="active", last_error=None, suspension_reason=None)


async def mark_failed(run: StepRun, reason: str) -> None:
    await update_tenant(run, status="failed", last_error=reason)
    await spares.refill_after_create(run)


# --- suspend / reactivate -----------------------------------------------------------------


async def route_suspended(run: StepRun) -> dict[str, Any]:
    return await _route_to(run, run.ctx.settings.erp_core_public_url.rstrip("/"))


async def _move_database(run: StepRun, *, lock: bool) -> dict[str, Any]:
    """Rename the tenant's database to its suspended name (``lock``) or back.

    Idempotent: a retried job finds the rename already done and goes on. Both names
    present means someone else made one of them: nothing is touched. Odoo's rename drops
    the database's connections and moves its filestore; credentials and data stay."""
    tenant, server, odoo = await tenant_odoo(run)
    plain, locked = tenant.subdomain, suspended_database_name(tenant.subdomain)
    source, target = (plain, locked) if lock else (locked, plain)
    try:
        source_there = await odoo.database_exists(source)
        target_there = await odoo.database_exists(target)
        if source_there and target_there:
            raise StepFailed(
                f"En {server.name} existen a la vez «{plain}» y «{locked}»; no se toca ninguna."
            )
        if target_there:
            await run.log("info", f"La base de datos ya se llamaba {target} (intento anterior).")
            return {"database": target, "renamed": False}
        if not source_there:
            raise StepFailed(f"La base de datos «{source}» no existe en {server.name}.")
        await odoo.rename_database(source, target)
    finally:
        await odoo.aclose()
    await run.log(
        "info",
        f"Base de datos renombrada {source} → {target}: "
        + ("Odoo ya no admite sus inicios de sesión." if lock else "Odoo vuelve a admitirlos."),
    )
    return {"database": target, "renamed": True}


async def lock_database(run: StepRun) -> dict[str, Any]:
    return await _move_database(run, lock=True)


async def unlock_database(run: StepRun) -> dict[str, Any]:
    return await _move_database(run, lock=False)


async def suspend_failed(run: StepRun, reason: str) -> None:
    """Rename not done: the tenant stays active (nothing changed), the error shown. Done
    but a later step failed: ``failed``, and a retry rolls forward from the rename."""
    if "lock_database" in run.outputs:
        await update_tenant(run, status="failed", last_error=reason)
    else:
        await update_tenant(run, status="active", last_error=reason)


async def reactivate_failed(run: StepRun, reason: str) -> None:
    """Mirror of ``suspend_failed``: an unrenamed database keeps the tenant suspended."""
    if "unlock_database" in run.outputs:
        await update_tenant(run, status="failed", last_error=reason)
    else:
        await update_tenant(run, status="suspended", last_error=reason)


async def suspend_succeeded(run: StepRun) -> None:
    await update_tenant(
        run,
        status="suspended",
        suspension_reason=run.params.get("reason", "manual"),
        last_error=None,
    )
    await _set_deployment_status(run, "suspended")


async def reactivate_succeeded(run: StepRun) -> None:
    await update_tenant(run, status="active", suspension_reason=None, last_error=None)
    await _set_deployment_status(run, "active")


async def _set_deployment_status(run: StepRun, status: str) -> None:
    async with run.session() as session:
        deployment = await session.scalar(
            select(TenantDeployment).where(TenantDeployment.tenant_id == run.tenant_id)
        )
        if deployment is not None:
            deployment.status = status


# --- delete ---------------------------------------------------------------------------------


async def backup_before_delete(run: StepRun) -> dict[str, Any]:
    """A verified pre-delete backup in the backup store; without it nothing is dropped."""

    tenant, _server_row, odoo = await tenant_odoo(run)
    try:
        database = await locate_database(odoo, tenant)
        if database is None:
            raise StepSkipped("No hay base de datos que respaldar.")
        taken = await take_verified_backup(run, odoo, tenant, "pre-delete", database)
    finally:
        await odoo.aclose()
    return taken.as_output()


async def drop_database(run: StepRun) -> dict[str, Any]:
    backup = run.outputs.get("backup", {})
    tenant, _server_row, odoo = await tenant_odoo(run)
    try:
        database = await locate_database(odoo, tenant)
        if database is None:
            return {"dropped": False}
        if "backup_id" not in backup:
            raise StepFailed("No se elimina una base de datos sin un respaldo verificado.")
        await odoo.drop_database(database)
    finally:
        await odoo.aclose()
    return {"dropped": True, "database": database}


async def unroute(run: StepRun) -> dict[str, Any]:
    return await _unroute(run)


async def delete_failed(run: StepRun, reason: str) -> None:
    """A failed delete leaves the tenant as it was (active or suspended: its database is
    still there and still counts against the server's capacity) with the error shown."""
    previous = run.params.get("previous_status")
    if previous not in ("active", "suspended", "failed"):
        previous = "failed"
    await update_tenant(run, status=previous, last_error=reason)


async def delete_succeeded(run: StepRun) -> None:
    await update_tenant(run, status="deleted", deleted_at=_now(), last_error=None)
    await _set_deployment_status(run, "deleted")


CREATE = Operation(
    kind="create",
    label="Crear tenant",
    steps=(
        Step("place", "Elegir servidor Odoo", place),
        Step(
            "create_database",
            "Crear la base de datos Odoo",
            create_database,
            drop_created_database,
        ),
        Step("verify_database", "Verificar la base de datos (inicio de sesión)", verify_database),
        Step("set_company", "Configurar la empresa", set_company),
        Step("stripe", "Crear la suscripción en Stripe", ensure_stripe_subscription),
        Step("route", "Publicar en Cloudflare (túnel y DNS)", route_active, remove_route),
        Step("verify_http", "Comprobar que la URL responde", verify_http),
    ),
    compensate_on_failure=True,
    on_success=create_succeeded,
    on_failure=mark_failed,
)
SUSPEND = Operation(
    kind="suspend",
    label="Suspender tenant",
    steps=(
        # The rename first: if Odoo refuses it, nothing has changed yet.
        Step("lock_database", "Bloquear la base de datos en Odoo", lock_database),
        Step("route", "Dirigir el dominio a la página de suspensión", route_suspended),
        Step(
            "custom_domains",
            "Dirigir los dominios personalizados a la página de suspensión",
            domain_steps.route_domains_suspended,
        ),
    ),
    compensate_on_failure=False,
    on_success=suspend_succeeded,
    on_failure=suspend_failed,
)
REACTIVATE = Operation(
    kind="reactivate",
    label="Reactivar tenant",
    steps=(
        Step("unlock_database", "Desbloquear la base de datos en Odoo", unlock_database),
        Step("route", "Restaurar la ruta hacia Odoo", route_active),
        Step(
            "custom_domains",
            "Restaurar los dominios personalizados",
            domain_steps.route_domains_active,
        ),
        Step("verify_http", "Comprobar que la URL responde", verify_http),
    ),
    compensate_on_failure=False,
    on_success=reactivate_succeeded,
    on_failure=reactivate_failed,
)
DELETE = Operation(
    kind="delete",
    label="Eliminar tenant",
    steps=(
        Step("backup", "Respaldo previo verificado", backup_before_delete),
        Step("drop_database", "Eliminar la base de datos", drop_database),
        Step("unroute", "Retirar ruta y DNS", unroute),
        Step(
            "custom_domains",
            "Retirar los dominios personalizados",
            domain_steps.remove_all_domains,
        ),
    ),
    compensate_on_failure=False,
    on_success=delete_succeeded,
    on_failure=delete_failed,
)

# Registered by erp_core.composition (no registration by import side effect).
OPERATIONS = (
    CREATE,
    SUSPEND,
    REACTIVATE,
    DELETE,
)
