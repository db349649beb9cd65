"""Jobs with their steps, the live event stream, and the provisioning log."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import StreamingResponse
from sqlalchemy import func, select

from erp_core.api import Envelope, NotFound, Page, Pagination, error_responses, ok
from erp_core.context import AppContext
from erp_core.deps import Ctx, Session, Viewer
from erp_core.models import Job, JobLog, JobStep, Tenant
from erp_core.runner import service
from erp_core.runner.labels import kind_label
from erp_core.runner.schemas import JobOut, LogOut

router = APIRouter(prefix="/api", tags=["jobs"])
STREAM_POLL_SECONDS = 0.25
STREAM_MAX_SECONDS = 15 * 60
KEEPALIVE_SECONDS = 15.0


@router.get(
    "/jobs/{job_id}", response_model=Envelope[JobOut], responses=error_responses(401, 404, 422)
)
async def get_job(job_id: int, actor: Viewer, session: Session) -> object:
    return ok(await service.load_job(session, job_id))


@router.get(
    "/tenants/{tenant_id}/jobs",
    response_model=Page[JobOut],
    tags=["tenants"],
    responses=error_responses(401, 404, 422),
)
async def tenant_jobs(
    tenant_id: int, actor: Viewer, session: Session, pagination: Annotated[Pagination, Depends()]
) -> object:
    if await session.get(Tenant, tenant_id) is None:
        raise NotFound(f"El tenant con ID {tenant_id} no existe.", code="TENANT_NOT_FOUND")
    jobs, total = await service.tenant_jobs(session, tenant_id, pagination)
    return Page(data=jobs, meta=pagination.meta(total))


def _sse(event: str, data: Any, event_id: int | None = None) -> bytes:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, default=str, ensure_ascii=False)}\n\n".encode()


def _job_dump(job: JobOut, public: bool) -> dict[str, Any]:
    """A customer's stream (`public`) omits the job's parameters and creator."""
    return job.model_dump(mode="json", exclude={"params", "created_by"} if public else None)


async def job_events(
    ctx: AppContext, job_id: int, after_log_id: int, *, public: bool = False
) -> AsyncIterator[bytes]:
    """Snapshot, then step/progress/log events as they are committed, then `done`."""
    last_steps: dict[int, tuple[str, int]] = {}
    last_progress: tuple[int, str] | None = None
    last_log = after_log_id
    started = last_sent = time.monotonic()
    first = True
    while time.monotonic() - started < STREAM_MAX_SECONDS:
        async with ctx.db.sessionmaker() as session:
            job = await service.load_job(session, job_id)
            logs = list(
                await session.scalars(
                    select(JobLog)
                    .where(JobLog.job_id == job_id, JobLog.id > last_log)
                    .order_by(JobLog.id)
                    .limit(500)
                )
            )
        chunks: list[bytes] = []
        if first:
            chunks.append(_sse("snapshot", _job_dump(job, public)))
            first = False
        for step in job.steps:
            key = (step.status, step.attempts)
            if last_steps.get(step.position) != key:
                if step.position in last_steps or step.status != "pending":
                    chunks.append(_sse("step", step.model_dump(mode="json")))
                last_steps[step.position] = key
        if (job.progress, job.status) != last_progress:
            last_progress = (job.progress, job.status)
            chunks.append(_sse("progress", {"progress": job.progress, "status": job.status}))
        for line in logs:
            last_log = line.id
            chunks.append(_sse("log", LogOut.model_validate(line).model_dump(mode="json"), line.id))
        if job.status in ("succeeded", "failed", "cancelled") and len(logs) < 500:
            chunks.append(_sse("done", _job_dump(job, public)))
            yield b"".join(chunks)
            return
        if chunks:
            last_sent = time.monotonic()
            yield b"".join(chunks)
        elif time.monotonic() - last_sent > KEEPALIVE_SECONDS:
            last_sent = time.monotonic()
            yield b": keepalive\n\n"
        await asyncio.sleep(STREAM_POLL_SECONDS)


@router.get(
    "/jobs/{job_id}/events",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "Server-Sent Events"},
        **error_responses(401, 404, 422),
    },
)
async def stream_job(
    job_id: int,
    actor: Viewer,
    ctx: Ctx,
    session: Session,
    last_event_id: Annotated[int | None, Header(ge=0, le=2**62)] = None,
) -> StreamingResponse:
    await service.load_job(session, job_id)
    return StreamingResponse(
        job_events(ctx, job_id, last_event_id or 0),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get(
    "/logs/provisioning",
    response_model=Page[LogOut],
    tags=["logs"],
    responses=error_responses(401, 422),
)
async def provisioning_logs(
    actor: Viewer,
    session: Session,
    pagination: Annotated[Pagination, Depends()],
    tenant_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    job_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    level: Literal["debug", "info", "warning", "error"] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    tenant: Annotated[
        str | None, Query(max_length=100, description="Subdominio o nombre de la empresa")
    ] = None,
) -> object:
    query = select(JobLog)
    if tenant:
        pattern = "%" + tenant.strip().replace("\\", "").replace("%", "").replace("_", "\\_") + "%"
        matching = select(Tenant.id).where(
            Tenant.subdomain.ilike(pattern) | Tenant.company_name.ilike(pattern)
        )
        query = query.where(JobLog.tenant_id.in_(matching))
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
    page = (
        query.order_by(JobLog.id.desc())
        .offset(pagination.offset)
        .limit(pagination.per_page)
        .subquery()
    )
    rows = (
        await session.execute(
            select(JobLog, Tenant.subdomain, Tenant.company_name, Job.kind, JobStep.label)
            .join(page, JobLog.id == page.c.id)
            .outerjoin(Tenant, Tenant.id == JobLog.tenant_id)
            .outerjoin(Job, Job.id == JobLog.job_id)
            .outerjoin(JobStep, (JobStep.job_id == JobLog.job_id) & (JobStep.name == JobLog.step))
            .order_by(JobLog.id.desc())
        )
    ).all()
    data = []
    for log_row, subdomain, company, kind, step_label in rows:
        out = LogOut.model_validate(log_row)
        out.tenant_subdomain, out.tenant_name, out.step_label = subdomain, company, step_label
        out.job_title = kind_label(kind) if kind else None
        data.append(out)
    return Page(data=data, meta=pagination.meta(total))
