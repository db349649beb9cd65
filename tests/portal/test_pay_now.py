""" "Pagar ahora": a customer who cancelled or abandoned the lab Checkout resumes payment from
the portal. A new Checkout session replaces the earlier one, which is expired at Stripe
first (the sign-up can never be paid twice); a session paid meanwhile is reported."""

from __future__ import annotations

from typing import Any

import httpx
from tests.portal.portal_helpers import forward_webhooks, link_token
from tests.portal.test_signup_and_reset import _deliver, _sellable, _signup

from erp_core.billing import webhooks
from erp_core.context import AppContext
from erp_core.lab import StripeLabHandle
from erp_core.lab.mail_sink import MailSinkServer


async def _verified(
    ctx: AppContext, client: httpx.AsyncClient, smtp: MailSinkServer, email: str, sub: str
) -> tuple[dict[str, str], dict[str, Any]]:
    """Signed up and verified: the customer's headers and the first Checkout link."""
    assert (await client.post("/api/portal/signup", json=_signup(email, sub))).status_code == 202
    await _deliver(ctx)
    [mail] = smtp.sink.messages(email)
    verified = await client.post("/api/portal/verify", json={"token": link_token(mail)})
    assert verified.status_code == 200, verified.text
    data = verified.json()["data"]
    return {"Authorization": f"Bearer {data['tokens']['access_token']}"}, data["checkout"]


async def test_pay_now_opens_a_new_checkout_and_closes_the_cancelled_one(
    ctx: AppContext,
    client: httpx.AsyncClient,
    admin: dict[str, Any],
    stripe_lab: StripeLabHandle,
    smtp_server: MailSinkServer,
) -> None:
    await _sellable(client, admin, stripe_lab)
    headers, first = await _verified(ctx, client, smtp_server, "paga@acme.example", "acme")
    async with httpx.AsyncClient() as browser:  # the customer opens Checkout and cancels
        page = await browser.get(first["url"])
        assert page.status_code == 200 and "cancelado=1" in page.text

    me = (await client.get("/api/portal/me", headers=headers)).json()["data"]
    [pending] = me["pending_checkouts"]
    assert pending["status"] == "open" and pending["checkout_id"] == first["checkout_id"]

    body = {"checkout_id": first["checkout_id"], "renew": True}
    renewed = await client.post("/api/portal/checkout", json=body, headers=headers)
    assert renewed.status_code == 200, renewed.text
    second = renewed.json()["data"]
    assert second["checkout_id"] == first["checkout_id"] and second["url"] != first["url"]
    old_id, new_id = first["url"].rsplit("/", 1)[-1], second["url"].rsplit("/", 1)[-1]
    with stripe_lab.state.lock:
        assert stripe_lab.state.get("checkout.session", old_id)["status"] == "expired"
        assert stripe_lab.state.get("checkout.session", new_id)["status"] == "open"
    async with httpx.AsyncClient() as browser:
        assert (await browser.get(first["url"])).status_code == 410  # expired: gone
        start = len(stripe_lab.state.deliveries)
        paid = await browser.post(second["url"])
        assert paid.status_code == 303
    await forward_webhooks(client, stripe_lab, start)
    await webhooks.process_pending(ctx)  # what the worker does with stored events

    tenants = (await client.get("/api/portal/tenants", headers=headers)).json()["data"]
    assert [t["subdomain"] for t in tenants] == ["acme"]
    after = (await client.get("/api/portal/me", headers=headers)).json()["data"]
    assert after["pending_checkouts"] == []
    done = await client.post("/api/portal/checkout", json=body, headers=headers)
    assert done.status_code == 404 and done.json()["error"] == "CHECKOUT_NOT_FOUND"


async def test_pay_now_after_paying_elsewhere_says_so_and_opens_nothing(
    ctx: AppContext,
    client: httpx.AsyncClient,
    admin: dict[str, Any],
    stripe_lab: StripeLabHandle,
    smtp_server: MailSinkServer,
) -> None:
    await _sellable(client, admin, stripe_lab)
    headers, first = await _verified(ctx, client, smtp_server, "doble@acme.example", "doble")
    async with httpx.AsyncClient() as browser:
        assert (await browser.post(first["url"])).status_code == 303  # paid; webhook not in yet
    sessions_before = len(stripe_lab.state.table("checkout.session"))
    again = await client.post(
        "/api/portal/checkout",
        json={"checkout_id": first["checkout_id"], "renew": True},
        headers=headers,
    )
    assert again.status_code == 409 and again.json()["error"] == "CHECKOUT_ALREADY_PAID"
    assert "ya está pagada" in again.json()["detail"]
    assert len(stripe_lab.state.table("checkout.session")) == sessions_before


async def test_pay_now_rejects_bad_input_and_other_customers_checkouts(
    ctx: AppContext,
    client: httpx.AsyncClient,
    admin: dict[str, Any],
    stripe_lab: StripeLabHandle,
    smtp_server: MailSinkServer,
) -> None:
    await _sellable(client, admin, stripe_lab)
    mine, _first = await _verified(ctx, client, smtp_server, "una@acme.example", "una")
    _theirs, other = await _verified(ctx, client, smtp_server, "otra@acme.example", "otra")
    foreign = await client.post(
        "/api/portal/checkout",
        json={"checkout_id": other["checkout_id"], "renew": True},
        headers=mine,
    )
    assert foreign.status_code == 404 and foreign.json()["error"] == "CHECKOUT_NOT_FOUND"
    bad = await client.post("/api/portal/checkout", json={"renew": "quizá"}, headers=mine)
    assert bad.status_code == 422 and bad.json()["success"] is False
    assert bad.json()["detail"]
