"""Billing use cases that are not webhook handlers: plans, invoices, a tenant's billing,
metrics months, the event log, and the invoice backfill/sync over Stripe's list API."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from erp_core.api import Conflict, NotFound, ValidationFailed
from erp_core.billing import history, metrics
from erp_core.billing.schemas import (
    CustomerOut,
    InvoiceOut,
    PlanCreate,
    PlanUpdate,
    SubscriptionOut,
    TenantBilling,
)
from erp_core.context import AppContext
from erp_core.drivers.base import DriverError
from erp_core.drivers.factory import gateway_for
from erp_core.models import Customer, Invoice, Plan, StripeEvent, Subscription, Tenant
from erp_core.plans import ensure_plans

# --- plans ----------------------------------------------------------------------------------


async def list_plans(session: AsyncSession, ctx: AppContext) -> list[Plan]:
    await ensure_plans(session, ctx.settings.billing_currency)
    return list(await session.scalars(select(Plan).order_by(Plan.id)))


async def create_plan(session: AsyncSession, ctx: AppContext, body: PlanCreate) -> Plan:
    """Insert a plan; a taken code is a 409 (the unique index decides, not a pre-check)."""
    await ensure_plans(session, ctx.settings.billing_currency)
    inserted = await session.scalar(
        insert(Plan)
        .values(currency=ctx.settings.billing_currency, **body.model_dump())
        .on_conflict_do_nothing(index_elements=["code"])
        .returning(Plan.id)
    )
    if inserted is None:
        raise Conflict(f"Ya existe un plan con el código «{body.code}».", code="PLAN_EXISTS")
    plan = await session.get(Plan, inserted)
    assert plan is not None
    return plan


async def update_plan(
    session: AsyncSession, ctx: AppContext, code: str, body: PlanUpdate
) -> tuple[Plan, list[str]]:
    """Apply changes; a Stripe price is checked (recurring, right interval and currency) and
    its amount copied, so the plan shows what Stripe will charge."""
    await ensure_plans(session, ctx.settings.billing_currency)
    plan = await session.scalar(select(Plan).where(Plan.code == code).with_for_update())
    if plan is None:
        raise NotFound(f"El plan «{code}» no existe.", code="PLAN_NOT_FOUND")
    changes = body.model_dump(exclude_unset=True)
    for field, interval in (
        ("stripe_price_monthly_id", "month"),
        ("stripe_price_yearly_id", "year"),
    ):
        price_id = changes.get(field)
        if price_id:
            amount = await _checked_price(ctx, price_id, interval)
            changes["monthly_price" if interval == "month" else "yearly_price"] = amount
    for field, value in changes.items():
        setattr(plan, field, value or None if field.startswith("stripe_") else value)
    wanted = [plan.stripe_price_monthly_id or "", plan.stripe_price_yearly_id or ""]
    # No autoflush: flushing the pending change first would hit the unique index (a 500)
    # before this check can answer 409.
    with session.no_autoflush:
        taken = await session.scalar(
            select(Plan.code).where(
                Plan.id != plan.id,
                Plan.stripe_price_monthly_id.in_(wanted) | Plan.stripe_price_yearly_id.in_(wanted),
            )
        )
    if taken:
        raise Conflict(f"Ese precio ya está asignado al plan «{taken}».", code="PRICE_IN_USE")
    await session.flush()
    return plan, sorted(changes)


async def _checked_price(ctx: AppContext, price_id: str, interval: str) -> int:
    gateway = gateway_for(ctx)
    if gateway is None:
        raise Conflict(
            "Configure Stripe antes de asignar precios a los planes.", code="STRIPE_NOT_CONFIGURED"
        )
    try:
        price = await gateway.get_price(price_id)
    except DriverError as exc:
        raise ValidationFailed(f"Precio «{price_id}»: {exc.message}") from exc
    finally:
        await gateway.aclose()
    currency = ctx.settings.billing_currency.lower()
    expected = "mensual" if interval == "month" else "anual"
    if price.interval != interval or price.interval_count != 1:
        raise ValidationFailed(f"El precio «{price_id}» no es {expected}.")
    if price.currency.lower() != currency:
        raise ValidationFailed(f"El precio «{price_id}» no está en {currency.upper()}.")
    return price.unit_amount


# --- invoices -------------------------------------------------------------------------------


async def search_invoices(
    session: AsyncSession,
    *,
    customer_id: int | None,
    status: str | None,
    month: date | None,
    offset: int,
    limit: int,
) -> tuple[list[Invoice], int]:
    query = select(Invoice)
    if customer_id is not None:
        query = query.where(Invoice.customer_id == customer_id)
    if status:
        query = query.where(Invoice.status == status)
    if month is not None:
        start = metrics.month_start(month)
        end = metrics.month_start(metrics.next_month(month))
        query = query.where(Invoice.stripe_created >= start, Invoice.stripe_created < end)
    total = int(await session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    rows = await session.scalars(
        query.order_by(Invoice.stripe_created.desc().nulls_last(), Invoice.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return list(rows), total


async def sync_invoices(ctx: AppContext, *, created_gte: int | None = None) -> int:
    """Backfill/refresh the local invoices from Stripe's list API (newest view wins)."""
    gateway = gateway_for(ctx)
    if gateway is None:
        return 0
    count = 0
    try:
        async with ctx.db.sessionmaker() as session:
            async for raw in gateway.list_invoices(created_gte=created_gte):
                await history.upsert_invoice(session, dict(raw), await history.sql_now(session))
                count += 1
            await session.commit()
    finally:
        await gateway.aclose()
    return count


