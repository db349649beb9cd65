"""Template lookup, build queueing and the clone path of a tenant's create.

A template is keyed by what makes a database different at birth: the server's Odoo
version, the language, the country and the plan's module set. The version is read live
from the server at every clone, so a template built by an older Odoo is never used after an
upgrade (the row turns ``stale`` and is rebuilt under the new version). A template whose
database vanished behind our back is marked ``broken`` and rebuilt; meanwhile the tenant
gets Odoo's own full create, so the two paths always end in the same state.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from erp_core.api import Conflict, NotFound
from erp_core.context import AppContext
from erp_core.drivers.base import DriverError, OdooDatabaseManager, TransientDriverError
from erp_core.models import Job, OdooServer, OdooTemplate, Plan, Tenant
from erp_core.reconciliation import RESERVED_DATABASE_PREFIXES
from erp_core.runner.engine import StepFailed, StepRun
from erp_core.runner.service import OPEN_STATUSES, start_job

log = logging.getLogger(__name__)

BUILD_KIND = "template_build"
TEMPLATE_PREFIX = RESERVED_DATABASE_PREFIXES[0]  # "__tpl_": no hostname can select it
TEMPLATE_ADMIN_LOGIN = "template-admin"
PATH_TEMPLATE = "template"
PATH_FULL = "full"


def modules_hash(modules: Sequence[str]) -> str:
    """A short, order-independent digest of a module set (empty set → digest of "")."""
    joined = ",".join(sorted({m.strip() for m in modules if m.strip()}))
    return hashlib.sha256(joined.encode()).hexdigest()[:12]


def template_key(version: str, lang: str, country: str | None, modules: Sequence[str]) -> str:
    """What the admin app shows and what a clone must match: version|lang|country|modules."""
    return f"{version}|{lang}|{country or '-'}|{modules_hash(modules)}"


def new_database_name(server_id: int) -> str:
    """A fresh template database name per build (the old one stays until the new is ready)."""
    return f"{TEMPLATE_PREFIX}{server_id}_{secrets.token_hex(4)}"


async def plan_modules(session: AsyncSession, plan_code: str) -> list[str]:
    modules = await session.scalar(select(Plan.modules).where(Plan.code == plan_code))
    return sorted({str(m) for m in modules or []})


async def _profile_row(
    session: AsyncSession, server_id: int, lang: str, country: str, modules: list[str]
) -> OdooTemplate:
    """The (locked) row for a server's profile, created on first need; concurrent creates
    race on the unique constraint, not on each other's inserts."""
    digest = modules_hash(modules)
    await session.execute(
        insert(OdooTemplate)
        .values(
            odoo_server_id=server_id,
            key=template_key("?", lang, country, modules),
            lang=lang,
            country=country,
            modules=modules,
            modules_hash=digest,
            state="stale",
        )
        .on_conflict_do_nothing()
    )
    row = await session.scalar(
        select(OdooTemplate)
        .where(
            OdooTemplate.odoo_server_id == server_id,
            OdooTemplate.lang == lang,
            OdooTemplate.country == country,
            OdooTemplate.modules_hash == digest,
        )
        .with_for_update()
    )
    assert row is not None
    return row


async def _build_running(session: AsyncSession, row: OdooTemplate) -> bool:
    # A build that already published (state ready/stale/broken) may still be finishing
    # its job: only a row still marked building has a build under way.
    if row.state != "building" or row.build_job_id is None:
        return False
    status = await session.scalar(select(Job.status).where(Job.id == row.build_job_id))
    return status in OPEN_STATUSES


async def queue_build(
    session: AsyncSession,
    ctx: AppContext,
    row: OdooTemplate,
    created_by: int | None,
    *,
    reason: str,
) -> Job | None:
    """Start a build of ``row`` unless one is already queued or running (None then)."""
    if await _build_running(session, row):
        return None
    params = {
        "template_id": row.id,
        "reason": reason,
        "previous_state": row.state,
        "db_name": new_database_name(row.odoo_server_id),
        "admin_password_enc": ctx.secret_box.encrypt(secrets.token_urlsafe(24)),
    }
    job = await start_job(session, ctx, BUILD_KIND, None, params, created_by)
    row.state = "building"
    row.build_job_id = job.id
    return job


async def request_rebuild(
    session: AsyncSession, ctx: AppContext, server_id: int, template_id: int, user_id: int | None
) -> Job:
    """An operator's *Reconstruir*: 409 while a build is already under way."""
    row = await session.scalar(
        select(OdooTemplate)
        .where(OdooTemplate.id == template_id, OdooTemplate.odoo_server_id == server_id)
        .with_for_update()
    )
    if row is None:
        raise NotFound(
            f"La plantilla {template_id} no existe en este servidor.", code="TEMPLATE_NOT_FOUND"
        )
    job = await queue_build(session, ctx, row, user_id, reason="manual")
    if job is None:
        raise Conflict(
            "La plantilla ya se está construyendo; espere a que termine.",
            code="TEMPLATE_BUSY",
        )
    return job


