"""HTTP surface of the Stripe emulator: ``/v1/*`` as the SDK calls it, ``/_lab/*`` to drive
test-mode transitions, and the webhook sender (see :mod:`erp_core.lab.stripe`)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from erp_core.lab.faults import FaultPlan
from erp_core.lab.stripe import StripeFailure, StripeLab, _public, parse_form, sign_payload
from erp_core.lab.stripe_checkout import checkout_routes
from erp_core.lab.stripe_invoice import invoice_routes
from erp_core.lab.stripe_portal import portal_routes

log = logging.getLogger(__name__)
Handler = Callable[[Request, dict[str, Any]], Any]


def _error(exc: StripeFailure) -> JSONResponse:
    body: dict[str, Any] = {"type": exc.type, "message": exc.message}
    if exc.code:
        body["code"] = exc.code
    if exc.param:
        body["param"] = exc.param
    return JSONResponse({"error": body}, exc.status)


def _list(rows: list[dict[str, Any]], params: dict[str, Any], url: str) -> dict[str, Any]:
    rows = sorted(rows, key=lambda r: (r.get("created", 0), r["id"]), reverse=True)
    created = params.get("created")
    if isinstance(created, dict) and "gte" in created:
        rows = [r for r in rows if r.get("created", 0) >= int(created["gte"])]
    if params.get("customer"):
        rows = [r for r in rows if r.get("customer") == params["customer"]]
    after = params.get("starting_after")
    if after:
        ids = [r["id"] for r in rows]
        rows = rows[ids.index(after) + 1 :] if after in ids else []
    limit = max(1, min(100, int(params.get("limit", 10))))
    return {"object": "list", "data": rows[:limit], "has_more": len(rows) > limit, "url": url}


class Deliverer:
    """Posts signed deliveries to the configured URL, in order, from the emulator's loop."""

    def __init__(self, lab: StripeLab, faults: FaultPlan) -> None:
        self.lab, self.faults = lab, faults
        self.task: asyncio.Task[None] | None = None
        self.wake = asyncio.Event()

    def kick(self) -> None:
        if self.task is None or self.task.done():
            self.wake = asyncio.Event()
            self.task = asyncio.create_task(self._run())
        self.wake.set()

    async def _run(self) -> None:
        async with httpx.AsyncClient(timeout=10) as client:
            while True:
                pending = [d for d in self.lab.s.deliveries if d["status"] is None]
                if not pending or not self.lab.s.webhook_url:
                    self.wake.clear()
                    await self.wake.wait()
                    continue
                for delivery in pending:
                    await self._send(client, delivery)

    async def _send(self, client: httpx.AsyncClient, delivery: dict[str, Any]) -> None:
        url = self.lab.s.webhook_url
        assert url
        for attempt in range(4):
            # Stripe signs each delivery attempt at the time it is sent, so a backlog (a
            # simulated year of events) never goes stale against the 5-minute tolerance.
            delivery["signature"] = sign_payload(
                delivery["body"], self.lab.s.webhook_secret, int(time.time())
            )
            failure = await self.faults.apply("stripe.webhook")
            status = failure.status if failure else 0
            if not failure:
                try:
                    response = await client.post(
                        url,
                        content=delivery["body"].encode(),
                        headers={
                            "Content-Type": "application/json; charset=utf-8",
                            "Stripe-Signature": delivery["signature"],
                        },
                    )
                    status = response.status_code
                except httpx.HTTPError:
                    status = 0
            if 200 <= status < 300:
                delivery["status"] = status
                return
            await asyncio.sleep(0.1 * 2**attempt)
        delivery["status"] = status or -1


