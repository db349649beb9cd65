"""Drift tests run the control plane against the lab (fixtures: control_plane_lab), plus a
Stripe emulator for the subscription check."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from control_plane_lab import (  # noqa: F401  (fixtures, registered by import)
    body,
    lab_ctx,
    lab_secrets,
    lab_stack,
    settings,
    suspended_page_server,
    wait,
    worker,
)
from erp_core.lab import StripeLabHandle, start_stripe_lab


@pytest.fixture(scope="session")
def stripe_lab() -> Iterator[StripeLabHandle]:
    handle = start_stripe_lab()
    yield handle
    handle.stop()


async def wait_job(
    client: httpx.AsyncClient, headers: dict[str, str], job_id: int, timeout: float = 30
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    data: dict[str, Any] = {}
    while time.monotonic() < deadline:
        data = (await client.get(f"/api/jobs/{job_id}", headers=headers)).json()["data"]
        if data["status"] in ("succeeded", "failed"):
            return data
        await asyncio.sleep(0.1)
    raise AssertionError(f"job {job_id} stuck in {data.get('status')}")


@pytest.fixture
def finish() -> Any:
    return wait_job


async def run_audit_via_api(
    client: httpx.AsyncClient, headers: dict[str, str], timeout: float = 30
) -> dict[str, dict[str, Any]]:
    """POST /run (202, a job), follow /runs/{id} to the end: each source's summary."""
    resp = await client.post("/api/reconciliation/run", headers=headers)
    assert resp.status_code == 202, resp.text
    job_id = resp.json()["data"]["job_id"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        data = (await client.get(f"/api/reconciliation/runs/{job_id}", headers=headers)).json()[
            "data"
        ]
        if data["status"] in ("succeeded", "failed"):
            assert data["status"] == "succeeded", data
            return {s["source"]: s for s in data["result"]["sources"]}
        await asyncio.sleep(0.1)
    raise AssertionError(f"audit job {job_id} did not finish")


@pytest.fixture
def audit() -> Any:
    return run_audit_via_api
