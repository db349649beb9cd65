"""Operators see customers (users, tenants, invoices), resend their mails, and finish a paid
sign-up whose subdomain was taken meanwhile."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from erp_core.context import AppContext
from erp_core.models import CheckoutSession, Customer, MailOutbox, Tenant, User
from erp_core.security import hash_password
from erp_core.tenants.servers import ensure_default_server


async def test_operator_sees_customers_and_continues_a_stuck_checkout(
    ctx: AppContext, client: httpx.AsyncClient, operator: dict[str, Any]
) -> None:
    await ensure_default_server(ctx)
    async with ctx.db.sessionmaker() as session:
        customer = Customer(email="stuck@acme.example", company_name="Acme")
        session.add(customer)
        await session.flush()
        session.add(
            User(
                email=customer.email,
                name="Acme",
                role="customer",
                password_hash=hash_password("no-se-usa-aqui-123"),
                customer_id=customer.id,
            )
        )
        row = CheckoutSession(
            stripe_session_id="cs_test_stuck",
            plan="basic",
            interval="month",
            subdomain="acme",
            company_name="Acme",
            email=customer.email,
            status="needs_attention",
            customer_id=customer.id,
            error="El subdominio «acme» ya está en uso.",
        )
        session.add(row)
        await session.commit()
        customer_id, checkout_id = customer.id, row.id

    h = operator["headers"]
    listed = (await client.get("/api/customers?q=stuck", headers=h)).json()
    assert listed["meta"]["total"] == 1 and listed["data"][0]["verified"] is False
    stuck = (await client.get("/api/billing/checkouts?status=needs_attention", headers=h)).json()
    assert [c["id"] for c in stuck["data"]] == [checkout_id]

    resent = await client.post(f"/api/customers/{customer_id}/resend-verification", headers=h)
    assert resent.status_code == 202
    async with ctx.db.sessionmaker() as session:
        kinds = list(await session.scalars(select(MailOutbox.kind)))
    assert kinds == ["verification"]

    bad = await client.post(
        f"/api/billing/checkouts/{checkout_id}/continue", json={"subdomain": "Ácme!"}, headers=h
    )
    assert bad.status_code == 422 and bad.json()["success"] is False
    done = await client.post(
        f"/api/billing/checkouts/{checkout_id}/continue", json={"subdomain": "acme-2"}, headers=h
    )
    assert done.status_code == 200, done.text
    data = done.json()["data"]
    assert data["checkout"]["status"] == "completed" and data["job_id"]
    async with ctx.db.sessionmaker() as session:
        tenant = await session.get(Tenant, data["tenant_id"])
    assert tenant is not None and tenant.subdomain == "acme-2"
    assert tenant.customer_id == customer_id
    twice = await client.post(
        f"/api/billing/checkouts/{checkout_id}/continue", json={"subdomain": "acme-3"}, headers=h
    )
    assert twice.status_code == 409

    detail = (await client.get(f"/api/customers/{customer_id}", headers=h)).json()["data"]
    assert [t["subdomain"] for t in detail["tenants"]] == ["acme-2"]
    assert [u["email"] for u in detail["users"]] == ["stuck@acme.example"]
    lab_only = await client.get("/api/lab/mail", headers=h)
    assert lab_only.status_code == 404 and lab_only.json()["error"] == "LAB_ONLY"
