"""Stripe events for tests: objects shaped like Stripe's published fixtures, signed as
Stripe signs them, and a helper that posts them to the webhook endpoint."""

from __future__ import annotations

import copy
import json
import secrets
import time
from datetime import UTC, datetime
from typing import Any

import httpx

import shared_parts
from erp_core.lab.stripe import sign_payload

WEBHOOK_SECRET = "whsec_" + secrets.token_hex(16)
VENDOR_DIR = shared_parts.part_path("vendor")
FIXTURES = VENDOR_DIR / "stripe" / "fixtures3.json"


def _fixture_shapes() -> dict[str, Any]:
    if FIXTURES.exists():
        resources: dict[str, Any] = json.loads(FIXTURES.read_text())["resources"]
        return resources
    return {}


SHAPES = _fixture_shapes()


def shape(kind: str) -> dict[str, Any]:
    """A deep copy of Stripe's published object (skips the test when the file is absent)."""
    if kind not in SHAPES:
        shared_parts.missing("vendor", FIXTURES)
    return copy.deepcopy(SHAPES[kind])


def unix(value: datetime) -> int:
    return int(value.timestamp())


def at(text: str) -> datetime:
    """'2026-03-05' or '2026-03-05T10:00:00' as an aware UTC datetime."""
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class Events:
    """Builds Stripe events from the fixture shapes (objects varied per test)."""

    def __init__(self) -> None:
        self.count = 0

    def event(self, type_: str, obj: dict[str, Any], created: datetime) -> dict[str, Any]:
        self.count += 1
        event = shape("event")
        event.update(
            id=f"evt_test_{self.count:05d}_{secrets.token_hex(4)}",
            type=type_,
            created=unix(created),
            data={"object": obj},
            api_version="2025-03-31.basil",
        )
        return event

    def price(self, amount: int, interval: str = "month", count: int = 1) -> dict[str, Any]:
        price = shape("price")
        price.update(
            id=f"price_{amount}_{interval}_{count}",
            unit_amount=amount,
            unit_amount_decimal=str(amount),
            currency="usd",
        )
        price["recurring"].update(interval=interval, interval_count=count)
        return price

    def subscription(
        self,
        sub_id: str,
        customer: str,
        status: str,
        items: list[tuple[int, int] | tuple[int, int, str] | tuple[int, int, str, int]],
        **extra: Any,
    ) -> dict[str, Any]:
        """items: (unit_amount, quantity[, interval[, interval_count]])."""
        sub = shape("subscription")
        template = sub["items"]["data"][0]
        lines = []
        for index, item in enumerate(items):
            amount, quantity = item[0], item[1]
            interval = item[2] if len(item) > 2 else "month"  # type: ignore[misc]
            count = item[3] if len(item) > 3 else 1  # type: ignore[misc]
            line = copy.deepcopy(template)
            line.update(
                id=f"si_{sub_id}_{index}",
                price=self.price(amount, interval, count),  # type: ignore[arg-type]
                quantity=quantity,
                subscription=sub_id,
            )
            lines.append(line)
        sub["items"]["data"] = lines
        sub.update(id=sub_id, customer=customer, status=status, currency="usd", discounts=[],
                   metadata={}, **extra)  # fmt: skip
        return sub

    def coupon(self, coupon_id: str, duration: str, *, percent_off: float | None = None,
               amount_off: int | None = None, months: int | None = None) -> dict[str, Any]:  # fmt: skip
        coupon = shape("coupon")
        coupon.update(id=coupon_id, duration=duration, percent_off=percent_off,
                      amount_off=amount_off, duration_in_months=months, currency="usd")  # fmt: skip
        return coupon

    def discount(self, discount_id: str, customer: str, subscription: str | None,
                 coupon: dict[str, Any] | str) -> dict[str, Any]:  # fmt: skip
        discount = shape("discount")
        discount.update(id=discount_id, customer=customer, subscription=subscription, end=None)
        discount["source"] = {"coupon": coupon, "type": "coupon"}
        return discount

    def invoice(self, invoice_id: str, customer: str, subscription: str | None, amount: int,
                status: str, paid_at: datetime | None = None) -> dict[str, Any]:  # fmt: skip
        invoice = shape("invoice")
        invoice.update(id=invoice_id, customer=customer, status=status, currency="usd",
                       amount_due=amount, amount_paid=amount if status == "paid" else 0,
                       amount_remaining=0 if status == "paid" else amount, total=amount,
                       subtotal=amount, subscription=None)  # fmt: skip
        invoice["parent"] = {
            "type": "subscription_details",
            "quote_details": None,
            "subscription_details": {"metadata": {}, "subscription": subscription},
        }
        invoice["status_transitions"] = {"finalized_at": None, "marked_uncollectible_at": None,
                                         "paid_at": unix(paid_at) if paid_at else None,
                                         "voided_at": None}  # fmt: skip
        return invoice

    def charge(self, charge_id: str, customer: str, amount: int, refunded: int) -> dict[str, Any]:
        charge = shape("charge")
        charge.update(id=charge_id, customer=customer, amount=amount, amount_refunded=refunded,
                      currency="usd", refunded=refunded == amount)  # fmt: skip
        return charge


def signed(
    event: dict[str, Any], secret: str = WEBHOOK_SECRET, timestamp: int | None = None
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(event)
    header = sign_payload(body, secret, timestamp if timestamp is not None else int(time.time()))
    return body.encode(), {"Stripe-Signature": header, "Content-Type": "application/json"}


async def post_event(
    client: httpx.AsyncClient, event: dict[str, Any], **kwargs: Any
) -> httpx.Response:
    body, headers = signed(event, **kwargs)
    return await client.post("/api/webhooks/stripe", content=body, headers=headers)
