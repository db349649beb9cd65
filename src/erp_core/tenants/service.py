"""Tenant use cases: search, create, suspend, reactivate, delete, retry.

Each write records its operation as a job in the caller's transaction (deferred to the queue
after commit) and moves the tenant to the operation's in-progress status, so the API answers
202 at once and the worker does the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from erp_core.api import Conflict, NotFound
from erp_core.audit.service import record
from erp_core.context import AppContext
from erp_core.dashboard.cache_hooks import invalidate_dashboard
from erp_core.db import on_commit
from erp_core.deps import Actor
from erp_core.models import Customer, Job, Tenant
from erp_core.plans import require_plan
from erp_core.provisioning.dedicated import base_kind, operation_kind
from erp_core.runner.service import open_job, start_job
from erp_core.security import generate_password
from erp_core.templates import spares
from erp_core.tenants.schemas import TenantCreate
from erp_core.tenants.subdomains import subdomain_problem

STATUS_ES = {
    "pending": "Pendiente",
    "provisioning": "Aprovisionando",
    "active": "Activo",
    "suspending": "Suspendiendo",
    "suspended": "Suspendido",
    "reactivating": "Reactivando",
    "deleting": "Eliminando",
    "deleted": "Eliminado",
    "failed": "Fallido",
}
IN_PROGRESS = {
    "create": "provisioning",
    "suspend": "suspending",
    "reactivate": "reactivating",
    "delete": "deleting",
}
ALLOWED_FROM = {
    "suspend": ("active",),
    "reactivate": ("suspended",),
    "delete": ("active", "suspended", "failed"),
}
ACTION_ES = {
    "suspend": "suspender",
    "reactivate": "reactivar",
    "delete": "eliminar",
    "retry": "reintentar",
}
SORTABLE = {
    "created_at": Tenant.created_at,
    "updated_at": Tenant.updated_at,
    "subdomain": Tenant.subdomain,
    "company_name": Tenant.company_name,
    "status": Tenant.status,
    "plan": Tenant.plan,
    "id": Tenant.id,
}


@dataclass
class TenantView:
    """A tenant with its customer's email, as the API shows it."""

    tenant: Tenant
    email: str
    job_id: int | None = None


def like_pattern(text: str) -> str:
    """A LIKE pattern matching `text` literally (quotes, %, _ and \\ are just characters)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def _filtered(
    query: Any, q: str | None, status: str | None, plan: str | None, include_deleted: bool
) -> Any:
    """Filters on `tenants` only (the e-mail is searched through admin_login), so the planner
    can use the trigram and partial indexes without joining first."""
    if q:
        query = query.where(Tenant.search_text.like(like_pattern(q.strip()), escape="\\"))
    if status:
        query = query.where(Tenant.status == status)
    elif not include_deleted:
        query = query.where(Tenant.status != "deleted")
    if plan:
        query = query.where(Tenant.plan == plan)
    return query


async def search(
    session: AsyncSession,
    *,
    q: str | None,
    status: str | None,
    plan: str | None,
    sort: str,
    offset: int,
    limit: int,
    include_deleted: bool = False,
) -> tuple[list[TenantView], int]:
    """One page of tenants: the page's ids come from an index-only walk, then 25 rows join."""
    total = int(
        await session.scalar(
            _filtered(select(func.count()).select_from(Tenant), q, status, plan, include_deleted)
        )
        or 0
    )
    column = SORTABLE[sort.lstrip("-")]
    descending = sort.startswith("-")
    order = (column.desc(), Tenant.id.desc()) if descending else (column.asc(), Tenant.id.asc())
    page_ids = (
        _filtered(select(Tenant.id), q, status, plan, include_deleted)
        .order_by(*order)
        .offset(offset)
        .limit(limit)
        .subquery()
    )
    rows = await session.execute(
        select(Tenant, Customer.email)
        .join(page_ids, page_ids.c.id == Tenant.id)
        .join(Customer, Customer.id == Tenant.customer_id)
        .order_by(*order)
    )
    return [TenantView(row[0], row[1]) for row in rows.all()], total


async def get_view(session: AsyncSession, tenant_id: int) -> TenantView:
    row = (
        await session.execute(
            select(Tenant, Customer.email)
            .join(Customer, Customer.id == Tenant.customer_id)
            .where(Tenant.id == tenant_id)
        )
    ).first()
    if row is None:
        raise NotFound(f"El tenant con ID {tenant_id} no existe.", code="TENANT_NOT_FOUND")
    return TenantView(row[0], row[1])


async def subdomain_availability(session: AsyncSession, subdomain: str) -> str | None:
    """None when free, else the Spanish reason it cannot be used."""
    problem = subdomain_problem(subdomain)
    if problem:
        return problem
    taken = await session.scalar(
        select(Tenant.id).where(Tenant.subdomain == subdomain, Tenant.status != "deleted")
    )
    return f"El subdominio «{subdomain}» ya está en uso." if taken else None


async def _customer_for(
    session: AsyncSession, email: str, company: str, country: str | None
) -> Customer:
    customer = await session.scalar(
        select(Customer)
        .where(func.lower(Customer.email) == email.lower())
        .order_by(Customer.id)
        .limit(1)
    )
    if customer is None:
        customer = Customer(email=email.lower(), company_name=company, country=country)
        session.add(customer)
        await session.flush()
    return customer


async def insert_tenant(session: AsyncSession, tenant: Tenant) -> None:
    """Add and flush a new tenant; a concurrent request that took the subdomain first (the
    partial unique index) becomes 409 SUBDOMAIN_TAKEN instead of an integrity error."""
    try:
        async with session.begin_nested():
            session.add(tenant)
            await session.flush()
    except IntegrityError as exc:
        raise Conflict(
            f"El subdominio «{tenant.subdomain}» ya está en uso.", code="SUBDOMAIN_TAKEN"
        ) from exc


