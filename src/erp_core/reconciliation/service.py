"""Run the audit, keep findings in step with it, list them, and ask for fixes.

Each source is judged on its own: a source that is not configured is skipped, one whose
vendor cannot be read is reported as failed and its open findings stay as they were
(absence of evidence resolves nothing). For a source that answered, observations upsert
open findings and every open finding of that source not observed again is resolved.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from erp_core.api import Conflict, NotFound, ValidationFailed
from erp_core.context import AppContext
from erp_core.dashboard.cache_hooks import invalidate_dashboard
from erp_core.deps import Actor
from erp_core.drivers.base import DriverError
from erp_core.drivers.store import StoreError
from erp_core.models import Job, JobStep, ReconciliationFinding
from erp_core.reconciliation.checks import CHECKS, Observation, SourceCheck, load_snapshot
from erp_core.reconciliation.fixes import AUDIT, FIX_FOR_KIND, TENANT_SCOPED
from erp_core.runner.service import start_job

log = logging.getLogger(__name__)

FINDINGS_LOCK_CLASS = 7273
"""pg_advisory_xact_lock class serialising writes of one source's findings."""


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class SourceResult:
    source: str
    status: str  # ok | skipped | failed
    observed: int = 0
    opened: int = 0
    resolved: int = 0
    seconds: float = 0.0
    error: str | None = None


@dataclass
class RunResult:
    started_at: datetime
    finished_at: datetime | None = None
    sources: list[SourceResult] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "sources": [vars(s) for s in self.sources],
        }


async def findings_changed(ctx: AppContext) -> None:
    await invalidate_dashboard(ctx)


async def run_audit(
    ctx: AppContext, *, checks: list[SourceCheck] | None = None, sources: set[str] | None = None
) -> RunResult:
    """One audit over every configured source (or only ``sources``)."""
    result = RunResult(started_at=_now())
    async with ctx.db.sessionmaker() as session:
        snapshot = await load_snapshot(session)
    for check in checks if checks is not None else CHECKS:
        if sources is not None and check.source not in sources:
            continue
        if not check.configured(ctx):
            result.sources.append(SourceResult(check.source, "skipped"))
            continue
        started = time.perf_counter()
        try:
            observations = await check.observe(ctx, snapshot)
        except (DriverError, StoreError) as exc:
            log.warning("reconciliation source failed", extra={"source": check.source})
            result.sources.append(
                SourceResult(
                    check.source,
                    "failed",
                    seconds=time.perf_counter() - started,
                    error=exc.message,
                )
            )
            continue
        opened, resolved = await persist(ctx, check.source, observations)
        result.sources.append(
            SourceResult(
                check.source,
                "ok",
                observed=len(observations),
                opened=opened,
                resolved=resolved,
                seconds=round(time.perf_counter() - started, 3),
            )
        )
    result.finished_at = _now()
    await findings_changed(ctx)
    return result


async def persist(ctx: AppContext, source: str, observations: list[Observation]) -> tuple[int, int]:
    """Upsert this run's observations of ``source`` and resolve the ones not seen again."""
    now = _now()
    async with ctx.db.sessionmaker() as session:
        await session.execute(
            select(func.pg_advisory_xact_lock(FINDINGS_LOCK_CLASS, func.hashtext(source)))
        )
        open_rows = {
            (row.kind, row.resource): row
            for row in await session.scalars(
                select(ReconciliationFinding).where(
                    ReconciliationFinding.source == source,
                    ReconciliationFinding.resolved_at.is_(None),
                )
            )
        }
        seen: set[tuple[str, str]] = set()
        opened = 0
        for obs in observations:
            key = (obs.kind, obs.resource)
            if key in seen:
                continue
            seen.add(key)
            row = open_rows.get(key)
            if row is not None:
                row.last_seen_at, row.message, row.detail = now, obs.message, obs.detail
                row.tenant_id = obs.tenant_id
                continue
            await session.execute(
                insert(ReconciliationFinding)
                .values(
                    source=source,
                    kind=obs.kind,
                    resource=obs.resource,
                    tenant_id=obs.tenant_id,
                    message=obs.message,
                    detail=obs.detail,
                    first_seen_at=now,
                    last_seen_at=now,
                )
                .on_conflict_do_nothing(
                    index_elements=["kind", "resource"],
                    index_where=ReconciliationFinding.resolved_at.is_(None),
                )
            )
            opened += 1
        resolved = 0
        for key, row in open_rows.items():
            if key not in seen:
                row.resolved_at = now
                resolved += 1
        await session.commit()
    return opened, resolved


