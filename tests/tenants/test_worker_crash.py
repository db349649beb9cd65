"""A worker killed with SIGKILL in the middle of a step: nothing is lost or duplicated; once
its heartbeat is stale the job goes back to the queue and another worker finishes it,
re-running only the step that was interrupted (steps check before they act)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from erp_core.context import AppContext
from erp_core.lab import LabStack
from erp_core.runner.queue import sweep_jobs

STALLED_AFTER = 2.0


def _worker(ctx: AppContext, database_url: str, var_dir: Path) -> subprocess.Popen[bytes]:
    s = ctx.settings
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ERP_CORE_", "CLOUDFLARE_", "ODOO_", "STRIPE_"))
    }
    env.update({
        "DATABASE_URL": database_url,
        "ERP_CORE_SECRET_KEY": s.erp_core_secret_key or "",
        "JWT_SECRET_KEY": s.jwt_secret_key or "",
        "ERP_CORE_VAR_DIR": str(var_dir),
        "ERP_CORE_LOG_LEVEL": "WARNING",
        "ERP_CORE_STALLED_AFTER_SECONDS": str(STALLED_AFTER),
        "ERP_CORE_PUBLIC_URL": s.erp_core_public_url,
        "ERP_CORE_PUBLIC_CHECK_VIA": s.erp_core_public_check_via or "",
        "CLOUDFLARE_API_TOKEN": s.cloudflare_api_token or "",
        "CLOUDFLARE_ACCOUNT_ID": s.cloudflare_account_id or "",
        "CLOUDFLARE_ZONE_ID": s.cloudflare_zone_id or "",
        "CLOUDFLARE_TUNNEL_ID": s.cloudflare_tunnel_id or "",
        "CLOUDFLARE_API_BASE": s.cloudflare_api_base,
    })  # fmt: skip
    return subprocess.Popen(
        [sys.executable, "-m", "erp_core.cli", "worker", "--concurrency", "2"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def _steps(database_url: str, job_id: int) -> dict[str, tuple[str, int]]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT name, status, attempts FROM job_steps WHERE job_id = %s", (job_id,)
        ).fetchall()
    return {name: (status, attempts) for name, status, attempts in rows}


async def _until(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.timeout(120)
async def test_killed_worker_job_is_resumed_by_another(
    client: httpx.AsyncClient,
    admin: dict[str, Any],
    lab_stack: LabStack,
    lab_ctx: AppContext,
    database_url: str,
    tmp_path: Path,
    wait: Any,
    body: Any,
) -> None:
    lab_ctx.settings.erp_core_stalled_after_seconds = STALLED_AFTER
    lab_stack.faults.set("db.create_database", latency_ms=3000)  # a slow step to die in
    first = _worker(lab_ctx, database_url, tmp_path / "w1")
    second: subprocess.Popen[bytes] | None = None
    try:
        created = (
            await client.post("/api/tenants", json=body("crash"), headers=admin["headers"])
        ).json()["data"]
        job_id = created["job_id"]
        await _until(
            lambda: _steps(database_url, job_id)["create_database"][0] == "running",
            30,
            "the create_database step to start",
        )
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        lab_stack.faults.clear()
        second = _worker(lab_ctx, database_url, tmp_path / "w2")
        await asyncio.sleep(STALLED_AFTER + 1.5)  # the dead worker's heartbeat is now stale
        swept = await sweep_jobs(lab_ctx)
        # Our job, plus any periodic tick the dead worker held at a minute boundary.
        assert swept["stalled"] >= 1
        final = await wait(client, admin["headers"], created["id"], "active", "failed", timeout=60)
        assert final["status"] == "active", final["last_error"]
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGINT)
                proc.wait(20)
    steps = _steps(database_url, job_id)
    assert steps["place"] == ("succeeded", 1)  # finished before the crash: not run again
    assert steps["create_database"] == ("succeeded", 2)  # interrupted: run again, safely
    assert all(status in ("succeeded", "skipped") for status, _ in steps.values())
    with psycopg.connect(database_url) as conn:
        assert conn.execute(
            "SELECT runs, status FROM jobs WHERE id = %s", (job_id,)
        ).fetchone() == (2, "succeeded")
    assert lab_stack.odoo_state.names().count("crash") == 1
    assert [r["name"] for r in lab_stack.cloudflare_state.dns_records.values()] == [
        "crash.sajet.us"
    ]
