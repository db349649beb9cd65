"""The periodic re-check of pending custom domains (every five minutes), registered per
procrastinate App by :func:`register_tasks` (called from ``erp_core.composition``)."""

from __future__ import annotations

import logging

import procrastinate

from erp_core.context import AppContext
from erp_core.domains.service import recheck_pending

log = logging.getLogger(__name__)

RECHECK_TASK = "erp.domains_recheck"
QUEUE = "maintenance"


def _ctx(job_context: procrastinate.JobContext) -> AppContext:
    ctx: AppContext = job_context.additional_context["ctx"]
    return ctx


async def domains_recheck(job_context: procrastinate.JobContext, timestamp: int) -> None:
    counts = await recheck_pending(_ctx(job_context))
    if any(counts.values()):
        log.info("custom domains re-checked", extra=counts)


def register_tasks(app: procrastinate.App) -> None:
    """Add the re-check task and its schedule to ``app`` (and the domain job kinds)."""
    lock = "domains-recheck"
    task = app.task(
        name=RECHECK_TASK, queue=QUEUE, pass_context=True, queueing_lock=lock, lock=lock
    )(domains_recheck)
    app.periodic(cron="*/5 * * * *", periodic_id=lock)(task)
