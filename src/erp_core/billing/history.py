"""Writing what Stripe tells us: subscription states, coupons, discounts, invoices, refund
observations, and the current-subscription snapshot derived from the history.

Every write is idempotent (keyed by event or object id) and order-safe: history rows are
placed by the event's `created` time, and "current" rows are re-derived from the history or
guarded by the time of the newest event applied.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from erp_core.billing.metrics import subscription_mrr
from erp_core.billing.parse import (
    SubscriptionView,
    as_dict,
    as_int,
    invoice_subscription,
    ref,
    ts,
)
from erp_core.billing.parse import (
    text as text_of,
)
from erp_core.models import (
    Coupon,
    Customer,
    Discount,
    Invoice,
    Plan,
    RefundObservation,
    Subscription,
    SubscriptionItem,
    SubscriptionState,
    Tenant,
)

SUB_LOCK_CLASS = 7301


async def lock_subscription(session: AsyncSession, stripe_subscription_id: str) -> None:
    """Serialise writers of one subscription's snapshot until the transaction ends."""
    await session.execute(
        select(func.pg_advisory_xact_lock(SUB_LOCK_CLASS, func.hashtext(stripe_subscription_id)))
    )


async def plan_for_prices(session: AsyncSession, price_ids: list[str]) -> str | None:
    if not price_ids:
        return None
    code: str | None = await session.scalar(
        select(Plan.code)
        .where(
            Plan.stripe_price_monthly_id.in_(price_ids) | Plan.stripe_price_yearly_id.in_(price_ids)
        )
        .limit(1)
    )
    return code


async def record_state(
    session: AsyncSession, view: SubscriptionView, event_id: str, created: datetime, seq: int
) -> bool:
    """Add the subscription's state as of this event; False when it was already recorded."""
    plan = await plan_for_prices(session, [i.price_id for i in view.items if i.price_id])
    plan = plan or view.metadata.get("plan")
    state_id = await session.scalar(
        insert(SubscriptionState)
        .values(
            stripe_subscription_id=view.id,
            stripe_customer_id=view.customer,
            event_id=event_id,
            received_seq=seq,
            effective_at=created,
            status=view.status,
            currency=view.currency,
            mrr_numerator=view.mrr_numerator,
            mrr_denominator=view.mrr_denominator,
            interval_k=view.interval_k,
            interval_count=view.interval_count,
            plan_code=plan[:32] if plan else None,
            interval=view.interval,
            quantity=view.quantity,
            current_period_start=view.period_start,
            current_period_end=view.period_end,
            cancel_at_period_end=view.cancel_at_period_end,
            tenant_ref=(view.metadata.get("tenant_id") or view.metadata.get("subdomain") or "")[:64]
            or None,
        )
        .on_conflict_do_nothing(index_elements=["event_id", "stripe_subscription_id"])
        .returning(SubscriptionState.id)
    )
    if state_id is None:
        return False
    for item in view.items:
        session.add(
            SubscriptionItem(
                state_id=state_id,
                stripe_item_id=item.stripe_item_id,
                price_id=item.price_id,
                product_id=item.product_id,
                unit_amount=item.unit_amount,
                quantity=item.quantity,
                interval=item.interval,
                interval_count=item.interval_count,
            )
        )
    await session.flush()
    return True


async def _run_started_at(
    session: AsyncSession, sub_id: str, latest: SubscriptionState
) -> datetime:
    """When the current run of `latest.status` began (the first state of the run)."""
    boundary = await session.execute(
        select(SubscriptionState.effective_at, SubscriptionState.received_seq)
        .where(
            SubscriptionState.stripe_subscription_id == sub_id,
            SubscriptionState.status != latest.status,
        )
        .order_by(SubscriptionState.effective_at.desc(), SubscriptionState.received_seq.desc())
        .limit(1)
    )
    row = boundary.first()
    query = select(func.min(SubscriptionState.effective_at)).where(
        SubscriptionState.stripe_subscription_id == sub_id
    )
    if row is not None:
        query = query.where(
            func.row(SubscriptionState.effective_at, SubscriptionState.received_seq)
            > func.row(row[0], row[1])
        )
    started: datetime | None = await session.scalar(query)
    return started or latest.effective_at