async def create(
    session: AsyncSession, ctx: AppContext, actor: Actor, body: TenantCreate
) -> tuple[TenantView, str | None]:
    """Record the tenant and its create job; returns the generated admin password, if any."""
    await require_plan(session, ctx.settings.billing_currency, body.plan)
    reason = await subdomain_availability(session, body.subdomain)
    if reason:
        raise Conflict(reason, code="SUBDOMAIN_TAKEN")
    customer = await _customer_for(session, str(body.email), body.company_name, body.country)
    if customer.subdomain is None:
        customer.subdomain = body.subdomain
    generated = None if body.admin_password else generate_password()
    password = body.admin_password or generated or ""
    tenant = Tenant(
        customer_id=customer.id,
        subdomain=body.subdomain,
        company_name=body.company_name,
        plan=body.plan,
        status="provisioning",
        language=body.language,
        country=body.country,
        admin_login=customer.email,
    )
    await insert_tenant(session, tenant)
    kind = await operation_kind(session, tenant, "create")  # shared server or own container
    params: dict[str, object] = {"company_name": body.company_name}
    if generated and kind == "create":
        # A prepared spare (issue 15): its administrator already has a random password,
        # which becomes the generated one; the create job only renames and personalises it.
        reserved = await spares.reserve(
            session, ctx, tenant, await spares.free_room(session, tenant.id)
        )
        if reserved is not None:
            spare, generated = reserved
            password = generated
            params["spare_id"] = spare.id
            await session.flush()  # the server it was placed on bumps updated_at: reload it
            await session.refresh(tenant, attribute_names=["updated_at"])
    params["admin_password_enc"] = ctx.secret_box.encrypt(password)
    job = await start_job(session, ctx, kind, tenant.id, params, actor.user_id)
    record(
        session,
        actor,
        "tenant.create",
        "tenant",
        tenant.id,
        {"subdomain": tenant.subdomain, "plan": tenant.plan, "job_id": job.id},
    )
    on_commit(session, lambda: invalidate_dashboard(ctx))
    return TenantView(tenant, customer.email, job.id), generated


async def _start(
    session: AsyncSession,
    ctx: AppContext,
    actor: Actor,
    tenant_id: int,
    kind: str,
    params: dict[str, object],
    action: str,
) -> TenantView:
    view = await get_view(session, tenant_id)
    tenant = view.tenant
    await session.refresh(tenant, with_for_update=True)
    busy = await open_job(session, tenant.id)
    if busy is not None:
        raise Conflict(
            f"El tenant ya tiene una operación en curso (trabajo {busy}). Espere a que termine.",
            code="TENANT_BUSY",
        )
    if action != "retry" and tenant.status not in ALLOWED_FROM[kind]:
        raise Conflict(
            f"No se puede {ACTION_ES[action]} un tenant en estado «{STATUS_ES[tenant.status]}».",
            code="INVALID_STATE",
        )
    if kind == "delete":
        # A failed delete puts the tenant back where it was (its database still exists).
        params = {**params, "previous_status": tenant.status}
    try:
        async with session.begin_nested():
            job_kind = await operation_kind(session, tenant, kind)
            job = await start_job(session, ctx, job_kind, tenant.id, params, actor.user_id)
    except IntegrityError as exc:
        raise Conflict("El tenant ya tiene una operación en curso.", code="TENANT_BUSY") from exc
    tenant.status = IN_PROGRESS[base_kind(kind)]
    tenant.last_error = None
    record(
        session,
        actor,
        f"tenant.{action}",
        "tenant",
        tenant.id,
        {"job_id": job.id, **{k: v for k, v in params.items() if not k.endswith("_enc")}},
    )
    on_commit(session, lambda: invalidate_dashboard(ctx))
    view.job_id = job.id
    return view


async def suspend(
    session: AsyncSession, ctx: AppContext, actor: Actor, tenant_id: int, reason: str
) -> TenantView:
    return await _start(session, ctx, actor, tenant_id, "suspend", {"reason": reason}, "suspend")


async def reactivate(
    session: AsyncSession, ctx: AppContext, actor: Actor, tenant_id: int
) -> TenantView:
    return await _start(session, ctx, actor, tenant_id, "reactivate", {}, "reactivate")


async def delete(
    session: AsyncSession, ctx: AppContext, actor: Actor, tenant_id: int
) -> TenantView:
    return await _start(session, ctx, actor, tenant_id, "delete", {}, "delete")


async def retry(session: AsyncSession, ctx: AppContext, actor: Actor, tenant_id: int) -> TenantView:
    """Run the tenant's last failed operation again as a new job (steps are idempotent)."""
    view = await get_view(session, tenant_id)
    if view.tenant.status != "failed":
        raise Conflict(
            f"Solo se reintenta un tenant «Fallido»; este está «{STATUS_ES[view.tenant.status]}».",
            code="INVALID_STATE",
        )
    last = await session.scalar(
        select(Job)
        .where(Job.tenant_id == tenant_id, Job.status == "failed")
        .order_by(Job.id.desc())
        .limit(1)
    )
    if last is None:
        raise Conflict("No hay ninguna operación fallida que reintentar.", code="INVALID_STATE")
    if base_kind(last.kind) not in IN_PROGRESS:
        # e.g. a plan move whose undo failed half-way: its log says what is left to fix
        raise Conflict(
            "La última operación fallida no se reintenta desde aquí: revise su registro.",
            code="INVALID_STATE",
        )
    return await _start(
        session, ctx, actor, tenant_id, base_kind(last.kind), dict(last.params), "retry"
    )
