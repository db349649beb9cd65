"""A tenant's past: its operations (jobs) and, for a restored copy, where it came from.

The tenant page must not forget what happened after a reload, and a restored test copy must
be told apart from production: both are read from the jobs table (a copy's `restore_copy`
job names its source in `params.source_tenant_id`), so no extra column is needed.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from erp_core.models import Job, Tenant
from erp_core.runner.labels import JOB_STATUS_ES, kind_label


class OperationOut(BaseModel):
    id: int
    kind: str
    title: str = Field(description="La operación en español, p. ej. «Creación»")
    status: str
    status_label: str
    progress: int
    error: str | None
    created_at: datetime
    finished_at: datetime | None


class TenantRef(BaseModel):
    id: int
    subdomain: str


async def operations(session: AsyncSession, tenant_id: int, limit: int = 50) -> list[OperationOut]:
    jobs = await session.scalars(
        select(Job).where(Job.tenant_id == tenant_id).order_by(Job.id.desc()).limit(limit)
    )
    return [
        OperationOut(
            id=j.id,
            kind=j.kind,
            title=kind_label(j.kind),
            status=j.status,
            status_label=JOB_STATUS_ES.get(j.status, j.status),
            progress=j.progress,
            error=j.error,
            created_at=j.created_at,
            finished_at=j.finished_at,
        )
        for j in jobs
    ]


async def restored_from(session: AsyncSession, tenant_id: int) -> TenantRef | None:
    source_id = await session.scalar(
        select(Job.params["source_tenant_id"].as_integer())
        .where(Job.tenant_id == tenant_id, Job.kind == "restore_copy")
        .order_by(Job.id)
        .limit(1)
    )
    if source_id is None:
        return None
    subdomain = await session.scalar(select(Tenant.subdomain).where(Tenant.id == source_id))
    return TenantRef(id=source_id, subdomain=subdomain) if subdomain else None
