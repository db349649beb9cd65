"""Proving backups restore: the weekly restore drill and the "Respaldos" health check.

The drill picks a rotating sample (BACKUP_VERIFY_SAMPLE) of active tenants — those whose
newest backup was drilled longest ago (never first) — and starts a ``backup_drill`` job for
each: restore the newest verified backup into ``<sub>-verify-<job>`` (neutralised, as a
copy), check that it opens, drop it. The result is written on the backup row, listed with
the tenant's backups and summarised in health.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.exc import IntegrityError

from erp_core.context import AppContext
from erp_core.db import run_after_commit
from erp_core.logs.health import CheckResult
from erp_core.models import Backup, Job, Tenant
from erp_core.runner.service import start_job

log = logging.getLogger(__name__)

STALE_AFTER = timedelta(hours=36)
DRILL_LOOKBACK = timedelta(days=8)


def drill_params(backup_id: int) -> dict[str, object]:
    return {"backup_id": backup_id, "scratch": "verify", "copy": True, "neutralize": True}


def newest_verified_backups() -> object:
    """Per tenant, its newest succeeded backup that did not fail verification."""
    return (
        select(Backup.id, Backup.tenant_id, Backup.drill_at)
        .where(
            Backup.status == "succeeded",
            Backup.verification_status.is_distinct_from("failed"),
        )
        .ext(distinct_on(Backup.tenant_id))
        .order_by(Backup.tenant_id, Backup.finished_at.desc(), Backup.id.desc())
        .subquery()
    )


async def start_drills(ctx: AppContext, sample: int | None = None) -> list[int]:
    """Start restore drills for a rotating sample of active tenants; the job ids."""
    size = ctx.settings.backup_verify_sample if sample is None else sample
    if size <= 0:
        return []
    newest = newest_verified_backups()
    busy = select(Job.tenant_id).where(
        Job.status.in_(("queued", "running")), Job.tenant_id.is_not(None)
    )
    started: list[int] = []
    async with ctx.db.sessionmaker() as session:
        picks = (
            await session.execute(
                select(newest.c.id, newest.c.tenant_id)  # type: ignore[attr-defined]
                .join(Tenant, Tenant.id == newest.c.tenant_id)  # type: ignore[attr-defined]
                .where(Tenant.status == "active", Tenant.id.not_in(busy))
                .order_by(newest.c.drill_at.asc().nulls_first(), Tenant.id)  # type: ignore[attr-defined]
                .limit(size)
            )
        ).all()
        for backup_id, tenant_id in picks:
            try:
                async with session.begin_nested():
                    job = await start_job(
                        session, ctx, "backup_drill", tenant_id, drill_params(backup_id), None
                    )
            except IntegrityError:
                continue
            started.append(job.id)
        await session.commit()
        await run_after_commit(session)
    if started:
        log.info("restore drills started", extra={"jobs": started})
    return started


async def backups_health(ctx: AppContext) -> list[CheckResult]:
    now = datetime.now(UTC)
    async with ctx.db.sessionmaker() as session:
        fresh = (
            select(Backup.tenant_id)
            .where(Backup.status == "succeeded", Backup.finished_at >= now - STALE_AFTER)
            .scalar_subquery()
        )
        stale = int(
            await session.scalar(
                select(func.count())
                .select_from(Tenant)
                .where(
                    Tenant.status == "active",
                    Tenant.created_at < now - STALE_AFTER,
                    Tenant.id.not_in(fresh),
                )
            )
            or 0
        )
        # Honest counts: the young are excused explicitly, and "never backed up" is said.
        ever = select(Backup.tenant_id).where(Backup.status == "succeeded").scalar_subquery()
        counts = (
            await session.execute(
                select(
                    func.count(),
                    func.count().filter(Tenant.id.in_(fresh)),
                    func.count().filter(Tenant.id.not_in(ever)),
                    func.count().filter(
                        Tenant.id.not_in(fresh), Tenant.created_at >= now - STALE_AFTER
                    ),
                ).where(Tenant.status == "active")
            )
        ).one()
        active, recent, never, young = (int(n or 0) for n in counts)
        corrupt = int(
            await session.scalar(
                select(func.count())
                .select_from(Backup)
                .where(Backup.status == "succeeded", Backup.verification_status == "failed")
            )
            or 0
        )
        drills = (
            await session.execute(
                select(Backup.drill_status, func.count(), func.max(Backup.drill_at))
                .where(Backup.drill_at >= now - DRILL_LOOKBACK)
                .group_by(Backup.drill_status)
            )
        ).all()
    ok_drills = sum(count for status, count, _ in drills if status == "ok")
    failed_drills = sum(count for status, count, _ in drills if status == "failed")
    last = max((at for _, _, at in drills if at is not None), default=None)
    details = {
        "active_tenants": active,
        "tenants_with_recent_backup": recent,
        "tenants_never_backed_up": never,
        "young_tenants_excused": young,
        "tenants_without_recent_backup": stale,
        "corrupt_backups": corrupt,
        "drills_ok": ok_drills,
        "drills_failed": failed_drills,
        "last_drill_at": last.isoformat() if last else None,
        "store": ctx.settings.backup_store,
    }
    problems = []
    if stale:
        problems.append(
            f"{stale} de {active} tenants activos sin respaldo en las últimas 36 h"
            + (f" ({never} sin ningún respaldo)" if never else "")
        )
    if corrupt:
        problems.append(f"{corrupt} respaldo(s) no superan la verificación")
    if failed_drills:
        problems.append(f"{failed_drills} simulacro(s) de restauración fallidos esta semana")
    if problems:
        return [
            CheckResult(
                "backups", "Respaldos", "degraded", "; ".join(problems) + ".", None, details
            )
        ]
    drill_text = (
        f"{ok_drills} simulacro(s) de restauración correctos esta semana."
        if ok_drills
        else "Aún no hay simulacros de restauración esta semana."
    )
    if active == 0:
        coverage = "No hay tenants activos que respaldar."
    elif recent == active:
        coverage = f"Los {active} tenants activos tienen respaldo en las últimas 36 h."
    else:
        coverage = f"{recent} de {active} tenants activos tienen respaldo en las últimas 36 h"
        if young:
            coverage += f"; {young} creado(s) hace menos de 36 h aún no lo tienen y están en plazo"
        coverage += "."
    if never:
        coverage += f" {never} tenant(s) activos no tienen ningún respaldo todavía."
    return [
        CheckResult(
            "backups",
            "Respaldos",
            "ok",
            f"{coverage} {drill_text}",
            None,
            details,
        )
    ]
