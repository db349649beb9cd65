"""Job queries for the API, and `start_job`: the one way a request asks for work.

`start_job` writes the job and its pending steps in the caller's transaction and defers it
to the queue only after that transaction commits, so a job never runs for a request that
rolled back and never waits for a commit that already happened (the sweeper covers a crash
between the two).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from erp_core.api import NotFound, Pagination
from erp_core.context import AppContext
from erp_core.models import Job, JobLog, JobStep
from erp_core.runner.engine import add_job, settled_open_job
from erp_core.runner.queue import enqueue_after_commit
from erp_core.runner.schemas import JobOut, LogOut, StepOut

OPEN_STATUSES = ("queued", "running")


async def start_job(
    session: AsyncSession,
    ctx: AppContext,
    kind: str,
    tenant_id: int | None,
    params: dict[str, Any],
    created_by: int | None,
) -> Job:
    """Write job `kind` with its pending steps and defer it once the transaction commits.

    Raises IntegrityError (from the flush) when the database refuses a second open job for
    the tenant; callers turn that into `409 TENANT_BUSY`. The hook is registered only after
    the flush succeeded, so a refused job is never deferred.
    """
    job = await add_job(session, kind, tenant_id, params, created_by)
    enqueue_after_commit(session, ctx, job)
    return job


async def open_job(session: AsyncSession, tenant_id: int) -> int | None:
    """The id of the tenant's queued or running job, if any (one that is only finishing is
    waited for: see :func:`settled_open_job`)."""
    return await settled_open_job(session, tenant_id)


def job_out(job: Job, steps: list[JobStep]) -> JobOut:
    out = JobOut.model_validate(job)
    out.steps = [StepOut.model_validate(s) for s in steps]
    out.params = {k: v for k, v in job.params.items() if not k.endswith("_enc")}
    return out


async def load_job(session: AsyncSession, job_id: int) -> JobOut:
    job = await session.get(Job, job_id)
    if job is None:
        raise NotFound(f"El trabajo con ID {job_id} no existe.", code="JOB_NOT_FOUND")
    steps = list(
        await session.scalars(
            select(JobStep).where(JobStep.job_id == job_id).order_by(JobStep.position)
        )
    )
    return job_out(job, steps)


async def tenant_jobs(
    session: AsyncSession, tenant_id: int, pagination: Pagination
) -> tuple[list[JobOut], int]:
    """One page of the tenant's jobs (newest first) with their steps, and the total."""
    total = int(
        await session.scalar(select(func.count(Job.id)).where(Job.tenant_id == tenant_id)) or 0
    )
    jobs = list(
        await session.scalars(
            select(Job)
            .where(Job.tenant_id == tenant_id)
            .order_by(Job.id.desc())
            .offset(pagination.offset)
            .limit(pagination.per_page)
        )
    )
    steps_by_job: dict[int, list[JobStep]] = {j.id: [] for j in jobs}
    if jobs:
        for step in await session.scalars(
            select(JobStep).where(JobStep.job_id.in_(steps_by_job)).order_by(JobStep.position)
        ):
            steps_by_job[step.job_id].append(step)
    return [job_out(j, steps_by_job[j.id]) for j in jobs], total


async def job_logs(
    session: AsyncSession,
    pagination: Pagination,
    *,
    tenant_id: int | None = None,
    job_id: int | None = None,
    level: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> tuple[list[LogOut], int]:
    """One page of job log lines (newest first) matching the filters, and the total."""
    query = select(JobLog)
    if tenant_id is not None:
        query = query.where(JobLog.tenant_id == tenant_id)
    if job_id is not None:
        query = query.where(JobLog.job_id == job_id)
    if level:
        query = query.where(JobLog.level == level)
    if since:
        query = query.where(JobLog.at >= since)
    if until:
        query = query.where(JobLog.at < until)
    total = int(await session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    rows = await session.scalars(
        query.order_by(JobLog.id.desc()).offset(pagination.offset).limit(pagination.per_page)
    )
    return [LogOut.model_validate(r) for r in rows], total
