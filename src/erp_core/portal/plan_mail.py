"""The "plan changed" mail, queued in the caller's transaction (sent after commit by the
mail job): from the portal's immediate proration change and from a finished plan move."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from erp_core.context import AppContext
from erp_core.mail.outbox import queue_mail
from erp_core.models import Customer, Plan, Tenant
from erp_core.portal.service import portal_url, tenant_url


async def queue_plan_changed(
    session: AsyncSession,
    ctx: AppContext,
    tenant: Tenant,
    plan_code: str,
    interval: str,
    *,
    key: str,
    notice: str | None = None,
) -> None:
    """Mail the tenant's customer that ``plan_code`` applies now (once per ``key``)."""
    customer = await session.get(Customer, tenant.customer_id) if tenant.customer_id else None
    if customer is None:
        return
    plan = await session.scalar(select(Plan).where(Plan.code == plan_code))
    name = plan.name if plan is not None else plan_code
    await queue_mail(
        session,
        ctx,
        key=f"plan_changed:{tenant.id}:{plan_code}:{interval}:{key}",
        kind="plan_changed",
        to=customer.email,
        customer_id=customer.id,
        params={
            "company": customer.company_name,
            "url": tenant_url(ctx, tenant.subdomain),
            "plan": name,
            "notice": notice or f"Su Odoo ya funciona con el plan «{name}» en su nuevo servidor.",
            "portal_url": portal_url(ctx),
        },
    )
