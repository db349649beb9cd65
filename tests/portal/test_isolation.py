"""Every customer route, walked from the app's own OpenAPI document, with two customers'
ids: another customer's tenant, backup or job answers 404 (exactly like an id that does not
exist); one's own answers anything but 404. Operators are refused on customers' routes and
customers on operators' routes."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import httpx

from erp_core.context import AppContext
from erp_core.main import create_app
from erp_core.models import Backup, Customer, Invoice, Job, Tenant, User
from erp_core.security import hash_password, issue_access_token

PUBLIC = {
    "/api/portal/plans",
    "/api/portal/signup",
    "/api/portal/verify",
    "/api/portal/password-reset",
    "/api/portal/password-reset/confirm",
    "/api/portal/subdomains/{name}/availability",
}
# What each path parameter of a customer route points at; a new kind of id must be added
# here (the test fails on an unknown one), so no route escapes the walk.
ID_KINDS = {"tenant_id": "tenant", "backup_id": "backup", "job_id": "job"}
BODIES = {"/api/portal/tenants/{tenant_id}/plan": {"plan": "pro"}}


async def _customer(ctx: AppContext, name: str) -> dict[str, Any]:
    async with ctx.db.sessionmaker() as session:
        customer = Customer(email=f"{name}@example.com", company_name=name.title())
        session.add(customer)
        await session.flush()
        user = User(
            email=customer.email,
            name=name,
            role="customer",
            password_hash=hash_password("no-se-usa-aqui-123"),
            customer_id=customer.id,
            email_verified_at=datetime.now(UTC),
        )
        tenant = Tenant(
            customer_id=customer.id,
            subdomain=name,
            company_name=customer.company_name,
            plan="basic",
            status="active",
            admin_login=customer.email,
        )
        session.add_all([user, tenant])
        await session.flush()
        job = Job(kind="backup", tenant_id=tenant.id, status="succeeded", progress=100)
        backup = Backup(tenant_id=tenant.id, kind="manual", status="succeeded", database_name=name)
        invoice = Invoice(
            stripe_invoice_id=f"in_{name}",
            customer_id=customer.id,
            status="paid",
            currency="usd",
            total=2900,
            amount_paid=2900,
            hosted_invoice_url=f"https://invoice.stripe.lab/{name}",
            source_updated_at=datetime.now(UTC),
        )
        session.add_all([job, backup, invoice])
        await session.commit()
        assert ctx.settings.jwt_secret_key
        token = issue_access_token(ctx.settings.jwt_secret_key, user.id, "customer", 900)
        return {
            "headers": {"Authorization": f"Bearer {token}"},
            "tenant": tenant.id,
            "backup": backup.id,
            "job": job.id,
            "invoice": f"in_{name}",
        }


def _customer_routes(ctx: AppContext) -> list[tuple[str, str]]:
    schema = create_app(ctx=ctx).openapi()
    return [
        (method, path)
        for path, methods in schema["paths"].items()
        if path.startswith("/api/portal/") and path not in PUBLIC
        for method in methods
        if method in ("get", "post", "put", "delete", "patch")
    ]


def _url(path: str, ids: dict[str, Any]) -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in ID_KINDS, f"unknown path parameter {name} in {path}: add it to ID_KINDS"
        return str(ids[ID_KINDS[name]])

    return re.sub(r"\{([^}]+)\}", one, path)


async def test_every_customer_route_hides_other_customers_objects(
    ctx: AppContext, client: httpx.AsyncClient
) -> None:
    alice, bob = await _customer(ctx, "alice"), await _customer(ctx, "bob")
    routes = _customer_routes(ctx)
    with_ids = [(m, p) for m, p in routes if "{" in p]
    assert len(with_ids) >= 8, with_ids
    problems = []
    for method, path in with_ids:
        body = BODIES.get(path, {})
        foreign = await client.request(method, _url(path, bob), json=body, headers=alice["headers"])
        if foreign.status_code != 404 or foreign.json().get("success") is not False:
            problems.append(f"{method} {path} with bob's ids -> {foreign.status_code}")
        own = await client.request(method, _url(path, alice), json=body, headers=alice["headers"])
        if own.status_code == 404 or own.status_code >= 500:
            problems.append(f"{method} {path} with own ids -> {own.status_code}")
    assert problems == []

    listed = (await client.get("/api/portal/tenants", headers=alice["headers"])).json()["data"]
    assert [t["id"] for t in listed] == [alice["tenant"]]
    invoices = (await client.get("/api/portal/invoices", headers=alice["headers"])).json()
    assert [i["hosted_invoice_url"] for i in invoices["data"]] == [
        "https://invoice.stripe.lab/alice"
    ]


async def test_operators_and_customers_stay_on_their_side(
    ctx: AppContext, client: httpx.AsyncClient, operator: dict[str, Any]
) -> None:
    alice = await _customer(ctx, "alice")
    for method, path in _customer_routes(ctx):
        answer = await client.request(
            method, _url(path, alice), json={}, headers=operator["headers"]
        )
        assert answer.status_code == 403, (method, path, answer.status_code)
        assert answer.json()["error"] == "CUSTOMERS_ONLY"
    for path in (
        "/api/tenants",
        f"/api/tenants/{alice['tenant']}",
        f"/api/jobs/{alice['job']}",
        f"/api/jobs/{alice['job']}/events",
        f"/api/tenants/{alice['tenant']}/backups",
        f"/api/backups/{alice['backup']}/download",
        "/api/customers",
        "/api/billing/invoices",
    ):
        answer = await client.get(path, headers=alice["headers"])
        assert answer.status_code == 403, (path, answer.status_code)
    # "Who am I" answers every signed-in user (the SPA routes a customer to /portal by it).
    whoami = await client.get("/api/auth/me", headers=alice["headers"])
    assert whoami.status_code == 200 and whoami.json()["data"]["role"] == "customer"
    logout = await client.post("/api/auth/logout", json={}, headers=alice["headers"])
    assert logout.status_code == 200
