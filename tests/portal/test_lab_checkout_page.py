"""The lab Stripe's hosted pages (Checkout and Customer Portal) and the public price list that
/registro reads: a browser in `serve --lab` pays on loopback as on Stripe, and a visitor
sees the plans on sale without logging in."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import urlsplit

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from tests.billing.stripe_events import WEBHOOK_SECRET
from tests.portal.portal_helpers import lab_price

from erp_core.lab import LabServer, StripeLabHandle, start_stripe_lab
from erp_core.lab.stripe import sign_payload


def _receiver(seen: list[dict[str, Any]]) -> Starlette:
    """A webhook endpoint on loopback that keeps what it receives (body and signature)."""

    async def hook(request: Request) -> Response:
        body = (await request.body()).decode()
        seen.append(
            {"body": json.loads(body), "raw": body, "sig": request.headers["stripe-signature"]}
        )
        return Response(status_code=200)

    return Starlette(routes=[Route("/hook", hook, methods=["POST"])])


async def _session(lab: StripeLabHandle, price: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=lab.api_base) as api:
        response = await api.post(
            "/v1/checkout/sessions",
            data={
                "mode": "subscription",
                "line_items[0][price]": price,
                "line_items[0][quantity]": "1",
                "customer_email": "pago@acme.example",
                "metadata[company]": "Acme",
                "success_url": "http://127.0.0.1:9/portal?checkout=7",
                "cancel_url": "http://127.0.0.1:9/portal?checkout=7&cancelado=1",
            },
            headers={"Authorization": f"Bearer {lab.api_key}"},
        )
        assert response.status_code == 200, response.text
        return dict(response.json())


async def test_checkout_page_pays_like_stripe_and_sends_signed_webhooks() -> None:
    seen: list[dict[str, Any]] = []
    with LabServer(_receiver(seen)) as receiver:
        lab = start_stripe_lab(webhook_secret=WEBHOOK_SECRET, webhook_url=f"{receiver.url}/hook")
        try:
            price = await lab_price(lab, 2900, "Plan basic")
            session = await _session(lab, price)
            url = urlsplit(session["url"])
            assert url.hostname == "127.0.0.1" and url.path == f"/c/pay/{session['id']}"

            async with httpx.AsyncClient() as browser:
                page = await browser.get(session["url"])
                assert page.status_code == 200
                assert "29,00 USD" in page.text and "Plan basic" in page.text
                assert "Pagar" in page.text and "pago@acme.example" in page.text
                assert "cancelado=1" in page.text  # "Cancelar" goes back to cancel_url

                paid = await browser.post(session["url"])
                assert paid.status_code == 303
                assert paid.headers["location"] == "http://127.0.0.1:9/portal?checkout=7"
                again = await browser.get(session["url"])
                assert "Pago completado" in again.text

            with lab.state.lock:
                done = lab.state.get("checkout.session", session["id"])
                customer = lab.state.get("customer", done["customer"])
                invoice = lab.state.get("invoice", done["invoice"])
                subscription = lab.state.get("subscription", done["subscription"])
            assert done["status"] == "complete" and done["payment_status"] == "paid"
            assert customer["invoice_settings"]["default_payment_method"] == "pm_card_visa"
            assert invoice["status"] == "paid" and invoice["amount_paid"] == 2900
            assert subscription["status"] == "active"

            for _ in range(100):  # the emulator delivers from its own loop
                if any(d["body"]["type"] == "checkout.session.completed" for d in seen):
                    break
                await asyncio.sleep(0.05)
            types = [d["body"]["type"] for d in seen]
            assert "checkout.session.completed" in types and "invoice.paid" in types
            # Paid with a card on file: the first charge never fails first.
            assert "invoice.payment_failed" not in types
            for delivery in seen:
                stamp = int(delivery["sig"].split(",")[0].removeprefix("t="))
                assert delivery["sig"] == sign_payload(delivery["raw"], WEBHOOK_SECRET, stamp)
        finally:
            lab.stop()


async def test_billing_portal_page_lists_subscription_invoices_and_returns() -> None:
    lab = start_stripe_lab()
    try:
        price = await lab_price(lab, 7900, "Plan pro")
        session = await _session(lab, price)
        async with httpx.AsyncClient() as browser:
            assert (await browser.post(session["url"])).status_code == 303
        with lab.state.lock:
            customer_id = lab.state.get("checkout.session", session["id"])["customer"]
        async with httpx.AsyncClient(base_url=lab.api_base) as api:
            portal = await api.post(
                "/v1/billing_portal/sessions",
                data={"customer": customer_id, "return_url": "http://127.0.0.1:9/portal"},
                headers={"Authorization": f"Bearer {lab.api_key}"},
            )
        assert portal.status_code == 200
        async with httpx.AsyncClient() as browser:
            page = await browser.get(portal.json()["url"])
        assert page.status_code == 200
        assert "Plan pro" in page.text and "79,00 USD" in page.text and "Activa" in page.text
        assert "Pagada" in page.text and "Visa •••• 4242" in page.text
        assert "href='http://127.0.0.1:9/portal'" in page.text and "Volver" in page.text
    finally:
        lab.stop()


async def test_unknown_checkout_page_is_404() -> None:
    lab = start_stripe_lab()
    try:
        async with httpx.AsyncClient(base_url=lab.api_base) as browser:
            assert (await browser.get("/c/pay/cs_test_nope")).status_code == 404
            assert (await browser.post("/c/pay/cs_test_nope")).status_code == 404
    finally:
        lab.stop()


async def test_public_plans_need_no_login_and_show_only_plans_on_sale(
    client: httpx.AsyncClient, admin: dict[str, Any], stripe_lab: StripeLabHandle
) -> None:
    before = await client.get("/api/portal/plans")
    assert before.status_code == 200 and before.json()["data"] == []  # nothing priced yet

    price = await lab_price(stripe_lab, 2900, "basic")
    mapped = await client.put(
        "/api/billing/plans/basic",
        json={"stripe_price_monthly_id": price},
        headers=admin["headers"],
    )
    assert mapped.status_code == 200, mapped.text

    response = await client.get("/api/portal/plans")
    assert response.status_code == 200
    [basic] = response.json()["data"]
    assert basic["code"] == "basic" and basic["monthly_price"] == 2900
    assert basic["intervals"] == ["month"]
    assert not any(key.startswith("stripe") for key in basic)  # no Stripe ids in public
