"""Every write route against every role; hostile strings in every query parameter.

Routes come from the app's own OpenAPI document, so a new route is covered without editing
this file; a route that should be public or admin-only must be listed below on purpose.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from erp_core.context import AppContext
from erp_core.main import create_app

PUBLIC_WRITES = {
    ("post", "/api/auth/login"),
    ("post", "/api/auth/refresh"),
    ("post", "/api/webhooks/stripe"),
    ("post", "/api/public/checkout"),
    # customer portal (issue 16): sign-up, verification and password reset have no login
    ("post", "/api/portal/signup"),
    ("post", "/api/portal/verify"),
    ("post", "/api/portal/password-reset"),
    ("post", "/api/portal/password-reset/confirm"),
}
# Customers' own routes: operators are refused too (tests/portal/test_isolation.py).
CUSTOMER_ONLY = r"^/api/portal/"
ANY_ROLE_WRITES = {("post", "/api/auth/logout")}
ADMIN_ONLY = [
    r"^/api/users",
    r"^/api/settings/",
    r"^/api/tenants/servers",
    r"^/api/billing/events/",
    r"^/api/billing/plans(/|$)",
    r"^/api/infrastructure/nodes/",
    r"^/api/audit",
    r"^/api/billing/invoices/sync$",
    r"^/api/backups/\{backup_id\}$",  # deleting a backup (issue 8: admin)
    r"^/api/tenants/\{tenant_id\}/usage/access$",  # storing an Odoo API key (issue 18: admin)
    r"^/api/lab/simulate$",  # driving the lab Stripe (issue 19: admin)
    r"^/api/servers/\{server_id\}/templates/",  # rebuilding a server's template (issue 15: admin, as servers)
]
ADMIN_ONLY_EXCEPTIONS: set[tuple[str, str]] = set()
HOSTILE = ["O'Brien", "'; DROP TABLE tenants; --", '" OR 1=1 --', "%", "_", "\\", "😀", "a" * 300]


def _operations(ctx: AppContext) -> list[tuple[str, str, dict[str, Any]]]:
    schema = create_app(ctx=ctx).openapi()
    ops = []
    for path, methods in schema["paths"].items():
        for method, op in methods.items():
            if method in ("get", "post", "put", "delete", "patch") and path.startswith("/api"):
                ops.append((method, path, op))
    return ops


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "999999", path)


def _admin_only(method: str, path: str) -> bool:
    if (method, path) in ADMIN_ONLY_EXCEPTIONS:
        return False
    return any(re.match(p, path) for p in ADMIN_ONLY)


async def test_write_routes_require_the_right_role(
    ctx: AppContext, client: httpx.AsyncClient, viewer: dict[str, Any], operator: dict[str, Any]
) -> None:
    writes = [(m, p) for m, p, _ in _operations(ctx) if m != "get" and (m, p) not in PUBLIC_WRITES]
    assert len(writes) > 15
    problems = []
    for method, path in writes:
        url = _concrete(path)
        anonymous = await client.request(method, url, json={})
        if anonymous.status_code != 401 or anonymous.json().get("success") is not False:
            problems.append(f"{method} {path} anonymous -> {anonymous.status_code}")
        if (method, path) in ANY_ROLE_WRITES:
            continue
        as_viewer = await client.request(method, url, json={}, headers=viewer["headers"])
        if as_viewer.status_code != 403:
            problems.append(f"{method} {path} viewer -> {as_viewer.status_code}")
        as_operator = await client.request(method, url, json={}, headers=operator["headers"])
        if re.match(CUSTOMER_ONLY, path):
            if as_operator.status_code != 403:
                problems.append(
                    f"{method} {path} operator -> {as_operator.status_code} (customers)"
                )
            continue
        if _admin_only(method, path) and as_operator.status_code != 403:
            problems.append(f"{method} {path} operator -> {as_operator.status_code} (admin only)")
        if not _admin_only(method, path) and as_operator.status_code in (401, 403):
            problems.append(
                f"{method} {path} operator -> {as_operator.status_code} (operators may)"
            )
    assert problems == []


async def test_admin_reads_are_closed_to_other_roles(
    ctx: AppContext, client: httpx.AsyncClient, viewer: dict[str, Any], operator: dict[str, Any]
) -> None:
    for path in ("/api/users", "/api/audit", "/api/billing/events"):
        for who in (viewer, operator):
            resp = await client.get(path, headers=who["headers"])
            assert resp.status_code in (403, 404), (path, resp.status_code)


def _query_params(op: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in op.get("parameters", []) if p.get("in") == "query"]


async def test_hostile_query_values_never_break_a_route(
    ctx: AppContext, client: httpx.AsyncClient, admin: dict[str, Any]
) -> None:
    checked = 0
    problems = []
    for method, path, op in _operations(ctx):
        if method != "get" or path.endswith("/events") or "{" in path:
            continue
        for param in _query_params(op):
            for value in [*HOSTILE, "x" * 10_000, "-1", "99999999999999999999"]:
                resp = await client.get(
                    path, params={param["name"]: value}, headers=admin["headers"]
                )
                checked += 1
                body = resp.json()
                if resp.status_code >= 500 or "success" not in body:
                    problems.append(f"{path}?{param['name']}={value[:20]} -> {resp.status_code}")
                elif resp.status_code == 422:
                    assert body["error"] == "VALIDATION_ERROR" and body["detail"]
    assert checked > 50
    assert problems == []


@pytest.mark.parametrize("q", ["O'Brien", "'; DROP TABLE tenants; --"])
async def test_text_search_is_text(
    client: httpx.AsyncClient, admin: dict[str, Any], q: str
) -> None:
    resp = await client.get("/api/tenants", params={"q": q}, headers=admin["headers"])
    assert resp.status_code == 200 and resp.json()["data"] == []
    again = await client.get("/api/tenants", headers=admin["headers"])
    assert again.status_code == 200  # the table is still there


async def test_hsts_only_over_tls(ctx: AppContext) -> None:
    app = create_app(ctx=ctx)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://core.example"
    ) as tls:
        resp = await tls.get("/api/health")
        assert resp.headers["strict-transport-security"].startswith("max-age=")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://core.example"
    ) as plain:
        assert "strict-transport-security" not in (await plain.get("/api/health")).headers
