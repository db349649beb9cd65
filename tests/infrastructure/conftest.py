"""The Proxmox lab (HTTPS, token auth) next to the Odoo/Cloudflare/edge lab, settings aimed at
both, a worker, and helpers to start dedicated-tenant jobs the way the tenant service does."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from sqlalchemy import select

from control_plane_lab import (  # noqa: F401  (fixtures, registered by import)
    LAB_MASTER,
    LAB_TOKEN,
    lab_stack,
    suspended_page_server,
)
from erp_core.config import Settings
from erp_core.context import AppContext
from erp_core.drivers.proxmox import ProxmoxManager
from erp_core.lab import LabServer, LabStack, ProxmoxLab, start_proxmox_lab
from erp_core.lab.runtime import point_settings_at_lab
from erp_core.models import Customer, Plan, Tenant
from erp_core.provisioning import dedicated
from erp_core.runner.engine import add_job
from erp_core.runner.queue import defer_job, worker_options

PVE_TOKEN_ID = "erp-core@pve!control-plane"
PVE_SECRET = secrets.token_hex(16)
TEMPLATE_MASTER = secrets.token_urlsafe(16)


@pytest.fixture(scope="session")
def pve_lab() -> Iterator[ProxmoxLab]:
    lab = start_proxmox_lab(
        token_id=PVE_TOKEN_ID,
        token_secret=PVE_SECRET,
        template_master_password=TEMPLATE_MASTER,
        task_delay_s=0.02,
    )
    yield lab
    lab.stop()


def reset_labs(stack: LabStack, pve: ProxmoxLab) -> None:
    stack.faults.clear()
    stack.odoo_state.reset()
    stack.cloudflare_state.reset()
    pve.faults.clear()
    pve.state.reset()


def aim_at_proxmox_lab(settings: Settings, pve: ProxmoxLab, tunnel_id: str) -> None:
    settings.proxmox_host = pve.host
    settings.proxmox_token_id = PVE_TOKEN_ID
    settings.proxmox_token_secret = PVE_SECRET
    settings.proxmox_verify_ssl = True
    settings.proxmox_ca_bundle = pve.ca_bundle
    settings.proxmox_timeout_seconds = 5
    settings.proxmox_task_timeout_seconds = 10
    settings.proxmox_task_poll_seconds = 0.02
    settings.proxmox_template_vmid = pve.state.template_vmid
    settings.proxmox_storage = "local-lvm"
    settings.proxmox_ip_pool = "127.0.0.20-127.0.0.60"
    settings.proxmox_ip_prefix = 8
    settings.proxmox_gateway = "127.0.0.1"
    settings.proxmox_node_tunnels = ",".join(f"{n}={tunnel_id}" for n in pve.state.node_names)
    settings.odoo_container_port = pve.state.odoo_port
    settings.odoo_template_master_password = TEMPLATE_MASTER
    settings.odoo_container_start_timeout_seconds = 10


@pytest.fixture
def settings(
    settings: Settings,
    lab_stack: LabStack,
    pve_lab: ProxmoxLab,
    suspended_page_server: LabServer,
) -> Settings:
    reset_labs(lab_stack, pve_lab)
    point_settings_at_lab(settings, lab_stack, LAB_MASTER, LAB_TOKEN)
    settings.erp_core_public_url = suspended_page_server.url
    aim_at_proxmox_lab(settings, pve_lab, lab_stack.tunnel_ids[0])
    return settings


@pytest.fixture
async def pve(pve_lab: ProxmoxLab) -> AsyncIterator[ProxmoxManager]:
    manager = ProxmoxManager(
        pve_lab.host,
        PVE_TOKEN_ID,
        PVE_SECRET,
        verify_ssl=pve_lab.ca_bundle,
        timeout=5,
        task_timeout=5,
        poll_interval=0.02,
    )
    yield manager
    await manager.aclose()


@pytest.fixture
async def worker(ctx: AppContext) -> AsyncIterator[None]:
    task = asyncio.create_task(ctx.queue.run_worker_async(**worker_options(ctx)))
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await asyncio.wait_for(task, 10)


async def add_plan(ctx: AppContext, code: str = "enterprise", **resources: Any) -> None:
    values = {"cpu_cores": 2, "ram_mb": 3072, "disk_gb": 12, "dedicated": True, **resources}
    async with ctx.db.sessionmaker() as session:
        session.add(Plan(code=code, name=code.title(), **values))
        await session.commit()


async def start_create(ctx: AppContext, subdomain: str, plan: str = "enterprise") -> int:
    """What tenants.service.create does for a dedicated plan: tenant + job, deferred."""
    email = f"owner@{subdomain}.example.com"
    async with ctx.db.sessionmaker() as session:
        customer = Customer(email=email, company_name=f"Empresa {subdomain}")
        session.add(customer)
        await session.flush()
        tenant = Tenant(
            customer_id=customer.id,
            subdomain=subdomain,
            company_name=f"Empresa {subdomain}",
            plan=plan,
            status="provisioning",
            language="es_ES",
            admin_login=email,
        )
        session.add(tenant)
        await session.flush()
        kind = await dedicated.operation_kind(session, tenant, "create")
        params = {
            "company_name": f"Empresa {subdomain}",
            "admin_password_enc": ctx.secret_box.encrypt("Clave-dueño-123"),
        }
        job = await add_job(session, kind, tenant.id, params, None)
        await session.commit()
        tenant_id, job_id = tenant.id, job.id
    await defer_job(ctx, job_id)
    return tenant_id


async def start_operation(ctx: AppContext, tenant_id: int, kind: str, status: str) -> None:
    params: dict[str, Any] = {"reason": "manual"} if kind == "suspend" else {}
    async with ctx.db.sessionmaker() as session:
        tenant = await session.get(Tenant, tenant_id)
        assert tenant is not None
        job_kind = await dedicated.operation_kind(session, tenant, kind)
        assert job_kind == f"{kind}_dedicated"
        tenant.status = status
        job = await add_job(session, job_kind, tenant_id, params, None)
        await session.commit()
        job_id = job.id
    await defer_job(ctx, job_id)


async def wait_tenant(ctx: AppContext, tenant_id: int, *wanted: str, timeout: float = 30) -> Tenant:
    deadline = time.monotonic() + timeout
    tenant: Tenant | None = None
    while time.monotonic() < deadline:
        async with ctx.db.sessionmaker() as session:
            tenant = await session.scalar(select(Tenant).where(Tenant.id == tenant_id))
        assert tenant is not None
        if tenant.status in wanted:
            return tenant
        await asyncio.sleep(0.1)
    assert tenant is not None
    raise AssertionError(f"tenant {tenant_id} stuck in {tenant.status}: {tenant.last_error}")


@pytest.fixture(autouse=True)
def _fresh_proxmox_lab(pve_lab: ProxmoxLab) -> None:
    pve_lab.faults.clear()
    pve_lab.state.reset()
