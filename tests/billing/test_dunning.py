"""Dunning timeline with a controllable clock: grace, suspension, reactivation on payment
(billing suspensions only), immediate suspension, deletion after retention, re-subscription."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select, update
from tests.billing.stripe_events import Events, at, post_event

from erp_core.billing import webhooks
from erp_core.billing.dunning import run_dunning
from erp_core.context import AppContext
from erp_core.models import Customer, Job, Tenant

T0 = at("2026-06-10T08:00:00")


async def _tenant(ctx: AppContext, subdomain: str, stripe_customer: str) -> int:
    async with ctx.db.sessionmaker() as session:
        customer = Customer(
            email=f"{subdomain}@example.com",
            company_name=subdomain,
            stripe_customer_id=stripe_customer,
        )
        session.add(customer)
        await session.flush()
        tenant = Tenant(customer_id=customer.id, subdomain=subdomain, company_name=subdomain, plan="basic",
                        status="active", admin_login=customer.email)  # fmt: skip
        session.add(tenant)
        await session.commit()
        return tenant.id


async def _state(
    ctx: AppContext, tenant_id: int
) -> tuple[str, str | None, list[tuple[str, dict[str, Any]]]]:
    async with ctx.db.sessionmaker() as session:
        tenant = await session.get(Tenant, tenant_id)
        assert tenant is not None
        jobs = (
            await session.execute(
                select(Job.kind, Job.params).where(
                    Job.tenant_id == tenant_id, Job.status == "queued"
                )
            )
        ).all()
        return tenant.status, tenant.suspension_reason, [(k, dict(p)) for k, p in jobs]


async def _finish(ctx: AppContext, tenant_id: int, status: str, reason: str | None = None) -> None:
    """What the worker would do: the open job succeeds and the tenant reaches its status."""
    async with ctx.db.sessionmaker() as session:
        await session.execute(
            update(Job)
            .where(Job.tenant_id == tenant_id, Job.status == "queued")
            .values(status="succeeded")
        )
        await session.execute(
            update(Tenant)
            .where(Tenant.id == tenant_id)
            .values(status=status, suspension_reason=reason)
        )
        await session.commit()


async def _send(client: httpx.AsyncClient, ctx: AppContext, *evs: dict[str, Any]) -> None:
    for event in evs:
        assert (await post_event(client, event)).status_code == 200
    await webhooks.process_pending(ctx)


def _sub(
    events: Events,
    status: str,
    when: Any,
    sub: str = "sub_d",
    cus: str = "cus_d",
    tenant: int | None = None,
) -> dict[str, Any]:
    obj = events.subscription(sub, cus, status, [(2900, 1)])
    if tenant is not None:
        obj["metadata"] = {"tenant_id": str(tenant)}
    kind = "deleted" if status == "canceled" else "updated"
    return events.event(f"customer.subscription.{kind}", obj, when)


async def test_grace_then_suspend_then_payment_reactivates(
    client: httpx.AsyncClient, ctx: AppContext, events: Events
) -> None:
    tenant_id = await _tenant(ctx, "moroso", "cus_d")
    await _send(client, ctx, _sub(events, "active", T0 - timedelta(days=30), tenant=tenant_id))
    await _send(client, ctx, _sub(events, "past_due", T0, tenant=tenant_id))
    assert (await _state(ctx, tenant_id))[0] == "active"  # past_due alone changes nothing yet

    result = await run_dunning(ctx, T0 + timedelta(days=6, hours=23))
    assert result.suspended == [] and (await _state(ctx, tenant_id))[0] == "active"

    result = await run_dunning(ctx, T0 + timedelta(days=7))
    assert result.suspended == [tenant_id]
    status, _, jobs = await _state(ctx, tenant_id)
    assert status == "suspending" and jobs == [("suspend", {"reason": "billing"})]
    await _finish(ctx, tenant_id, "suspended", "billing")
    assert (await run_dunning(ctx, T0 + timedelta(days=8))).suspended == []  # idempotent

    paid = events.invoice("in_1", "cus_d", "sub_d", 2900, "paid", T0 + timedelta(days=9))
    await _send(client, ctx, events.event("invoice.paid", paid, T0 + timedelta(days=9)))
    status, _, jobs = await _state(ctx, tenant_id)
    assert status == "reactivating" and [k for k, _ in jobs] == ["reactivate"]


async def test_payment_never_lifts_an_operator_suspension(
    client: httpx.AsyncClient, ctx: AppContext, events: Events
) -> None:
    tenant_id = await _tenant(ctx, "manual", "cus_d")
    await _send(client, ctx, _sub(events, "past_due", T0, tenant=tenant_id))
    await _finish(ctx, tenant_id, "suspended", "manual")
    paid = events.invoice("in_1", "cus_d", "sub_d", 2900, "paid", T0 + timedelta(days=1))
    await _send(client, ctx, events.event("invoice.paid", paid, T0 + timedelta(days=1)),
                _sub(events, "active", T0 + timedelta(days=1, seconds=1), tenant=tenant_id))  # fmt: skip
    assert await _state(ctx, tenant_id) == ("suspended", "manual", [])
    assert (await run_dunning(ctx, T0 + timedelta(days=2))).reactivated == []


async def test_unpaid_suspends_at_once(
    client: httpx.AsyncClient, ctx: AppContext, events: Events
) -> None:
    tenant_id = await _tenant(ctx, "impago", "cus_d")
    await _send(
        client,
        ctx,
        _sub(events, "active", T0, tenant=tenant_id),
        _sub(events, "unpaid", T0 + timedelta(hours=1), tenant=tenant_id),
    )
    status, _, jobs = await _state(ctx, tenant_id)
    assert status == "suspending" and jobs == [("suspend", {"reason": "billing"})]


async def test_canceled_is_suspended_then_deleted_after_retention(
    client: httpx.AsyncClient, ctx: AppContext, events: Events
) -> None:
    tenant_id = await _tenant(ctx, "baja", "cus_d")
    await _send(
        client,
        ctx,
        _sub(events, "active", T0 - timedelta(days=40), tenant=tenant_id),
        _sub(events, "canceled", T0, tenant=tenant_id),
    )
    assert (await _state(ctx, tenant_id))[0] == "suspending"
    await _finish(ctx, tenant_id, "suspended", "billing")
    assert (await run_dunning(ctx, T0 + timedelta(days=29, hours=23))).deleted == []
    result = await run_dunning(ctx, T0 + timedelta(days=30))
    assert result.deleted == [tenant_id]
    status, _, jobs = await _state(ctx, tenant_id)
    assert status == "deleting" and [k for k, _ in jobs] == ["delete"]


async def test_resubscribing_before_retention_keeps_and_reactivates_the_tenant(
    client: httpx.AsyncClient, ctx: AppContext, events: Events
) -> None:
    tenant_id = await _tenant(ctx, "vuelve", "cus_d")
    await _send(client, ctx, _sub(events, "canceled", T0))
    await _finish(ctx, tenant_id, "suspended", "billing")
    await _send(client, ctx, _sub(events, "active", T0 + timedelta(days=10), sub="sub_new"))
    status, _, jobs = await _state(ctx, tenant_id)
    assert status == "reactivating" and [k for k, _ in jobs] == ["reactivate"]
    await _finish(ctx, tenant_id, "active")
    assert (await run_dunning(ctx, T0 + timedelta(days=45))).deleted == []
    assert (await _state(ctx, tenant_id))[0] == "active"
