"""Backup tests run the control plane against the lab (fixtures: control_plane_lab), plus
helpers to get an active tenant and take a backup through the API."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from control_plane_lab import (  # noqa: F401  (fixtures, registered by import)
    lab_ctx,
    lab_stack,
    settings,
    suspended_page_server,
    worker,
)
from erp_core.lab import LabStack


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