async def _tenant_for(
    session: AsyncSession, state: SubscriptionState, customer_id: int
) -> int | None:
    reference = state.tenant_ref
    if not reference:
        return None
    query = select(Tenant.id).where(Tenant.customer_id == customer_id, Tenant.status != "deleted")
    if reference.isdigit():
        query = query.where(Tenant.id == int(reference))
    else:
        query = query.where(Tenant.subdomain == reference)
    found: int | None = await session.scalar(query.limit(1))
    return found


async def refresh_subscription(
    session: AsyncSession, stripe_subscription_id: str, *, now: datetime | None = None
) -> Subscription | None:
    """Re-derive the current subscription row from its newest state (None if unknown customer)."""
    await lock_subscription(session, stripe_subscription_id)
    latest = await session.scalar(
        select(SubscriptionState)
        .where(SubscriptionState.stripe_subscription_id == stripe_subscription_id)
        .order_by(SubscriptionState.effective_at.desc(), SubscriptionState.received_seq.desc())
        .limit(1)
    )
    if latest is None:
        return None
    customer = await session.scalar(
        select(Customer).where(Customer.stripe_customer_id == latest.stripe_customer_id)
    )
    if customer is None:
        return None
    row = await session.scalar(
        select(Subscription).where(Subscription.stripe_subscription_id == stripe_subscription_id)
    )
    if row is None:
        row = Subscription(
            customer_id=customer.id,
            stripe_subscription_id=stripe_subscription_id,
            plan_name=latest.plan_code or "custom",
            status=latest.status,
        )
        session.add(row)
    run_started = await _run_started_at(session, stripe_subscription_id, latest)
    row.customer_id = customer.id
    row.plan_name = latest.plan_code or row.plan_name or "custom"
    row.status = latest.status
    row.currency = latest.currency
    row.interval = latest.interval
    row.current_period_start = latest.current_period_start
    row.current_period_end = latest.current_period_end
    row.state_changed_at = latest.effective_at
    row.state_seq = latest.received_seq
    row.past_due_since = run_started if latest.status == "past_due" else None
    row.canceled_at = run_started if latest.status == "canceled" else None
    row.mrr = await subscription_mrr(
        session, stripe_subscription_id, now or datetime.now(UTC), latest.currency
    )
    if row.tenant_id is None:
        row.tenant_id = await _tenant_for(session, latest, customer.id)
    await session.flush()
    return row


async def refresh_customer_subscriptions(session: AsyncSession, stripe_customer_id: str) -> None:
    subs = await session.scalars(
        select(SubscriptionState.stripe_subscription_id)
        .where(SubscriptionState.stripe_customer_id == stripe_customer_id)
        .distinct()
    )
    for sub_id in list(subs):
        await refresh_subscription(session, sub_id)


async def upsert_coupon(session: AsyncSession, obj: dict[str, Any]) -> str:
    pct = obj.get("percent_off")
    values = {
        "name": text_of(obj.get("name")),
        "duration": str(obj.get("duration") or "once"),
        "duration_in_months": as_int(obj.get("duration_in_months")) or None,
        "percent_off": Decimal(str(pct)) if pct is not None else None,
        "amount_off": as_int(obj.get("amount_off")) or None,
        "currency": (text_of(obj.get("currency")) or "").lower() or None,
    }
    await session.execute(
        insert(Coupon)
        .values(id=str(obj["id"]), **values)
        .on_conflict_do_update(index_elements=["id"], set_=values)
    )
    return str(obj["id"])


async def upsert_discount(
    session: AsyncSession, obj: dict[str, Any], coupon_id: str, created: datetime, *, deleted: bool
) -> Discount:
    """Record a discount's life: started at its first event, ended by its deletion event."""
    discount_id = text_of(obj.get("id")) or f"{coupon_id}:{ref(obj.get('subscription'))}"
    await lock_object(session, "discount", discount_id)
    row = await session.scalar(
        select(Discount).where(Discount.stripe_discount_id == discount_id).with_for_update()
    )
    # Effective from the event that showed it (the history is in event time), not `start`.
    if row is None:
        row = Discount(
            stripe_discount_id=discount_id,
            stripe_customer_id=ref(obj.get("customer")),
            stripe_subscription_id=ref(obj.get("subscription")),
            coupon_id=coupon_id,
            started_at=created,
            ended_at=created if deleted else None,
            source_updated_at=created,
        )
        session.add(row)
    else:
        row.started_at = min(row.started_at, created)
        if deleted:
            row.ended_at = created
        if created >= row.source_updated_at:
            row.coupon_id = coupon_id
            row.source_updated_at = created
    await session.flush()
    return row