# --- a tenant's billing ---------------------------------------------------------------------


def _report(value: Decimal) -> int:
    return metrics.report_amount(value)


async def tenant_billing(session: AsyncSession, ctx: AppContext, tenant_id: int) -> TenantBilling:
    tenant = await session.get(Tenant, tenant_id)
    if tenant is None:
        raise NotFound(f"El tenant con ID {tenant_id} no existe.", code="TENANT_NOT_FOUND")
    customer = await session.get(Customer, tenant.customer_id)
    assert customer is not None
    sub = await session.scalar(
        select(Subscription)
        .where(
            (Subscription.tenant_id == tenant.id)
            | ((Subscription.tenant_id.is_(None)) & (Subscription.customer_id == customer.id))
        )
        .order_by((Subscription.tenant_id == tenant.id).desc(), Subscription.id.desc())
        .limit(1)
    )
    sub_out = None
    if sub is not None:
        mrr = sub.mrr
        if sub.stripe_subscription_id:
            mrr = await metrics.subscription_mrr(
                session, sub.stripe_subscription_id, datetime.now(UTC), sub.currency
            )
        sub_out = SubscriptionOut(
            stripe_subscription_id=sub.stripe_subscription_id,
            plan=sub.plan_name,
            status=sub.status,
            interval=sub.interval,
            currency=sub.currency,
            current_period_start=sub.current_period_start,
            current_period_end=sub.current_period_end,
            past_due_since=sub.past_due_since,
            canceled_at=sub.canceled_at,
            mrr=_report(mrr),
        )
    invoice_query = select(Invoice).where(Invoice.customer_id == customer.id)
    if sub is not None and sub.stripe_subscription_id and sub.tenant_id == tenant.id:
        invoice_query = select(Invoice).where(
            Invoice.stripe_subscription_id == sub.stripe_subscription_id
        )
    invoices = await session.scalars(
        invoice_query.order_by(Invoice.stripe_created.desc().nulls_last()).limit(24)
    )
    return TenantBilling(
        tenant_id=tenant.id,
        stripe_configured=ctx.settings.stripe_configured,
        customer=CustomerOut(
            id=customer.id,
            email=customer.email,
            company_name=customer.company_name,
            stripe_customer_id=customer.stripe_customer_id,
        ),
        subscription=sub_out,
        invoices=[InvoiceOut.model_validate(i) for i in invoices],
    )


# --- events ---------------------------------------------------------------------------------


async def search_events(
    session: AsyncSession,
    *,
    event_type: str | None,
    state: str | None,
    offset: int,
    limit: int,
) -> tuple[list[dict[str, Any]], int]:
    query = select(StripeEvent)
    if event_type:
        query = query.where(StripeEvent.event_type == event_type)
    if state == "failed":
        query = query.where(StripeEvent.processed.is_(False), StripeEvent.error.is_not(None))
    elif state == "pending":
        query = query.where(StripeEvent.processed.is_(False))
    elif state == "processed":
        query = query.where(StripeEvent.processed.is_(True))
    total = int(await session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    rows = await session.scalars(
        query.order_by(StripeEvent.received_at.desc(), StripeEvent.id.desc())
        .offset(offset)
        .limit(limit)
    )
    items = []
    for row in rows:
        data = row.payload.get("data")
        obj = data.get("object") if isinstance(data, dict) else None
        items.append(
            {
                "id": row.id,
                "event_id": row.event_id,
                "event_type": row.event_type,
                "created": row.created,
                "received_at": row.received_at,
                "processed": row.processed,
                "processed_at": row.processed_at,
                "attempts": row.attempts,
                "error": row.error,
                "object_id": obj.get("id") if isinstance(obj, dict) else None,
            }
        )
    return items, total
