"""Self-service checkout → signed webhooks from the Stripe lab → tenant provisioned on the
Odoo/Cloudflare lab by a real worker; and the Stripe step of the create operation."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from control_plane_lab import (  # noqa: F401  (fixtures; `settings` layers on billing's)
    lab_ctx,
    lab_stack,
    settings,
    suspended_page_server,
    worker,
)
from erp_core.billing.provisioning_step import ensure_stripe_subscription
from erp_core.context import AppContext
from erp_core.lab import StripeLabHandle
from erp_core.models import Subscription
from erp_core.runner.engine import StepRun, StepSkipped
from erp_core.tenants.servers import ensure_default_server


async def _price(stripe_lab: StripeLabHandle, amount: int, interval: str = "month") -> str:
    async with httpx.AsyncClient(base_url=stripe_lab.api_base) as lab:
        response = await lab.post(
            "/v1/prices",
            data={
                "currency": "usd",
                "unit_amount": str(amount),
                "recurring[interval]": interval,
                "product_data[name]": "Plan Básico",
            },
            headers={"Authorization": f"Bearer {stripe_lab.api_key}"},
        )
        assert response.status_code == 200
        return str(response.json()["id"])


async def _forward(client: httpx.AsyncClient, stripe_lab: StripeLabHandle, start: int) -> None:
    """Deliver the lab's signed webhooks to the control plane, as Stripe would."""
    for delivery in stripe_lab.state.deliveries[start:]:
        response = await client.post(
            "/api/webhooks/stripe",
            content=delivery["body"].encode(),
            headers={"Stripe-Signature": delivery["signature"], "Content-Type": "application/json"},
        )
        assert response.status_code == 200, response.text


async def _wait(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], check: Any, timeout: float = 40
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    data: Any = None
    while time.monotonic() < deadline:
        response = await client.get(url, headers=headers)
        if response.status_code == 200:
            data = response.json()["data"]
            if check(data):
                return dict(data) if isinstance(data, dict) else {"items": data}
        await asyncio.sleep(0.2)
    raise AssertionError(f"timeout waiting on {url}: {data}")


async def _wait_events_applied(
    client: httpx.AsyncClient, headers: dict[str, str], forwarded: int, timeout: float = 40
) -> None:
    """Wait until the forwarded events are all stored and applied (none pending or failed)."""
    deadline = time.monotonic() + timeout
    seen: Any = None
    while time.monotonic() < deadline:
        page = (await client.get("/api/billing/events?per_page=100", headers=headers)).json()
        seen = [(e["event_type"], e["processed"], e["error"]) for e in page["data"]]
        if page["meta"]["total"] >= forwarded and all(e["processed"] for e in page["data"]):
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"forwarded events not all applied: {seen}")


async def test_checkout_creates_and_provisions_the_tenant(
    client: httpx.AsyncClient,
    ctx: AppContext,
    worker: None,
    admin: dict[str, Any],
    stripe_lab: StripeLabHandle,
) -> None:
    price = await _price(stripe_lab, 2900)
    mapped = await client.put(
        "/api/billing/plans/basic",
        json={"stripe_price_monthly_id": price},
        headers=admin["headers"],
    )
    assert mapped.status_code == 200, mapped.text
    assert mapped.json()["data"]["monthly_price"] == 2900

    taken = {
        "company_name": "Acme",
        "email": "x@acme.example",
        "subdomain": "admin",
        "plan": "basic",
    }
    assert (await client.post("/api/public/checkout", json=taken)).status_code == 422
    body = {
        "company_name": "Ácme Industrial",
        "email": "dueno@acme.example",
        "subdomain": "acme",
        "plan": "basic",
    }
    opened = await client.post("/api/public/checkout", json=body)
    assert opened.status_code == 201, opened.text
    session_id = opened.json()["data"]["session_id"]
    again = await client.post("/api/public/checkout", json=body)
    assert again.json()["data"]["session_id"] == session_id  # idempotency key replay

    start = len(stripe_lab.state.deliveries)
    async with httpx.AsyncClient(base_url=stripe_lab.api_base) as lab:
        assert (await lab.post(f"/_lab/checkout/{session_id}/complete")).status_code == 200
    types = [d["type"] for d in stripe_lab.state.deliveries[start:]]
    assert types[-1] == "checkout.session.completed" and "invoice.paid" in types
    await _forward(client, stripe_lab, start)

    status = await _wait(client, f"/api/public/checkout/{session_id}", {}, lambda d: d["tenant_id"])
    assert status["status"] == "completed" and status["admin_password"]
    assert (await client.get(f"/api/public/checkout/{session_id}")).json()["data"][
        "admin_password"
    ] is None
    tenant_id = status["tenant_id"]
    tenant = await _wait(
        client,
        f"/api/tenants/{tenant_id}",
        admin["headers"],
        lambda d: d["status"] in ("active", "failed"),
    )
    assert tenant["status"] == "active", tenant["last_error"]
    assert tenant["subdomain"] == "acme" and tenant["plan"] == "basic"

    # "Active" only says provisioning ran; the billing mirror is complete once every forwarded
    # event has been applied (they are applied in batches, concurrently, in any order).
    await _wait_events_applied(client, admin["headers"], len(types))
    billing = (
        await client.get(f"/api/tenants/{tenant_id}/billing", headers=admin["headers"])
    ).json()["data"]
    assert billing["customer"]["email"] == "dueno@acme.example"
    assert billing["subscription"]["status"] == "active" and billing["subscription"]["mrr"] == 2900
    assert [i["status"] for i in billing["invoices"]] == ["paid"], await _event_log(ctx)
    invoices = (
        await client.get("/api/billing/invoices?status=paid", headers=admin["headers"])
    ).json()
    assert invoices["meta"]["total"] == 1