def build_routes(lab: StripeLab, faults: FaultPlan) -> list[BaseRoute]:
    state = lab.s
    deliverer: list[Deliverer] = []

    def after_change() -> None:
        if state.webhook_url:
            if not deliverer:
                deliverer.append(Deliverer(lab, faults))
            deliverer[0].kick()

    def api(op: str, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            auth = request.headers.get("authorization", "")
            if auth != f"Bearer {state.api_key}":
                return _error(
                    StripeFailure(401, "Invalid API Key provided.", type_="invalid_request_error")
                )
            failure = await faults.apply(f"stripe.{op}")
            if failure:
                kind = "api_error" if failure.status >= 500 else "invalid_request_error"
                return _error(
                    StripeFailure(
                        failure.status, failure.message or "Injected failure.", type_=kind
                    )
                )
            raw = (await request.body()).decode()
            pairs = parse_qsl(raw, keep_blank_values=True) + list(
                request.query_params.multi_items()
            )
            params = parse_form(pairs)
            key = request.headers.get("idempotency-key")
            fingerprint = hashlib.sha256(
                f"{request.method} {request.url.path} {raw}".encode()
            ).hexdigest()
            with state.lock:
                if key and request.method == "POST" and key in state.idempotency:
                    seen, status, body = state.idempotency[key]
                    if seen != fingerprint:
                        return _error(
                            StripeFailure(
                                400,
                                "Keys for idempotent requests can only be used with the same parameters they were first used with.",
                                type_="idempotency_error",
                            )
                        )
                    return JSONResponse(body, status, headers={"Idempotent-Replayed": "true"})
                try:
                    result = handler(request, params)
                    status, body = 200, json.loads(json.dumps(_public(result)))
                except StripeFailure as exc:
                    return _error(exc)
                if key and request.method == "POST":
                    state.idempotency[key] = (fingerprint, status, body)
            after_change()
            return JSONResponse(body, status)

        return endpoint

    p = request_path

    def create_customer(r: Request, params: dict[str, Any]) -> Any:
        return lab.customer(params)

    def create_price(r: Request, params: dict[str, Any]) -> Any:
        return lab.price(params)

    def create_subscription(r: Request, params: dict[str, Any]) -> Any:
        items = params.get("items") or []
        if not params.get("customer") or not items:
            raise StripeFailure(400, "Missing required param: customer/items.", param="items")
        return lab.subscription(str(params["customer"]), list(items), params)

    def cancel_subscription(r: Request, params: dict[str, Any]) -> Any:
        return lab.cancel_subscription(state.get("subscription", p(r, "id")))

    def update_subscription(r: Request, params: dict[str, Any]) -> Any:
        return lab.update_subscription(state.get("subscription", p(r, "id")), params)

    def update_customer(r: Request, params: dict[str, Any]) -> Any:
        return lab.update_customer(state.get("customer", p(r, "id")), params)

    def create_clock(r: Request, params: dict[str, Any]) -> Any:
        return lab.create_clock(params)

    def advance_clock(r: Request, params: dict[str, Any]) -> Any:
        return lab.advance_clock(state.get("test_helpers.test_clock", p(r, "id")), params)

    def create_session(r: Request, params: dict[str, Any]) -> Any:
        items = params.get("line_items") or []
        for item in items:
            state.get("price", str(item.get("price")))
        sid = state.new_id("cs_test")
        obj = {
            "id": sid, "object": "checkout.session", "cancel_url": params.get("cancel_url"),
            "created": state.now(), "currency": None, "customer": None,
            "customer_details": {"email": None, "name": None, "phone": None, "address": None,
                                 "tax_exempt": "none", "tax_ids": None},
            "customer_email": params.get("customer_email"), "expires_at": state.now() + 86_400,
            "invoice": None, "livemode": False, "metadata": params.get("metadata") or {},
            "mode": params.get("mode", "payment"), "payment_status": "unpaid",
            "status": "open", "subscription": None, "success_url": params.get("success_url"),
            # Served by this emulator (lab/stripe_checkout.py), so a browser can pay on it.
            "url": f"{str(r.base_url).rstrip('/')}/c/pay/{sid}",
            "_line_items": items, "_subscription_data": params.get("subscription_data") or {},
        }  # fmt: skip
        state.table("checkout.session")[sid] = obj
        return obj

    def expire_session(r: Request, params: dict[str, Any]) -> Any:
        """``POST /v1/checkout/sessions/{id}/expire``: only an open session can be expired."""
        obj = state.get("checkout.session", p(r, "id"))
        if obj["status"] != "open":
            raise StripeFailure(
                400,
                f'Only Checkout Sessions with a status in ["open"] can be expired. '
                f'This Checkout Session has a status of "{obj["status"]}".',
            )
        obj["status"] = "expired"
        obj["url"] = None
        state.emit("checkout.session.expired", _public(obj))
        return obj

    def create_coupon(r: Request, params: dict[str, Any]) -> Any:
        cid = str(params.get("id") or state.new_id("co")[3:11].upper())
        pct = params.get("percent_off")
        obj = {
            "id": cid, "object": "coupon", "amount_off": int(params["amount_off"])
            if params.get("amount_off") else None, "created": state.now(),
            "currency": params.get("currency"), "duration": params.get("duration", "once"),
            "duration_in_months": int(params["duration_in_months"])
            if params.get("duration_in_months") else None,
            "livemode": False, "max_redemptions": None, "metadata": {}, "name": params.get("name"),
            "percent_off": float(pct) if pct else None, "redeem_by": None, "times_redeemed": 0,
            "valid": True,
        }  # fmt: skip
        state.table("coupon")[cid] = obj
        return obj

    def getter(kind: str) -> Handler:
        return lambda r, params: state.get(kind, p(r, "id"))

    def lister(kind: str, url: str) -> Handler:
        return lambda r, params: _list(list(state.table(kind).values()), params, url)

    # Customer portal (issue 16): before `/v1/invoices/{id}` so `upcoming` is not an id.
    routes: list[BaseRoute] = portal_routes(lab, api)
    routes += [
        Route("/v1/customers", api("customers.create", create_customer), methods=["POST"]),
        Route("/v1/customers/{id}", api("customers.retrieve", getter("customer")), methods=["GET"]),
        Route("/v1/customers/{id}", api("customers.update", update_customer), methods=["POST"]),
        Route(
            "/v1/test_helpers/test_clocks",
            api("test_clocks.create", create_clock),
            methods=["POST"],
        ),
        Route(
            "/v1/test_helpers/test_clocks",
            api(
                "test_clocks.list",
                lister("test_helpers.test_clock", "/v1/test_helpers/test_clocks"),
            ),
            methods=["GET"],
        ),
        Route(
            "/v1/test_helpers/test_clocks/{id}",
            api("test_clocks.retrieve", getter("test_helpers.test_clock")),
            methods=["GET"],
        ),
        Route(
            "/v1/test_helpers/test_clocks/{id}/advance",
            api("test_clocks.advance", advance_clock),
            methods=["POST"],
        ),
        Route("/v1/prices", api("prices.create", create_price), methods=["POST"]),
        Route("/v1/prices/{id}", api("prices.retrieve", getter("price")), methods=["GET"]),
        Route(
            "/v1/subscriptions", api("subscriptions.create", create_subscription), methods=["POST"]
        ),
        Route(
            "/v1/subscriptions/{id}",
            api("subscriptions.retrieve", getter("subscription")),
            methods=["GET"],
        ),
        Route(
            "/v1/subscriptions/{id}",
            api("subscriptions.update", update_subscription),
            methods=["POST"],
        ),
        Route(
            "/v1/subscriptions/{id}",
            api("subscriptions.cancel", cancel_subscription),
            methods=["DELETE"],
        ),
        Route(
            "/v1/checkout/sessions",
            api("checkout.sessions.create", create_session),
            methods=["POST"],
        ),
        Route(
            "/v1/checkout/sessions/{id}",
            api("checkout.sessions.retrieve", getter("checkout.session")),
            methods=["GET"],
        ),
        Route(
            "/v1/checkout/sessions/{id}/expire",
            api("checkout.sessions.expire", expire_session),
            methods=["POST"],
        ),
        Route(
            "/v1/invoices", api("invoices.list", lister("invoice", "/v1/invoices")), methods=["GET"]
        ),
        Route("/v1/invoices/{id}", api("invoices.retrieve", getter("invoice")), methods=["GET"]),
        Route("/v1/coupons", api("coupons.create", create_coupon), methods=["POST"]),
        Route("/v1/coupons/{id}", api("coupons.retrieve", getter("coupon")), methods=["GET"]),
    ]

    def list_subscriptions(r: Request, params: dict[str, Any]) -> Any:
        # Stripe's default hides canceled subscriptions; ``status=all`` shows every one.
        rows = list(state.table("subscription").values())
        wanted = str(params.get("status") or "")
        if wanted and wanted != "all":
            rows = [row for row in rows if row.get("status") == wanted]
        elif not wanted:
            rows = [row for row in rows if row.get("status") != "canceled"]
        return _list(rows, params, "/v1/subscriptions")

    routes.insert(
        0,
        Route(
            "/v1/subscriptions",
            api("subscriptions.list", list_subscriptions),
            methods=["GET"],
        ),
    )
    routes += _control_routes(lab, after_change)
    routes += checkout_routes(lab, after_change)  # the Checkout page a browser pays on
    routes += invoice_routes(lab, after_change)  # the hosted invoice page (pay an open one)
    return routes


def request_path(request: Request, name: str) -> str:
    return str(request.path_params[name])


def _control_routes(lab: StripeLab, after_change: Callable[[], None]) -> list[BaseRoute]:
    """``/_lab/*``: what a tester does in Stripe's dashboard in test mode."""
    state = lab.s

    def control(
        action: Callable[[Request, dict[str, Any]], Any],
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            raw = await request.body()
            body = json.loads(raw) if raw else {}
            with state.lock:
                try:
                    result = action(request, body if isinstance(body, dict) else {})
                except StripeFailure as exc:
                    return _error(exc)
                except (KeyError, TypeError, ValueError) as exc:
                    return JSONResponse({"error": {"message": f"bad request: {exc}"}}, 400)
                payload = json.loads(
                    json.dumps(_public(result) if isinstance(result, dict) else result)
                )
            after_change()
            return JSONResponse(payload)

        return endpoint

    def webhook(r: Request, body: dict[str, Any]) -> Any:
        state.webhook_url = body.get("url") or None
        return {"webhook_url": state.webhook_url}

    def complete(r: Request, body: dict[str, Any]) -> Any:
        return lab.complete_checkout(state.get("checkout.session", request_path(r, "id")))

    def pay(r: Request, body: dict[str, Any]) -> Any:
        lab.pay_invoice(state.get("invoice", request_path(r, "id")))
        return state.get("invoice", request_path(r, "id"))

    def fail(r: Request, body: dict[str, Any]) -> Any:
        invoice = state.get("invoice", request_path(r, "id"))
        lab.fail_invoice(invoice)
        return invoice

    def status(r: Request, body: dict[str, Any]) -> Any:
        sub = state.get("subscription", request_path(r, "id"))
        lab.set_status(sub, str(body["status"]))
        return sub

    def advance(r: Request, body: dict[str, Any]) -> Any:
        return lab.advance(state.get("subscription", request_path(r, "id")))

    def discount(r: Request, body: dict[str, Any]) -> Any:
        return lab.discount(state.get("subscription", request_path(r, "id")), str(body["coupon"]))

    def refund(r: Request, body: dict[str, Any]) -> Any:
        charge = state.get("charge", request_path(r, "id"))
        amount = int(body.get("amount") or charge["amount"] - charge["amount_refunded"])
        if amount <= 0 or charge["amount_refunded"] + amount > charge["amount"]:
            raise StripeFailure(400, "Refund amount is invalid.", param="amount")
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        state.emit("charge.refunded", charge)
        return charge

    def clock(r: Request, body: dict[str, Any]) -> Any:
        state.clock_offset += int(body.get("seconds", 0))
        return {"now": state.now()}

    def events(r: Request, body: dict[str, Any]) -> Any:
        return {"events": state.events, "deliveries": state.deliveries}

    return [
        Route("/_lab/webhook", control(webhook), methods=["POST"]),
        Route("/_lab/checkout/{id}/complete", control(complete), methods=["POST"]),
        Route("/_lab/invoices/{id}/pay", control(pay), methods=["POST"]),
        Route("/_lab/invoices/{id}/fail", control(fail), methods=["POST"]),
        Route("/_lab/subscriptions/{id}/status", control(status), methods=["POST"]),
        Route("/_lab/subscriptions/{id}/advance", control(advance), methods=["POST"]),
        Route("/_lab/subscriptions/{id}/discount", control(discount), methods=["POST"]),
        Route("/_lab/charges/{id}/refund", control(refund), methods=["POST"]),
        Route("/_lab/clock", control(clock), methods=["POST"]),
        Route("/_lab/events", control(events), methods=["GET"]),
    ]
