"""The daily schedule (window, one backup per server at a time), the restore drill, health."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import func, select

from erp_core.backups.schedule import run_schedule, window_start
from erp_core.backups.verify import backups_health, start_drills
from erp_core.context import AppContext
from erp_core.lab import LabStack
from erp_core.models import Backup
from erp_core.reconciliation import is_reserved_database

from .conftest import active_tenant, wait_job


def at(hour: int) -> datetime:
    return datetime(2026, 3, 10, hour, 30, tzinfo=UTC)


def test_window_bounds_including_midnight_wrap() -> None:
    assert window_start(at(1), 1, 5) == datetime(2026, 3, 10, 1, tzinfo=UTC)
    assert window_start(at(5), 1, 5) is None and window_start(at(0), 1, 5) is None
    assert window_start(at(23), 22, 2) == datetime(2026, 3, 10, 22, tzinfo=UTC)
    assert window_start(at(1), 22, 2) == datetime(2026, 3, 9, 22, tzinfo=UTC)
    assert window_start(at(12), 22, 2) is None
    assert window_start(at(12), 0, 24) == datetime(2026, 3, 10, 0, tzinfo=UTC)


async def _streaming_backups(ctx: AppContext) -> int:
    """Backups being taken right now (a row is `running` from stream start to verification)."""
    async with ctx.db.sessionmaker() as session:
        return int(
            await session.scalar(
                select(func.count()).select_from(Backup).where(Backup.status == "running")
            )
            or 0
        )


async def test_schedule_backs_up_every_active_tenant_one_at_a_time(
    client: httpx.AsyncClient,
    operator: dict[str, Any],
    lab_ctx: AppContext,
    lab_stack: LabStack,
    worker: None,
) -> None:
    h = operator["headers"]
    tenants = [await active_tenant(client, h, f"sched{i}") for i in range(3)]
    settings = lab_ctx.settings
    settings.backup_window_start, settings.backup_window_end = 0, 24
    assert settings.backup_max_per_server == 1
    lab_stack.faults.set("web.backup", latency_ms=300)  # long enough to observe overlap

    first = await run_schedule(lab_ctx)
    assert len(first) == 1
    assert await run_schedule(lab_ctx) == []  # the server's only slot is taken
    peak = 0
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        peak = max(peak, await _streaming_backups(lab_ctx))
        async with lab_ctx.db.sessionmaker() as session:
            done = set(
                await session.scalars(
                    select(Backup.tenant_id).where(
                        Backup.kind == "scheduled", Backup.status == "succeeded"
                    )
                )
            )
        if done == {t["id"] for t in tenants}:
            break
        await asyncio.sleep(0.05)
    assert done == {t["id"] for t in tenants}
    assert peak == 1
    # Once a day: everyone has today's backup, so the next tick has nothing to do.
    await asyncio.sleep(0.2)
    assert await run_schedule(lab_ctx) == []
    # Outside the window nothing starts.
    settings.backup_window_start, settings.backup_window_end = 1, 2
    assert await run_schedule(lab_ctx, now=datetime(2026, 1, 1, 12, tzinfo=UTC)) == []


async def test_restore_drill_records_result_and_health(
    client: httpx.AsyncClient,
    operator: dict[str, Any],
    lab_ctx: AppContext,
    lab_stack: LabStack,
    worker: None,
) -> None:
    h = operator["headers"]
    tenant = await active_tenant(client, h, "drill")
    started = await client.post(f"/api/tenants/{tenant['id']}/backups", headers=h)
    assert (await wait_job(client, h, started.json()["data"]["job_id"]))["status"] == "succeeded"

    jobs = await start_drills(lab_ctx, sample=5)
    assert len(jobs) == 1
    job = await wait_job(client, h, jobs[0])
    assert job["status"] == "succeeded", job["error"]
    assert [s["name"] for s in job["steps"]] == ["restore_scratch", "check", "drop"]
    # the scratch database is gone (the server's template, issue 15, is not a tenant's)
    assert [n for n in lab_stack.odoo_state.names() if not is_reserved_database(n)] == ["drill"]
    listed = (await client.get(f"/api/tenants/{tenant['id']}/backups", headers=h)).json()
    assert listed["data"][0]["drill_status"] == "ok"
    assert listed["meta"]["last_drill_status"] == "ok" and listed["meta"]["last_drill_at"]

    [check] = await backups_health(lab_ctx)
    assert check.name == "backups" and check.status == "ok", check.message
    assert check.details["drills_ok"] == 1

    # A drill whose restore fails is recorded as failed and shows in health.
    lab_stack.faults.set("web.restore", fail_times=1, status=500)
    lab_ctx.settings.job_step_max_attempts = 1
    jobs = await start_drills(lab_ctx, sample=5)
    job = await wait_job(client, h, jobs[0])
    assert job["status"] == "failed"
    [check] = await backups_health(lab_ctx)
    assert check.status == "degraded" and "simulacro" in check.message
    status = (await client.get("/api/logs/status", headers=h)).json()["data"]
    row = next(c for c in status["checks"] if c["name"] == "backups")
    assert row["label"] == "Respaldos" and row["status"] == "degraded"
