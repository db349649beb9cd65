"""Stripe subscriptions vs tenants, and the usage reader (lab Odoo answering the same object
calls as Odoo 19), limits flagged (issue 18)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import update

from erp_core.config import Settings
from erp_core.context import AppContext
from erp_core.drivers.stripe import StripeGateway
from erp_core.lab import LabStack, StripeLabHandle
from erp_core.models import Plan, Tenant
from erp_core.reconciliation.usage import sample_usage


@pytest.fixture
def settings(settings: Settings, stripe_lab: StripeLabHandle) -> Settings:
    """Stripe configured from the start (plans carry no Stripe price, so provisioning's
    Stripe step skips and the subscription is made behind the control plane's back)."""
    stripe_lab.state.reset()
    settings.stripe_secret_key = stripe_lab.api_key
    settings.stripe_api_base = stripe_lab.api_base
    return settings


async def _open(client: httpx.AsyncClient, h: dict[str, str], **params: Any) -> dict[str, Any]:
    resp = await client.get("/api/reconciliation/findings", params=params, headers=h)
    assert resp.status_code == 200, resp.text
    return {f["kind"]: f for f in resp.json()["data"]}


async def _plan(ctx: AppContext, **values: Any) -> None:
    async with ctx.db.sessionmaker() as session:
        session.add(Plan(code="basic", name="Básico", monthly_price=2900, **values))
        await session.commit()


async def test_subscription_kept_after_delete_is_found_cancelled_and_resolved(
    client: httpx.AsyncClient,
    operator: dict[str, Any],
    lab_ctx: AppContext,
    stripe_lab: StripeLabHandle,
    worker: None,
    wait: Any,
    body: Any,
    finish: Any,
    audit: Any,
) -> None:
    h = operator["headers"]
    await _plan(lab_ctx)
    created = (await client.post("/api/tenants", json=body("gamma"), headers=h)).json()["data"]
    assert (await wait(client, h, created["id"], "active", "failed"))["status"] == "active"

    sources = await audit(client, h)
    assert sources["stripe"]["status"] == "ok"
    found = await _open(client, h, source="stripe")
    assert set(found) == {"missing_subscription"}
    assert found["missing_subscription"]["tenant_id"] == created["id"]

    # the subscription is created in Stripe (the control plane's row is not needed)
    gateway = StripeGateway(stripe_lab.api_key, api_base=stripe_lab.api_base)
    try:
        customer = await gateway.create_customer(
            email="a@b.example.com", name="Gamma", metadata={}, idempotency_key="c-gamma"
        )
        price = await gateway.create_price(
            product_name="Básico",
            unit_amount=2900,
            currency="usd",
            interval="month",
            idempotency_key="p-basic",
        )
        sub = await gateway.create_subscription(
            customer_id=str(customer["id"]),
            price_id=price.id,
            metadata={"tenant_id": str(created["id"])},
            days_until_due=7,
            idempotency_key="s-gamma",
        )
    finally:
        await gateway.aclose()
    await audit(client, h)
    assert await _open(client, h, source="stripe") == {}

    # deleted through the control plane, but Stripe keeps charging
    deleted = await client.delete(f"/api/tenants/{created['id']}", headers=h)
    assert deleted.status_code == 202, deleted.text
    assert (await wait(client, h, created["id"], "deleted", "failed"))["status"] == "deleted"
    run = await audit(client, h)
    found = await _open(client, h, source="stripe")
    assert set(found) == {"charging_inactive_tenant"}, run
    finding = found["charging_inactive_tenant"]
    assert finding["detail"]["subscription_id"] == sub["id"] and finding["fixable"]

    resp = await client.post(f"/api/reconciliation/findings/{finding['id']}/fix", headers=h)
    assert resp.status_code == 202, resp.text
    job = await finish(client, h, resp.json()["data"]["job_id"])
    assert job["status"] == "succeeded", job.get("error")
    assert stripe_lab.state.get("subscription", str(sub["id"]))["status"] == "canceled"
    assert await _open(client, h, source="stripe") == {}
    await audit(client, h)
    assert await _open(client, h, source="stripe") == {}
    again = await client.post(f"/api/reconciliation/findings/{finding['id']}/fix", headers=h)
    assert again.status_code == 409 and again.json()["error"] == "ALREADY_RESOLVED"


async def test_usage_read_from_odoo_object_api_and_limits_flagged(
    client: httpx.AsyncClient,
    admin: dict[str, Any],
    viewer: dict[str, Any],
    lab_ctx: AppContext,
    lab_stack: LabStack,
    worker: None,
    wait: Any,
    body: Any,
) -> None:
    h = admin["headers"]
    await _plan(lab_ctx, max_users=1, max_storage_mb=1)
    created = (await client.post("/api/tenants", json=body("delta"), headers=h)).json()["data"]
    assert (await wait(client, h, created["id"], "active", "failed"))["status"] == "active"
    tenant_id = created["id"]
    db = lab_stack.odoo_state.get("delta")
    service_uid = next(u for u, (login, _h) in db.users.items() if login.startswith("erp-core-"))
    assert db.users[service_uid][0] == "erp-core-service@sajet.us"

    # read as the tenant's service user, which is not counted (it is ours, not the
    # customer's) and whose own logins are not the customer's last login
    counts = await sample_usage(lab_ctx)
    assert counts == {"tenants": 1, "read": 1, "over_limit": 0}
    usage = (await client.get(f"/api/tenants/{tenant_id}/usage", headers=h)).json()["data"]
    assert usage["latest"]["error"] is None and usage["latest"]["active_users"] == 1
    assert usage["latest"]["last_login_at"] is not None  # the admin's login at creation
    assert db.login_dates[service_uid]  # the service user did log in
    del db.login_dates[2]
    await sample_usage(lab_ctx)
    usage = (await client.get(f"/api/tenants/{tenant_id}/usage", headers=h)).json()["data"]
    assert usage["latest"]["last_login_at"] is None

    # a tenant created before the service user (none in Odoo, no credential): recorded as
    # not available, never as zero
    del db.users[service_uid]
    async with lab_ctx.db.sessionmaker() as session:
        await session.execute(
            update(Tenant)
            .where(Tenant.id == tenant_id)
            .values(service_login=None, service_password_enc=None)
        )
        await session.commit()
    counts = await sample_usage(lab_ctx)
    assert counts == {"tenants": 1, "read": 0, "over_limit": 0}
    usage = (await client.get(f"/api/tenants/{tenant_id}/usage", headers=h)).json()["data"]
    latest = usage["latest"]
    assert latest["active_users"] is None and latest["filestore_bytes"] is None
    assert "credencial" in latest["error"]

    resp = await client.put(
        f"/api/tenants/{tenant_id}/usage/access",
        json={"login": body("delta")["email"], "api_key": created["admin_password"]},
        headers=h,
    )
    assert resp.status_code == 200, resp.text
    expected_files = sum(len(b) for b in db.filestore.values())
    # one more internal user, who logged in once
    db.users[9] = ("contable", db.users[2][1])
    db.login_dates[9] = "2026-11-30 10:15:00"
    lab_stack.odoo_state.add_large_file("delta", "ab/big", 2 * 1024 * 1024)

    counts = await sample_usage(lab_ctx)
    assert counts == {"tenants": 1, "read": 1, "over_limit": 2}
    usage = (await client.get(f"/api/tenants/{tenant_id}/usage", headers=viewer["headers"])).json()[
        "data"
    ]
    latest = usage["latest"]
    assert latest["error"] is None
    assert latest["active_users"] == 2
    assert latest["filestore_bytes"] == expected_files + 2 * 1024 * 1024
    assert latest["database_bytes"] is None  # RPC mode cannot read it
    assert latest["last_login_at"].startswith("2026-11-30T10:15:00")  # the reader's own excluded
    assert usage["limits"] == {"max_users": 1, "max_storage_mb": 1}
    assert sorted(usage["over_limits"]) == ["over_storage_limit", "over_user_limit"]
    assert len(usage["series"]) == 4
    found = await _open(client, h, source="usage")
    assert set(found) == {"over_user_limit", "over_storage_limit"}
    assert not found["over_user_limit"]["fixable"]

    top = (await client.get("/api/usage/top", params={"by": "users"}, headers=h)).json()["data"]
    assert [(t["subdomain"], t["active_users"]) for t in top] == [("delta", 2)]

    # back under the limits: the flags resolve on the next reading
    del db.users[9]
    db.large_files.clear()
    counts = await sample_usage(lab_ctx)
    assert counts["over_limit"] == 0
    assert await _open(client, h, source="usage") == {}