async def test_public_checkout_is_rate_limited(client: httpx.AsyncClient, ctx: AppContext) -> None:
    ctx.settings.billing_checkout_rate_limit_per_hour = 2
    body = {"company_name": "Beta", "email": "b@beta.example", "subdomain": "beta", "plan": "pro"}
    codes = [(await client.post("/api/public/checkout", json=body)).status_code for _ in range(3)]
    assert codes[:2] == [409, 409]  # the plan has no Stripe price yet
    assert codes[2] == 429


async def test_stripe_step_creates_one_subscription_billed_by_invoice(
    client: httpx.AsyncClient,
    ctx: AppContext,
    operator: dict[str, Any],
    admin: dict[str, Any],
    stripe_lab: StripeLabHandle,
) -> None:
    await ensure_default_server(ctx)
    price = await _price(stripe_lab, 9900)
    await client.put(
        "/api/billing/plans/pro", json={"stripe_price_monthly_id": price}, headers=admin["headers"]
    )
    created = await client.post(
        "/api/tenants",
        json={
            "company_name": "Gamma",
            "email": "g@gamma.example",
            "subdomain": "gamma",
            "plan": "pro",
        },
        headers=operator["headers"],
    )
    assert created.status_code == 202
    tenant_id = created.json()["data"]["id"]
    run = StepRun(ctx, 0, tenant_id, {}, {}, step="stripe")
    run.log = _quiet  # type: ignore[method-assign]
    first = await ensure_stripe_subscription(run)
    second = await ensure_stripe_subscription(run)
    assert first and first["created"] and second and not second["created"]
    subs = list(stripe_lab.state.table("subscription").values())
    assert len(subs) == 1
    assert subs[0]["collection_method"] == "send_invoice" and subs[0]["days_until_due"] == 7
    assert subs[0]["metadata"]["tenant_id"] == str(tenant_id)
    async with ctx.db.sessionmaker() as session:
        from sqlalchemy import select

        row = await session.scalar(select(Subscription).where(Subscription.tenant_id == tenant_id))
        assert row is not None and row.stripe_subscription_id == subs[0]["id"]
    ctx.settings.stripe_secret_key = None
    with pytest.raises(StepSkipped, match="Stripe no está configurado"):
        await ensure_stripe_subscription(run)


async def _event_log(ctx: AppContext) -> str:
    """The stored events in the order they were applied (the evidence when the state is off)."""
    from sqlalchemy import select

    from erp_core.models import StripeEvent

    async with ctx.db.sessionmaker() as session:
        rows = await session.scalars(
            select(StripeEvent).order_by(StripeEvent.processed_at.nulls_last(), StripeEvent.id)
        )
        return "\n".join(
            f"#{r.id} {r.event_id} {r.event_type} created={r.created:%H:%M:%S} "
            f"received={r.received_at:%H:%M:%S.%f} applied="
            f"{r.processed_at and f'{r.processed_at:%H:%M:%S.%f}'} attempts={r.attempts}"
            f" error={r.error}"
            for r in rows
        )


async def _quiet(level: str, message: str) -> None:
    return None
