"""A customer alone: sign up → verification mail (real SMTP on loopback, sent by the queue
worker) → verify → Stripe Checkout (lab) → signed webhooks → tenant provisioned by a real
worker → "Tu Odoo está listo" once → invoices, billing portal, plan change with proration,
cancellation at period end."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from tests.portal.portal_helpers import forward_webhooks, lab_price, link_token

from control_plane_lab import (  # noqa: F401  (fixtures; `settings` layers on the portal's)
    lab_ctx,
    lab_stack,
    settings,
    suspended_page_server,
    worker,
)
from erp_core.context import AppContext
from erp_core.lab import StripeLabHandle
from erp_core.lab.mail_sink import MailSinkServer
from erp_core.tenants.servers import ensure_default_server

PASSWORD = "Una-clave-de-prueba-9"


async def _until(check: Any, timeout: float = 40) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await check()
        if value:
            return value
        await asyncio.sleep(0.2)
    raise AssertionError("timeout")


def _mails(smtp: MailSinkServer, to: str, subject: str) -> list[dict[str, Any]]:
    return [m for m in smtp.sink.messages(to) if m["subject"] == subject]


async def test_customer_signs_up_pays_and_manages_the_instance(
    client: httpx.AsyncClient,
    lab_ctx: AppContext,
    worker: None,
    admin: dict[str, Any],
    stripe_lab: StripeLabHandle,
    smtp_server: MailSinkServer,
) -> None:
    await ensure_default_server(lab_ctx)
    for code, amount in (("basic", 2900), ("pro", 9900)):
        price = await lab_price(stripe_lab, amount, code)
        mapped = await client.put(
            f"/api/billing/plans/{code}",
            json={"stripe_price_monthly_id": price},
            headers=admin["headers"],
        )
        assert mapped.status_code == 200, mapped.text

    free = await client.get("/api/portal/subdomains/acme/availability")
    assert free.json()["data"] == {"subdomain": "acme", "available": True, "reason": None}
    email = "duena@acme.example"
    signup = {
        "company_name": "Ácme Industrial",
        "email": email,
        "password": PASSWORD,
        "subdomain": "acme",
        "plan": "basic",
    }
    answer = await client.post("/api/portal/signup", json=signup)
    assert answer.status_code == 202, answer.text

    login = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200
    early = {"Authorization": f"Bearer {login.json()['data']['access_token']}"}
    refused = await client.post("/api/portal/checkout", json={}, headers=early)
    assert refused.status_code == 403 and refused.json()["error"] == "EMAIL_NOT_VERIFIED"

    verification = await _until(
        lambda: asyncio.sleep(0, _mails(smtp_server, email, "Confirme su correo electrónico"))
    )
    assert PASSWORD not in verification[0]["text"] and PASSWORD not in (
        verification[0]["html"] or ""
    )
    verified = await client.post("/api/portal/verify", json={"token": link_token(verification[0])})
    assert verified.status_code == 200, verified.text
    # Signed in like a login: the browser keeps the refresh token in the session cookie,
    # so /portal still knows the customer after the round trip through Stripe Checkout.
    assert verified.cookies.get("jc_refresh") == verified.json()["data"]["tokens"]["refresh_token"]
    data = verified.json()["data"]
    assert data["checkout"]["subdomain"] == "acme" and data["checkout"]["url"]
    headers = {"Authorization": f"Bearer {data['tokens']['access_token']}"}
    again = await client.post("/api/portal/verify", json={"token": link_token(verification[0])})
    assert again.status_code == 400 and again.json()["error"] == "INVALID_LINK"

    session_id = data["checkout"]["url"].rsplit("/", 1)[-1]
    start = len(stripe_lab.state.deliveries)
    async with httpx.AsyncClient(base_url=stripe_lab.api_base) as lab:
        assert (await lab.post(f"/_lab/checkout/{session_id}/complete")).status_code == 200
    seen = await forward_webhooks(client, stripe_lab, start)

    async def tenant_listed() -> Any:
        rows = (await client.get("/api/portal/tenants", headers=headers)).json()["data"]
        return rows if rows and rows[0]["status"] in ("active", "failed") else None

    [tenant] = await _until(tenant_listed, 60)
    assert tenant["status"] == "active" and tenant["status_label"] == "Activo"
    assert tenant["url"] == "https://acme.sajet.us" and tenant["plan"] == "basic"
    assert tenant["next_invoice"]["amount_due"] == 2900

    ready = (
        await client.post(f"/api/portal/tenants/{tenant['id']}/credentials", headers=headers)
    ).json()["data"]
    assert ready["admin_login"] == email and ready["admin_password"]
    twice = (
        await client.post(f"/api/portal/tenants/{tenant['id']}/credentials", headers=headers)
    ).json()["data"]
    assert twice["admin_password"] is None

    welcome = await _until(
        lambda: asyncio.sleep(0, _mails(smtp_server, email, "Tu Odoo está listo"))
    )
    assert len(welcome) == 1 and "https://acme.sajet.us" in welcome[0]["text"]
    assert ready["admin_password"] not in welcome[0]["text"]

    async def paid_invoices() -> Any:
        # Webhooks are stored at once and processed by the worker: wait for the paid state.
        rows = (await client.get("/api/portal/invoices", headers=headers)).json()["data"]
        return rows if [i["status"] for i in rows] == ["paid"] else None

    invoices = await _until(paid_invoices)
    assert invoices[0]["hosted_invoice_url"]

    portal = await client.post("/api/portal/billing-portal", json={}, headers=headers)
    assert portal.status_code == 200, portal.text
    async with httpx.AsyncClient() as browser:
        page = await browser.get(portal.json()["data"]["url"])
    assert page.status_code == 200 and email in page.text

    changed = await client.post(
        f"/api/portal/tenants/{tenant['id']}/plan", json={"plan": "pro"}, headers=headers
    )
    assert changed.status_code == 200, changed.text
    change = changed.json()["data"]
    assert change["kind"] == "proration" and change["downtime_minutes"] == 0
    # Upgrading mid-period: credit for unused basic time, charge for the rest on pro.
    assert 0 < change["proration_amount"] <= 9900 - 2900
    await forward_webhooks(client, stripe_lab, seen)
    detail = (await client.get(f"/api/portal/tenants/{tenant['id']}", headers=headers)).json()
    assert detail["data"]["plan"] == "pro"

    cancelled = await client.post(f"/api/portal/tenants/{tenant['id']}/cancel", headers=headers)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["data"]["cancel_at_period_end"] is True
    sub_id = next(iter(stripe_lab.state.table("subscription")))
    assert stripe_lab.state.table("subscription")[sub_id]["cancel_at_period_end"] is True
    listed = (await client.get("/api/portal/tenants", headers=headers)).json()["data"]
    assert listed[0]["cancel_at_period_end"] is True and listed[0]["next_invoice"] is None
    await _until(lambda: asyncio.sleep(0, _mails(smtp_server, email, "Cancelación programada")))
    await _until(lambda: asyncio.sleep(0, _mails(smtp_server, email, "Su plan ha cambiado")))
    for subject in ("Confirme su correo electrónico", "Tu Odoo está listo"):
        assert len(_mails(smtp_server, email, subject)) == 1, subject
