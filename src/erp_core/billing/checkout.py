"""Self-service sign-up: open a Stripe Checkout Session, and on
``checkout.session.completed`` create the customer and the tenant and start provisioning."""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from erp_core.api import ApiError, Conflict, NotFound, RateLimited, ServiceUnavailable
from erp_core.billing.dunning import BILLING_ACTOR
from erp_core.billing.history import refresh_subscription
from erp_core.billing.parse import as_dict, ref, text
from erp_core.billing.schemas import CheckoutIn, CheckoutStatus
from erp_core.context import AppContext
from erp_core.drivers.factory import gateway_for
from erp_core.models import CheckoutSession, Customer, Plan, Subscription, Tenant
from erp_core.tenants import service as tenants
from erp_core.tenants.schemas import TenantCreate

log = logging.getLogger(__name__)


async def start_checkout(
    session: AsyncSession, ctx: AppContext, body: CheckoutIn, client_ip: str | None
) -> CheckoutSession:
    """Validate, rate-limit, and open a hosted checkout carrying the sign-up in metadata."""
    limit = ctx.settings.billing_checkout_rate_limit_per_hour
    if await ctx.cache.incr(f"checkout:ip:{client_ip or '-'}", 3600) > limit:
        raise RateLimited(
            "Demasiados intentos de alta desde esta dirección. Inténtelo más tarde.",
            retry_after=3600,
        )
    reason = await tenants.subdomain_availability(session, body.subdomain)
    if reason:
        raise Conflict(reason, code="SUBDOMAIN_TAKEN")
    gateway = gateway_for(ctx)
    if gateway is None:
        raise ServiceUnavailable(
            "El alta en línea no está disponible: Stripe no está configurado.",
            code="STRIPE_NOT_CONFIGURED",
        )
    plan = await session.scalar(select(Plan).where(Plan.code == body.plan, Plan.active))
    price_id = None
    if plan is not None:
        price_id = (
            plan.stripe_price_yearly_id if body.interval == "year" else plan.stripe_price_monthly_id
        )
    if not price_id:
        await gateway.aclose()
        raise Conflict(
            f"El plan «{body.plan}» no tiene precio de Stripe para ese periodo.",
            code="PLAN_NOT_CONFIGURED",
        )
    metadata = {
        "plan": body.plan,
        "interval": body.interval,
        "subdomain": body.subdomain,
        "company": body.company_name,
        "email": str(body.email).lower(),
    }
    base = ctx.settings.erp_core_public_url.rstrip("/")
    success = ctx.settings.billing_checkout_success_url or (
        f"{base}/alta/completada?session_id={{CHECKOUT_SESSION_ID}}"
    )
    cancel = ctx.settings.billing_checkout_cancel_url or f"{base}/alta"
    fingerprint = "|".join(metadata[k] for k in ("subdomain", "email", "plan", "interval"))
    key = "erp-checkout-" + hashlib.sha256(fingerprint.encode()).hexdigest()[:32]
    try:
        link = await gateway.create_checkout_session(
            price_id=price_id,
            customer_email=metadata["email"],
            metadata=metadata,
            success_url=success,
            cancel_url=cancel,
            idempotency_key=key,
        )
    finally:
        await gateway.aclose()
    row = await session.scalar(
        select(CheckoutSession).where(CheckoutSession.stripe_session_id == link.id)
    )
    if row is None:
        row = CheckoutSession(
            stripe_session_id=link.id,
            plan=body.plan,
            interval=body.interval,
            subdomain=body.subdomain,
            company_name=body.company_name,
            email=metadata["email"],
            status="open",
            url=link.url,
        )
        session.add(row)
        await session.flush()
    return row


async def _customer(
    session: AsyncSession, stripe_customer: str | None, email: str, company: str
) -> Customer:
    customer = None
    if stripe_customer:
        customer = await session.scalar(
            select(Customer).where(Customer.stripe_customer_id == stripe_customer)
        )
    if customer is None:
        customer = await session.scalar(
            select(Customer)
            .where(func.lower(Customer.email) == email, Customer.stripe_customer_id.is_(None))
            .order_by(Customer.id)
            .limit(1)
        )
    if customer is None:
        customer = Customer(email=email, company_name=company)
        session.add(customer)
    if stripe_customer and customer.stripe_customer_id is None:
        customer.stripe_customer_id = stripe_customer
    await session.flush()
    return customer


