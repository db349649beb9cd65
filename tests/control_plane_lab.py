"""The control plane against the lab (Odoo, Cloudflare, edge on loopback): settings aimed at
it, a fresh lab per test, the default Odoo server registered, an in-process worker.

Shared by several test folders: a folder's conftest imports the fixtures it needs
(`from control_plane_lab import ...`), so each is defined once."""

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
from erp_core.lab import LabServer, LabStack, start_lab_stack
from erp_core.lab.runtime import point_settings_at_lab
from erp_core.main import create_app
from erp_core.runner.queue import worker_options
from erp_core.tenants.servers import ensure_default_server
from leakguard import register_secret

LAB_MASTER = secrets.token_urlsafe(16)
LAB_TOKEN = secrets.token_urlsafe(24)


@pytest.fixture(scope="session")
def lab_stack() -> Iterator[LabStack]:
    stack = start_lab_stack(master_password=LAB_MASTER, cloudflare_token=LAB_TOKEN)
    yield stack
    stack.stop()


@pytest.fixture(scope="session")
def suspended_page_server() -> Iterator[LabServer]:
    """The control plane's public face: only the suspended-page middleware is exercised."""
    settings = Settings(_env_file=None, database_url="postgresql://unused@127.0.0.1/unused")  # type: ignore[call-arg]
    with LabServer(create_app(settings)) as server:
        yield server


def reset_lab(stack: LabStack) -> None:
    stack.faults.clear()
    stack.odoo_state.reset()
    cf = stack.cloudflare_state
    with cf.lock:
        cf.dns_records.clear()
        cf.request_log.clear()
        cf.configurations.clear()


@pytest.fixture
def settings(settings: Settings, lab_stack: LabStack, suspended_page_server: LabServer) -> Settings:
    register_secret(LAB_MASTER, LAB_TOKEN)
    reset_lab(lab_stack)
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


async def wait_status(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    tenant_id: int,
    *wanted: str,
    timeout: float = 30,
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    data: dict[str, Any] = {}
    while time.monotonic() < deadline:
        data = (await client.get(f"/api/tenants/{tenant_id}", headers=headers)).json()["data"]
        if data["status"] in wanted:
            return data
        await asyncio.sleep(0.1)
    raise AssertionError(
        f"tenant {tenant_id} stuck in {data.get('status')}: {data.get('last_error')}"
    )


@pytest.fixture
def wait() -> Any:
    return wait_status


def tenant_body(subdomain: str, **extra: Any) -> dict[str, Any]:
    return {
        "company_name": f"Empresa {subdomain}",
        "email": f"dueño@{subdomain}.example.com".replace("ñ", "n"),
        "subdomain": subdomain,
        "plan": "basic",
        **extra,
    }


@pytest.fixture
def body() -> Any:
    return tenant_body


@pytest.fixture
def lab_secrets() -> tuple[str, str]:
    return LAB_MASTER, LAB_TOKEN
