"""Periodic backup tasks: the daily schedule (ticks every minute, acts inside the window),
hourly retention and the weekly restore drill. Registered per procrastinate App by
:func:`register_tasks` (called from ``erp_core.composition``)."""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

import procrastinate

from erp_core.backups.schedule import apply_retention, run_schedule
from erp_core.backups.verify import start_drills

if TYPE_CHECKING:
    from erp_core.context import AppContext

log = logging.getLogger(__name__)

SCHEDULE_TASK = "erp.backup_schedule"
RETENTION_TASK = "erp.backup_retention"
DRILL_TASK = "erp.backup_drill"
QUEUE = "maintenance"


def _ctx(job_context: procrastinate.JobContext) -> AppContext:
    ctx: AppContext = job_context.additional_context["ctx"]
    return ctx


async def backup_schedule(job_context: procrastinate.JobContext, timestamp: int) -> None:

    await run_schedule(_ctx(job_context))


async def backup_retention(job_context: procrastinate.JobContext, timestamp: int) -> None:

    result = await apply_retention(_ctx(job_context))
    for error in result.errors:
        log.warning("backup retention: %s", error)


async def backup_drill(job_context: procrastinate.JobContext, timestamp: int) -> None:

    await start_drills(_ctx(job_context))


def register_tasks(app: procrastinate.App, *, drill_cron: str | None = None) -> None:
    """Add the backup tasks and their schedules to ``app`` .

    The drill's cron line is fixed when the worker starts: ``drill_cron``, else the
    BACKUP_VERIFY_CRON environment variable, else Sunday 05:00 UTC.
    """
    cron_line = drill_cron or os.environ.get("BACKUP_VERIFY_CRON") or "0 5 * * 0"
    schedules = (
        (SCHEDULE_TASK, backup_schedule, "* * * * *", "backup-schedule"),
        (RETENTION_TASK, backup_retention, "23 * * * *", "backup-retention"),
        (DRILL_TASK, backup_drill, cron_line, "backup-drill"),
    )
    for name, fn, cron, lock in schedules:
        task = app.task(name=name, queue=QUEUE, pass_context=True, queueing_lock=lock, lock=lock)(
            fn
        )
        app.periodic(cron=cron, periodic_id=lock)(task)
