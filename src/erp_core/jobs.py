"""The job queue (procrastinate on our own PostgreSQL) and the outbox around it.

A request that asks for work writes a `jobs` row in its own transaction and registers an
after-commit hook that defers `run_job(job_id)`. If the process dies between commit and
defer, the periodic sweeper finds the row still `queued` without a queue job and defers it;
a worker killed mid-job leaves a procrastinate job in `doing` with a stale heartbeat, which
the sweeper hands back to the queue. So work is never lost, and never runs for a request that
rolled back. Two runs of one job cannot overlap: the runner holds an advisory lock per job.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import procrastinate
from procrastinate import exceptions as pq_exceptions
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from erp_core.db import on_commit, to_libpq_url
from erp_core.models import Job

if TYPE_CHECKING:
    from erp_core.context import AppContext

log = logging.getLogger(__name__)

OPERATIONS_QUEUE = "operations"
MAINTENANCE_QUEUE = "maintenance"
SWEEP_GRACE = timedelta(seconds=10)

RUN_JOB_TASK = "erp.run_job"
SWEEP_TASK = "erp.sweep"


def build_queue(database_url: str) -> procrastinate.App:
    """A procrastinate App on the same database as the domain data.

    Tasks are registered per App (a Blueprint would be renamed in place by the first App
    that namespaces it, and tests build many Apps in one process).
    """
    connector = procrastinate.PsycopgConnector(conninfo=to_libpq_url(database_url))
    app = procrastinate.App(connector=connector, import_paths=[])
    app.task(name=RUN_JOB_TASK, queue=OPERATIONS_QUEUE, pass_context=True)(run_job)
    sweep_task = app.task(
        name=SWEEP_TASK, queue=MAINTENANCE_QUEUE, pass_context=True, queueing_lock="sweep"
    )(sweep)
    app.periodic(cron="* * * * *", periodic_id="sweep")(sweep_task)
    from erp_core.backups.tasks import register_tasks as register_backup_tasks

    register_backup_tasks(app)
    from erp_core.billing.tasks import register_tasks as register_billing_tasks

    register_billing_tasks(app)
    from erp_core.infrastructure.tasks import register_tasks as register_infrastructure_tasks

    register_infrastructure_tasks(app)
    from erp_core.reconciliation.tasks import register_tasks as register_reconciliation_tasks

    register_reconciliation_tasks(app)
    return app


def _ctx(job_context: procrastinate.JobContext) -> AppContext:
    ctx: AppContext = job_context.additional_context["ctx"]
    return ctx


async def run_job(job_context: procrastinate.JobContext, job_id: int) -> None:
    """Run one persisted operation (create/suspend/... a tenant) to its end."""
    from erp_core.provisioning.engine import run_operation

    await run_operation(_ctx(job_context), job_id)


async def sweep(job_context: procrastinate.JobContext, timestamp: int) -> None:
    await sweep_jobs(_ctx(job_context))


async def defer_job(ctx: AppContext, job_id: int) -> int | None:
    """Hand a persisted job to the queue once; a second defer of a waiting job is a no-op."""
    task = ctx.queue.tasks[RUN_JOB_TASK]
    try:
        queue_id = await task.configure(queueing_lock=f"job:{job_id}").defer_async(job_id=job_id)
    except pq_exceptions.AlreadyEnqueued:
        return None
    async with ctx.db.sessionmaker() as session:
        await session.execute(update(Job).where(Job.id == job_id).values(queue_job_id=queue_id))
        await session.commit()
    return int(queue_id)


def enqueue_after_commit(session: AsyncSession, ctx: AppContext, job: Job) -> None:
    """Defer `job` after the surrounding transaction commits (job.id must be flushed)."""
    job_id = job.id

    async def _defer() -> None:
        await defer_job(ctx, job_id)

    on_commit(session, _defer)


async def sweep_jobs(ctx: AppContext) -> dict[str, int]:
    """Re-defer jobs that a crash separated from the queue; retry jobs of dead workers."""
    counts = {"redeferred": 0, "stalled": 0}
    stalled = await ctx.queue.job_manager.get_stalled_jobs(
        seconds_since_heartbeat=ctx.settings.erp_core_stalled_after_seconds
    )
    for pq_job in stalled:
        log.warning("retrying stalled queue job", extra={"queue_job_id": pq_job.id})
        await ctx.queue.job_manager.retry_job(pq_job)
        counts["stalled"] += 1
    cutoff = datetime.now(UTC) - SWEEP_GRACE
    async with ctx.db.sessionmaker() as session:
        rows = await session.execute(
            select(Job.id, Job.queue_job_id).where(
                Job.status.in_(("queued", "running")), Job.created_at < cutoff
            )
        )
        candidates = list(rows)
    for job_id, queue_job_id in candidates:
        if queue_job_id is not None:
            status = await ctx.queue.job_manager.get_job_status_async(queue_job_id)
            if status.value in ("todo", "doing"):
                continue
        log.warning("re-deferring job without a live queue job", extra={"job_id": job_id})
        if await defer_job(ctx, job_id) is not None:
            counts["redeferred"] += 1
    return counts


def worker_options(ctx: AppContext, *, concurrency: int | None = None) -> dict[str, Any]:
    return {
        "concurrency": concurrency or ctx.settings.erp_core_worker_concurrency,
        "additional_context": {"ctx": ctx},
        "install_signal_handlers": False,
        "update_heartbeat_interval": min(5.0, ctx.settings.erp_core_stalled_after_seconds / 3),
        "stalled_worker_timeout": ctx.settings.erp_core_stalled_after_seconds,
        "delete_jobs": "successful",
    }
