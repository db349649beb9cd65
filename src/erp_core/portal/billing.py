"""The customer's billing actions: Stripe Customer Portal, plan change with proration, and
cancellation at period end.

Stripe is the source of truth for money: the plan change and the cancellation are asked of
Stripe first; the local subscription row is updated from Stripe's answer (and again by the
webhook that follows), so a failed Stripe call changes nothing here.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from erp_core.api import Conflict, ServiceUnavailable
from erp_core.audit.service import record
from erp_core.context import AppContext
from erp_core.dashboard.cache_hooks import invalidate_dashboard
from erp_core.db import on_commit
from erp_core.deps import Actor
from erp_core.drivers.base import DriverError
from erp_core.drivers.factory import gateway_for
from erp_core.mail.outbox import queue_mail
from erp_core.models import Customer, Plan, Subscription, Tenant
from erp_core.portal.deps import CustomerActor
from erp_core.portal.plan_mail import queue_plan_changed
from erp_core.portal.schemas import CancelOut, PlanChangeOut
from erp_core.portal.service import own_tenant, portal_url, tenant_url
from erp_core.provisioning import plan_move
from erp_core.provisioning.dedicated import operation_kind
from erp_core.runner.service import open_job, start_job

MIGRATION_DOWNTIME_MINUTES = plan_move.DOWNTIME_MINUTES


def _gateway(ctx: AppContext) -> Any:
    gateway = gateway_for(ctx)
    if gateway is None:
        raise ServiceUnavailable(
            "La facturación en línea no está disponible: Stripe no está configurado.",
            code="STRIPE_NOT_CONFIGURED",
        )
    return gateway


def _is_proration(line: dict[str, Any]) -> bool:
    """Stripe's current shape flags prorations under `parent`; older API versions at the top."""
    parent = line.get("parent") or {}
    details = parent.get("subscription_item_details") or parent.get("invoice_item_details") or {}
    return bool(details.get("proration") or line.get("proration"))


def _vendor_error(exc: DriverError) -> ServiceUnavailable:
    return ServiceUnavailable(
        f"Stripe no pudo completar la operación: {exc.message}", code="STRIPE_ERROR"
    )


async def _customer(session: AsyncSession, who: CustomerActor) -> Customer:
    customer = await session.get(Customer, who.customer_id)
    assert customer is not None
    return customer


async def billing_portal_url(
    session: AsyncSession, ctx: AppContext, who: CustomerActor, return_path: str
) -> str:
    customer = await _customer(session, who)
    if not customer.stripe_customer_id:
        raise Conflict(
            "Aún no hay datos de facturación: complete primero el pago de un alta.",
            code="NO_BILLING_ACCOUNT",
        )
    gateway = _gateway(ctx)
    try:
        url: str = await gateway.create_billing_portal_session(
            customer_id=customer.stripe_customer_id, return_url=portal_url(ctx, return_path)
        )
    except DriverError as exc:
        raise _vendor_error(exc) from exc
    finally:
        await gateway.aclose()
    record(session, who.actor, "portal.billing_portal", "customer", customer.id)
    return url


async def _paid_subscription(session: AsyncSession, tenant: Tenant) -> Subscription:
    sub = await session.scalar(
        select(Subscription)
        .where(Subscription.tenant_id == tenant.id)
        .order_by(Subscription.id.desc())
        .limit(1)
        .with_for_update()
    )
    if sub is None or not sub.stripe_subscription_id or sub.status in ("canceled",):
        raise Conflict("Esta instancia no tiene una suscripción activa.", code="NO_SUBSCRIPTION")
    return sub


async def change_plan(
    session: AsyncSession,
    ctx: AppContext,
    who: CustomerActor,
    tenant_id: int,
    plan_code: str,
    interval: str | None,
    accept_downtime: bool = False,
) -> PlanChangeOut:
    """The customer's own plan change (their tenant only; another's answers 404)."""
    tenant = await own_tenant(session, who.customer_id, tenant_id)
    return await apply_plan_change(
        session, ctx, who.actor, tenant, plan_code, interval, accept_downtime
    )


