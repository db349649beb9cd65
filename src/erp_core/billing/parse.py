"""Reading Stripe objects (plain dicts, as webhooks and the driver give them).

Tolerant of API versions: billing periods on items (2025-03-31+) or on the subscription,
an invoice's subscription under ``parent.subscription_details`` or at the top level, a
discount's coupon under ``source.coupon`` or ``coupon``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from math import gcd, lcm
from typing import Any

# Months per billing interval are k/12: a month is 12/12, a year 1/12 (÷ 12), a week
# 52/12, a day 365/12 — the normalisation, kept as integers so MRR stays exact.
INTERVAL_K = {"month": 12, "year": 1, "week": 52, "day": 365}


def ts(value: object) -> datetime | None:
    """A Stripe unix timestamp as an aware UTC datetime."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return datetime.fromtimestamp(int(value), UTC)


def text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def ref(value: object) -> str | None:
    """An expandable field: an id string or an object with an id."""
    if isinstance(value, dict):
        return text(value.get("id"))
    return text(value)


def as_dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_int(value: object, default: int = 0) -> int:
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return default


@dataclass(frozen=True)
class ItemView:
    stripe_item_id: str | None
    price_id: str | None
    product_id: str | None
    unit_amount: int
    quantity: int
    interval: str
    interval_count: int
    period_start: datetime | None
    period_end: datetime | None


@dataclass(frozen=True)
class SubscriptionView:
    id: str
    customer: str
    status: str
    currency: str
    items: list[ItemView]
    mrr_numerator: int
    mrr_denominator: int
    interval_k: int
    interval_count: int
    metadata: dict[str, str]
    cancel_at_period_end: bool
    period_start: datetime | None
    period_end: datetime | None
    embedded_discounts: list[dict[str, Any]] = field(default_factory=list)

    @property
    def interval(self) -> str | None:
        return self.items[0].interval if self.items else None

    @property
    def quantity(self) -> int:
        return sum(i.quantity for i in self.items)


def _item(raw: dict[str, Any], sub: dict[str, Any]) -> ItemView | None:
    price = as_dict(raw.get("price")) or as_dict(raw.get("plan"))
    recurring = as_dict(price.get("recurring"))
    interval = text(recurring.get("interval")) or text(price.get("interval"))
    if interval not in INTERVAL_K:
        return None
    count = as_int(recurring.get("interval_count") or price.get("interval_count"), 1) or 1
    amount = price.get("unit_amount", price.get("amount"))
    return ItemView(
        stripe_item_id=text(raw.get("id")),
        price_id=text(price.get("id")),
        product_id=ref(price.get("product")),
        unit_amount=as_int(amount),
        quantity=as_int(raw.get("quantity"), 1),
        interval=interval,
        interval_count=count,
        period_start=ts(raw.get("current_period_start") or sub.get("current_period_start")),
        period_end=ts(raw.get("current_period_end") or sub.get("current_period_end")),
    )


def monthly_fraction(items: list[ItemView]) -> tuple[int, int]:
    """Σ unit_amount × quantity normalised to a month, as numerator/denominator."""
    if not items:
        return 0, 1
    common = lcm(*(i.interval_count for i in items))
    numerator = sum(
        i.unit_amount * i.quantity * INTERVAL_K[i.interval] * (common // i.interval_count)
        for i in items
    )
    denominator = 12 * common
    divisor = gcd(numerator, denominator) or 1
    return numerator // divisor, denominator // divisor


def parse_subscription(obj: dict[str, Any]) -> SubscriptionView:
    raw_items = as_dict(obj.get("items")).get("data") or []
    items = [i for i in (_item(as_dict(r), obj) for r in raw_items) if i is not None]
    numerator, denominator = monthly_fraction(items)
    first = items[0] if items else None
    discounts = [d for d in obj.get("discounts") or [] if isinstance(d, dict)]
    legacy = as_dict(obj.get("discount"))
    if legacy:
        discounts.append(legacy)
    metadata = {str(k): str(v) for k, v in as_dict(obj.get("metadata")).items()}
    first_price = as_dict(as_dict(raw_items[0]).get("price")) if raw_items else {}
    currency = text(obj.get("currency")) or text(first_price.get("currency")) or "usd"
    return SubscriptionView(
        id=str(obj["id"]),
        customer=ref(obj.get("customer")) or "",
        status=str(obj.get("status") or "incomplete"),
        currency=currency.lower(),
        items=items,
        mrr_numerator=numerator,
        mrr_denominator=denominator,
        interval_k=INTERVAL_K[first.interval] if first else 12,
        interval_count=first.interval_count if first else 1,
        metadata=metadata,
        cancel_at_period_end=bool(obj.get("cancel_at_period_end")),
        period_start=first.period_start if first else ts(obj.get("current_period_start")),
        period_end=first.period_end if first else ts(obj.get("current_period_end")),
        embedded_discounts=discounts,
    )


def invoice_subscription(obj: dict[str, Any]) -> str | None:
    details = as_dict(as_dict(obj.get("parent")).get("subscription_details"))
    return ref(details.get("subscription")) or ref(obj.get("subscription"))


def discount_coupon(obj: dict[str, Any]) -> str | dict[str, Any] | None:
    """The discount's coupon: an object when embedded, else its id."""
    coupon = obj.get("coupon")
    if coupon is None:
        coupon = as_dict(obj.get("source")).get("coupon")
    if isinstance(coupon, dict) and coupon.get("id"):
        return coupon
    return text(coupon)
