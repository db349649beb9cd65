"""Custom domains end to end through the HTTP API, the job worker, the Cloudflare emulator
and the lab edge (real HTTP on loopback): the state machine, the records the customer
must create, routing with the Host rewrite, primary domain, suspend/reactivate/delete,
uniqueness, plan limits and expiry."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select, update

from erp_core.billing.service import ensure_plans
from erp_core.context import AppContext
from erp_core.domains.service import recheck_pending
from erp_core.lab import LabStack
from erp_core.models import JobLog, Plan, Tenant, TenantDomain

PASSWORD = "Clave-admin-Domains-42"


async def _job(client: httpx.AsyncClient, h: dict[str, str], job_id: int) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        job = (await client.get(f"/api/jobs/{job_id}", headers=h)).json()["data"]
        if job["status"] in ("succeeded", "failed"):
            return dict(job)
        await asyncio.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish")


async def _tenant(
    client: httpx.AsyncClient, h: dict[str, str], wait: Any, body: Any, sub: str, plan: str
) -> int:
    created = await client.post(
        "/api/tenants", json=body(sub, plan=plan, admin_password=PASSWORD), headers=h
    )
    assert created.status_code == 202, created.text
    tenant_id = int(created.json()["data"]["id"])
    assert (await wait(client, h, tenant_id, "active", "failed"))["status"] == "active"
    return tenant_id


async def _log(ctx: AppContext, job_id: int) -> list[str]:
    async with ctx.db.sessionmaker() as session:
        rows = await session.scalars(select(JobLog.message).where(JobLog.job_id == job_id))
        return list(rows)


async def _domains(client: httpx.AsyncClient, h: dict[str, str], tenant_id: int) -> Any:
    resp = await client.get(f"/api/tenants/{tenant_id}/domains", headers=h)
    assert resp.status_code == 200, resp.text
    return resp.json()


async def _edge(stack: LabStack, host: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=10) as http:
        return await http.get(f"{stack.edge.url}/web/login", headers={"Host": host})


def _custom_rules(stack: LabStack, host: str) -> list[dict[str, Any]]:
    rules = stack.cloudflare_state.ingress(stack.tunnel_ids[0])
    return [r for r in rules if r.get("hostname") == host]


async def test_domain_from_pending_to_active_primary_suspended_and_deleted(
    client: httpx.AsyncClient,
    admin: dict[str, Any],
    lab_stack: LabStack,
    lab_ctx: AppContext,
    worker: None,
    wait: Any,
    body: Any,
) -> None:
    h = admin["headers"]
    cf = lab_stack.cloudflare_state
    tenant_id = await _tenant(client, h, wait, body, "acme", "pro")

    added = await client.post(
        f"/api/tenants/{tenant_id}/domains", json={"hostname": "ERP.Cliente-Acme.com"}, headers=h
    )
    assert added.status_code == 202, added.text
    domain = added.json()["data"]
    assert domain["hostname"] == "erp.cliente-acme.com"
    assert domain["status"] == "pending_dns" and domain["status_label"] == "Esperando DNS"
    job = await _job(client, h, domain["job_id"])
    assert job["status"] == "succeeded", job["error"]

    # Cloudflare: a DV custom hostname whose origin is the tenant's own hostname.
    (stored,) = cf.custom_hostnames.values()
    assert stored["hostname"] == "erp.cliente-acme.com"
    assert stored["ssl"]["type"] == "dv" and stored["ssl"]["method"] == "txt"
    assert stored["custom_origin_server"] == "acme.sajet.us"
    assert cf.fallback_origin is not None and cf.fallback_origin["origin"] == "acme.sajet.us"
    # Tunnel: /web/database blocked, then Odoo with the Host rewritten for dbfilter.
    rules = _custom_rules(lab_stack, "erp.cliente-acme.com")
    assert rules[0] == {
        "hostname": "erp.cliente-acme.com",
        "path": "^/web/database",
        "service": "http_status:404",
    }
    assert rules[1]["service"] == lab_stack.odoo.url.rstrip("/")
    assert rules[1]["originRequest"] == {"httpHostHeader": "acme.sajet.us"}

    # The records the customer must create, exactly as Cloudflare asked for them.
    listing = await _domains(client, h, tenant_id)
    assert listing["meta"] == {
        "total": 1,
        "limit": 3,
        "plan": "pro",
        "base_url": "https://acme.sajet.us",
        "service_user": True,
    }
    (domain,) = listing["data"]
    records = {(r["type"], r["purpose"]): r for r in domain["records"]}
    assert records[("CNAME", "routing")]["name"] == "erp.cliente-acme.com"
    assert records[("CNAME", "routing")]["value"] == "acme.sajet.us"
    ownership = records[("TXT", "ownership")]
    assert ownership["name"] == stored["ownership_verification"]["name"]
    assert ownership["value"] == stored["ownership_verification"]["value"]
    ssl = records[("TXT", "ssl")]
    assert ssl["name"] == "_acme-challenge.erp.cliente-acme.com"
    assert ssl["value"] == stored["ssl"]["validation_records"][0]["txt_value"]
    assert domain["expires_at"] is not None
    assert (await _edge(lab_stack, "erp.cliente-acme.com")).status_code == 409  # not active

    check = f"/api/tenants/{tenant_id}/domains/{domain['id']}/check"
    assert (await client.post(check, headers=h)).json()["data"]["status"] == "pending_dns"
    cf.publish("erp.cliente-acme.com", ssl_status="pending_validation")
    half = (await client.post(check, headers=h)).json()["data"]
    assert half["status"] == "pending_ssl" and half["status_label"] == "Emitiendo certificado"
    assert {r["purpose"] for r in half["records"]} == {"routing", "ssl"}
    cf.publish("erp.cliente-acme.com")
    active = (await client.post(check, headers=h)).json()["data"]
    assert active["status"] == "active" and active["status_label"] == "Activo"
    assert [r["purpose"] for r in active["records"]] == ["routing"]
    assert active["activated_at"] and active["expires_at"] is None

    # The customer's hostname reaches the tenant's database through the edge and tunnel:
    # the lab Odoo picks the database from the Host like dbfilter ^%d$ does.
    page = await _edge(lab_stack, "erp.cliente-acme.com")
    assert page.status_code == 200 and 'name="login"' in page.text
    async with httpx.AsyncClient(timeout=10) as http:
        direct = await http.get(
            f"{lab_stack.odoo.url}/web/login", headers={"Host": "erp.cliente-acme.com"}
        )
    # Without the rewrite no database matches: like a real Odoo 19, the selector (303).
    assert direct.status_code == 303
    assert direct.headers["location"].endswith("/web/database/selector")
    async with httpx.AsyncClient(timeout=10) as http:
        blocked = await http.get(
            f"{lab_stack.edge.url}/web/database/manager", headers={"Host": "erp.cliente-acme.com"}
        )
    assert blocked.status_code == 404

    # The lab's publish helper is lab-only: the test app is not serving --lab.
    outside = await client.post("/api/lab/custom_hostnames/erp.cliente-acme.com/publish", headers=h)
    assert outside.status_code == 404 and outside.json()["error"] == "LAB_ONLY"

    # Uniqueness across tenants (409), whatever the spelling.
    other_id = await _tenant(client, h, wait, body, "otra", "pro")
    taken = await client.post(
        f"/api/tenants/{other_id}/domains", json={"hostname": "erp.CLIENTE-acme.com."}, headers=h
    )
    assert taken.status_code == 409 and taken.json()["error"] == "DOMAIN_TAKEN"
    assert "otro tenant" in taken.json()["detail"]

    # Primary: web.base.url in the tenant's Odoo follows it, set as the tenant's service
    # user (no password asked: the platform never kept the admin's).
    primary_url = f"/api/tenants/{tenant_id}/domains/{domain['id']}/primary"
    odoo_db = lab_stack.odoo_state.get("acme")
    assert odoo_db.config_params["web.base.url"] == "https://acme.sajet.us"
    resp = await client.put(primary_url, headers=h)
    assert resp.status_code == 202, resp.text
    job = await _job(client, h, resp.json()["data"]["job_id"])
    assert job["status"] == "succeeded", job["error"]
    assert any("como usuario de servicio" in m for m in await _log(lab_ctx, job["id"]))
    assert odoo_db.config_params["web.base.url"] == "https://erp.cliente-acme.com"
    assert odoo_db.config_params["web.base.url.freeze"] == "True"
    listing = await _domains(client, h, tenant_id)
    assert listing["data"][0]["is_primary"] is True
    assert listing["meta"]["base_url"] == "https://erp.cliente-acme.com"

    # A tenant created before the service user: the admin password is still the fallback.
    async with lab_ctx.db.sessionmaker() as session:
        row = await session.get(Tenant, tenant_id)
        assert row is not None and row.service_login and row.service_password_enc
        kept = (row.service_login, row.service_password_enc)
        row.service_login = row.service_password_enc = None
        await session.commit()
    asked = await client.put(primary_url, headers=h)
    assert asked.status_code == 422 and asked.json()["error"] == "ADMIN_PASSWORD_REQUIRED"
    assert "usuario de servicio" in asked.json()["detail"]
    wrong = await client.put(primary_url, json={"admin_password": "no-es-esta"}, headers=h)
    failed = await _job(client, h, wrong.json()["data"]["job_id"])
    assert failed["status"] == "failed" and "rechazó el inicio de sesión" in failed["error"]
    assert "no-es-esta" not in str(failed)
    right = await client.put(primary_url, json={"admin_password": PASSWORD}, headers=h)
    job = await _job(client, h, right.json()["data"]["job_id"])
    assert job["status"] == "succeeded", job["error"]
    assert any("como administrador" in m for m in await _log(lab_ctx, job["id"]))

    # Suspend: the custom domain shows the suspended page like the subdomain; reactivate.
    assert (await client.put(f"/api/tenants/{tenant_id}/suspend", headers=h)).status_code == 202
    assert (await wait(client, h, tenant_id, "suspended", "failed"))["status"] == "suspended"
    page = await _edge(lab_stack, "erp.cliente-acme.com")
    assert page.status_code == 503 and "Servicio suspendido" in page.text
    assert (await client.put(f"/api/tenants/{tenant_id}/reactivate", headers=h)).status_code == 202
    assert (await wait(client, h, tenant_id, "active", "failed"))["status"] == "active"
    page = await _edge(lab_stack, "erp.cliente-acme.com")
    assert page.status_code == 200 and 'name="login"' in page.text

    # Removing the primary of a tenant without service user needs the admin password
    # (web.base.url goes back); with its service user back, nothing is asked.
    remove_url = f"/api/tenants/{tenant_id}/domains/{domain['id']}"
    refused = await client.request("DELETE", remove_url, headers=h)
    assert refused.status_code == 422 and refused.json()["error"] == "ADMIN_PASSWORD_REQUIRED"
    async with lab_ctx.db.sessionmaker() as session:
        await session.execute(
            update(Tenant)
            .where(Tenant.id == tenant_id)
            .values(service_login=kept[0], service_password_enc=kept[1])
        )
        await session.commit()
    second = await client.post(
        f"/api/tenants/{tenant_id}/domains", json={"hostname": "shop.cliente-acme.com"}, headers=h
    )
    assert (await _job(client, h, second.json()["data"]["job_id"]))["status"] == "succeeded"
    removed = await client.request("DELETE", remove_url, headers=h)
    assert removed.status_code == 202, removed.text
    assert (await _job(client, h, removed.json()["data"]["job_id"]))["status"] == "succeeded"
    assert odoo_db.config_params["web.base.url"] == "https://acme.sajet.us"
    assert _custom_rules(lab_stack, "erp.cliente-acme.com") == []
    assert [c["hostname"] for c in cf.custom_hostnames.values()] == ["shop.cliente-acme.com"]
    listing = await _domains(client, h, tenant_id)
    assert [d["hostname"] for d in listing["data"]] == ["shop.cliente-acme.com"]
    assert listing["meta"]["base_url"] == "https://acme.sajet.us"
    assert _custom_rules(lab_stack, "shop.cliente-acme.com") != []

    # Deleting the tenant removes its custom hostnames at Cloudflare, the ingress rules
    # and the rows, so the name is free for another tenant.
    assert (await client.delete(f"/api/tenants/{tenant_id}", headers=h)).status_code == 202
    assert (await wait(client, h, tenant_id, "deleted", "failed"))["status"] == "deleted"
    assert cf.custom_hostnames == {}
    assert _custom_rules(lab_stack, "shop.cliente-acme.com") == []
    again = await client.post(
        f"/api/tenants/{other_id}/domains", json={"hostname": "erp.cliente-acme.com"}, headers=h
    )
    assert again.status_code == 202, again.text


async def test_limits_validation_removal_failure_and_expiry(
    client: httpx.AsyncClient,
    admin: dict[str, Any],
    viewer: dict[str, Any],
    lab_stack: LabStack,
    lab_ctx: AppContext,
    worker: None,
    wait: Any,
    body: Any,
) -> None:
    h = admin["headers"]
    cf = lab_stack.cloudflare_state
    tenant_id = await _tenant(client, h, wait, body, "beta", "basic")
    url = f"/api/tenants/{tenant_id}/domains"

    for bad, code in (
        ({"hostname": "203.0.113.9"}, "INVALID_DOMAIN"),
        ({"hostname": "shop.sajet.us"}, "INVALID_DOMAIN"),
        ({"hostname": "https://erp.beta.com"}, "INVALID_DOMAIN"),
        ({"hostname": "erp.beta.com", "ssl_method": "email"}, "VALIDATION_ERROR"),
    ):
        resp = await client.post(url, json=bad, headers=h)
        assert resp.status_code == 422 and resp.json()["error"] == code, resp.text
    denied = await client.post(url, json={"hostname": "erp.beta.com"}, headers=viewer["headers"])
    assert denied.status_code == 403

    first = await client.post(
        url, json={"hostname": "erp.beta.com", "ssl_method": "http"}, headers=h
    )
    assert first.status_code == 202
    first_domain = first.json()["data"]
    assert (await _job(client, h, first_domain["job_id"]))["status"] == "succeeded"
    over = await client.post(url, json={"hostname": "erp2.beta.com"}, headers=h)
    assert over.status_code == 422 and over.json()["error"] == "DOMAIN_LIMIT"
    assert "permite 1 dominio" in over.json()["detail"]

    # The plan's own column overrides the default.
    async with lab_ctx.db.sessionmaker() as session:
        await ensure_plans(session, "usd")
        await session.execute(update(Plan).where(Plan.code == "basic").values(max_custom_domains=2))
        await session.commit()
    second = await client.post(url, json={"hostname": "erp2.beta.com"}, headers=h)
    assert second.status_code == 202, second.text
    second_domain = second.json()["data"]
    assert (await _job(client, h, second_domain["job_id"]))["status"] == "succeeded"
    assert (await _domains(client, h, tenant_id))["meta"]["limit"] == 2

    # A certificate that never validates: failed, with Cloudflare's reason.
    cf.publish("erp2.beta.com", ssl_status="validation_timed_out")
    failed = (await client.post(f"{url}/{second_domain['id']}/check", headers=h)).json()["data"]
    assert failed["status"] == "failed" and "validation_timed_out" in failed["status_reason"]

    # Removal is a job: ingress and Cloudflare hostname gone, row gone.
    removal = await client.delete(f"{url}/{second_domain['id']}", headers=h)
    assert removal.status_code == 202 and removal.json()["data"]["status"] == "removing"
    assert (await _job(client, h, removal.json()["data"]["job_id"]))["status"] == "succeeded"
    assert [r["hostname"] for r in (await _domains(client, h, tenant_id))["data"]] == [
        "erp.beta.com"
    ]
    assert [c["hostname"] for c in cf.custom_hostnames.values()] == ["erp.beta.com"]
    assert _custom_rules(lab_stack, "erp2.beta.com") == []

    # Expiry: the periodic re-check leaves a domain pending for 7 days, then expires it.
    async with lab_ctx.db.sessionmaker() as session:
        row = await session.get(TenantDomain, first_domain["id"])
        assert row is not None
        created = row.created_at
    counts = await recheck_pending(lab_ctx, now=created + timedelta(days=6, hours=23))
    assert counts["checked"] == 1 and counts["expired"] == 0
    assert _custom_rules(lab_stack, "erp.beta.com") != []
    counts = await recheck_pending(lab_ctx, now=created + timedelta(days=7, minutes=1))
    assert counts["expired"] == 1
    (expired,) = (await _domains(client, h, tenant_id))["data"]
    assert expired["status"] == "expired" and expired["status_label"] == "Caducado"
    assert "7 días" in expired["status_reason"] and expired["records"] == []
    assert cf.custom_hostnames == {}
    assert _custom_rules(lab_stack, "erp.beta.com") == []
    assert (await recheck_pending(lab_ctx, now=created + timedelta(days=30)))["expired"] == 0


async def test_without_cloudflare_the_domain_fails_with_the_reason(
    client: httpx.AsyncClient,
    admin: dict[str, Any],
    lab_ctx: AppContext,
    worker: None,
    wait: Any,
    body: Any,
) -> None:
    h = admin["headers"]
    tenant_id = await _tenant(client, h, wait, body, "gamma", "pro")
    cleared = await client.put("/api/settings/cloudflare_zone_id", json={"value": ""}, headers=h)
    assert cleared.status_code == 200, cleared.text
    added = await client.post(
        f"/api/tenants/{tenant_id}/domains", json={"hostname": "erp.gamma.com"}, headers=h
    )
    assert added.status_code == 202, added.text
    job = await _job(client, h, added.json()["data"]["job_id"])
    assert job["status"] == "failed"
    (domain,) = (await _domains(client, h, tenant_id))["data"]
    assert (
        domain["status"] == "failed" and "Cloudflare no está configurado" in domain["status_reason"]
    )
    check = await client.post(f"/api/tenants/{tenant_id}/domains/{domain['id']}/check", headers=h)
    assert check.status_code == 409 and check.json()["error"] == "CLOUDFLARE_NOT_CONFIGURED"
