"""Stripe API emulator: customers, products, prices, subscriptions, checkout sessions,
invoices, charges and coupons, with idempotency-key replay and signed webhooks.

Object shapes follow Stripe's published fixtures (``stripe/fixtures3.json``, API 2025+:
billing periods on subscription items, an invoice's subscription under
``parent.subscription_details``). Requests are form-encoded with bracket keys, as the SDK
sends them. Every state change emits an event signed exactly as Stripe signs it
(``Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "{t}.{body}">``); the signed deliveries
are kept in ``state.deliveries`` and POSTed to ``state.webhook_url`` when one is set.
Test clocks work as in Stripe (``/v1/test_helpers/test_clocks``): objects of a customer created
on a clock live in its time, and advancing it renews, invoices, charges the default payment
method (``pm_card_chargeCustomerFail`` fails), retries and cancels, in time order.
``/_lab/*`` drives test-mode transitions (complete a checkout, pay or fail an invoice, move a
subscription, refund a charge, advance the clock). Faults use operation names ``stripe.<op>``.
Loopback only; nothing here is imported by production code paths outside ``--lab``.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette

from erp_core.lab.faults import FaultPlan, lab_control_routes

__all__ = [
    "StripeFailure",
    "StripeLab",
    "StripeLabState",
    "create_stripe_lab",
    "line_item",
    "parse_form",
    "sign_payload",
]

INTERVAL_SECONDS = {"day": 86_400, "week": 7 * 86_400, "month": 30 * 86_400, "year": 365 * 86_400}
# Stripe's Smart Retries default to a few attempts over about two weeks; the lab retries a
# failed automatic charge after these many days, then cancels the subscription (Stripe's
# "cancel the subscription if all retries fail" setting).
RETRY_DAYS = (3, 5, 7)
FAILING_CARDS = frozenset({"pm_card_chargeCustomerFail", "pm_card_visa_chargeDeclined"})


def period_end(start: int, interval: str, count: int) -> int:
    """``start`` moved by ``count`` intervals as Stripe bills: calendar months and years keep
    the day of month (clamped to the month's last day), days and weeks are fixed lengths."""
    if interval not in ("month", "year"):
        return start + INTERVAL_SECONDS[interval] * count
    moment = datetime.fromtimestamp(start, UTC)
    months = count * (12 if interval == "year" else 1)
    total = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(total, 12)
    month += 1
    following = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    last_day = (following - datetime(year, month, 1, tzinfo=UTC)).days
    moved = moment.replace(year=year, month=month, day=min(moment.day, last_day))
    return int(moved.timestamp())


def sign_payload(body: str, secret: str, timestamp: int) -> str:
    """The ``Stripe-Signature`` header value for ``body`` at ``timestamp``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def parse_form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Decode Stripe's bracket notation (``items[0][price]=p``) into nested dicts/lists."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = key.replace("]", "").split("[")
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    result: dict[str, Any] = _listify(root)
    return result


def _listify(node: Any) -> Any:
    if isinstance(node, dict):
        node = {k: _listify(v) for k, v in node.items()}
        if node and all(k.isdigit() for k in node):
            return [node[k] for k in sorted(node, key=int)]
    return node


class StripeFailure(Exception):
    def __init__(self, status: int, message: str, *, type_: str = "invalid_request_error",
                 code: str | None = None, param: str | None = None) -> None:  # fmt: skip
        super().__init__(message)
        self.status, self.message, self.type, self.code, self.param = (
            status, message, type_, code, param,
        )  # fmt: skip


@dataclass
class StripeLabState:
    """One test-mode account. Tests may read and seed it directly (under ``lock``)."""

    api_key: str
    webhook_secret: str
    webhook_url: str | None = None
    clock_offset: int = 0
    objects: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    idempotency: dict[str, tuple[str, int, Any]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)
    clock_now: int | None = None  # set while acting on objects that live on a test clock
    # `serve --lab` only: the emulated customer pays a send_invoice invoice on receipt, so an
    # operator-created tenant's first invoice is issued and paid without a manual step.
    pay_sent_invoices: bool = False
    # The emulator's own address (``http://127.0.0.1:<port>``): hosted invoice pages are served
    # there (lab/stripe_invoice.py), as Stripe serves them on invoice.stripe.com.
    public_base: str = ""

    def hosted_invoice_url(self, invoice_id: str) -> str:
        return f"{self.public_base}/i/{invoice_id}"

    def now(self) -> int:
        if self.clock_now is not None:
            return self.clock_now
        return int(time.time()) + self.clock_offset

    @contextmanager
    def on_clock(self, clock_id: str | None) -> Iterator[None]:
        """Act at ``clock_id``'s frozen time (objects on a test clock live in its time)."""
        if not clock_id:
            yield
            return
        previous = self.clock_now
        self.clock_now = int(self.get("test_helpers.test_clock", clock_id)["frozen_time"])
        try:
            yield
        finally:
            self.clock_now = previous

    def table(self, kind: str) -> dict[str, dict[str, Any]]:
        return self.objects.setdefault(kind, {})

    def get(self, kind: str, object_id: str) -> dict[str, Any]:
        found = self.table(kind).get(object_id)
        if found is None:
            raise StripeFailure(
                404, f"No such {kind}: '{object_id}'", code="resource_missing", param="id"
            )
        return found

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_{secrets.token_hex(12)}"

    def reset(self) -> None:
        with self.lock:
            self.objects.clear()
            self.idempotency.clear()
            self.events.clear()
            self.deliveries.clear()
            self.clock_offset = 0
            self.clock_now = None

    def dump(self) -> dict[str, Any]:
        """The account as JSON-able data (``serve --lab`` keeps it in var/ across restarts)."""
        with self.lock:
            return copy.deepcopy(
                {
                    "objects": self.objects,
                    "idempotency": {k: list(v) for k, v in self.idempotency.items()},
                    "events": self.events,
                    "deliveries": self.deliveries,
                    "clock_offset": self.clock_offset,
                }
            )

    def load(self, data: dict[str, Any]) -> None:
        """Restore what :meth:`dump` wrote (undelivered events are sent again)."""
        with self.lock:
            self.objects = dict(data.get("objects") or {})
            self.idempotency = {
                k: (str(v[0]), int(v[1]), v[2]) for k, v in (data.get("idempotency") or {}).items()
            }
            self.events = list(data.get("events") or [])
            self.deliveries = list(data.get("deliveries") or [])
            self.clock_offset = int(data.get("clock_offset") or 0)
            if self.public_base:  # a restart may serve on another port: keep the links live
                for invoice in self.table("invoice").values():
                    invoice["hosted_invoice_url"] = self.hosted_invoice_url(invoice["id"])

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "counts": {kind: len(rows) for kind, rows in self.objects.items()},
                "events": len(self.events),
                "webhook_url": self.webhook_url,
            }

    # --- events ---------------------------------------------------------------------

    def emit(
        self,
        type_: str,
        obj: dict[str, Any],
        previous: dict[str, Any] | None = None,
        *,
        deliver: bool = True,
    ) -> None:
        """Record an event with a snapshot of ``obj`` and a signed delivery for it
        (``deliver=False``: a type the control plane's endpoint is not subscribed to, such as
        ``test_helpers.test_clock.*``; it stays in the account's event log)."""
        data: dict[str, Any] = {"object": copy.deepcopy(obj)}
        if previous:
            data["previous_attributes"] = previous
        event = {
            "id": self.new_id("evt"),
            "object": "event",
            "api_version": "2025-03-31.basil",
            "created": self.now(),
            "data": data,
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": type_,
        }
        body = json.dumps(event, separators=(",", ":"))
        header = sign_payload(body, self.webhook_secret, int(time.time()))
        self.events.append(event)
        if not deliver:
            return
        self.deliveries.append(
            {
                "event_id": event["id"],
                "type": type_,
                "body": body,
                "signature": header,
                "status": None,
            }
        )


