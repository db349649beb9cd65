"""Operators' side of the portal: customers (users, tenants, invoices), resending their
mails, sign-ups that need attention (subdomain taken meanwhile), and the lab's mail sink."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy import exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from erp_core.api import (
    Conflict,
    Envelope,
    NotFound,
    Page,
    Pagination,
    error_responses,
    ok,
)
from erp_core.audit.service import record
from erp_core.billing.dunning import BILLING_ACTOR
from erp_core.deps import Ctx, Operator, Session, Viewer
from erp_core.models import CheckoutSession, Customer, Invoice, Tenant, User
from erp_core.portal import billing as portal_billing
from erp_core.portal import service
from erp_core.portal.schemas import (
    CapturedMail,
    CheckoutContinued,
    CheckoutContinueIn,
    CheckoutRow,
    CustomerDetail,
    CustomerSummary,
    CustomerTenant,
    CustomerUser,
    PlanChangeIn,
    PlanChangeOut,
    PortalInvoice,
    Queued,
)
from erp_core.tenants import service as tenants
from erp_core.tenants.schemas import TenantCreate

router = APIRouter(prefix="/api", tags=["customers"])
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _accepted(payload: object) -> JSONResponse:
    return JSONResponse(jsonable_encoder(ok(payload)), status_code=202)


def _summary_query() -> Any:
    verified = (
        exists()
        .where(User.customer_id == Customer.id, User.email_verified_at.is_not(None))
        .correlate(Customer)
    )
    count = (
        select(func.count(Tenant.id))
        .where(Tenant.customer_id == Customer.id, Tenant.status != "deleted")
        .correlate(Customer)
        .scalar_subquery()
    )
    return select(Customer, verified.label("verified"), count.label("tenants"))


def _summary(row: Any) -> CustomerSummary:
    customer, verified, count = row
    return CustomerSummary(
        id=customer.id,
        email=customer.email,
        company_name=customer.company_name,
        stripe_customer_id=customer.stripe_customer_id,
        created_at=customer.created_at,
        verified=bool(verified),
        tenants=int(count or 0),
    )


@router.get(
    "/customers", response_model=Page[CustomerSummary], responses=error_responses(401, 403, 422)
)
async def list_customers(
    actor: Viewer,
    session: Session,
    pagination: Annotated[Pagination, Depends()],
    q: Annotated[str | None, Query(max_length=200)] = None,
) -> object:
    where = []
    if q:
        pattern = tenants.like_pattern(q.strip())
        where.append(
            or_(
                func.lower(Customer.email).like(pattern, escape="\\"),
                func.lower(Customer.company_name).like(pattern, escape="\\"),
            )
        )
    total = int(await session.scalar(select(func.count(Customer.id)).where(*where)) or 0)
    rows = await session.execute(
        _summary_query()
        .where(*where)
        .order_by(Customer.id.desc())
        .offset(pagination.offset)
        .limit(pagination.per_page)
    )
    return Page(data=[_summary(r) for r in rows], meta=pagination.meta(total))


async def _customer_row(session: AsyncSession, customer_id: int) -> Any:
    row = (await session.execute(_summary_query().where(Customer.id == customer_id))).first()
    if row is None:
        raise NotFound(f"El cliente con ID {customer_id} no existe.", code="CUSTOMER_NOT_FOUND")
    return row


@router.get(
    "/customers/{customer_id}",
    response_model=Envelope[CustomerDetail],
    responses=error_responses(401, 403, 404, 422),
)
async def get_customer(customer_id: Id, actor: Viewer, ctx: Ctx, session: Session) -> object:
    row = await _customer_row(session, customer_id)
    users = await session.scalars(
        select(User).where(User.customer_id == customer_id).order_by(User.id)
    )
    rows = await session.scalars(
        select(Tenant).where(Tenant.customer_id == customer_id).order_by(Tenant.id)
    )
    invoices = await session.scalars(
        select(Invoice)
        .where(Invoice.customer_id == customer_id)
        .order_by(Invoice.stripe_created.desc().nulls_last(), Invoice.id.desc())
        .limit(100)
    )
    return ok(
        CustomerDetail(
            customer=_summary(row),
            users=[CustomerUser.model_validate(u) for u in users],
            tenants=[
                CustomerTenant(
                    id=t.id,
                    subdomain=t.subdomain,
                    status=t.status,
                    plan=t.plan,
                    url=service.tenant_url(ctx, t.subdomain),
                )
                for t in rows
            ],
            invoices=[PortalInvoice.model_validate(i) for i in invoices],
        )
    )


async def _customer_user(session: AsyncSession, customer_id: int) -> tuple[Customer, User]:
    customer = await session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"El cliente con ID {customer_id} no existe.", code="CUSTOMER_NOT_FOUND")
    user = await session.scalar(
        select(User)
        .where(User.customer_id == customer_id, User.disabled.is_(False))
        .order_by(User.id)
        .limit(1)
    )
    if user is None:
        raise Conflict("El cliente no tiene ninguna cuenta de acceso.", code="NO_CUSTOMER_USER")
    return customer, user


@router.post(
    "/customers/{customer_id}/resend-verification",
    status_code=202,
    response_model=Envelope[Queued],
    responses=error_responses(401, 403, 404, 409, 422),
)
async def resend_verification(
    customer_id: Id, actor: Operator, ctx: Ctx, session: Session
) -> object:
    customer, user = await _customer_user(session, customer_id)
    if user.email_verified_at is not None:
        raise Conflict("El correo de este cliente ya está verificado.", code="ALREADY_VERIFIED")
    await service.queue_verification(session, ctx, user, customer.company_name)
    record(session, actor, "customer.resend_verification", "customer", customer.id)
    return _accepted(Queued())


@router.post(
    "/customers/{customer_id}/password-reset",
    status_code=202,
    response_model=Envelope[Queued],
    responses=error_responses(401, 403, 404, 409, 422),
)
async def send_password_reset(
    customer_id: Id, actor: Operator, ctx: Ctx, session: Session
) -> object:
    customer, user = await _customer_user(session, customer_id)
    await service.queue_reset(session, ctx, user)
    record(session, actor, "customer.password_reset", "customer", customer.id)
    return _accepted(Queued())


@router.get(
    "/billing/checkouts",
    tags=["billing"],
    response_model=Page[CheckoutRow],
    responses=error_responses(401, 403, 422),
)
async def list_checkouts(
    actor: Viewer,
    session: Session,
    pagination: Annotated[Pagination, Depends()],
    status: Literal["pending", "open", "completed", "failed", "expired", "needs_attention"]
    | None = None,
) -> object:
    where = [CheckoutSession.status == status] if status else []
    total = int(await session.scalar(select(func.count(CheckoutSession.id)).where(*where)) or 0)
    rows = await session.scalars(
        select(CheckoutSession)
        .where(*where)
        .order_by(CheckoutSession.id.desc())
        .offset(pagination.offset)
        .limit(pagination.per_page)
    )
    return Page(data=[CheckoutRow.model_validate(r) for r in rows], meta=pagination.meta(total))


@router.post(
    "/billing/checkouts/{checkout_id}/continue",
    tags=["billing"],
    response_model=Envelope[CheckoutContinued],
    responses=error_responses(401, 403, 404, 409, 422),
)
async def continue_checkout(
    checkout_id: Id, body: CheckoutContinueIn, actor: Operator, ctx: Ctx, session: Session
) -> object:
    """A paid sign-up whose subdomain was taken meanwhile: create its tenant on another one."""
    row = await session.scalar(
        select(CheckoutSession).where(CheckoutSession.id == checkout_id).with_for_update()
    )
    if row is None:
        raise NotFound(f"El alta con ID {checkout_id} no existe.", code="CHECKOUT_NOT_FOUND")
    if row.status != "needs_attention" or row.tenant_id is not None:
        raise Conflict("Esta alta no está pendiente de revisión.", code="CHECKOUT_NOT_PENDING")
    create = TenantCreate(
        company_name=row.company_name,
        email=row.email,
        subdomain=body.subdomain,
        plan=row.plan,
    )
    view, password = await tenants.create(session, ctx, BILLING_ACTOR, create)
    row.subdomain, row.status, row.tenant_id, row.error = (
        body.subdomain,
        "completed",
        view.tenant.id,
        None,
    )
    if password:
        row.admin_password_enc = ctx.secret_box.encrypt(password)
    await service.link_paid_subscription(session, row, view.tenant.id)
    record(
        session,
        actor,
        "billing.checkout.continue",
        "checkout",
        row.id,
        {"subdomain": body.subdomain, "tenant_id": view.tenant.id},
    )
    await session.flush()
    await session.refresh(row)  # updated_at is set by the database
    return ok(
        CheckoutContinued(
            checkout=CheckoutRow.model_validate(row), tenant_id=view.tenant.id, job_id=view.job_id
        )
    )


@router.post(
    "/tenants/{tenant_id}/plan",
    tags=["tenants"],
    response_model=Envelope[PlanChangeOut],
    responses=error_responses(401, 403, 404, 409, 422, 503),
)
async def change_tenant_plan(
    tenant_id: Id, body: PlanChangeIn, actor: Operator, ctx: Ctx, session: Session
) -> object:
    """An operator changes a tenant's plan for its customer: the same rules as the portal
    (Stripe prorates; shared <-> dedicated is a move job once the downtime is accepted)."""
    tenant = await session.get(Tenant, tenant_id)
    if tenant is None or tenant.status == "deleted":
        raise NotFound(f"El tenant con ID {tenant_id} no existe.", code="TENANT_NOT_FOUND")
    return ok(
        await portal_billing.apply_plan_change(
            session, ctx, actor, tenant, body.plan, body.interval, body.accept_downtime
        )
    )


@router.get(
    "/lab/mail",
    tags=["lab"],
    response_model=Envelope[list[CapturedMail]],
    responses=error_responses(401, 403, 404),
)
async def lab_mail(
    actor: Operator,
    ctx: Ctx,
    to: Annotated[str | None, Query(max_length=254)] = None,
) -> object:
    """Mail captured by the lab's SMTP sink (lab mode only), newest first."""
    sink = getattr(ctx.lab, "mail", None) if ctx.lab_mode else None
    if sink is None:
        raise NotFound("El buzón del laboratorio solo existe en modo laboratorio.", code="LAB_ONLY")
    return ok(sink.messages(to))
