"""Periodic infrastructure jobs: inventory sync, hourly rollups, daily retention.

Registered per procrastinate App by :func:`register_tasks` (called from ``erp_core.composition``),
each with a queueing lock and a run lock so a slow run never overlaps the next one.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import procrastinate

from erp_core.config import Settings
from erp_core.infrastructure import metrics, service

if TYPE_CHECKING:
    from erp_core.context import AppContext

log = logging.getLogger(__name__)

SYNC_TASK = "erp.infra_sync"
ROLLUP_TASK = "erp.metrics_rollup"
PRUNE_TASK = "erp.metrics_prune"
QUEUE = "maintenance"


def _ctx(job_context: procrastinate.JobContext) -> AppContext:
    ctx: AppContext = job_context.additional_context["ctx"]
    return ctx


def interval_cron(seconds: int) -> str:
    """A cron line running every ``seconds`` (whole minutes, or a seconds field below 60)."""
    if seconds >= 60 and seconds % 60 == 0 and seconds // 60 < 60:
        minutes = seconds // 60
        return "* * * * *" if minutes == 1 else f"*/{minutes} * * * *"
    return f"* * * * * */{max(1, min(seconds, 59))}"


async def infra_sync(job_context: procrastinate.JobContext, timestamp: int) -> None:
    result = await service.sync_inventory(_ctx(job_context))
    if result.configured:
        log.info(
            "inventory synced",
            extra={
                "nodes": result.nodes,
                "containers": result.containers,
                "vanished": result.vanished,
                "samples": result.samples,
            },
        )
    for warning in result.warnings:
        log.warning("inventory sync: %s", warning)


async def metrics_rollup(job_context: procrastinate.JobContext, timestamp: int) -> None:
    ctx = _ctx(job_context)
    async with ctx.db.sessionmaker() as session:
        rows = await metrics.rollup_metrics(session)
        await session.commit()
    log.info("metrics rolled up", extra={"rollups": rows})


async def metrics_prune(job_context: procrastinate.JobContext, timestamp: int) -> None:
    ctx = _ctx(job_context)
    async with ctx.db.sessionmaker() as session:
        result = await metrics.prune_metrics(session, ctx.settings)
        await session.commit()
    log.info(
        "metrics pruned",
        extra={"raw_deleted": result.raw_deleted, "rollups_deleted": result.rollups_deleted},
    )


def register_tasks(app: procrastinate.App, *, sync_interval_seconds: int | None = None) -> None:
    """Add the infrastructure tasks and their schedules to ``app`` (sync period: the
    argument, else PROXMOX_SYNC_INTERVAL_SECONDS from the environment, else 60 s)."""
    if sync_interval_seconds is None:
        sync_interval_seconds = Settings().proxmox_sync_interval_seconds
    schedules = (
        (SYNC_TASK, infra_sync, interval_cron(sync_interval_seconds), "infra-sync"),
        (ROLLUP_TASK, metrics_rollup, "5 * * * *", "metrics-rollup"),
        (PRUNE_TASK, metrics_prune, "17 3 * * *", "metrics-prune"),
    )
    for name, fn, cron, lock in schedules:
        task = app.task(name=name, queue=QUEUE, pass_context=True, queueing_lock=lock, lock=lock)(
            fn
        )
        app.periodic(cron=cron, periodic_id=lock)(task)