async def lock_object(session: AsyncSession, kind: str, stripe_id: str) -> None:
    """Serialise writers of one Stripe object until this transaction ends.

    `SELECT … FOR UPDATE` cannot lock a row that does not exist yet: two events about a new
    invoice applied at once would both insert it. Locking the object's identity first makes
    the second writer wait, then see the row and apply the newer-wins rule.
    """
    await session.execute(
        select(func.pg_advisory_xact_lock(func.hashtext(f"stripe:{kind}:{stripe_id}")))
    )


# An invoice's lifecycle only moves forward: draft → open → paid | void | uncollectible.
_INVOICE_STAGE = {"draft": 0, "open": 1, "uncollectible": 2, "paid": 3, "void": 3}


async def upsert_invoice(
    session: AsyncSession, obj: dict[str, Any], seen_at: datetime, *, paid_event: bool = False
) -> Invoice | None:
    """Keep the invoice as of `seen_at`; an older view never overwrites a newer one."""
    invoice_id = str(obj["id"])
    await lock_object(session, "invoice", invoice_id)
    row = await session.scalar(
        select(Invoice).where(Invoice.stripe_invoice_id == invoice_id).with_for_update()
    )
    if row is not None and row.source_updated_at > seen_at:
        return None
    status = str(obj.get("status") or "draft")
    if (
        row is not None
        and row.source_updated_at == seen_at
        and _INVOICE_STAGE.get(status, 0) < _INVOICE_STAGE.get(row.status, 0)
    ):
        # Two events in one second (Stripe finalizes and charges an invoice at once) may be
        # applied in any order: an invoice only moves forward, so the earlier stage loses.
        return None
    transitions = as_dict(obj.get("status_transitions"))
    stripe_customer = ref(obj.get("customer"))
    customer_id = None
    if stripe_customer:
        customer_id = await session.scalar(
            select(Customer.id).where(Customer.stripe_customer_id == stripe_customer)
        )
    paid_at = ts(transitions.get("paid_at"))
    if paid_at is None and (paid_event or status == "paid"):
        paid_at = seen_at if row is None or row.paid_at is None else row.paid_at
    values: dict[str, Any] = {
        "stripe_customer_id": stripe_customer,
        "customer_id": customer_id,
        "stripe_subscription_id": invoice_subscription(obj),
        "number": text_of(obj.get("number")),
        "status": status,
        "currency": (text_of(obj.get("currency")) or "usd").lower(),
        "amount_due": as_int(obj.get("amount_due")),
        "amount_paid": as_int(obj.get("amount_paid")),
        "amount_remaining": as_int(obj.get("amount_remaining")),
        "total": as_int(obj.get("total")),
        "hosted_invoice_url": text_of(obj.get("hosted_invoice_url")),
        "invoice_pdf": text_of(obj.get("invoice_pdf")),
        "period_start": ts(obj.get("period_start")),
        "period_end": ts(obj.get("period_end")),
        "stripe_created": ts(obj.get("created")),
        "due_date": ts(obj.get("due_date")),
        "finalized_at": ts(transitions.get("finalized_at")),
        "paid_at": paid_at,
        "source_updated_at": seen_at,
    }
    if row is None:
        row = Invoice(stripe_invoice_id=invoice_id, **values)
        session.add(row)
    else:
        for key, value in values.items():
            setattr(row, key, value)
    await session.flush()
    return row


async def record_refund(
    session: AsyncSession, obj: dict[str, Any], event_id: str, created: datetime, seq: int
) -> None:
    await session.execute(
        insert(RefundObservation)
        .values(
            event_id=event_id,
            stripe_charge_id=str(obj["id"]),
            stripe_customer_id=ref(obj.get("customer")),
            stripe_invoice_id=ref(obj.get("invoice")),
            currency=(text_of(obj.get("currency")) or "usd").lower(),
            amount_refunded_total=as_int(obj.get("amount_refunded")),
            observed_at=created,
            received_seq=seq,
        )
        .on_conflict_do_nothing(index_elements=["event_id"])
    )


async def sql_now(session: AsyncSession) -> datetime:
    value: datetime = await session.scalar(text("SELECT now()"))  # type: ignore[assignment]
    return value