async def apply_plan_change(
    session: AsyncSession,
    ctx: AppContext,
    actor: Actor,
    tenant: Tenant,
    plan_code: str,
    interval: str | None,
    accept_downtime: bool,
) -> PlanChangeOut:
    """Change ``tenant``'s plan, for the customer (portal) or an operator (admin app).

    Same kind of hosting: Stripe prorates at once, no interruption. Shared <-> dedicated:
    a move job (backup → restore, ``provisioning/plan_move.py``) that starts only once the
    downtime was accepted (409 ``MIGRATION_NEEDS_CONFIRMATION`` states it first); Stripe's
    price changes when the move has succeeded, never before."""
    if tenant.status != "active":
        raise Conflict(
            "Solo se puede cambiar el plan de una instancia activa.", code="TENANT_NOT_ACTIVE"
        )
    await session.refresh(tenant, with_for_update=True)
    if await open_job(session, tenant.id):
        raise Conflict("La instancia tiene una operación en curso.", code="TENANT_BUSY")
    sub = await _paid_subscription(session, tenant)
    interval = interval or (sub.interval if sub.interval in ("month", "year") else "month")
    new = await session.scalar(select(Plan).where(Plan.code == plan_code, Plan.active))
    price_id = None
    if new is not None:
        price_id = new.stripe_price_yearly_id if interval == "year" else new.stripe_price_monthly_id
    if new is None or not price_id:
        raise Conflict(
            f"El plan «{plan_code}» no está a la venta para ese periodo.",
            code="PLAN_NOT_CONFIGURED",
        )
    if new.code == tenant.plan and interval == sub.interval:
        raise Conflict("La instancia ya tiene ese plan.", code="SAME_PLAN")
    lives_dedicated = await operation_kind(session, tenant, "suspend") != "suspend"
    if lives_dedicated != new.dedicated:
        if not accept_downtime:
            raise Conflict(
                f"El cambio a «{new.name}» traslada la instancia a otro tipo de servidor "
                f"(respaldo y restauración): unos {MIGRATION_DOWNTIME_MINUTES} minutos sin "
                "servicio. Confirme que acepta la interrupción para continuar.",
                code="MIGRATION_NEEDS_CONFIRMATION",
            )
        return await _start_move(session, ctx, actor, tenant, sub, new, interval, price_id)
    return await _prorate(session, ctx, actor, tenant, sub, new, interval, price_id)


async def _start_move(
    session: AsyncSession,
    ctx: AppContext,
    actor: Actor,
    tenant: Tenant,
    sub: Subscription,
    new: Plan,
    interval: str,
    price_id: str,
) -> PlanChangeOut:
    kind = plan_move.TO_DEDICATED if new.dedicated else plan_move.TO_SHARED
    params = {
        "plan_from": tenant.plan,
        "plan_to": new.code,
        "interval": interval,
        "price_id": price_id,
        "stripe_subscription_id": sub.stripe_subscription_id,
        "source_server_id": tenant.odoo_server_id,
        "direction": "to_dedicated" if new.dedicated else "to_shared",
        "downtime_minutes": MIGRATION_DOWNTIME_MINUTES,
    }
    try:
        async with session.begin_nested():
            job = await start_job(session, ctx, kind, tenant.id, params, actor.user_id)
    except IntegrityError as exc:
        raise Conflict("La instancia tiene una operación en curso.", code="TENANT_BUSY") from exc
    tenant.last_error = None
    notice = (
        f"Traslado a «{new.name}» en marcha: unos {MIGRATION_DOWNTIME_MINUTES} minutos sin "
        "servicio. El nuevo precio se aplica cuando el traslado termine."
    )
    record(
        session,
        actor,
        "tenant.plan_move",
        "tenant",
        tenant.id,
        {"plan": new.code, "interval": interval, "job_id": job.id, "kind": kind},
    )
    on_commit(session, lambda: invalidate_dashboard(ctx))
    return PlanChangeOut(
        tenant_id=tenant.id,
        plan=new.code,
        interval="year" if interval == "year" else "month",
        kind="migration",
        downtime_minutes=MIGRATION_DOWNTIME_MINUTES,
        notice=notice,
        job_id=job.id,
        proration_amount=None,
        currency=new.currency,
    )


