"""Which tenant and billing events mail the customer, queued in the event's transaction.

Only customers with a portal login are mailed: a tenant an operator created by hand for a
customer who never signed up keeps today's behaviour (the operator tells them).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from erp_core.context import AppContext
from erp_core.mail.outbox import queue_mail
from erp_core.models import Customer, Tenant, User


async def _portal_customer(session: AsyncSession, customer_id: int) -> Customer | None:
    has_login = await session.scalar(
        select(User.id).where(User.customer_id == customer_id, User.role == "customer").limit(1)
    )
    return await session.get(Customer, customer_id) if has_login else None


def _urls(ctx: AppContext, tenant: Tenant) -> dict[str, str]:
    return {
        "url": f"https://{tenant.subdomain}.{ctx.settings.base_domain}",
        "portal_url": ctx.settings.erp_core_public_url.rstrip("/") + "/portal",
    }


async def tenant_status_mail(
    session: AsyncSession, ctx: AppContext, tenant: Tenant, previous: str, job_id: int
) -> None:
    """Welcome (first time active), suspended, reactivated: once per job that caused it."""
    if tenant.status == previous:
        return
    if tenant.status == "active" and previous in ("provisioning", "pending"):
        kind, key = "welcome", f"welcome:tenant:{tenant.id}"
    elif tenant.status == "suspended":
        kind, key = "suspended", f"suspended:tenant:{tenant.id}:job:{job_id}"
    elif tenant.status == "active" and previous in ("reactivating", "suspended"):
        kind, key = "reactivated", f"reactivated:tenant:{tenant.id}:job:{job_id}"
    else:
        return
    customer = await _portal_customer(session, tenant.customer_id)
    if customer is None:
        return
    await queue_mail(
        session,
        ctx,
        key=key,
        kind=kind,
        to=customer.email,
        customer_id=customer.id,
        params={
            "company": customer.company_name,
            "admin_login": tenant.admin_login,
            **_urls(ctx, tenant),
        },
    )


async def payment_failed_mail(
    session: AsyncSession,
    ctx: AppContext,
    customer_id: int | None,
    invoice_number: str,
    event_id: str,
) -> None:
    """One mail per failed-payment event (Stripe retries produce new events, new mails)."""
    if customer_id is None:
        return
    customer = await _portal_customer(session, customer_id)
    if customer is None:
        return
    tenant = await session.scalar(
        select(Tenant)
        .where(Tenant.customer_id == customer_id, Tenant.status != "deleted")
        .order_by(Tenant.id)
        .limit(1)
    )
    await queue_mail(
        session,
        ctx,
        key=f"payment_failed:{event_id}",
        kind="payment_failed",
        to=customer.email,
        customer_id=customer.id,
        params={
            "company": customer.company_name,
            "invoice": invoice_number,
            "subdomain": tenant.subdomain if tenant else "",
            "portal_url": ctx.settings.erp_core_public_url.rstrip("/") + "/portal",
        },
    )
