"""Webhook intake: signature checks, storage, duplicates, unknown types, ordering, retries."""

from __future__ import annotations

import random
import time
from typing import Any

import httpx
from sqlalchemy import func, select
from tests.billing.stripe_events import Events, at, post_event, signed

from erp_core.billing import webhooks
from erp_core.billing.metrics import compute_months
from erp_core.context import AppContext
from erp_core.models import Customer, StripeEvent, Subscription, SubscriptionState
from erp_core.observability.metrics import REGISTRY


def _webhooks_counted(provider: str, type_: str, outcome: str) -> float:
    value = REGISTRY.get_sample_value(
        "erp_core_webhooks_total", {"provider": provider, "type": type_, "outcome": outcome}
    )
    return value or 0.0


async def _count(ctx: AppContext) -> int:
    async with ctx.db.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(StripeEvent)) or 0)


async def test_valid_event_is_stored_and_acknowledged(
    client: httpx.AsyncClient, ctx: AppContext, events: Events
) -> None:
    sub = events.subscription("sub_1", "cus_1", "active", [(2900, 1)])
    accepted = ("stripe", "customer.subscription.created", "accepted")
    before = _webhooks_counted(*accepted)
    response = await post_event(
        client, events.event("customer.subscription.created", sub, at("2026-01-10"))
    )
    assert response.status_code == 200
    assert _webhooks_counted(*accepted) == before + 1  # /metrics counts what arrives
    assert response.json()["data"]["duplicate"] is False
    async with ctx.db.sessionmaker() as session:
        row = await session.scalar(select(StripeEvent))
        assert (
            row is not None
            and row.processed is False
            and row.event_type == "customer.subscription.created"
        )
        assert row.payload["data"]["object"]["id"] == "sub_1"
    await webhooks.process_pending(ctx)
    async with ctx.db.sessionmaker() as session:
        row = await session.scalar(select(StripeEvent))
        assert row is not None and row.processed and row.attempts == 1 and row.error is None
        states = (await session.scalars(select(SubscriptionState))).all()
        assert [s.status for s in states] == ["active"]
        assert (states[0].mrr_numerator, states[0].mrr_denominator) == (2900, 1)


async def test_bad_signature_is_rejected_and_nothing_stored(
    client: httpx.AsyncClient, ctx: AppContext, events: Events
) -> None:
    event = events.event(
        "customer.created", {"id": "cus_x", "object": "customer"}, at("2026-01-01")
    )
    body, headers = signed(event, secret="whsec_wrong")
    rejected = _webhooks_counted("stripe", "unknown", "rejected")
    response = await client.post("/api/webhooks/stripe", content=body, headers=headers)
    assert response.status_code == 400
    assert _webhooks_counted("stripe", "unknown", "rejected") == rejected + 1
    assert response.json()["error"] == "INVALID_WEBHOOK"
    missing = await client.post("/api/webhooks/stripe", content=body)
    assert missing.status_code == 400
    body, headers = signed(event)
    tampered = await client.post(
        "/api/webhooks/stripe", content=body.replace(b"cus_x", b"cus_y"), headers=headers
    )
    assert tampered.status_code == 400
    assert await _count(ctx) == 0


async def test_stale_timestamp_is_rejected(
    client: httpx.AsyncClient, ctx: AppContext, events: Events
) -> None:
    event = events.event(
        "customer.created", {"id": "cus_x", "object": "customer"}, at("2026-01-01")
    )
    response = await post_event(client, event, timestamp=int(time.time()) - 301)
    assert response.status_code == 400
    fresh = await post_event(client, event, timestamp=int(time.time()) - 290)
    assert fresh.status_code == 200
    assert await _count(ctx) == 1


async def test_payload_that_is_not_an_event_is_rejected(
    client: httpx.AsyncClient, ctx: AppContext
) -> None:
    for body in (b"not json", b"[1, 2]", b'{"id": "evt_1"}'):
        from erp_core.lab.stripe import sign_payload

        header = sign_payload(body.decode(), "whsec_unused", int(time.time()))
        response = await client.post(
            "/api/webhooks/stripe", content=body, headers={"Stripe-Signature": header}
        )
        assert response.status_code == 400
    assert await _count(ctx) == 0


async def test_duplicate_delivery_is_acknowledged_and_ignored(
    client: httpx.AsyncClient, ctx: AppContext, events: Events
) -> None:
    sub = events.subscription("sub_1", "cus_1", "active", [(2900, 1)])
    event = events.event("customer.subscription.created", sub, at("2026-01-10"))
    first = await post_event(client, event)
    second = await post_event(client, event)
    assert first.status_code == second.status_code == 200
    assert second.json()["data"]["duplicate"] is True
    assert await _count(ctx) == 1
    await webhooks.process_pending(ctx)
    async with ctx.db.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(SubscriptionState)) == 1


