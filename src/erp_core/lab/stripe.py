"""Stripe API emulator: customers, products, prices, subscriptions, checkout sessions,
invoices, charges and coupons, with idempotency-key replay and signed webhooks.

Object shapes follow Stripe's published fixtures (``stripe/fixtures3.json``, API 2025+:
billing periods on subscription items, an invoice's subscription under
``parent.subscription_details``). Requests are form-encoded with bracket keys, as the SDK
sends them. Every state change emits an event signed exactly as Stripe signs it
(``Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "{t}.{body}">``); the signed deliveries
are kept in ``state.deliveries`` and POSTed to ``state.webhook_url`` when one is set.
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
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette

from erp_core.lab.faults import FaultPlan, lab_control_routes

__all__ = [
    "StripeFailure",
    "StripeLab",
    "StripeLabState",
    "create_stripe_lab",
    "parse_form",
    "sign_payload",
]

INTERVAL_SECONDS = {"day": 86_400, "week": 7 * 86_400, "month": 30 * 86_400, "year": 365 * 86_400}


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

    def now(self) -> int:
        return int(time.time()) + self.clock_offset

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

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "counts": {kind: len(rows) for kind, rows in self.objects.items()},
                "events": len(self.events),
                "webhook_url": self.webhook_url,
            }

    # --- events ---------------------------------------------------------------------

    def emit(self, type_: str, obj: dict[str, Any], previous: dict[str, Any] | None = None) -> None:
        """Record an event with a snapshot of ``obj`` and a signed delivery for it."""
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
        self.deliveries.append(
            {
                "event_id": event["id"],
                "type": type_,
                "body": body,
                "signature": header,
                "status": None,
            }
        )


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
        obj: dict[str, Any] = {
            "id": s.new_id("cus"), "object": "customer", "address": None, "balance": 0,
            "created": s.now(), "currency": None, "default_source": None, "delinquent": False,
            "description": params.get("description"), "discount": None,
            "email": params.get("email"), "invoice_prefix": secrets.token_hex(4).upper(),
            "invoice_settings": {"custom_fields": None, "default_payment_method": None,
                                 "footer": None, "rendering_options": None},
            "livemode": False, "metadata": params.get("metadata") or {},
            "name": params.get("name"), "next_invoice_sequence": 1, "phone": None,
            "preferred_locales": [], "shipping": None, "tax_exempt": "none", "test_clock": None,
        }  # fmt: skip
        s.table("customer")[obj["id"]] = obj
        s.emit("customer.created", obj)
        return obj

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
        s = self.s
        s.get("customer", customer)
        sub_id, now = s.new_id("sub"), s.now()
        lines: list[dict[str, Any]] = []
        for item in items:
            price = s.get("price", str(item.get("price")))
            end = now + INTERVAL_SECONDS[price["recurring"]["interval"]] * int(
                price["recurring"]["interval_count"]
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
            "test_clock": None, "trial_end": None, "trial_start": None,
        }  # fmt: skip
        s.table("subscription")[sub_id] = obj
        s.emit("customer.subscription.created", obj)
        self.invoice_for(obj)
        return obj

    def invoice_for(self, sub: dict[str, Any]) -> dict[str, Any]:
        s = self.s
        now = s.now()
        total = sum(i["price"]["unit_amount"] * i["quantity"] for i in sub["items"]["data"])
        first = sub["items"]["data"][0]
        send_invoice = sub["collection_method"] == "send_invoice"
        obj: dict[str, Any] = {
            "id": s.new_id("in"), "object": "invoice", "account_country": "US",
            "amount_due": total, "amount_paid": 0, "amount_remaining": total,
            "attempt_count": 0, "attempted": False, "auto_advance": True,
            "billing_reason": "subscription_create" if not sub["latest_invoice"]
            else "subscription_cycle",
            "collection_method": sub["collection_method"], "created": now,
            "currency": sub["currency"], "customer": sub["customer"],
            "due_date": now + 86_400 * int(sub["days_until_due"] or 0) if send_invoice else None,
            "hosted_invoice_url": f"https://invoice.stripe.lab/{secrets.token_hex(6)}",
            "invoice_pdf": None, "lines": {"object": "list", "data": [], "has_more": False},
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
        for item in sub["items"]["data"]:
            recurring = item["price"]["recurring"]
            length = INTERVAL_SECONDS[recurring["interval"]] * int(recurring["interval_count"])
            item["current_period_start"] = item["current_period_end"]
            item["current_period_end"] += length
        self.s.emit("customer.subscription.updated", sub)
        return self.invoice_for(sub)

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
        customer = self.customer(
            {"email": session["customer_email"], "name": meta.get("company"), "metadata": {}}
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
