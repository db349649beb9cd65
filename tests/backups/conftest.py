"""The lab (Odoo, Cloudflare, edge) on loopback, a worker, and helpers for backup tests."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from erp_core.config import Settings
from erp_core.context import AppContext
from erp_core.jobs import worker_options
from erp_core.lab import LabServer, LabStack, start_lab_stack
from erp_core.lab.runtime import point_settings_at_lab
from erp_core.main import create_app
from erp_core.tenants.servers import ensure_default_server

LAB_MASTER = secrets.token_urlsafe(16)
LAB_TOKEN = secrets.token_urlsafe(24)


@pytest.fixture(scope="session")
def lab_stack() -> Iterator[LabStack]:
    stack = start_lab_stack(master_password=LAB_MASTER, cloudflare_token=LAB_TOKEN)
    yield stack
    stack.stop()


@pytest.fixture(scope="session")
def suspended_page_server() -> Iterator[LabServer]:
    settings = Settings(_env_file=None, database_url="postgresql://unused@127.0.0.1/unused")  # type: ignore[call-arg]
    with LabServer(create_app(settings)) as server:
        yield server


@pytest.fixture
def settings(settings: Settings, lab_stack: LabStack, suspended_page_server: LabServer) -> Settings:
    lab_stack.faults.clear()
    lab_stack.odoo_state.reset()
    cf = lab_stack.cloudflare_state
    with cf.lock:
        cf.dns_records.clear()
        cf.request_log.clear()
        cf.configurations.clear()
    point_settings_at_lab(settings, lab_stack, LAB_MASTER, LAB_TOKEN)
    settings.erp_core_public_url = suspended_page_server.url
    return settings


@pytest.fixture
async def lab_ctx(ctx: AppContext) -> AppContext:
    await ensure_default_server(ctx)
    return ctx


@pytest.fixture
async def worker(lab_ctx: AppContext) -> AsyncIterator[None]:
    task = asyncio.create_task(lab_ctx.queue.run_worker_async(**worker_options(lab_ctx)))
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await asyncio.wait_for(task, 10)


async def wait_job(
    client: httpx.AsyncClient, headers: dict[str, str], job_id: int, timeout: float = 30
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    job: dict[str, Any] = {}
    while time.monotonic() < deadline:
        job = (await client.get(f"/api/jobs/{job_id}", headers=headers)).json()["data"]
        if job["status"] in ("succeeded", "failed"):
            return job
        await asyncio.sleep(0.1)
    raise AssertionError(f"job {job_id} stuck in {job.get('status')}: {job.get('error')}")


async def wait_tenant(
    client: httpx.AsyncClient, headers: dict[str, str], tenant_id: int, *wanted: str
) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    data: dict[str, Any] = {}
    while time.monotonic() < deadline:
        data = (await client.get(f"/api/tenants/{tenant_id}", headers=headers)).json()["data"]
        if data["status"] in wanted:
            return data
        await asyncio.sleep(0.1)
    raise AssertionError(f"tenant {tenant_id} stuck in {data.get('status')}")


async def active_tenant(
    client: httpx.AsyncClient, headers: dict[str, str], subdomain: str
) -> dict[str, Any]:
    body = {
        "company_name": f"Empresa {subdomain}",
        "email": f"owner@{subdomain}.example.com",
        "subdomain": subdomain,
        "plan": "basic",
    }
    created = await client.post("/api/tenants", json=body, headers=headers)
    assert created.status_code == 202, created.text
    tenant = await wait_tenant(client, headers, created.json()["data"]["id"], "active", "failed")
    assert tenant["status"] == "active", tenant["last_error"]
    return tenant


async def backup_now(
    client: httpx.AsyncClient, headers: dict[str, str], tenant_id: int
) -> dict[str, Any]:
    """Take a manual backup through the API; the finished job."""
    started = await client.post(f"/api/tenants/{tenant_id}/backups", headers=headers)
    assert started.status_code == 202, started.text
    return await wait_job(client, headers, started.json()["data"]["job_id"])


async def edge_login(stack: LabStack, host: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=10) as http:
        return await http.get(f"{stack.edge.url}/web/login", headers={"Host": host})