async def complete_checkout(
    session: AsyncSession, ctx: AppContext, obj: dict[str, Any], created: datetime
) -> str:
    """Create the customer and tenant of a paid sign-up (once per session)."""
    if obj.get("mode") not in (None, "subscription"):
        return "ignored: not a subscription checkout"
    session_id = str(obj["id"])
    meta = {str(k): str(v) for k, v in as_dict(obj.get("metadata")).items()}
    row = await session.scalar(
        select(CheckoutSession)
        .where(CheckoutSession.stripe_session_id == session_id)
        .with_for_update()
    )
    if row is not None and row.tenant_id is not None:
        return "handled: tenant already created"
    email = (
        text(meta.get("email"))
        or text(as_dict(obj.get("customer_details")).get("email"))
        or text(obj.get("customer_email"))
        or ""
    ).lower()
    subdomain = row.subdomain if row else meta.get("subdomain", "")
    company = row.company_name if row else meta.get("company", "")
    plan = row.plan if row else meta.get("plan", "basic")
    if row is None:
        row = CheckoutSession(
            stripe_session_id=session_id,
            plan=plan[:32] or "basic",
            interval=meta.get("interval", "month")[:8],
            subdomain=subdomain[:63],
            company_name=company[:200] or email,
            email=email,
            status="open",
        )
        session.add(row)
    stripe_customer = ref(obj.get("customer"))
    customer = await session.get(Customer, row.customer_id) if row.customer_id else None
    if customer is not None:  # a portal sign-up: its customer exists since sign-up
        if stripe_customer and customer.stripe_customer_id is None:
            customer.stripe_customer_id = stripe_customer
    else:
        customer = await _customer(session, stripe_customer, email, company or email)
    row.customer_id = customer.id
    try:
        body = TenantCreate(company_name=company, email=email, subdomain=subdomain, plan=plan)  # type: ignore[arg-type]
        async with session.begin_nested():
            view, password = await tenants.create(session, ctx, BILLING_ACTOR, body)
    except (ValidationError, ApiError) as exc:
        detail = exc.detail if isinstance(exc, ApiError) else "Datos de alta no válidos."
        # Paid, but the subdomain was taken meanwhile: an operator picks another one
        # (GET /api/billing/checkouts?status=needs_attention, POST …/continue).
        taken = isinstance(exc, ApiError) and exc.code == "SUBDOMAIN_TAKEN"
        row.status, row.error = ("needs_attention" if taken else "failed"), detail[:500]
        log.warning("checkout could not create its tenant", extra={"session": session_id})
        return f"handled: tenant not created ({row.error})"
    row.status, row.tenant_id, row.error = "completed", view.tenant.id, None
    if password:
        row.admin_password_enc = ctx.secret_box.encrypt(password)
    subscription = ref(obj.get("subscription"))
    if subscription:
        sub = await refresh_subscription(session, subscription)
        if sub is not None:
            sub.tenant_id = view.tenant.id
    await session.flush()
    return "handled"


async def checkout_status(
    session: AsyncSession, ctx: AppContext, stripe_session_id: str
) -> CheckoutStatus:
    """What the success page shows; the generated admin password is revealed once."""
    row = await session.scalar(
        select(CheckoutSession)
        .where(CheckoutSession.stripe_session_id == stripe_session_id)
        .with_for_update()
    )
    if row is None:
        raise NotFound("La sesión de pago no existe.", code="CHECKOUT_NOT_FOUND")
    tenant = await session.get(Tenant, row.tenant_id) if row.tenant_id else None
    password = None
    if row.admin_password_enc:
        password = ctx.secret_box.decrypt(row.admin_password_enc)
        row.admin_password_enc = None
    return CheckoutStatus(
        session_id=row.stripe_session_id,
        status=row.status,
        subdomain=row.subdomain,
        tenant_id=row.tenant_id,
        tenant_status=tenant.status if tenant else None,
        url=f"https://{row.subdomain}.{ctx.settings.base_domain}" if tenant else None,
        admin_login=tenant.admin_login if tenant else None,
        admin_password=password,
        error=row.error,
    )


async def subscription_for_tenant(session: AsyncSession, tenant_id: int) -> Subscription | None:
    sub: Subscription | None = await session.scalar(
        select(Subscription)
        .where(Subscription.tenant_id == tenant_id)
        .order_by(Subscription.id.desc())
        .limit(1)
    )
    return sub
