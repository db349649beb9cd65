"""Custom domain use cases: list, add, check, make primary, remove, and the periodic
re-check that moves pending domains forward or expires them after seven days.

Add, remove and primary changes are jobs (rows written in the request's transaction,
deferred after commit) so Cloudflare and Odoo are only called once the request's
own writes are durable. A check is a read of Cloudflare plus one row update, done inline
so the operator sees the answer at once.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from erp_core.api import Conflict, NotFound, ValidationFailed
from erp_core.audit.service import record
from erp_core.context import AppContext
from erp_core.deps import Actor
from erp_core.domains.schemas import (
    PURPOSE_ES,
    STATUS_ES,
    DnsRecordOut,
    DomainIn,
    DomainOut,
)
from erp_core.domains.steps import cleanup_expired
from erp_core.domains.validation import InvalidHostname, normalize_hostname
from erp_core.drivers.base import CustomHostname, CustomHostnameManager, DriverError
from erp_core.drivers.factory import cloudflare_for, public_hostname
from erp_core.models import Job, Plan, Tenant, TenantDomain
from erp_core.runner.service import open_job, start_job
from erp_core.tenants.credentials import MISSING, has_service_credential

log = logging.getLogger(__name__)

DEFAULT_MAX_CUSTOM_DOMAINS: dict[str, int] = {"basic": 1, "pro": 3, "enterprise": 10}
"""Per plan code, when the plan row has no ``max_custom_domains`` of its own."""
PENDING_TTL = timedelta(days=7)
"""A domain whose DNS is not in place after this long expires (Cloudflare itself gives
up on DCV after about a week, and a stale pending hostname blocks the name)."""
PENDING_STATUSES = ("pending_dns", "pending_ssl")
TENANT_STATES_FOR_DOMAINS = ("active", "suspended")
FAILED_HOSTNAME_STATUSES = {
    "moved",
    "deleted",
    "pending_deletion",
    "blocked",
    "pending_blocked",
    "test_blocked",
    "test_failed",
}
FAILED_SSL_STATUSES = {
    "initializing_timed_out",
    "validation_timed_out",
    "issuance_timed_out",
    "deployment_timed_out",
    "deletion_timed_out",
    "deleted",
    "expired",
    "inactive",
}


def _now() -> datetime:
    return datetime.now(UTC)


def routing_target(ctx: AppContext, tenant: Tenant) -> str:
    """What the customer's CNAME points at: the tenant's own hostname in our zone (a
    proxied record, so Cloudflare for SaaS accepts it as the hostname's target)."""
    return public_hostname(ctx, tenant.subdomain)


def domain_out(
    ctx: AppContext, tenant: Tenant, row: TenantDomain, job_id: int | None = None
) -> DomainOut:
    records: list[DnsRecordOut] = []
    if row.status not in ("expired", "removing"):
        records.append(
            DnsRecordOut(
                type="CNAME",
                name=row.hostname,
                value=routing_target(ctx, tenant),
                purpose="routing",
                description=PURPOSE_ES["routing"],
            )
        )
    if row.status in PENDING_STATUSES:
        for item in row.dns_records or []:
            purpose = str(item.get("purpose", ""))
            records.append(
                DnsRecordOut(
                    type=str(item.get("type", "TXT")),
                    name=str(item.get("name", "")),
                    value=str(item.get("value", "")),
                    purpose=purpose,
                    description=PURPOSE_ES.get(purpose, ""),
                )
            )
    return DomainOut(
        id=row.id,
        tenant_id=row.tenant_id,
        hostname=row.hostname,
        status=cast(Any, row.status),
        status_label=STATUS_ES.get(row.status, row.status),
        status_reason=row.status_reason,
        ssl_method=row.ssl_method,
        is_primary=row.is_primary,
        url=f"https://{row.hostname}",
        records=records,
        cloudflare_status=row.cloudflare_status,
        ssl_status=row.ssl_status,
        created_at=row.created_at,
        last_checked_at=row.last_checked_at,
        activated_at=row.activated_at,
        expires_at=row.created_at + PENDING_TTL if row.status in PENDING_STATUSES else None,
        job_id=job_id,
    )


def state_of(hostname: CustomHostname) -> tuple[str, str | None]:
    """Our state for what Cloudflare reports: (status, Spanish reason or None)."""
    detail = "; ".join(hostname.errors)
    if hostname.status in FAILED_HOSTNAME_STATUSES:
        reason = f"Cloudflare marcó el dominio como «{hostname.status}»."
        return "failed", reason + (f" Detalle: {detail}" if detail else "")
    if hostname.ssl_status in FAILED_SSL_STATUSES:
        reason = (
            f"Cloudflare no pudo emitir el certificado («{hostname.ssl_status}»). Compruebe "
            "los registros DNS y vuelva a añadir el dominio."
        )
        return "failed", reason + (f" Detalle: {detail}" if detail else "")
    if hostname.status != "active":
        return "pending_dns", None
    if hostname.ssl_status != "active":
        return "pending_ssl", None
    return "active", None


def apply_hostname(row: TenantDomain, hostname: CustomHostname, now: datetime) -> None:
    """Copy Cloudflare's view onto the row (records to create, statuses, our state)."""
    row.cloudflare_id = hostname.id
    row.cloudflare_status = hostname.status
    row.ssl_status = hostname.ssl_status
    row.dns_records = [
        {"type": r.type, "name": r.name, "value": r.value, "purpose": r.purpose}
        for r in hostname.records
    ]
    row.last_checked_at = now
    if row.status in ("removing", "expired"):
        return
    status, reason = state_of(hostname)
    row.status, row.status_reason = status, reason
    if status == "active" and row.activated_at is None:
        row.activated_at = now


async def domain_limit(session: AsyncSession, plan_code: str) -> int:
    configured = await session.scalar(select(Plan.max_custom_domains).where(Plan.code == plan_code))
    if configured is not None:
        return int(configured)
    return DEFAULT_MAX_CUSTOM_DOMAINS.get(plan_code, 0)


async def _tenant(session: AsyncSession, tenant_id: int, *, lock: bool = False) -> Tenant:
    tenant = await session.get(Tenant, tenant_id, with_for_update=lock or None)
    if tenant is None or tenant.status == "deleted":
        raise NotFound(f"El tenant con ID {tenant_id} no existe.", code="TENANT_NOT_FOUND")
    return tenant


async def _domain(session: AsyncSession, tenant_id: int, domain_id: int) -> TenantDomain:
    row = await session.get(TenantDomain, domain_id)
    if row is None or row.tenant_id != tenant_id:
        raise NotFound(
            f"El dominio con ID {domain_id} no existe en este tenant.", code="DOMAIN_NOT_FOUND"
        )
    return row


async def list_domains(
    session: AsyncSession, tenant_id: int
) -> tuple[Tenant, list[TenantDomain], int]:
    tenant = await _tenant(session, tenant_id)
    rows = list(
        await session.scalars(
            select(TenantDomain)
            .where(TenantDomain.tenant_id == tenant_id)
            .order_by(TenantDomain.id)
        )
    )
    return tenant, rows, await domain_limit(session, tenant.plan)


async def _start_job(
    session: AsyncSession,
    ctx: AppContext,
    actor: Actor,
    tenant: Tenant,
    kind: str,
    params: dict[str, Any],
) -> Job:
    """Write the job in the caller's transaction (one open job per tenant, as for every
    tenant operation: a domain change must not interleave with a suspend or delete)."""
    busy = await open_job(session, tenant.id)
    if busy is not None:
        raise Conflict(
            f"El tenant ya tiene una operación en curso (trabajo {busy}). Espere a que termine.",
            code="TENANT_BUSY",
        )
    try:
        async with session.begin_nested():
            job = await start_job(session, ctx, kind, tenant.id, params, actor.user_id)
    except IntegrityError as exc:
        raise Conflict("El tenant ya tiene una operación en curso.", code="TENANT_BUSY") from exc
    return job


async def add_domain(
    session: AsyncSession, ctx: AppContext, actor: Actor, tenant_id: int, body: DomainIn
) -> tuple[Tenant, TenantDomain, Job]:
    try:
        hostname = normalize_hostname(body.hostname, ctx.settings.base_domain)
    except InvalidHostname as exc:
        raise ValidationFailed(str(exc), code="INVALID_DOMAIN") from None
    tenant = await _tenant(session, tenant_id, lock=True)
    if tenant.status not in TENANT_STATES_FOR_DOMAINS:
        raise Conflict(
            "Solo se pueden añadir dominios a un tenant activo o suspendido.",
            code="INVALID_STATE",
        )
    taken = await session.scalar(
        select(TenantDomain.tenant_id).where(TenantDomain.hostname == hostname)
    )
    if taken is not None:
        where = "este tenant" if taken == tenant.id else "otro tenant"
        raise Conflict(f"El dominio {hostname} ya está registrado en {where}.", code="DOMAIN_TAKEN")
    limit = await domain_limit(session, tenant.plan)
    used = int(
        await session.scalar(
            select(func.count(TenantDomain.id)).where(TenantDomain.tenant_id == tenant.id)
        )
        or 0
    )
    if used >= limit:
        raise ValidationFailed(
            f"El plan «{tenant.plan}» permite {limit} dominio(s) personalizado(s) y el tenant ya "
            f"tiene {used}. Elimine uno o cambie de plan.",
            code="DOMAIN_LIMIT",
        )
    row = TenantDomain(
        tenant_id=tenant.id,
        hostname=hostname,
        status="pending_dns",
        ssl_method=body.ssl_method,
        dns_records=[],
        is_primary=False,
    )
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError as exc:
        raise Conflict(
            f"El dominio {hostname} ya está registrado en otro tenant.", code="DOMAIN_TAKEN"
        ) from exc
    job = await _start_job(session, ctx, actor, tenant, "domain_add", {"domain_id": row.id})
    record(
        session,
        actor,
        "tenant.domain_add",
        "tenant",
        tenant.id,
        {"hostname": hostname, "job_id": job.id},
    )
    await session.refresh(row)
    return tenant, row, job


async def remove_domain(
    session: AsyncSession,
    ctx: AppContext,
    actor: Actor,
    tenant_id: int,
    domain_id: int,
    admin_password: str | None,
) -> tuple[Tenant, TenantDomain, Job]:
    tenant = await _tenant(session, tenant_id, lock=True)
    row = await _domain(session, tenant_id, domain_id)
    if row.status == "removing":
        raise Conflict("El dominio ya se está eliminando.", code="DOMAIN_REMOVING")
    params: dict[str, Any] = {"domain_id": row.id, "hostname": row.hostname}
    if row.is_primary:
        params.update(
            _odoo_login(
                ctx,
                tenant,
                admin_password,
                "Es el dominio principal: indique la contraseña del administrador de Odoo para "
                f"devolver web.base.url a https://{public_hostname(ctx, tenant.subdomain)}.",
            )
        )
        params["reset_base_url"] = True
    job = await _start_job(session, ctx, actor, tenant, "domain_remove", params)
    row.status, row.status_reason = "removing", None
    record(
        session,
        actor,
        "tenant.domain_remove",
        "tenant",
        tenant.id,
        {"hostname": row.hostname, "job_id": job.id},
    )
    return tenant, row, job


async def make_primary(
    session: AsyncSession,
    ctx: AppContext,
    actor: Actor,
    tenant_id: int,
    domain_id: int,
    admin_password: str | None,
) -> tuple[Tenant, TenantDomain, Job]:
    tenant = await _tenant(session, tenant_id, lock=True)
    row = await _domain(session, tenant_id, domain_id)
    if row.status != "active":
        raise Conflict(
            "Solo un dominio activo (DNS y certificado listos) puede ser el principal.",
            code="DOMAIN_NOT_ACTIVE",
        )
    if tenant.status != "active":
        raise Conflict(
            "El tenant debe estar activo para cambiar su dominio principal.", code="INVALID_STATE"
        )
    params = {
        "domain_id": row.id,
        "url": f"https://{row.hostname}",
        **_odoo_login(
            ctx,
            tenant,
            admin_password,
            "Indique la contraseña del administrador de Odoo para cambiar web.base.url.",
        ),
    }
    job = await _start_job(session, ctx, actor, tenant, "domain_primary", params)
    record(
        session,
        actor,
        "tenant.domain_primary",
        "tenant",
        tenant.id,
        {"hostname": row.hostname, "job_id": job.id},
    )
    return tenant, row, job


def _odoo_login(
    ctx: AppContext, tenant: Tenant, admin_password: str | None, ask: str
) -> dict[str, Any]:
    """How the job logs into the tenant's Odoo: its service user when it has one (nothing to
    ask; a password typed anyway is kept as the fallback should the service user have been
    removed inside Odoo), else the admin password the operator typed (tenants created
    before the service user existed), else a 422 saying why it is needed."""
    if admin_password:
        return {"admin_password_enc": ctx.secret_box.encrypt(admin_password)}
    if has_service_credential(tenant):
        return {}
    raise ValidationFailed(f"{MISSING} {ask}", code="ADMIN_PASSWORD_REQUIRED")


def saas_for(ctx: AppContext) -> CustomHostnameManager | None:
    """The custom hostname driver (the same Cloudflare client as tunnels and DNS)."""
    router = cloudflare_for(ctx)
    return cast(CustomHostnameManager, router) if router is not None else None


async def check_domain(
    session: AsyncSession, ctx: AppContext, tenant_id: int, domain_id: int
) -> tuple[Tenant, TenantDomain]:
    """Ask Cloudflare now and move the domain's state (the *Comprobar* button)."""
    tenant = await _tenant(session, tenant_id)
    row = await _domain(session, tenant_id, domain_id)
    if row.status in ("removing", "expired"):
        return tenant, row
    saas = saas_for(ctx)
    if saas is None:
        raise Conflict("Cloudflare no está configurado.", code="CLOUDFLARE_NOT_CONFIGURED")
    if row.cloudflare_id is None:
        return tenant, row  # the add job has not reached Cloudflare yet
    try:
        found = await saas.get_custom_hostname(row.cloudflare_id)
    except DriverError as exc:
        raise Conflict(exc.message, code="CLOUDFLARE_ERROR") from None
    finally:
        await saas.aclose()
    now = _now()
    if found is None:
        row.status = "failed"
        row.status_reason = (
            "Cloudflare ya no tiene este dominio personalizado; elimínelo y vuelva a añadirlo."
        )
        row.last_checked_at = now
    else:
        apply_hostname(row, found, now)
    await session.flush()
    return tenant, row


async def recheck_pending(ctx: AppContext, *, now: datetime | None = None) -> dict[str, int]:
    """The periodic job: refresh every pending domain from Cloudflare and expire those
    pending for longer than :data:`PENDING_TTL` (their custom hostname and ingress rule
    are removed, so the name is free at Cloudflare and nothing routes it).

    ``now`` lets tests move the clock without sleeping.
    """
    moment = now or _now()
    counts = {"checked": 0, "activated": 0, "expired": 0, "errors": 0}
    async with ctx.db.sessionmaker() as session:
        ids = list(
            await session.scalars(
                select(TenantDomain.id)
                .where(TenantDomain.status.in_(PENDING_STATUSES))
                .order_by(TenantDomain.id)
            )
        )
    saas = saas_for(ctx)
    for domain_id in ids:
        async with ctx.db.sessionmaker() as session:
            row = await session.get(TenantDomain, domain_id, with_for_update=True)
            if row is None or row.status not in PENDING_STATUSES:
                continue
            if moment - row.created_at > PENDING_TTL:
                row.status = "expired"
                row.status_reason = (
                    "El cliente no creó los registros DNS en 7 días. Elimine el dominio y "
                    "vuelva a añadirlo cuando el DNS esté listo."
                )
                row.last_checked_at = moment
                await session.commit()
                counts["expired"] += 1
                try:
                    await cleanup_expired(ctx, domain_id)
                except DriverError as exc:
                    counts["errors"] += 1
                    log.warning("expired domain %s: cleanup failed: %s", domain_id, exc.message)
                continue
            if saas is None or row.cloudflare_id is None:
                continue
            try:
                found = await saas.get_custom_hostname(row.cloudflare_id)
            except DriverError as exc:
                counts["errors"] += 1
                log.warning("domain %s: check failed: %s", domain_id, exc.message)
                continue
            counts["checked"] += 1
            if found is not None:
                apply_hostname(row, found, moment)
                counts["activated"] += row.status == "active"
            await session.commit()
    return counts
