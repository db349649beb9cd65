"""Stripe delivers events late, twice and in any order, and stamps them in whole seconds.

The same set of events about one customer, subscription, invoice and discount must leave the
same mirror whatever order they arrive in and however many workers apply them at once (issue
20: an `invoice.finalized` applied after `invoice.paid` of the same second left a paid invoice
"open", which dunning would act on). Every object family's events are permuted exhaustively:
each permutation uses its own Stripe ids, so all of them run in one database.
"""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from erp_core.billing import webhooks
from erp_core.context import AppContext
from erp_core.models import Customer, Discount, Invoice, StripeEvent, Subscription

T0 = datetime(2026, 3, 5, 10, 0, 0, tzinfo=UTC)
COUPON = {"id": "co_order", "duration": "forever", "percent_off": 10, "currency": "usd"}


def _unix(offset: int) -> int:
    return int((T0 + timedelta(seconds=offset)).timestamp())


def _families(tag: str) -> dict[str, list[tuple[str, int, dict[str, Any]]]]:
    """(type, seconds after T0, object) per Stripe object; ties within a second on purpose."""
    cus, sub, inv, di = f"cus_{tag}", f"sub_{tag}", f"in_{tag}", f"di_{tag}"

    def customer(email: str, name: str) -> dict[str, Any]:
        return {"id": cus, "object": "customer", "email": email, "name": name, "metadata": {}}

    def subscription(status: str) -> dict[str, Any]:
        price = {"id": "price_order", "currency": "usd", "unit_amount": 2900,
                 "recurring": {"interval": "month", "interval_count": 1}}  # fmt: skip
        item = {"id": f"si_{tag}", "price": price, "quantity": 1,
                "current_period_start": _unix(0), "current_period_end": _unix(30 * 86400)}  # fmt: skip
        return {"id": sub, "object": "subscription", "customer": cus, "status": status,
                "currency": "usd", "items": {"data": [item]}, "metadata": {}, "discounts": []}  # fmt: skip

    def invoice(status: str, attempts: int = 0) -> dict[str, Any]:
        paid = status == "paid"
        return {"id": inv, "object": "invoice", "customer": cus, "status": status,
                "currency": "usd", "amount_due": 2900, "amount_paid": 2900 if paid else 0,
                "amount_remaining": 0 if paid else 2900, "total": 2900, "created": _unix(0),
                "attempt_count": attempts, "number": f"ORD-{tag}",
                "parent": {"subscription_details": {"subscription": sub}},
                "status_transitions": {"finalized_at": None if status == "draft" else _unix(0),
                                       "paid_at": _unix(0) if paid else None}}  # fmt: skip

    discount = {"id": di, "object": "discount", "customer": cus, "subscription": sub,
                "coupon": COUPON, "start": _unix(0)}  # fmt: skip
    return {
        "customer": [
            ("customer.created", 0, customer("primera@orden.example", "Primera")),
            ("customer.updated", 1, customer("final@orden.example", "Final")),
        ],
        "subscription": [
            ("customer.subscription.created", 0, subscription("active")),
            ("customer.subscription.updated", 2, subscription("past_due")),
            ("customer.subscription.deleted", 2, subscription("canceled")),
        ],
        "invoice": [
            ("invoice.created", 0, invoice("draft")),
            ("invoice.finalized", 0, invoice("open")),
            ("invoice.payment_failed", 0, invoice("open", attempts=1)),
            ("invoice.paid", 0, invoice("paid", attempts=2)),
        ],
        "discount": [
            ("customer.discount.created", 0, discount),
            ("customer.discount.deleted", 1, discount),
        ],
    }


def _ordered(tag: str, index: int) -> list[tuple[str, int, dict[str, Any]]]:
    """Permutation `index` of each family, families interleaved round-robin."""
    families = _families(tag)
    chosen = []
    for family in families.values():
        orders = list(itertools.permutations(family))
        chosen.append(list(orders[index % len(orders)]))
    merged: list[tuple[str, int, dict[str, Any]]] = []
    for group in itertools.zip_longest(*chosen):
        merged.extend(e for e in group if e is not None)
    return merged