async def test_unknown_type_is_stored_and_ignored(
    client: httpx.AsyncClient, ctx: AppContext, events: Events
) -> None:
    event = events.event("plan.created", {"id": "plan_1", "object": "plan"}, at("2026-01-01"))
    assert (await post_event(client, event)).status_code == 200
    await webhooks.process_pending(ctx)
    async with ctx.db.sessionmaker() as session:
        row = await session.scalar(select(StripeEvent))
        assert row is not None and row.processed and row.error is None


def _story(events: Events) -> list[dict[str, Any]]:
    customer = {"id": "cus_a", "object": "customer", "email": "a@example.com", "name": "A S.A."}
    return [
        events.event("customer.created", customer, at("2026-01-01T09:00:00")),
        events.event(
            "customer.subscription.created",
            events.subscription("sub_a", "cus_a", "trialing", [(5000, 1)]),
            at("2026-01-01T10:00:00"),
        ),
        events.event(
            "customer.subscription.updated",
            events.subscription("sub_a", "cus_a", "active", [(5000, 1)]),
            at("2026-01-15T10:00:00"),
        ),
        events.event(
            "customer.subscription.updated",
            events.subscription("sub_a", "cus_a", "active", [(5000, 3)]),
            at("2026-02-10T10:00:00"),
        ),
        events.event(
            "customer.subscription.updated",
            events.subscription("sub_a", "cus_a", "past_due", [(5000, 3)]),
            at("2026-03-03T10:00:00"),
        ),
        events.event(
            "invoice.paid",
            events.invoice("in_1", "cus_a", "sub_a", 5000, "paid", at("2026-01-15T10:00:00")),
            at("2026-01-15T10:00:01"),
        ),
        events.event(
            "invoice.paid",
            events.invoice("in_2", "cus_a", "sub_a", 15000, "paid", at("2026-02-10T10:00:00")),
            at("2026-02-10T10:00:01"),
        ),
        events.event(
            "customer.subscription.created",
            events.subscription("sub_b", "cus_b", "active", [(1200, 1)]),
            at("2026-01-20T00:00:00"),
        ),
        events.event(
            "customer.subscription.deleted",
            events.subscription("sub_b", "cus_b", "canceled", [(1200, 1)]),
            at("2026-02-20T00:00:00"),
        ),
    ]


async def _final_state(ctx: AppContext) -> tuple[Any, ...]:
    async with ctx.db.sessionmaker() as session:
        subs = (
            await session.execute(
                select(
                    Subscription.stripe_subscription_id, Subscription.status, Subscription.mrr
                ).order_by(Subscription.stripe_subscription_id)
            )
        ).all()
        figures = await compute_months(
            session,
            [at("2026-01-01").date(), at("2026-02-01").date(), at("2026-03-01").date()],
            "usd",
            at("2026-04-15"),
        )
    return tuple(subs), tuple(tuple(sorted(f.report("usd").items())) for f in figures)


async def test_shuffled_events_give_the_same_state_and_metrics(
    client: httpx.AsyncClient, ctx: AppContext, events: Events
) -> None:
    story = _story(events)
    for event in story:
        assert (await post_event(client, event)).status_code == 200
    await webhooks.process_pending(ctx)
    ordered = await _final_state(ctx)
    assert ordered[0] == (("sub_a", "past_due", 15000),)  # cus_b has no local customer
    for seed in (1, 2, 3):
        from tests.conftest import truncate_all

        truncate_all(ctx.db.url)
        shuffled = story[:]
        random.Random(seed).shuffle(shuffled)
        for event in shuffled:
            assert (await post_event(client, event)).status_code == 200
        await webhooks.process_pending(ctx)
        assert await _final_state(ctx) == ordered, f"seed {seed}"


async def test_failing_handler_is_retried_listed_and_reprocessed(
    client: httpx.AsyncClient, ctx: AppContext, events: Events, admin: dict[str, Any]
) -> None:
    discount = events.discount("di_1", "cus_1", "sub_1", "MISSING")
    assert (
        await post_event(
            client, events.event("customer.discount.created", discount, at("2026-01-05"))
        )
    ).status_code == 200
    await webhooks.process_pending(ctx)
    listed = await client.get("/api/billing/events?state=failed", headers=admin["headers"])
    assert listed.status_code == 200
    [row] = listed.json()["data"]
    assert row["processed"] is False and row["attempts"] == 1
    assert "Stripe no encontró" in row["error"]
    from erp_core.lab.stripe import StripeLab  # noqa: F401  (the lab holds coupons)

    async with ctx.db.sessionmaker() as session:
        customer = Customer(email="c@example.com", company_name="C", stripe_customer_id="cus_1")
        session.add(customer)
        await session.commit()
    stripe_state = client._transport.app.state.ctx.settings  # type: ignore[attr-defined]
    assert stripe_state.stripe_api_base
    response = await client.post(
        f"/api/billing/events/{row['id']}/reprocess", headers=admin["headers"]
    )
    assert response.status_code == 202
    viewer_denied = await client.get("/api/billing/events")
    assert viewer_denied.status_code == 401
