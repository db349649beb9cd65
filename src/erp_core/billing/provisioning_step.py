"""The Stripe step of the tenant create operation: a customer and a subscription billed by
invoice (collection_method=send_invoice), created with deterministic idempotency keys.

Idempotent: a tenant that already has a subscription (a re-run, or a self-service sign-up
that paid through Checkout) is left as it is.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from erp_core.billing import history
from erp_core.billing.parse import parse_subscription
from erp_core.drivers.factory import gateway_for
from erp_core.models import CheckoutSession, Customer, Plan, Subscription, Tenant
from erp_core.runner.engine import StepFailed, StepRun, StepSkipped


async def _existing(run: StepRun, tenant_id: int) -> str | None:
    async with run.session() as session:
        sub = await session.scalar(
            select(Subscription.stripe_subscription_id).where(Subscription.tenant_id == tenant_id)
        )
        if sub:
            return str(sub)
        paid = await session.scalar(
            select(CheckoutSession.stripe_session_id).where(CheckoutSession.tenant_id == tenant_id)
        )
        return f"checkout:{paid}" if paid else None


async def ensure_stripe_subscription(run: StepRun) -> dict[str, Any] | None:
    gateway = gateway_for(run.ctx)
    if gateway is None:
        raise StepSkipped("Stripe no está configurado")
    try:
        return await _ensure(run, gateway)
    finally:
        await gateway.aclose()


async def _ensure(run: StepRun, gateway: Any) -> dict[str, Any]:
    assert run.tenant_id is not None
    existing = await _existing(run, run.tenant_id)
    if existing:
        await run.log("info", "El tenant ya tiene suscripción en Stripe.")
        return {"subscription": existing, "created": False}
    async with run.session() as session:
        tenant = await session.get(Tenant, run.tenant_id)
        if tenant is None:
            raise StepFailed("El tenant ya no existe.")
        customer = await session.get(Customer, tenant.customer_id)
        plan = await session.scalar(select(Plan).where(Plan.code == tenant.plan))
        assert customer is not None
        price_id = plan.stripe_price_monthly_id if plan else None
        tenant_id, subdomain, plan_code = tenant.id, tenant.subdomain, tenant.plan
        customer_id, stripe_customer = customer.id, customer.stripe_customer_id
        email, company = customer.email, customer.company_name
    if not price_id:
        raise StepSkipped(f"El plan «{plan_code}» no tiene precio de Stripe asignado")
    if stripe_customer is None:
        created = await gateway.create_customer(
            email=email,
            name=company,
            metadata={"customer_id": str(customer_id)},
            idempotency_key=f"erp-customer-{customer_id}",
        )
        stripe_customer = str(created["id"])
        async with run.session() as session:
            row = await session.get(Customer, customer_id, with_for_update=True)
            assert row is not None
            if row.stripe_customer_id is None:
                row.stripe_customer_id = stripe_customer
            stripe_customer = row.stripe_customer_id
    raw = await gateway.create_subscription(
        customer_id=stripe_customer,
        price_id=price_id,
        metadata={"tenant_id": str(tenant_id), "subdomain": subdomain, "plan": plan_code},
        days_until_due=run.ctx.settings.billing_days_until_due,
        idempotency_key=f"erp-subscription-tenant-{tenant_id}",
    )
    view = parse_subscription(dict(raw))
    async with run.session() as session:
        sub = await session.scalar(
            select(Subscription).where(Subscription.stripe_subscription_id == view.id)
        )
        if sub is None:
            sub = Subscription(
                customer_id=customer_id,
                stripe_subscription_id=view.id,
                plan_name=plan_code,
                status=view.status,
                currency=view.currency,
                interval=view.interval,
                current_period_start=view.period_start,
                current_period_end=view.period_end,
                state_changed_at=datetime.now(UTC),
            )
            session.add(sub)
        sub.tenant_id = tenant_id
        await session.flush()
        await history.refresh_subscription(session, view.id)
    await run.log(
        "info",
        f"Suscripción de Stripe {view.id} ({plan_code}, factura a {run.ctx.settings.billing_days_until_due} días).",
    )
    return {"subscription": view.id, "customer": stripe_customer, "created": True}