async def _store(ctx: AppContext, events: list[tuple[str, int, dict[str, Any]]]) -> None:
    """Store events as the webhook intake does (reception order = list order)."""
    async with ctx.db.sessionmaker() as session:
        for number, (type_, offset, obj) in enumerate(events):
            event_id = f"evt_{obj['id']}_{number}_{type_}"
            session.add(
                StripeEvent(
                    event_id=event_id,
                    event_type=type_,
                    payload={
                        "id": event_id,
                        "type": type_,
                        "created": _unix(offset),
                        "data": {"object": obj},
                    },
                    created=T0 + timedelta(seconds=offset),
                    processed=False,
                    attempts=0,
                )
            )
        await session.commit()


async def _snapshot(ctx: AppContext, tag: str) -> dict[str, Any]:
    """The mirror of one permutation's objects, with its ids left out so all compare equal."""
    async with ctx.db.sessionmaker() as session:
        customer = await session.scalar(
            select(Customer).where(Customer.stripe_customer_id == f"cus_{tag}")
        )
        sub = await session.scalar(
            select(Subscription).where(Subscription.stripe_subscription_id == f"sub_{tag}")
        )
        invoice = await session.scalar(
            select(Invoice).where(Invoice.stripe_invoice_id == f"in_{tag}")
        )
        discount = await session.scalar(
            select(Discount).where(Discount.stripe_discount_id == f"di_{tag}")
        )
        assert customer and sub and invoice and discount, tag
        return {
            "customer": (customer.email, customer.company_name),
            "subscription": (sub.status, sub.customer_id == customer.id, sub.canceled_at),
            "invoice": (
                invoice.status,
                invoice.amount_paid,
                invoice.amount_remaining,
                invoice.paid_at,
                invoice.customer_id == customer.id,
            ),
            "discount": (discount.coupon_id, discount.started_at, discount.ended_at),
        }


EXPECTED = {
    "customer": ("final@orden.example", "Final"),
    "subscription": ("canceled", True, T0 + timedelta(seconds=2)),
    "invoice": ("paid", 2900, 0, T0, True),
    "discount": ("co_order", T0, T0 + timedelta(seconds=1)),
}
# Every order of the largest family (the invoice's 4 events: 24), the others cycled alongside.
PERMUTATIONS = 24


async def test_every_delivery_order_applied_one_by_one_ends_in_the_same_state(
    ctx: AppContext,
) -> None:
    for index in range(PERMUTATIONS):
        await _store(ctx, _ordered(f"s{index}", index))
    await webhooks.process_pending(ctx, limit=10_000)
    for index in range(PERMUTATIONS):
        assert await _snapshot(ctx, f"s{index}") == EXPECTED, f"permutation {index}"


async def test_every_delivery_order_applied_by_concurrent_workers_ends_in_the_same_state(
    ctx: AppContext,
) -> None:
    for index in range(PERMUTATIONS):
        await _store(ctx, _ordered(f"c{index}", index))
    # Three batch runs at once, each applying several events concurrently, as queue workers do.
    await asyncio.gather(*(webhooks.process_batch(ctx, size=40) for _ in range(3)))
    async with ctx.db.sessionmaker() as session:
        left = list(await session.scalars(select(StripeEvent).where(~StripeEvent.processed)))
    # A lock conflict may hand an event to its own retry job; apply those as the retry would.
    if left:
        await webhooks.process_pending(ctx)
    for index in range(PERMUTATIONS):
        assert await _snapshot(ctx, f"c{index}") == EXPECTED, f"permutation {index}"


async def test_same_second_customer_updates_keep_the_later_delivered_one(ctx: AppContext) -> None:
    """A customer has no status to rank: a same-second tie follows delivery order, even when
    the later delivery is applied first."""
    customer = {"id": "cus_tie", "object": "customer", "metadata": {}}
    await _store(
        ctx,
        [
            ("customer.updated", 5, {**customer, "email": "antes@orden.example", "name": "A"}),
            ("customer.updated", 5, {**customer, "email": "despues@orden.example", "name": "B"}),
        ],
    )
    async with ctx.db.sessionmaker() as session:
        first, second = list(await session.scalars(select(StripeEvent.id).order_by(StripeEvent.id)))
    await webhooks.process_event(ctx, second)
    await webhooks.process_event(ctx, first)
    async with ctx.db.sessionmaker() as session:
        row = await session.scalar(select(Customer).where(Customer.stripe_customer_id == "cus_tie"))
        assert row is not None and (row.email, row.company_name) == ("despues@orden.example", "B")