def line_item(
    state: StripeLabState,
    amount: int,
    currency: str,
    description: str,
    period: dict[str, int],
    sub_id: str,
    item_id: str,
    proration: bool,
    invoice_id: str | None = None,
) -> dict[str, Any]:
    """An invoice ``line_item`` as Stripe shapes it (API 2025+: proration under ``parent``)."""
    return {
        "id": state.new_id("il"), "object": "line_item", "amount": amount,
        "currency": currency, "description": description, "discount_amounts": [],
        "discountable": not proration, "discounts": [], "invoice": invoice_id, "livemode": False,
        "metadata": {}, "period": period, "quantity": 1, "subscription": sub_id,
        "parent": {"type": "subscription_item_details", "invoice_item_details": None,
                   "subscription_item_details": {"invoice_item": None, "proration": proration,
                                                 "proration_details": {"credited_items": None},
                                                 "subscription": sub_id,
                                                 "subscription_item": item_id}},
        "pricing": {"type": "price_details", "unit_amount_decimal": str(amount)},
        "taxes": [],
    }  # fmt: skip


def _subscription_of(invoice: dict[str, Any]) -> str | None:
    parent = invoice.get("parent") or {}
    details = parent.get("subscription_details") or {}
    sub = details.get("subscription")
    return sub if isinstance(sub, str) else None


