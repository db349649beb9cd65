"""Hourly drift audit and usage sampling (periodic procrastinate tasks), registered per App
like the other rooms' tasks; queueing and run locks keep a slow run from overlapping."""

from __future__ import annotations

import logging

import procrastinate

from erp_core.context import AppContext
from erp_core.reconciliation.service import run_audit
from erp_core.reconciliation.usage import sample_usage

log = logging.getLogger(__name__)

AUDIT_TASK = "erp.reconciliation_audit"
USAGE_TASK = "erp.usage_sample"
QUEUE = "maintenance"


def _ctx(job_context: procrastinate.JobContext) -> AppContext:
    ctx: AppContext = job_context.additional_context["ctx"]
    return ctx


async def reconciliation_audit(job_context: procrastinate.JobContext, timestamp: int) -> None:
    result = await run_audit(_ctx(job_context))
    for source in result.sources:
        log.info(
            "reconciliation source done",
            extra={"source": source.source, "status": source.status, "opened": source.opened,
                   "resolved": source.resolved},
        )  # fmt: skip


async def usage_sample(job_context: procrastinate.JobContext, timestamp: int) -> None:
    counts = await sample_usage(_ctx(job_context))
    log.info("usage sampled", extra=counts)


def register_tasks(app: procrastinate.App) -> None:
    schedules = (
        (AUDIT_TASK, reconciliation_audit, "23 * * * *", "reconciliation-audit"),
        (USAGE_TASK, usage_sample, "41 * * * *", "usage-sample"),
    )
    for name, fn, cron, lock in schedules:
        task = app.task(name=name, queue=QUEUE, pass_context=True, queueing_lock=lock, lock=lock)(
            fn
        )
        app.periodic(cron=cron, periodic_id=lock)(task)