async def _prorate(
    session: AsyncSession,
    ctx: AppContext,
    actor: Actor,
    tenant: Tenant,
    sub: Subscription,
    new: Plan,
    interval: str,
    price_id: str,
) -> PlanChangeOut:
    """Same kind of hosting: Stripe swaps the price now and prorates the rest of the period."""
    assert sub.stripe_subscription_id is not None
    gateway = _gateway(ctx)
    try:
        updated = await gateway.change_subscription_price(
            subscription_id=sub.stripe_subscription_id,
            price_id=price_id,
            idempotency_key=f"erp-plan-{sub.stripe_subscription_id}-{new.code}-{interval}-{sub.id}-{sub.state_seq or 0}",
        )
        preview = await gateway.upcoming_invoice(
            customer_id=str(updated.get("customer") or ""),
            subscription_id=sub.stripe_subscription_id,
        )
    except DriverError as exc:
        raise _vendor_error(exc) from exc
    finally:
        await gateway.aclose()
    proration = sum(
        int(line.get("amount") or 0)
        for line in (preview.get("lines") or {}).get("data", [])
        if _is_proration(line)
    )
    sub.plan_name, sub.interval = new.code, interval
    tenant.plan = new.code
    notice = f"El cambio a «{new.name}» es inmediato y sin interrupción del servicio."
    await queue_plan_changed(
        session,
        ctx,
        tenant,
        new.code,
        interval,
        key=f"{sub.stripe_subscription_id}:{updated.get('id')}:{preview.get('id') or ''}",
        notice=notice,
    )
    record(
        session,
        actor,
        "portal.plan_change",
        "tenant",
        tenant.id,
        {"plan": new.code, "interval": interval, "migration": False, "job_id": None},
    )
    return PlanChangeOut(
        tenant_id=tenant.id,
        plan=new.code,
        interval="year" if interval == "year" else "month",
        kind="proration",
        downtime_minutes=0,
        notice=notice,
        job_id=None,
        proration_amount=proration,
        currency=str(preview.get("currency") or new.currency),
    )


async def cancel(
    session: AsyncSession, ctx: AppContext, who: CustomerActor, tenant_id: int
) -> CancelOut:
    tenant = await own_tenant(session, who.customer_id, tenant_id)
    sub = await _paid_subscription(session, tenant)
    assert sub.stripe_subscription_id is not None
    if not sub.cancel_at_period_end:
        gateway = _gateway(ctx)
        try:
            raw = await gateway.cancel_at_period_end(
                subscription_id=sub.stripe_subscription_id,
                idempotency_key=f"erp-cancel-{sub.stripe_subscription_id}",
            )
        except DriverError as exc:
            raise _vendor_error(exc) from exc
        finally:
            await gateway.aclose()
        sub.cancel_at_period_end = bool(raw.get("cancel_at_period_end", True))
    retention = ctx.settings.billing_retention_days
    end = sub.current_period_end
    deletion = end + timedelta(days=retention) if end else None
    notice = (
        "La suscripción se cancelará al final del periodo en curso. Después la instancia se "
        f"suspenderá y, pasados {retention} días, se hará un respaldo final y se eliminará."
    )
    customer = await _customer(session, who)
    await queue_mail(
        session,
        ctx,
        key=f"cancellation:{sub.stripe_subscription_id}",
        kind="cancellation",
        to=customer.email,
        customer_id=customer.id,
        params={
            "company": customer.company_name,
            "url": tenant_url(ctx, tenant.subdomain),
            "period_end": end.strftime("%d/%m/%Y") if end else "",
            "retention_days": str(retention),
            "portal_url": portal_url(ctx),
        },
    )
    record(session, who.actor, "portal.cancel", "tenant", tenant.id, {})
    return CancelOut(
        tenant_id=tenant.id,
        cancel_at_period_end=True,
        current_period_end=end,
        deletion_after=deletion,
        notice=notice,
    )