class StripeLab:
    """Object builders and transitions over one :class:`StripeLabState`."""

    def __init__(self, state: StripeLabState) -> None:
        self.s = state

    def customer(self, params: dict[str, Any]) -> dict[str, Any]:
        s = self.s
        clock = params.get("test_clock") or None
        if clock:
            s.get("test_helpers.test_clock", str(clock))
        with s.on_clock(clock):
            return self._customer(params, clock)

    def _customer(self, params: dict[str, Any], clock: str | None) -> dict[str, Any]:
        s = self.s
        settings = params.get("invoice_settings") or {}
        method = params.get("payment_method") or settings.get("default_payment_method")
        obj: dict[str, Any] = {
            "id": s.new_id("cus"), "object": "customer", "address": None, "balance": 0,
            "created": s.now(), "currency": None, "default_source": None, "delinquent": False,
            "description": params.get("description"), "discount": None,
            "email": params.get("email"), "invoice_prefix": secrets.token_hex(4).upper(),
            "invoice_settings": {"custom_fields": None, "default_payment_method": method or None,
                                 "footer": None, "rendering_options": None},
            "livemode": False, "metadata": params.get("metadata") or {},
            "name": params.get("name"), "next_invoice_sequence": 1, "phone": None,
            "preferred_locales": [], "shipping": None, "tax_exempt": "none", "test_clock": clock,
        }  # fmt: skip
        s.table("customer")[obj["id"]] = obj
        s.emit("customer.created", obj)
        return obj

    def update_customer(self, customer: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        """``POST /v1/customers/{id}``: name, email, metadata, default payment method."""
        previous: dict[str, Any] = {}
        for key in ("name", "email", "description"):
            if key in params:
                previous[key] = customer[key]
                customer[key] = params[key] or None
        if "metadata" in params:
            previous["metadata"] = customer["metadata"]
            customer["metadata"] = {**customer["metadata"], **(params["metadata"] or {})}
        method = (params.get("invoice_settings") or {}).get("default_payment_method")
        if method is not None:
            previous["invoice_settings"] = copy.deepcopy(customer["invoice_settings"])
            customer["invoice_settings"]["default_payment_method"] = method or None
        with self.s.on_clock(customer.get("test_clock")):
            self.s.emit("customer.updated", customer, previous)
        return customer

    def product(self, name: str) -> dict[str, Any]:
        s = self.s
        obj: dict[str, Any] = {
            "id": s.new_id("prod"), "object": "product", "active": True, "created": s.now(),
            "default_price": None, "description": None, "images": [], "livemode": False,
            "marketing_features": [], "metadata": {}, "name": name, "shippable": None,
            "statement_descriptor": None, "tax_code": None, "unit_label": None,
            "updated": s.now(), "url": None, "type": "service",
        }  # fmt: skip
        s.table("product")[obj["id"]] = obj
        return obj

    def price(self, params: dict[str, Any]) -> dict[str, Any]:
        s = self.s
        product = params.get("product")
        if not product:
            product = self.product((params.get("product_data") or {}).get("name", "Plan"))["id"]
        recurring = params.get("recurring") or {}
        if recurring.get("interval") not in INTERVAL_SECONDS:
            raise StripeFailure(400, "Invalid recurring[interval]", param="recurring[interval]")
        amount = int(params.get("unit_amount", 0))
        obj: dict[str, Any] = {
            "id": s.new_id("price"), "object": "price", "active": True,
            "billing_scheme": "per_unit", "created": s.now(),
            "currency": str(params.get("currency", "usd")).lower(), "custom_unit_amount": None,
            "livemode": False, "lookup_key": params.get("lookup_key"),
            "metadata": params.get("metadata") or {}, "nickname": params.get("nickname"),
            "product": product,
            "recurring": {"interval": recurring["interval"],
                          "interval_count": int(recurring.get("interval_count", 1)),
                          "meter": None, "usage_type": "licensed", "trial_period_days": None},
            "tax_behavior": "unspecified", "tiers_mode": None, "transform_quantity": None,
            "type": "recurring", "unit_amount": amount, "unit_amount_decimal": str(amount),
        }  # fmt: skip
        s.table("price")[obj["id"]] = obj
        return obj

    def subscription(
        self, customer: str, items: list[dict[str, Any]], params: dict[str, Any]
    ) -> dict[str, Any]:
        clock = self.s.get("customer", customer).get("test_clock")
        with self.s.on_clock(clock):
            return self._subscription(customer, items, params, clock)

    def _subscription(
        self, customer: str, items: list[dict[str, Any]], params: dict[str, Any], clock: Any
    ) -> dict[str, Any]:
        s = self.s
        sub_id, now = s.new_id("sub"), s.now()
        lines: list[dict[str, Any]] = []
        for item in items:
            price = s.get("price", str(item.get("price")))
            end = period_end(
                now, price["recurring"]["interval"], int(price["recurring"]["interval_count"])
            )
            lines.append({
                "id": s.new_id("si"), "object": "subscription_item", "created": now,
                "current_period_start": now, "current_period_end": end, "discounts": [],
                "metadata": {}, "price": copy.deepcopy(price),
                "quantity": int(item.get("quantity", 1)), "subscription": sub_id,
                "tax_rates": [],
            })  # fmt: skip
        obj: dict[str, Any] = {
            "id": sub_id, "object": "subscription", "application": None,
            "billing_cycle_anchor": now, "cancel_at": None, "cancel_at_period_end": False,
            "canceled_at": None, "cancellation_details": {"comment": None, "feedback": None,
                                                          "reason": None},
            "collection_method": params.get("collection_method", "charge_automatically"),
            "created": now, "currency": lines[0]["price"]["currency"], "customer": customer,
            "days_until_due": int(params["days_until_due"]) if params.get("days_until_due")
            else None,
            "description": None, "discounts": [], "ended_at": None,
            "items": {"object": "list", "data": lines, "has_more": False,
                      "url": f"/v1/subscription_items?subscription={sub_id}"},
            "latest_invoice": None, "livemode": False, "metadata": params.get("metadata") or {},
            "pause_collection": None, "start_date": now, "status": "active",
            "test_clock": clock, "trial_end": None, "trial_start": None,
        }  # fmt: skip
        s.table("subscription")[sub_id] = obj
        s.emit("customer.subscription.created", obj)
        invoice = self.invoice_for(obj)
        if self._payment_method(customer) or self.s.pay_sent_invoices:
            self.collect(invoice)  # (without either the first invoice waits, as before)
        return obj

    def _payment_method(self, customer_id: str) -> str | None:
        customer = self.s.get("customer", customer_id)
        method = (customer.get("invoice_settings") or {}).get("default_payment_method")
        return str(method) if method else None

    def update_subscription(self, sub: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        """``POST /v1/subscriptions/{id}``: change an item's price/quantity (no proration in
        the lab: the new price applies from the next invoice, as with
        ``proration_behavior=none``), ``cancel_at_period_end`` and ``metadata``."""
        s = self.s
        if sub["status"] in ("canceled", "incomplete_expired"):
            raise StripeFailure(
                400, "A canceled subscription can only update its metadata.", param="items"
            )
        previous: dict[str, Any] = {}
        with s.on_clock(sub.get("test_clock")):
            items = params.get("items") or []
            if items:
                previous["items"] = copy.deepcopy(sub["items"])
            for change in items:
                line = next(
                    (i for i in sub["items"]["data"] if i["id"] == change.get("id")),
                    sub["items"]["data"][0] if len(sub["items"]["data"]) == 1 else None,
                )
                if line is None:
                    raise StripeFailure(400, "No such subscription item.", param="items[0][id]")
                if change.get("price"):
                    price = s.get("price", str(change["price"]))
                    if price["recurring"]["interval"] != line["price"]["recurring"]["interval"]:
                        raise StripeFailure(
                            400,
                            "The lab only changes prices with the same billing interval.",
                            param="items[0][price]",
                        )
                    line["price"] = copy.deepcopy(price)
                if change.get("quantity"):
                    line["quantity"] = int(change["quantity"])
            if "cancel_at_period_end" in params:
                previous["cancel_at_period_end"] = sub["cancel_at_period_end"]
                flag = str(params["cancel_at_period_end"]).lower() == "true"
                sub["cancel_at_period_end"] = flag
                sub["cancel_at"] = sub["items"]["data"][0]["current_period_end"] if flag else None
            if "metadata" in params:
                previous["metadata"] = sub["metadata"]
                sub["metadata"] = {**sub["metadata"], **(params["metadata"] or {})}
            s.emit("customer.subscription.updated", sub, previous)
        return sub

    def cancel_subscription(self, sub: dict[str, Any]) -> dict[str, Any]:
        with self.s.on_clock(sub.get("test_clock")):
            if sub["status"] != "canceled":
                self.set_status(sub, "canceled")
        return sub

    # --- automatic collection ------------------------------------------------------------

    def collect(self, invoice: dict[str, Any]) -> None:
        """Charge an open ``charge_automatically`` invoice with the customer's default payment
        method; a failing card schedules the next retry (``next_payment_attempt``), and the
        last failure cancels the subscription. ``send_invoice`` invoices wait for the customer
        (on a test clock, the lab's simulated customer pays them at the same instant)."""
        if invoice["status"] != "open":
            return
        customer = self.s.get("customer", invoice["customer"])
        method = self._payment_method(invoice["customer"])
        if invoice["collection_method"] == "send_invoice":
            on_clock = bool(customer.get("test_clock"))
            if (on_clock and method and method not in FAILING_CARDS) or (
                not on_clock and self.s.pay_sent_invoices
            ):
                self.pay_invoice(invoice)
            return
        if method and method not in FAILING_CARDS:
            invoice["next_payment_attempt"] = None
            self.pay_invoice(invoice)
            return
        attempt = int(invoice["attempt_count"])  # attempts before this one
        retry_in = RETRY_DAYS[attempt] if attempt < len(RETRY_DAYS) else None
        invoice["next_payment_attempt"] = (
            self.s.now() + retry_in * 86_400 if retry_in is not None else None
        )
        self.fail_invoice(invoice)
        if retry_in is None:
            sub_id = _subscription_of(invoice)
            if sub_id:
                sub = self.s.get("subscription", sub_id)
                if sub["status"] != "canceled":
                    self.set_status(sub, "canceled")

    def _invoice_lines(self, sub: dict[str, Any], invoice_id: str) -> list[dict[str, Any]]:
        """The period's line per subscription item, then the pending proration items of the
        subscription (a plan change since the last invoice), which this invoice consumes."""
        s = self.s
        lines = []
        for item in sub["items"]["data"]:
            price = item["price"]
            product = s.table("product").get(str(price.get("product")), {})
            name = product.get("name") or price.get("nickname") or "Plan"
            lines.append(
                line_item(s, int(price["unit_amount"]) * int(item["quantity"]), sub["currency"],
                          f"{item['quantity']} × {name}",
                          {"start": int(item["current_period_start"]),
                           "end": int(item["current_period_end"])},
                          sub["id"], item["id"], False, invoice_id)
            )  # fmt: skip
        for ii in s.table("invoiceitem").values():
            parent = (ii.get("parent") or {}).get("subscription_details") or {}
            if ii["invoice"] is None and parent.get("subscription") == sub["id"]:
                ii["invoice"] = invoice_id
                lines.append(
                    line_item(s, int(ii["amount"]), ii["currency"], ii["description"],
                              ii["period"], sub["id"], ii.get("_subscription_item") or "",
                              True, invoice_id)
                )  # fmt: skip
        return lines

    def invoice_for(self, sub: dict[str, Any]) -> dict[str, Any]:
        s = self.s
        now = s.now()
        invoice_id = s.new_id("in")
        lines = self._invoice_lines(sub, invoice_id)
        total = sum(line["amount"] for line in lines)
        due = max(total, 0)  # Stripe turns a negative total into customer credit, not a refund
        first = sub["items"]["data"][0]
        send_invoice = sub["collection_method"] == "send_invoice"
        obj: dict[str, Any] = {
            "id": invoice_id, "object": "invoice", "account_country": "US",
            "amount_due": due, "amount_paid": 0, "amount_remaining": due,
            "attempt_count": 0, "attempted": False, "auto_advance": True,
            "billing_reason": "subscription_create" if not sub["latest_invoice"]
            else "subscription_cycle",
            "collection_method": sub["collection_method"], "created": now,
            "currency": sub["currency"], "customer": sub["customer"],
            "due_date": now + 86_400 * int(sub["days_until_due"] or 0) if send_invoice else None,
            "hosted_invoice_url": s.hosted_invoice_url(invoice_id),
            "invoice_pdf": None,
            "lines": {"object": "list", "data": lines, "has_more": False,
                      "url": f"/v1/invoices/{invoice_id}/lines"},
            "next_payment_attempt": now if not send_invoice else None,
            "livemode": False, "metadata": {}, "number": f"LAB-{len(s.table('invoice')) + 1:04d}",
            "parent": {"type": "subscription_details", "quote_details": None,
                       "subscription_details": {"metadata": sub["metadata"],
                                                "subscription": sub["id"]}},
            "period_start": first["current_period_start"],
            "period_end": first["current_period_end"], "status": "open",
            "status_transitions": {"finalized_at": now, "marked_uncollectible_at": None,
                                   "paid_at": None, "voided_at": None},
            "subtotal": total, "total": total, "discounts": [],
        }  # fmt: skip
        s.table("invoice")[obj["id"]] = obj
        sub["latest_invoice"] = obj["id"]
        s.emit("invoice.finalized", obj)
        return obj

    def pay_invoice(self, invoice: dict[str, Any]) -> dict[str, Any]:
        s = self.s
        if invoice["status"] == "paid":
            return invoice
        charge = {
            "id": s.new_id("ch"), "object": "charge", "amount": invoice["amount_due"],
            "amount_captured": invoice["amount_due"], "amount_refunded": 0, "captured": True,
            "created": s.now(), "currency": invoice["currency"], "customer": invoice["customer"],
            "livemode": False, "metadata": {}, "paid": True, "payment_intent": None,
            "refunded": False, "refunds": {"object": "list", "data": [], "has_more": False},
            "status": "succeeded", "description": invoice["id"],
        }  # fmt: skip
        s.table("charge")[charge["id"]] = charge
        invoice.update(status="paid", amount_paid=invoice["amount_due"], amount_remaining=0,
                       attempted=True, attempt_count=invoice["attempt_count"] + 1)  # fmt: skip
        invoice["status_transitions"]["paid_at"] = s.now()
        invoice["next_payment_attempt"] = None
        s.emit("invoice.paid", invoice)
        sub_id = _subscription_of(invoice)
        if sub_id:
            sub = s.get("subscription", sub_id)
            if sub["status"] in ("past_due", "unpaid", "incomplete"):
                self.set_status(sub, "active")
        return charge

    def fail_invoice(self, invoice: dict[str, Any]) -> None:
        invoice.update(attempted=True, attempt_count=invoice["attempt_count"] + 1)
        self.s.emit("invoice.payment_failed", invoice)
        sub_id = _subscription_of(invoice)
        if sub_id:
            sub = self.s.get("subscription", sub_id)
            if sub["status"] == "active":
                self.set_status(sub, "past_due")

    def set_status(self, sub: dict[str, Any], status: str) -> None:
        previous = {"status": sub["status"]}
        sub["status"] = status
        event = "customer.subscription.updated"
        if status == "canceled":
            sub["canceled_at"] = sub["ended_at"] = self.s.now()
            event = "customer.subscription.deleted"
        elif status == "paused":
            event = "customer.subscription.paused"
        elif previous["status"] == "paused":
            event = "customer.subscription.resumed"
        self.s.emit(event, sub, previous)

    def advance(self, sub: dict[str, Any]) -> dict[str, Any]:
        previous = {"items": copy.deepcopy(sub["items"])}
        for item in sub["items"]["data"]:
            recurring = item["price"]["recurring"]
            item["current_period_start"] = item["current_period_end"]
            item["current_period_end"] = period_end(
                item["current_period_end"], recurring["interval"], int(recurring["interval_count"])
            )
        self.s.emit("customer.subscription.updated", sub, previous)
        return self.invoice_for(sub)

    # --- test clocks ------------------------------------------------------------------------

    def create_clock(self, params: dict[str, Any]) -> dict[str, Any]:
        s = self.s
        if not str(params.get("frozen_time", "")).isdigit():
            raise StripeFailure(400, "Missing required param: frozen_time.", param="frozen_time")
        frozen = int(params["frozen_time"])
        obj: dict[str, Any] = {
            "id": s.new_id("clock"), "object": "test_helpers.test_clock",
            "created": int(time.time()), "deletes_after": int(time.time()) + 30 * 86_400,
            "frozen_time": frozen, "livemode": False, "name": params.get("name"),
            "status": "ready", "status_details": {},
        }  # fmt: skip
        s.table("test_helpers.test_clock")[obj["id"]] = obj
        with s.on_clock(obj["id"]):
            s.emit("test_helpers.test_clock.created", obj, deliver=False)
        return obj

    def advance_clock(self, clock: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        """Move ``clock`` to ``frozen_time``, doing in order everything that falls due on
        the way: renewals (a new invoice, charged at once when collected automatically),
        cancellations at period end and payment retries. Events carry clock times."""
        s = self.s
        if not str(params.get("frozen_time", "")).isdigit():
            raise StripeFailure(400, "Missing required param: frozen_time.", param="frozen_time")
        target = int(params["frozen_time"])
        if target < clock["frozen_time"]:
            raise StripeFailure(
                400, "The frozen_time must be after the current frozen_time.", param="frozen_time"
            )
        clock["status"] = "advancing"
        with s.on_clock(clock["id"]):
            s.emit("test_helpers.test_clock.advancing", clock, deliver=False)
        for _ in range(100_000):  # bounded: each pass consumes one due action
            due = self._next_due(clock["id"], target)
            if due is None:
                break
            at, action = due
            clock["frozen_time"] = at
            with s.on_clock(clock["id"]):
                action()
        clock["frozen_time"] = target
        clock["status"] = "ready"
        with s.on_clock(clock["id"]):
            s.emit("test_helpers.test_clock.ready", clock, deliver=False)
        return clock

    def _next_due(self, clock_id: str, target: int) -> tuple[int, Any] | None:
        s = self.s
        candidates: list[tuple[int, int, str, Any]] = []
        for sub in s.table("subscription").values():
            if sub.get("test_clock") != clock_id or sub["status"] in ("canceled", "paused"):
                continue
            end = int(sub["items"]["data"][0]["current_period_end"])
            if end <= target:
                if sub["cancel_at_period_end"]:
                    candidates.append(
                        (end, 0, sub["id"], lambda sub=sub: self.set_status(sub, "canceled"))
                    )
                else:
                    candidates.append(
                        (end, 1, sub["id"], lambda sub=sub: self.collect(self.advance(sub)))
                    )
        for invoice in s.table("invoice").values():
            attempt = invoice.get("next_payment_attempt")
            if (
                invoice["status"] == "open"
                and attempt is not None
                and invoice["attempt_count"] > 0
                and attempt <= target
                and s.get("customer", invoice["customer"]).get("test_clock") == clock_id
            ):
                candidates.append(
                    (int(attempt), 2, invoice["id"], lambda inv=invoice: self.collect(inv))
                )
        if not candidates:
            return None
        at, _, _, action = min(candidates, key=lambda c: (c[0], c[1], c[2]))
        return at, action

    def discount(self, sub: dict[str, Any], coupon_id: str) -> dict[str, Any]:
        s = self.s
        s.get("coupon", coupon_id)
        obj: dict[str, Any] = {
            "id": s.new_id("di"), "object": "discount", "checkout_session": None,
            "customer": sub["customer"], "end": None, "invoice": None, "invoice_item": None,
            "promotion_code": None, "start": s.now(), "subscription": sub["id"],
            "subscription_item": None, "source": {"coupon": coupon_id, "type": "coupon"},
        }  # fmt: skip
        s.table("discount")[obj["id"]] = obj
        sub["discounts"] = [*sub["discounts"], obj["id"]]
        s.emit("customer.discount.created", obj)
        s.emit("customer.subscription.updated", sub, {"discounts": []})
        return obj

    def complete_checkout(self, session: dict[str, Any]) -> dict[str, Any]:
        if session["status"] == "complete":
            return session
        meta = session.get("metadata") or {}
        # Checkout collects a card and saves it on the customer, so the first invoice is
        # charged at once (no failed attempt before the payment) and renewals charge it too.
        customer = self.customer(
            {
                "email": session["customer_email"],
                "name": meta.get("company"),
                "metadata": {},
                "invoice_settings": {"default_payment_method": "pm_card_visa"},
            }
        )
        items = [{"price": li["price"], "quantity": li.get("quantity", 1)}
                 for li in session["_line_items"]]  # fmt: skip
        sub_meta = (session.get("_subscription_data") or {}).get("metadata") or meta
        sub = self.subscription(customer["id"], items, {"metadata": sub_meta})
        self.pay_invoice(self.s.get("invoice", sub["latest_invoice"]))
        session.update(status="complete", payment_status="paid", customer=customer["id"],
                       subscription=sub["id"], invoice=sub["latest_invoice"])  # fmt: skip
        session["customer_details"]["email"] = session["customer_email"]
        self.s.emit("checkout.session.completed", _public(session))
        return session


def _public(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if not k.startswith("_")}


def create_stripe_lab(
    api_key: str, webhook_secret: str, *, faults: FaultPlan | None = None
) -> Starlette:
    """The emulator as an ASGI app (``app.state.lab`` is its :class:`StripeLabState`)."""
    # cycle: lab.stripe_routes imports StripeLab and parse_form from this module.
    from erp_core.lab.stripe_routes import build_routes

    state = StripeLabState(api_key=api_key, webhook_secret=webhook_secret)
    plan = faults or FaultPlan()
    lab = StripeLab(state)
    routes = build_routes(lab, plan)
    routes += lab_control_routes(plan, state.snapshot, state.reset)
    app = Starlette(routes=routes)
    app.state.lab = state
    app.state.emulator = lab
    return app
