"""Dunning: what a tenant's subscriptions mean for the tenant, with an injected clock.

- past_due: the tenant keeps running for BILLING_GRACE_DAYS from when the subscription
  became past_due, then it is suspended with reason ``billing``;
- unpaid / canceled / incomplete_expired: suspended at once;
- a good subscription again (or ``invoice.paid``): a *billing* suspension is lifted — never
  one an operator made;
- canceled with nothing live: deleted (the delete operation backs up first)
  BILLING_RETENTION_DAYS after the cancellation, unless the customer re-subscribed.

Event handlers apply only the clock-free reactions (:func:`evaluate_tenants` with
``immediate=True``); the periodic :func:`run_dunning` applies the timed ones at ``now``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from erp_core.api import ApiError
from erp_core.context import AppContext
from erp_core.deps import Actor
from erp_core.models import Subscription, Tenant
from erp_core.tenants import service as tenants

log = logging.getLogger(__name__)

BILLING_ACTOR = Actor(None, "stripe", "admin", None, None)
GOOD = ("active", "trialing")
SUSPEND_AT_ONCE = ("unpaid", "canceled", "incomplete_expired")
Decision = Literal["ok", "wait", "suspend", "delete"]


@dataclass(frozen=True)
class SubFacts:
    status: str
    past_due_since: datetime | None
    canceled_at: datetime | None


@dataclass
class DunningResult:
    suspended: list[int] = field(default_factory=list)
    reactivated: list[int] = field(default_factory=list)
    deleted: list[int] = field(default_factory=list)


def decide(
    subs: list[SubFacts],
    now: datetime | None,
    *,
    grace: timedelta,
    retention: timedelta,
) -> Decision:
    """What the subscriptions of one tenant ask for; ``now=None`` means clock-free only."""
    statuses = {s.status for s in subs}
    if statuses & set(GOOD):
        return "ok"
    past_due = [s.past_due_since for s in subs if s.status == "past_due" and s.past_due_since]
    if "past_due" in statuses:
        if now is not None and past_due and min(past_due) + grace <= now:
            return "suspend"
        if not statuses & set(SUSPEND_AT_ONCE):
            return "wait"
    if statuses & set(SUSPEND_AT_ONCE):
        canceled = [s.canceled_at for s in subs if s.status == "canceled" and s.canceled_at]
        only_canceled = statuses <= {"canceled", "incomplete_expired"}
        if now is not None and only_canceled and canceled and max(canceled) + retention <= now:
            return "delete"
        return "suspend"
    return "wait"


async def _facts_by_tenant(
    session: AsyncSession, tenant_ids: list[int] | None
) -> dict[int, tuple[Tenant, list[SubFacts]]]:
    query = (
        select(Tenant, Subscription.status, Subscription.past_due_since, Subscription.canceled_at)
        .join(
            Subscription,
            or_(
                Subscription.tenant_id == Tenant.id,
                (Subscription.tenant_id.is_(None))
                & (Subscription.customer_id == Tenant.customer_id),
            ),
        )
        .where(Tenant.status != "deleted")
        .order_by(Tenant.id)
    )
    if tenant_ids is not None:
        query = query.where(Tenant.id.in_(tenant_ids))
    facts: dict[int, tuple[Tenant, list[SubFacts]]] = {}
    for tenant, status, past_due_since, canceled_at in (await session.execute(query)).all():
        facts.setdefault(tenant.id, (tenant, []))[1].append(
            SubFacts(status, past_due_since, canceled_at)
        )
    return facts


async def _apply(
    session: AsyncSession, ctx: AppContext, tenant: Tenant, decision: Decision
) -> str | None:
    """Start the lifecycle operation the decision asks for; returns what was done."""
    try:
        async with session.begin_nested():
            if decision == "suspend" and tenant.status == "active":
                await tenants.suspend(session, ctx, BILLING_ACTOR, tenant.id, "billing")
                return "suspended"
            if (
                decision == "ok"
                and tenant.status == "suspended"
                and tenant.suspension_reason == "billing"
            ):
                await tenants.reactivate(session, ctx, BILLING_ACTOR, tenant.id)
                return "reactivated"
            if decision == "delete" and tenant.status in ("active", "suspended", "failed"):
                await tenants.delete(session, ctx, BILLING_ACTOR, tenant.id)
                return "deleted"
    except ApiError as exc:  # busy or moved on meanwhile: the next sweep looks again
        log.info("dunning action deferred", extra={"tenant_id": tenant.id, "code": exc.code})
    return None


async def evaluate_tenants(
    session: AsyncSession,
    ctx: AppContext,
    tenant_ids: list[int] | None,
    now: datetime | None,
    result: DunningResult | None = None,
) -> DunningResult:
    """Decide and act for the given tenants (all with a subscription when None)."""
    result = result or DunningResult()
    settings = ctx.settings
    grace = timedelta(days=settings.billing_grace_days)
    retention = timedelta(days=settings.billing_retention_days)
    for tenant, subs in (await _facts_by_tenant(session, tenant_ids)).values():
        decision = decide(subs, now, grace=grace, retention=retention)
        done = await _apply(session, ctx, tenant, decision)
        if done:
            getattr(result, done).append(tenant.id)
    return result


async def tenants_of_subscription(session: AsyncSession, stripe_subscription_id: str) -> list[int]:
    sub = await session.scalar(
        select(Subscription).where(Subscription.stripe_subscription_id == stripe_subscription_id)
    )
    if sub is None:
        return []
    if sub.tenant_id is not None:
        return [sub.tenant_id]
    ids = await session.scalars(
        select(Tenant.id).where(Tenant.customer_id == sub.customer_id, Tenant.status != "deleted")
    )
    return list(ids)


async def reactivate_after_payment(
    session: AsyncSession, ctx: AppContext, stripe_subscription_id: str
) -> list[int]:
    """``invoice.paid``: lift billing suspensions unless the subscription is over."""
    sub = await session.scalar(
        select(Subscription).where(Subscription.stripe_subscription_id == stripe_subscription_id)
    )
    if sub is None or sub.status in ("canceled", "incomplete_expired"):
        return []
    done = []
    for tenant_id in await tenants_of_subscription(session, stripe_subscription_id):
        tenant = await session.get(Tenant, tenant_id)
        if tenant is not None and await _apply(session, ctx, tenant, "ok") == "reactivated":
            done.append(tenant_id)
    return done


async def run_dunning(ctx: AppContext, now: datetime) -> DunningResult:
    """The periodic pass: every tenant with a subscription, timed rules included."""
    result = DunningResult()
    async for session in ctx.db.session():
        await evaluate_tenants(session, ctx, None, now, result)
    return result
