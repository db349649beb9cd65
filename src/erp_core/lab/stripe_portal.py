"""Stripe emulator additions for the customer portal (issue 16): Customer Portal sessions
(with a minimal page the session URL serves), subscription price changes with proration,
cancellation at period end, and the invoice preview showing the proration lines.

Shapes follow Stripe's API (fixtures3.json): `billing_portal.session`, `invoiceitem` and the
preview invoice's `line_item`s with `parent.subscription_item_details.proration`.
"""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from erp_core.lab.stripe import StripeFailure, StripeLab, line_item
from erp_core.lab.stripe_checkout import billing_portal_page

Handler = Callable[[Request, dict[str, Any]], Any]
Api = Callable[[str, Handler], Callable[[Request], Awaitable[Response]]]


def _item_amount(item: dict[str, Any]) -> int:
    return int(item["price"]["unit_amount"]) * int(item.get("quantity", 1))


def update_subscription(lab: StripeLab, sub: dict[str, Any], params: dict[str, Any]) -> Any:
    """`POST /v1/subscriptions/{id}`: items[i][id]+[price], proration_behavior, cancel_at_period_end."""
    s = lab.s
    previous: dict[str, Any] = {}
    if "cancel_at_period_end" in params:
        flag = str(params["cancel_at_period_end"]).lower() == "true"
        previous["cancel_at_period_end"] = sub["cancel_at_period_end"]
        sub["cancel_at_period_end"] = flag
        sub["cancel_at"] = sub["items"]["data"][0]["current_period_end"] if flag else None
    changes = params.get("items") or []
    if changes:
        previous["items"] = copy.deepcopy(sub["items"])
    behavior = params.get("proration_behavior", "create_prorations")
    now = s.now()
    for change in changes:
        item = next((i for i in sub["items"]["data"] if i["id"] == change.get("id")), None)
        if item is None:
            raise StripeFailure(400, "Invalid subscription item.", param="items")
        new_price = s.get("price", str(change.get("price")))
        old_amount = _item_amount(item)
        start, end = int(item["current_period_start"]), int(item["current_period_end"])
        item["price"] = copy.deepcopy(new_price)
        if "quantity" in change:
            item["quantity"] = int(change["quantity"])
        if behavior != "create_prorations" or end <= now:
            continue
        fraction = (end - now) / max(end - start, 1)
        for amount, description in (
            (-round(old_amount * fraction), "Unused time on previous plan"),
            (round(_item_amount(item) * fraction), "Remaining time on new plan"),
        ):
            ii = {
                "id": s.new_id("ii"), "object": "invoiceitem", "amount": amount,
                "currency": sub["currency"], "customer": sub["customer"], "date": now,
                "description": description, "discountable": False, "discounts": [],
                "invoice": None, "livemode": False, "metadata": {},
                "period": {"start": now, "end": end}, "proration": True, "quantity": 1,
                "tax_rates": [], "test_clock": None,
                "parent": {"type": "subscription_details",
                           "subscription_details": {"subscription": sub["id"]}},
                "_subscription_item": item["id"],
            }  # fmt: skip
            s.table("invoiceitem")[ii["id"]] = ii
    if previous:
        s.emit("customer.subscription.updated", sub, previous)
    return sub


def preview_invoice(lab: StripeLab, params: dict[str, Any]) -> Any:
    """`POST /v1/invoices/create_preview` (and `GET /v1/invoices/upcoming`): pending
    proration items plus the next period of every subscription item."""
    s = lab.s
    sub_id = str(params.get("subscription") or "")
    sub = s.get("subscription", sub_id)
    customer = str(params.get("customer") or sub["customer"])
    lines: list[dict[str, Any]] = []
    for ii in s.table("invoiceitem").values():
        if ii["invoice"] is None and ii["parent"]["subscription_details"]["subscription"] == sub_id:
            lines.append(
                line_item(lab.s, ii["amount"], ii["currency"], ii["description"], ii["period"],
                      sub_id, ii["_subscription_item"], True)
            )  # fmt: skip
    for item in sub["items"]["data"]:
        recurring = item["price"]["recurring"]
        start = int(item["current_period_end"])
        length = start - int(item["current_period_start"])
        lines.append(
            line_item(lab.s, _item_amount(item), sub["currency"],
                  f"{item.get('quantity', 1)} × {item['price'].get('nickname') or 'plan'} "
                  f"(per {recurring['interval']})",
                  {"start": start, "end": start + length}, sub_id, item["id"], False)
        )  # fmt: skip
    total = sum(line["amount"] for line in lines)
    first = sub["items"]["data"][0]
    return {
        "id": f"upcoming_in_{sub_id}", "object": "invoice", "account_country": "US",
        "amount_due": max(total, 0), "amount_paid": 0, "amount_remaining": max(total, 0),
        "attempt_count": 0, "attempted": False, "billing_reason": "upcoming",
        "collection_method": sub["collection_method"], "created": s.now(),
        "currency": sub["currency"], "customer": customer, "livemode": False,
        "lines": {"object": "list", "data": lines, "has_more": False,
                  "url": "/v1/invoices/upcoming/lines"},
        "next_payment_attempt": int(first["current_period_end"]),
        "parent": {"type": "subscription_details", "quote_details": None,
                   "subscription_details": {"metadata": sub["metadata"],
                                            "subscription": sub_id}},
        "period_start": int(first["current_period_start"]),
        "period_end": int(first["current_period_end"]), "status": "draft",
        "subtotal": total, "total": total, "discounts": [],
    }  # fmt: skip


def portal_session(lab: StripeLab, request: Request, params: dict[str, Any]) -> Any:
    s = lab.s
    customer = str(params.get("customer") or "")
    s.get("customer", customer)
    sid = s.new_id("bps")
    base = str(request.base_url).rstrip("/")
    obj = {
        "id": sid, "object": "billing_portal.session", "configuration": "bpc_lab_default",
        "created": s.now(), "customer": customer, "customer_account": None, "flow": None,
        "livemode": False, "locale": params.get("locale"), "on_behalf_of": None,
        "return_url": params.get("return_url"), "url": f"{base}/p/session/{sid}",
    }  # fmt: skip
    s.table("billing_portal.session")[sid] = obj
    return obj


def portal_routes(lab: StripeLab, api: Api) -> list[BaseRoute]:
    s = lab.s

    def update(r: Request, params: dict[str, Any]) -> Any:
        return update_subscription(lab, s.get("subscription", str(r.path_params["id"])), params)

    def page(request: Request) -> Response:
        try:
            session = s.get("billing_portal.session", str(request.path_params["id"]))
        except StripeFailure:
            return HTMLResponse("<h1>Sesión no encontrada</h1>", 404)
        with s.lock:
            return billing_portal_page(lab, session)

    return [
        Route("/v1/subscriptions/{id}", api("subscriptions.update", update), methods=["POST"]),
        Route(
            "/v1/invoices/create_preview",
            api("invoices.create_preview", lambda r, p: preview_invoice(lab, p)),
            methods=["POST"],
        ),
        Route(
            "/v1/invoices/upcoming",
            api("invoices.upcoming", lambda r, p: preview_invoice(lab, p)),
            methods=["GET"],
        ),
        Route(
            "/v1/billing_portal/sessions",
            api("billing_portal.sessions.create", lambda r, p: portal_session(lab, r, p)),
            methods=["POST"],
        ),
        Route("/p/session/{id}", page, methods=["GET"]),
    ]
