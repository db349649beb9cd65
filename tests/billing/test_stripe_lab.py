"""The Stripe emulator: signed deliveries to a real endpoint, idempotency replay, shapes
that match Stripe's published fixtures, and the driver's error mapping."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
import stripe
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from tests.billing.stripe_events import FIXTURES, SHAPES, WEBHOOK_SECRET

import shared_parts
from erp_core.drivers.base import PermanentDriverError, TransientDriverError
from erp_core.drivers.stripe import StripeGateway, verify_webhook
from erp_core.lab import LabServer, StripeLabHandle


@pytest.fixture(autouse=True)
def _clean_lab(stripe_lab: StripeLabHandle) -> None:
    stripe_lab.state.reset()
    stripe_lab.faults.clear()


def _keys_subset(emitted: dict[str, Any], kind: str) -> set[str]:
    return set(emitted) - set(SHAPES[kind])


@pytest.mark.needs_shared("vendor")
async def test_lab_objects_have_stripe_shapes_and_webhooks_verify(
    stripe_lab: StripeLabHandle,
) -> None:
    if not SHAPES:
        shared_parts.missing("vendor", FIXTURES)
    received: list[tuple[bytes, str]] = []

    async def sink(request: Request) -> JSONResponse:
        received.append((await request.body(), request.headers.get("stripe-signature", "")))
        return JSONResponse({"ok": True})

    with LabServer(Starlette(routes=[Route("/hook", sink, methods=["POST"])])) as receiver:
        stripe_lab.state.webhook_url = f"{receiver.url}/hook"
        gateway = StripeGateway(stripe_lab.api_key, api_base=stripe_lab.api_base)
        try:
            customer = await gateway.create_customer(
                email="a@b.example", name="A", metadata={}, idempotency_key="c-1"
            )
            price = await gateway.create_price(
                product_name="P",
                unit_amount=1000,
                currency="usd",
                interval="year",
                idempotency_key="p-1",
            )
            sub = await gateway.create_subscription(
                customer_id=str(customer["id"]),
                price_id=price.id,
                metadata={},
                days_until_due=7,
                idempotency_key="s-1",
            )
            invoices = [i async for i in gateway.list_invoices(page_size=1)]
        finally:
            await gateway.aclose()
            deadline = time.monotonic() + 5
            while len(received) < 3 and time.monotonic() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
            stripe_lab.state.webhook_url = None
    assert _keys_subset(customer, "customer") == set()
    assert _keys_subset(sub, "subscription") == set()
    assert _keys_subset(sub["items"]["data"][0], "subscription_item") == set()
    assert _keys_subset(invoices[0], "invoice") == set()
    assert price.interval == "year" and price.unit_amount == 1000
    types = []
    for body, header in received:
        event = verify_webhook(body, header, WEBHOOK_SECRET)
        assert _keys_subset(event, "event") == set()
        types.append(event["type"])
    assert types == ["customer.created", "customer.subscription.created", "invoice.finalized"]
    stripe.WebhookSignature.verify_header(
        received[0][0].decode(), received[0][1], WEBHOOK_SECRET, 300
    )


async def test_idempotency_replay_and_mismatch(stripe_lab: StripeLabHandle) -> None:
    gateway = StripeGateway(stripe_lab.api_key, api_base=stripe_lab.api_base)
    try:
        first = await gateway.create_customer(
            email="x@y.example", name="X", metadata={}, idempotency_key="same"
        )
        again = await gateway.create_customer(
            email="x@y.example", name="X", metadata={}, idempotency_key="same"
        )
        assert first["id"] == again["id"] and len(stripe_lab.state.table("customer")) == 1
        with pytest.raises(PermanentDriverError, match="repetición"):
            await gateway.create_customer(
                email="other@y.example", name="X", metadata={}, idempotency_key="same"
            )
    finally:
        await gateway.aclose()


async def test_faults_map_to_transient_and_permanent_errors(stripe_lab: StripeLabHandle) -> None:
    gateway = StripeGateway(stripe_lab.api_key, api_base=stripe_lab.api_base, max_retries=0)
    plan = stripe_lab.faults
    try:
        plan.set("stripe.coupons.retrieve", fail_times=1, status=503)
        with pytest.raises(TransientDriverError):
            await gateway.get_coupon("ANY")
        plan.set("stripe.coupons.retrieve", fail_times=1, status=429)
        with pytest.raises(TransientDriverError):
            await gateway.get_coupon("ANY")
        with pytest.raises(PermanentDriverError, match="no encontró"):
            await gateway.get_coupon("ANY")
    finally:
        plan.clear()
        await gateway.aclose()
    wrong = StripeGateway("sk_test_wrong", api_base=stripe_lab.api_base)
    try:
        with pytest.raises(PermanentDriverError) as info:
            await wrong.get_price("price_x")
        assert "sk_test_wrong" not in str(info.value) and "STRIPE_SECRET_KEY" in str(info.value)
    finally:
        await wrong.aclose()
