"""The lab Stripe's hosted invoice page (``hosted_invoice_url``): real lines and amounts, and
"Pagar" on an open invoice pays it in the emulator and sends the signed webhooks Stripe
would (``invoice.paid``), over loopback."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit

import httpx
from tests.billing.stripe_events import WEBHOOK_SECRET
from tests.portal.portal_helpers import lab_price
from tests.portal.test_lab_checkout_page import _receiver

from erp_core.lab import LabServer, StripeLabHandle, start_stripe_lab


async def _api(lab: StripeLabHandle, path: str, data: dict[str, str]) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=lab.api_base) as api:
        response = await api.post(
            path, data=data, headers={"Authorization": f"Bearer {lab.api_key}"}
        )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def _open_invoice(lab: StripeLabHandle, price: str) -> dict[str, Any]:
    """A customer without a card on a ``send_invoice`` subscription: its invoice stays open."""
    customer = await _api(lab, "/v1/customers", {"email": "factura@acme.example", "name": "Acme"})
    sub = await _api(
        lab,
        "/v1/subscriptions",
        {
            "customer": customer["id"],
            "items[0][price]": price,
            "collection_method": "send_invoice",
            "days_until_due": "7",
        },
    )
    with lab.state.lock:
        return dict(lab.state.get("invoice", sub["latest_invoice"]))


async def test_open_invoice_page_shows_lines_and_pays_with_webhooks() -> None:
    seen: list[dict[str, Any]] = []
    with LabServer(_receiver(seen)) as receiver:
        lab = start_stripe_lab(webhook_secret=WEBHOOK_SECRET, webhook_url=f"{receiver.url}/hook")
        try:
            price = await lab_price(lab, 4900, "Plan pro")
            invoice = await _open_invoice(lab, price)
            url = urlsplit(invoice["hosted_invoice_url"])
            assert f"{url.scheme}://{url.netloc}" == lab.api_base
            assert url.path == f"/i/{invoice['id']}"
            assert [line["amount"] for line in invoice["lines"]["data"]] == [4900]

            async with httpx.AsyncClient() as browser:
                page = await browser.get(invoice["hosted_invoice_url"])
                assert page.status_code == 200
                assert invoice["number"] in page.text and "Plan pro" in page.text
                assert "49,00 USD" in page.text and "Abierta" in page.text
                assert "Pagar 49,00 USD" in page.text
                paid = await browser.post(f"{invoice['hosted_invoice_url']}/pay")
                assert paid.status_code == 303 and paid.headers["location"] == url.path
                after = await browser.get(invoice["hosted_invoice_url"])
                assert "Pagada" in after.text and "invoice-pay" not in after.text
                again = await browser.post(f"{invoice['hosted_invoice_url']}/pay")
                assert again.status_code == 303  # paying twice charges once

            with lab.state.lock:
                stored = lab.state.get("invoice", invoice["id"])
                charges = [
                    c
                    for c in lab.state.table("charge").values()
                    if c["description"] == stored["id"]
                ]
            assert stored["status"] == "paid" and stored["amount_paid"] == 4900
            assert len(charges) == 1
            for _ in range(100):
                if any(d["body"]["type"] == "invoice.paid" for d in seen):
                    break
                await asyncio.sleep(0.05)
            paid_events = [d["body"] for d in seen if d["body"]["type"] == "invoice.paid"]
            assert [e["data"]["object"]["id"] for e in paid_events] == [invoice["id"]]
        finally:
            lab.stop()


async def test_next_invoice_carries_the_plan_change_prorations() -> None:
    lab = start_stripe_lab()
    try:
        basic = await lab_price(lab, 2900, "Plan basic")
        pro = await lab_price(lab, 7900, "Plan pro")
        invoice = await _open_invoice(lab, basic)
        sub_id = invoice["parent"]["subscription_details"]["subscription"]
        with lab.state.lock:
            item = lab.state.get("subscription", sub_id)["items"]["data"][0]["id"]
        await _api(
            lab,
            f"/v1/subscriptions/{sub_id}",
            {
                "items[0][id]": item,
                "items[0][price]": pro,
                "proration_behavior": "create_prorations",
            },
        )
        async with httpx.AsyncClient(base_url=lab.api_base) as api:
            advanced = await api.post(f"/_lab/subscriptions/{sub_id}/advance")
        assert advanced.status_code == 200, advanced.text
        nxt = advanced.json()
        amounts = [line["amount"] for line in nxt["lines"]["data"]]
        assert amounts[0] == 7900 and len(amounts) == 3  # new period + unused + remaining
        assert nxt["total"] == sum(amounts)
        async with httpx.AsyncClient() as browser:
            page = await browser.get(nxt["hosted_invoice_url"])
        assert page.text.count("data-testid='invoice-line'") == 3
        assert "Unused time on previous plan" in page.text
    finally:
        lab.stop()


async def test_unknown_invoice_page_is_404() -> None:
    lab = start_stripe_lab()
    try:
        async with httpx.AsyncClient(base_url=lab.api_base) as browser:
            assert (await browser.get("/i/in_nope")).status_code == 404
            assert (await browser.post("/i/in_nope/pay")).status_code == 404
    finally:
        lab.stop()
