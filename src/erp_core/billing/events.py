"""Handlers for Stripe events: each reads the object embedded in the event and records it
effective at the event's `created` time (see history.py for the order guarantees)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from erp_core.billing import dunning, history
from erp_core.billing.checkout import complete_checkout
from erp_core.billing.parse import (
    as_dict,
    discount_coupon,
    invoice_subscription,
    parse_subscription,
    ref,
    text,
)
from erp_core.context import AppContext
from erp_core.drivers.base import PermanentDriverError
from erp_core.drivers.factory import gateway_for
from erp_core.mail.lifecycle import payment_failed_mail
from erp_core.models import Coupon, Customer, StripeEvent

log = logging.getLogger(__name__)


@dataclass
class EventInput:
    session: AsyncSession
    ctx: AppContext
    event_id: str
    type: str
    created: datetime
    seq: int
    obj: dict[str, Any]


Handler = Callable[[EventInput], Awaitable[str]]


async def on_customer(ev: EventInput) -> str:
    obj, session = ev.obj, ev.session
    stripe_id = str(obj["id"])
    await history.lock_object(session, "customer", stripe_id)
    customer = await session.scalar(
        select(Customer).where(Customer.stripe_customer_id == stripe_id).with_for_update()
    )
    email = text(obj.get("email"))
    local_id = as_dict(obj.get("metadata")).get("customer_id")
    if customer is None and isinstance(local_id, str) and local_id.isdigit():
        candidate = await session.get(Customer, int(local_id), with_for_update=True)
        if candidate is not None and candidate.stripe_customer_id is None:
            customer = candidate
    if customer is None and email:
        customer = await session.scalar(
            select(Customer)
            .where(
                func.lower(Customer.email) == email.lower(), Customer.stripe_customer_id.is_(None)
            )
            .order_by(Customer.id)
            .limit(1)
            .with_for_update()
        )
    if customer is None:
        if not email:
            return "ignored: customer without email"
        customer = Customer(
            email=email.lower(), company_name=text(obj.get("name")) or email.lower()
        )
        session.add(customer)
    customer.stripe_customer_id = stripe_id
    if await _customer_view_is_newest(ev, customer, stripe_id):
        customer.stripe_updated_at = ev.created
        if email:
            customer.email = email.lower()
        if text(obj.get("name")):
            customer.company_name = str(obj["name"])[:200]
    await session.flush()
    await history.link_customer_invoices(session, stripe_id, customer.id)
    await history.refresh_customer_subscriptions(session, stripe_id)
    return "handled"


async def _customer_view_is_newest(ev: EventInput, customer: Customer, stripe_id: str) -> bool:
    """Newer event time wins; within the same second, the later-received event wins.

    A customer has no status to rank, so a same-second tie is broken by reception order: an
    event is skipped when a later-received event about the same customer and second was
    already applied (the customer lock makes this check and the write one step).
    """
    if customer.stripe_updated_at is None or ev.created > customer.stripe_updated_at:
        return True
    if ev.created < customer.stripe_updated_at:
        return False
    later = await ev.session.scalar(
        select(StripeEvent.id)
        .where(
            StripeEvent.event_type.in_(CUSTOMER_EVENTS),
            StripeEvent.processed.is_(True),
            StripeEvent.created == ev.created,
            StripeEvent.id > ev.seq,
            StripeEvent.payload["data"]["object"]["id"].astext == stripe_id,
        )
        .limit(1)
    )
    return later is None


async def on_subscription(ev: EventInput) -> str:
    view = parse_subscription(ev.obj)
    if not view.customer:
        return "ignored: subscription without customer"
    await history.lock_subscription(ev.session, view.id)
    await history.record_state(ev.session, view, ev.event_id, ev.created, ev.seq)
    for embedded in view.embedded_discounts:
        await _record_discount(ev, embedded, deleted=False)
    sub = await history.refresh_subscription(ev.session, view.id)
    if sub is not None:
        tenant_ids = await dunning.tenants_of_subscription(ev.session, view.id)
        await dunning.evaluate_tenants(ev.session, ev.ctx, tenant_ids, None)
    return "handled"


async def _coupon_id(ev: EventInput, coupon: str | dict[str, Any] | None) -> str | None:
    if isinstance(coupon, dict):
        return await history.upsert_coupon(ev.session, coupon)
    if coupon is None:
        return None
    if await ev.session.get(Coupon, coupon) is not None:
        return coupon
    gateway = gateway_for(ev.ctx)
    if gateway is None:
        raise PermanentDriverError("Stripe no está configurado: no se puede obtener el cupón.")
    try:
        fetched = await gateway.get_coupon(coupon)
    finally:
        await gateway.aclose()
    return await history.upsert_coupon(ev.session, dict(fetched))


async def _record_discount(ev: EventInput, obj: dict[str, Any], *, deleted: bool) -> None:
    coupon_id = await _coupon_id(ev, discount_coupon(obj))
    if coupon_id is None:
        return
    await history.upsert_discount(ev.session, obj, coupon_id, ev.created, deleted=deleted)


async def on_discount(ev: EventInput) -> str:
    deleted = ev.type.endswith(".deleted")
    await _record_discount(ev, ev.obj, deleted=deleted)
    subscription = ref(ev.obj.get("subscription"))
    if subscription:
        await history.refresh_subscription(ev.session, subscription)
    elif ref(ev.obj.get("customer")):
        await history.refresh_customer_subscriptions(ev.session, str(ref(ev.obj["customer"])))
    return "handled"


async def on_invoice(ev: EventInput) -> str:
    paid = ev.type == "invoice.paid"
    row = await history.upsert_invoice(ev.session, ev.obj, ev.created, paid_event=paid)
    if row is not None and ev.type == "invoice.payment_failed":
        attempts = ev.obj.get("attempt_count")
        row.last_payment_error = f"El cobro falló (intento {attempts or 1})."
        await payment_failed_mail(
            ev.session, ev.ctx, row.customer_id, row.number or row.stripe_invoice_id, ev.event_id
        )
    subscription = invoice_subscription(ev.obj)
    if paid and subscription:
        await dunning.reactivate_after_payment(ev.session, ev.ctx, subscription)
    return "handled" if row is not None else "ignored: older than the stored invoice"


async def on_charge_refunded(ev: EventInput) -> str:
    await history.record_refund(ev.session, ev.obj, ev.event_id, ev.created, ev.seq)
    return "handled"


async def on_checkout_completed(ev: EventInput) -> str:

    return await complete_checkout(ev.session, ev.ctx, ev.obj, ev.created)


CUSTOMER_EVENTS = ("customer.created", "customer.updated")

HANDLERS: dict[str, Handler] = {
    "customer.created": on_customer,
    "customer.updated": on_customer,
    "checkout.session.completed": on_checkout_completed,
    "customer.subscription.created": on_subscription,
    "customer.subscription.updated": on_subscription,
    "customer.subscription.deleted": on_subscription,
    "customer.subscription.paused": on_subscription,
    "customer.subscription.resumed": on_subscription,
    "customer.subscription.trial_will_end": on_subscription,
    "customer.discount.created": on_discount,
    "customer.discount.updated": on_discount,
    "customer.discount.deleted": on_discount,
    "invoice.created": on_invoice,
    "invoice.finalized": on_invoice,
    "invoice.updated": on_invoice,
    "invoice.paid": on_invoice,
    "invoice.payment_failed": on_invoice,
    "invoice.payment_succeeded": on_invoice,
    "invoice.voided": on_invoice,
    "invoice.marked_uncollectible": on_invoice,
    "charge.refunded": on_charge_refunded,
}


async def handle(ev: EventInput) -> str:
    """Run the event's handler; unknown types are kept and ignored."""
    handler = HANDLERS.get(ev.type)
    if handler is None:
        return "ignored: unhandled type"
    return await handler(ev)