# --- reads ---------------------------------------------------------------------------------


async def list_findings(
    session: AsyncSession,
    *,
    kind: str | None,
    source: str | None,
    state: str,
    tenant_id: int | None,
    offset: int,
    limit: int,
) -> tuple[list[ReconciliationFinding], int]:
    query = select(ReconciliationFinding)
    if kind:
        query = query.where(ReconciliationFinding.kind == kind)
    if source:
        query = query.where(ReconciliationFinding.source == source)
    if state == "open":
        query = query.where(ReconciliationFinding.resolved_at.is_(None))
    elif state == "resolved":
        query = query.where(ReconciliationFinding.resolved_at.is_not(None))
    if tenant_id is not None:
        query = query.where(ReconciliationFinding.tenant_id == tenant_id)
    total = int(await session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    rows = await session.scalars(
        query.order_by(
            ReconciliationFinding.resolved_at.is_not(None),
            ReconciliationFinding.last_seen_at.desc(),
            ReconciliationFinding.id.desc(),
        )
        .offset(offset)
        .limit(limit)
    )
    return list(rows), total


async def open_counts(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(
        select(ReconciliationFinding.source, func.count())
        .where(ReconciliationFinding.resolved_at.is_(None))
        .group_by(ReconciliationFinding.source)
    )
    return {source: int(n) for source, n in rows}


# --- fixes ---------------------------------------------------------------------------------


async def request_fix(
    session: AsyncSession, ctx: AppContext, actor: Actor, finding_id: int
) -> tuple[ReconciliationFinding, Job]:
    """Write the fix job in the request's transaction; it runs after commit."""
    finding = await session.get(ReconciliationFinding, finding_id, with_for_update=True)
    if finding is None:
        raise NotFound("El desajuste no existe.")
    if finding.resolved_at is not None:
        raise Conflict("Este desajuste ya está resuelto.", code="ALREADY_RESOLVED")
    operation = FIX_FOR_KIND.get(finding.kind)
    if operation is None:
        raise ValidationFailed(
            "Este desajuste no tiene corrección automática; revíselo a mano.",
            code="NOT_FIXABLE",
        )
    if finding.fix_job_id is not None:
        status = await session.scalar(select(Job.status).where(Job.id == finding.fix_job_id))
        if status in ("queued", "running"):
            raise Conflict(
                f"Ya hay una corrección en curso (trabajo {finding.fix_job_id}).",
                code="FIX_IN_PROGRESS",
            )
    tenant_id = finding.tenant_id if operation.kind in TENANT_SCOPED else None
    try:
        async with session.begin_nested():
            job = await start_job(
                session, ctx, operation.kind, tenant_id, {"finding_id": finding.id}, actor.user_id
            )
    except IntegrityError as exc:
        raise Conflict("El tenant ya tiene una operación en curso.", code="TENANT_BUSY") from exc
    finding.fix_job_id = job.id
    return finding, job


async def request_audit(session: AsyncSession, ctx: AppContext, actor: Actor) -> Job:
    """Write the audit job in the request's transaction; it runs after commit."""
    return await start_job(session, ctx, AUDIT.kind, None, {}, actor.user_id)


async def audit_run(session: AsyncSession, job_id: int) -> tuple[Job, dict[str, Any] | None]:
    """An audit job and, once it finished, its per-source summary."""
    job = await session.get(Job, job_id)
    if job is None or job.kind != AUDIT.kind:
        raise NotFound("La auditoría no existe.")
    output = await session.scalar(
        select(JobStep.output).where(JobStep.job_id == job_id, JobStep.name == "audit")
    )
    return job, (output or None) if job.status == "succeeded" else None
