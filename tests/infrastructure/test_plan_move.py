"""Plan change between shared and dedicated hosting, end to end against the labs (shared Odoo,
Proxmox with each container's own Odoo, Cloudflare, the edge, Stripe), driven by the real
worker through the operators' API: the downtime is stated and accepted first; the database
moves by a verified backup and a restore; the route switches; only then Stripe's price
changes and the old home goes. A failure half-way leaves the tenant where it was."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from tests.billing.stripe_events import WEBHOOK_SECRET
from tests.portal.portal_helpers import lab_price

from erp_core.config import Settings
from erp_core.context import AppContext
from erp_core.lab import LabStack, ProxmoxLab, StripeLabHandle, start_stripe_lab
from erp_core.models import (
    Backup,
    DedicatedContainer,
    Job,
    JobLog,
    JobStep,
    Plan,
    Subscription,
    Tenant,
)
from erp_core.runner.labels import kind_label
from erp_core.tenants.servers import ensure_default_server

from .conftest import start_create, wait_tenant

HOST = "mover.sajet.us"


@pytest.fixture(scope="module")
def stripe_lab() -> Iterator[StripeLabHandle]:
    handle = start_stripe_lab(webhook_secret=WEBHOOK_SECRET)
    yield handle
    handle.stop()


@pytest.fixture
def settings(settings: Settings, stripe_lab: StripeLabHandle) -> Settings:
    stripe_lab.state.reset()
    settings.stripe_secret_key = stripe_lab.api_key
    settings.stripe_webhook_secret = WEBHOOK_SECRET
    settings.stripe_api_base = stripe_lab.api_base
    return settings


async def _plans(ctx: AppContext, stripe_lab: StripeLabHandle) -> dict[str, str]:
    """basic (shared) and enterprise (dedicated), each with a monthly Stripe price."""
    prices = {
        "basic": await lab_price(stripe_lab, 2900, "basic"),
        "enterprise": await lab_price(stripe_lab, 19900, "enterprise"),
    }
    async with ctx.db.sessionmaker() as session:
        for code, dedicated in (("basic", False), ("enterprise", True)):
            plan = await session.scalar(select(Plan).where(Plan.code == code))
            if plan is None:
                plan = Plan(code=code, name=code.title())
                session.add(plan)
            plan.dedicated, plan.active = dedicated, True
            plan.cpu_cores, plan.ram_mb, plan.disk_gb = 2, 3072, 12
            plan.stripe_price_monthly_id = prices[code]
        await session.commit()
    return prices


async def _active_shared_tenant(ctx: AppContext, lab_stack: LabStack) -> int:
    await ensure_default_server(ctx)
    tenant_id = await start_create(ctx, "mover", plan="basic")
    tenant = await wait_tenant(ctx, tenant_id, "active", "failed")
    assert tenant.status == "active", tenant.last_error
    assert "mover" in lab_stack.odoo_state.names()
    return tenant_id


async def _job(ctx: AppContext, job_id: int, timeout: float = 60) -> tuple[Job, list[JobStep]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        async with ctx.db.sessionmaker() as session:
            job = await session.get(Job, job_id)
            assert job is not None
            if job.status in ("succeeded", "failed"):
                steps = list(
                    await session.scalars(
                        select(JobStep).where(JobStep.job_id == job_id).order_by(JobStep.position)
                    )
                )
                return job, steps
        await asyncio.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish")


async def _tenant(ctx: AppContext, tenant_id: int) -> Tenant:
    async with ctx.db.sessionmaker() as session:
        tenant = await session.get(Tenant, tenant_id)
    assert tenant is not None
    return tenant


async def _live_link(ctx: AppContext, tenant_id: int) -> DedicatedContainer | None:
    async with ctx.db.sessionmaker() as session:
        return await session.scalar(
            select(DedicatedContainer).where(
                DedicatedContainer.tenant_id == tenant_id, DedicatedContainer.released_at.is_(None)
            )
        )


def _service(stack: LabStack) -> str | None:
    for rule in stack.cloudflare_state.ingress(stack.tunnel_ids[0]):
        if rule.get("hostname") == HOST and not rule.get("path"):
            return str(rule["service"])
    return None


def _stripe_price(stripe_lab: StripeLabHandle) -> str:
    with stripe_lab.state.lock:
        [sub] = [s for s in stripe_lab.state.table("subscription").values()]
        return str(sub["items"]["data"][0]["price"]["id"])


async def _edge_login(stack: LabStack) -> int:
    async with httpx.AsyncClient(timeout=10) as http:
        return (await http.get(f"{stack.edge.url}/web/login", headers={"Host": HOST})).status_code


async def _change(
    client: httpx.AsyncClient, who: dict[str, Any], tenant_id: int, plan: str, accept: bool
) -> httpx.Response:
    return await client.post(
        f"/api/tenants/{tenant_id}/plan",
        json={"plan": plan, "accept_downtime": accept},
        headers=who["headers"],
    )


async def test_shared_to_dedicated_and_back_moves_the_database_then_the_price(
    ctx: AppContext,
    client: httpx.AsyncClient,
    operator: dict[str, Any],
    worker: None,
    pve_lab: ProxmoxLab,
    lab_stack: LabStack,
    stripe_lab: StripeLabHandle,
    settings: Settings,
) -> None:
    prices = await _plans(ctx, stripe_lab)
    tenant_id = await _active_shared_tenant(ctx, lab_stack)
    shared_server = (await _tenant(ctx, tenant_id)).odoo_server_id
    assert _stripe_price(stripe_lab) == prices["basic"]
    lab_stack.odoo_state.get("mover").company_name = "Datos de Mover S.A."  # the customer's data

    stated = await _change(client, operator, tenant_id, "enterprise", accept=False)
    assert stated.status_code == 409 and stated.json()["error"] == "MIGRATION_NEEDS_CONFIRMATION"
    assert "15 minutos" in stated.json()["detail"]
    assert await _live_link(ctx, tenant_id) is None  # nothing started

    started = await _change(client, operator, tenant_id, "enterprise", accept=True)
    assert started.status_code == 200, started.text
    out = started.json()["data"]
    assert out["kind"] == "migration" and out["downtime_minutes"] == 15 and out["job_id"]
    busy = await _change(client, operator, tenant_id, "enterprise", accept=True)
    assert busy.status_code == 409 and busy.json()["error"] == "TENANT_BUSY"

    job, steps = await _job(ctx, out["job_id"])
    assert job.status == "succeeded", (job.error, [(s.name, s.status, s.error) for s in steps])
    assert job.kind == "move_to_dedicated"
    assert all(s.status in ("succeeded", "skipped") for s in steps)
    tenant = await _tenant(ctx, tenant_id)
    link = await _live_link(ctx, tenant_id)
    assert link is not None and link.state == "active"
    assert tenant.status == "active" and tenant.plan == "enterprise" and tenant.last_error is None
    assert tenant.odoo_server_id == link.odoo_server_id != shared_server
    container = pve_lab.state.containers[link.vmid]
    assert container.odoo.get("mover").company_name == "Datos de Mover S.A."  # same data
    assert container.config["cores"] == "2" and "size=12G" in container.config["rootfs"]
    assert not {"mover", "__susp_mover"} & set(lab_stack.odoo_state.names())  # old one gone
    assert _service(lab_stack) == f"http://{link.ip_address}:{settings.odoo_container_port}"
    assert await _edge_login(lab_stack) == 200
    assert _stripe_price(stripe_lab) == prices["enterprise"]  # after the move, not before
    async with ctx.db.sessionmaker() as session:
        backup = await session.scalar(
            select(Backup).where(Backup.tenant_id == tenant_id, Backup.kind == "pre-move")
        )
        sub = await session.scalar(select(Subscription).where(Subscription.tenant_id == tenant_id))
    assert backup is not None and backup.status == "succeeded" and backup.verified_at
    assert sub is not None and sub.plan_name == "enterprise"

    back = await _change(client, operator, tenant_id, "basic", accept=True)
    assert back.status_code == 200, back.text
    job, steps = await _job(ctx, back.json()["data"]["job_id"])
    assert job.status == "succeeded", (job.error, [(s.name, s.status, s.error) for s in steps])
    assert job.kind == "move_to_shared"
    tenant = await _tenant(ctx, tenant_id)
    assert tenant.plan == "basic" and tenant.odoo_server_id == shared_server
    assert await _live_link(ctx, tenant_id) is None
    assert link.vmid not in pve_lab.state.containers  # the container was destroyed
    assert lab_stack.odoo_state.get("mover").company_name == "Datos de Mover S.A."
    assert _service(lab_stack) == settings.odoo_url.rstrip("/")
    assert await _edge_login(lab_stack) == 200
    assert _stripe_price(stripe_lab) == prices["basic"]


async def test_a_failed_move_leaves_the_tenant_where_it_was(
    ctx: AppContext,
    client: httpx.AsyncClient,
    operator: dict[str, Any],
    worker: None,
    pve_lab: ProxmoxLab,
    lab_stack: LabStack,
    stripe_lab: StripeLabHandle,
    settings: Settings,
) -> None:
    prices = await _plans(ctx, stripe_lab)
    tenant_id = await _active_shared_tenant(ctx, lab_stack)
    before = await _tenant(ctx, tenant_id)
    service_before = _service(lab_stack)
    # Cloudflare refuses the switch of the route once (a permanent error): the move undoes.
    lab_stack.faults.set("cf.put_configuration", fail_times=1, status=400, message="Rechazado")

    started = await _change(client, operator, tenant_id, "enterprise", accept=True)
    assert started.status_code == 200, started.text
    job, steps = await _job(ctx, started.json()["data"]["job_id"])
    assert job.status == "failed"
    by_name = {s.name: s.status for s in steps}
    async with ctx.db.sessionmaker() as session:
        lines = list(await session.scalars(select(JobLog.message).where(JobLog.job_id == job.id)))
    assert by_name["switch"] == "compensated", "\n".join(lines)
    assert by_name["route"] == "failed" and by_name["stripe"] == "pending"
    assert by_name["switch"] == by_name["restore"] == by_name["lock_database"] == "compensated"
    assert by_name["reserve"] == "compensated"

    tenant = await _tenant(ctx, tenant_id)
    assert tenant.status == "active" and tenant.plan == "basic"
    assert tenant.odoo_server_id == before.odoo_server_id
    assert tenant.last_error and "sigue en su servidor anterior" in tenant.last_error
    assert "mover" in lab_stack.odoo_state.names()  # unlocked, under its own name
    assert "__susp_mover" not in lab_stack.odoo_state.names()
    assert _service(lab_stack) == service_before
    assert await _edge_login(lab_stack) == 200
    assert await _live_link(ctx, tenant_id) is None and not pve_lab.state.containers.keys() - {
        pve_lab.state.template_vmid
    }
    assert _stripe_price(stripe_lab) == prices["basic"]  # nothing charged for a failed move


async def test_plan_change_bad_input_answers_in_spanish(
    ctx: AppContext,
    client: httpx.AsyncClient,
    operator: dict[str, Any],
    users: Any,
    stripe_lab: StripeLabHandle,
    lab_stack: LabStack,
    worker: None,
) -> None:
    await _plans(ctx, stripe_lab)
    tenant_id = await _active_shared_tenant(ctx, lab_stack)
    missing = await _change(client, operator, 999_999, "enterprise", accept=True)
    assert missing.status_code == 404 and missing.json()["error"] == "TENANT_NOT_FOUND"
    unknown = await _change(client, operator, tenant_id, "oro", accept=True)
    assert unknown.status_code == 409 and unknown.json()["error"] == "PLAN_NOT_CONFIGURED"
    same = await _change(client, operator, tenant_id, "basic", accept=True)
    assert same.status_code == 409 and same.json()["error"] == "SAME_PLAN"
    bad = await client.post(
        f"/api/tenants/{tenant_id}/plan",
        json={"plan": "enterprise", "accept_downtime": "tal vez"},
        headers=operator["headers"],
    )
    assert bad.status_code == 422 and bad.json()["success"] is False
    viewer = await users.create("viewer")
    refused = await _change(client, viewer, tenant_id, "enterprise", accept=True)
    assert refused.status_code == 403
    async with ctx.db.sessionmaker() as session:
        await session.execute(
            update(Tenant).where(Tenant.id == tenant_id).values(status="suspended")
        )
        await session.commit()
    suspended = await _change(client, operator, tenant_id, "enterprise", accept=True)
    assert suspended.status_code == 409 and suspended.json()["error"] == "TENANT_NOT_ACTIVE"
    for response in (missing, unknown, same, suspended):
        assert response.json()["detail"]  # a Spanish sentence, never a stack trace


def test_move_kinds_have_their_own_spanish_titles() -> None:
    assert kind_label("move_to_dedicated") == "Traslado a contenedor dedicado"
    assert kind_label("move_to_shared") == "Traslado a servidor compartido"
    assert kind_label("create_dedicated") == "Creación (contenedor dedicado)"