async def list_templates(session: AsyncSession, server_id: int) -> list[OdooTemplate]:
    if await session.get(OdooServer, server_id) is None:
        raise NotFound(f"El servidor {server_id} no existe.", code="SERVER_NOT_FOUND")
    return list(
        await session.scalars(
            select(OdooTemplate)
            .where(OdooTemplate.odoo_server_id == server_id)
            .order_by(OdooTemplate.id)
        )
    )


async def _mark(run: StepRun, template_id: int, **values: Any) -> None:
    async with run.session() as session:
        row = await session.get(OdooTemplate, template_id, with_for_update=True)
        if row is not None:
            for key, value in values.items():
                setattr(row, key, value)


async def _fall_back(
    run: StepRun, tenant: Tenant, modules: list[str], reason: str, state: str | None = None
) -> None:
    """No usable template: say why in the job log and queue a build for next time."""
    assert tenant.odoo_server_id is not None
    job: Job | None = None
    # the unit of work (not run.session()): it runs the after-commit hook that defers the job
    async for session in run.ctx.db.session():
        row = await _profile_row(
            session, tenant.odoo_server_id, tenant.language, tenant.country or "", modules
        )
        if state is not None:
            row.state = state
            row.last_error = reason
        job = await queue_build(session, run.ctx, row, None, reason=reason)
    queued = f" Se construye la plantilla (trabajo {job.id})." if job else ""
    await run.log("info", f"{reason}{queued}")


async def clone_for_tenant(
    run: StepRun, odoo: OdooDatabaseManager, tenant: Tenant, password: str
) -> dict[str, Any] | None:
    """Clone the server's ready template into the tenant's database and give the copy the
    tenant's administrator; None (after queueing a build) when no template is usable.

    A clone that fails half-way is dropped here, so the caller's fallback starts from
    nothing. The identity — company, country, currency, language, ``web.base.url``, then
    the administrator's login and password — is the create's ordinary personalisation
    step, run as the template's administrator (:func:`template_credentials`);
    ``database.uuid``/``database.secret`` are new because Odoo's ``duplicate_database``
    re-initialises ``ir.config_parameter`` with ``force=True``.
    """
    assert tenant.odoo_server_id is not None
    async with run.session() as session:
        modules = await plan_modules(session, tenant.plan)
    version = await odoo.server_version()
    key = template_key(version, tenant.language, tenant.country, modules)
    async with run.session() as session:
        row = await session.scalar(
            select(OdooTemplate).where(
                OdooTemplate.odoo_server_id == tenant.odoo_server_id,
                OdooTemplate.lang == tenant.language,
                OdooTemplate.country == (tenant.country or ""),
                OdooTemplate.modules_hash == modules_hash(modules),
            )
        )
        if row is not None:
            session.expunge(row)
    if row is None or row.state != "ready" or not row.db_name:
        await _fall_back(run, tenant, modules, "No hay plantilla lista para este servidor.")
        return None
    if row.odoo_version != version:
        await _fall_back(
            run,
            tenant,
            modules,
            f"La plantilla es de Odoo {row.odoo_version} y el servidor ejecuta {version}: "
            "no se usa.",
            state="stale",
        )
        return None
    if not await odoo.database_exists(row.db_name):
        await _fall_back(
            run,
            tenant,
            modules,
            f"La base de datos de la plantilla ({row.db_name}) ya no existe en el servidor.",
            state="broken",
        )
        return None
    try:
        await odoo.duplicate_database(row.db_name, tenant.subdomain)
    except DriverError as exc:
        await drop_quietly(odoo, tenant.subdomain)
        if isinstance(exc, TransientDriverError):
            raise
        await _fall_back(
            run,
            tenant,
            modules,
            f"No se pudo clonar la plantilla ({exc.message}).",
            state="broken",
        )
        return None
    await run.log("info", f"Clonado desde plantilla {key} ({row.db_name}).")
    return {"path": PATH_TEMPLATE, "template_id": row.id, "template_key": key}


async def template_credentials(run: StepRun, template_id: int) -> tuple[str, str]:
    """The login and password of the administrator a clone of ``template_id`` starts with."""
    async with run.session() as session:
        row = await session.get(OdooTemplate, template_id)
        if row is None or not row.admin_password_enc:
            raise StepFailed("La plantilla de la que se clonó la base de datos ya no existe.")
        return (
            row.admin_login or TEMPLATE_ADMIN_LOGIN,
            run.ctx.secret_box.decrypt(row.admin_password_enc),
        )


async def report_broken(run: StepRun, tenant: Tenant, template_id: int, reason: str) -> None:
    """A clone of ``template_id`` did not accept the template's credentials: the template
    is not what we built; mark it broken and rebuild it (this tenant's job fails and its
    compensation drops the copy)."""
    async with run.session() as session:
        modules = await plan_modules(session, tenant.plan)
    await _fall_back(run, tenant, modules, reason, state="broken")


async def drop_quietly(odoo: OdooDatabaseManager, name: str) -> None:
    """A half-made clone, or a spare that will never be used, must not stay on the server."""
    try:
        if await odoo.database_exists(name):
            await odoo.drop_database(name)
    except DriverError:
        log.warning("could not drop the half-made clone %s", name, exc_info=True)
