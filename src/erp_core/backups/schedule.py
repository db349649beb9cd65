"""The daily backup schedule and retention, run by periodic tasks.

Every minute inside the window (BACKUP_WINDOW_START..END, UTC hours, may wrap midnight)
each active Odoo server gets at most BACKUP_MAX_PER_SERVER backup-type jobs open at once;
free slots go to active tenants that have no scheduled backup in the current window yet.
A finished scheduled backup refills its slot at once, so a server's tenants are backed up
one after another without waiting for the next tick. Counting and enqueuing happen under a
per-server advisory lock, so the tick and the refill never over-fill a server.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError

from erp_core.backups.retention import BackupFacts, RetentionPolicy, backups_to_delete
from erp_core.context import AppContext
from erp_core.db import run_after_commit
from erp_core.drivers.factory import store_for
from erp_core.drivers.store import StoreError
from erp_core.models import Backup, Job, OdooServer, Plan, Tenant
from erp_core.runner.service import start_job

log = logging.getLogger(__name__)

SCHEDULE_LOCK_CLASS = 7281
LOAD_KINDS = ("backup", "restore", "backup_drill")
"""Job kinds that stream a whole database from a server: they share its backup slots."""
MAX_FAILED_PER_WINDOW = 2


def window_start(now: datetime, start_hour: int, end_hour: int) -> datetime | None:
    """Start of the window ``now`` falls in, or None outside it (end may wrap midnight)."""
    now = now.astimezone(UTC)
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    start, end = start_hour % 24, end_hour
    if start == end % 24:  # a 24-hour window
        return (
            today + timedelta(hours=start)
            if now.hour >= start
            else today - timedelta(hours=24 - start)
        )
    if start < end:
        return today + timedelta(hours=start) if start <= now.hour < end else None
    if now.hour >= start:
        return today + timedelta(hours=start)
    if now.hour < end % 24:
        return today - timedelta(hours=24 - start)
    return None


async def run_schedule(
    ctx: AppContext, now: datetime | None = None, *, finishing_job: int | None = None
) -> list[int]:
    """Enqueue the due scheduled backups that fit in each server's free slots; job ids.

    ``finishing_job`` is a job calling from its completion hook: it is about to close, so
    it does not hold a slot any more.
    """
    settings = ctx.settings
    now = now or datetime.now(UTC)
    since = window_start(now, settings.backup_window_start, settings.backup_window_end)
    if since is None:
        return []
    async with ctx.db.sessionmaker() as session:
        server_ids = list(
            await session.scalars(
                select(OdooServer.id).where(OdooServer.state == "active").order_by(OdooServer.id)
            )
        )
    started: list[int] = []
    for server_id in server_ids:
        started += await _fill_server(ctx, server_id, since, finishing_job)
    if started:
        log.info("scheduled backups enqueued", extra={"jobs": started})
    return started


async def _fill_server(
    ctx: AppContext, server_id: int, since: datetime, finishing_job: int | None
) -> list[int]:
    async with ctx.db.sessionmaker() as session:
        await session.execute(select(func.pg_advisory_xact_lock(SCHEDULE_LOCK_CLASS, server_id)))
        running = int(
            await session.scalar(
                select(func.count())
                .select_from(Job)
                .join(Tenant, Tenant.id == Job.tenant_id)
                .where(
                    Tenant.odoo_server_id == server_id,
                    Job.kind.in_(LOAD_KINDS),
                    Job.status.in_(("queued", "running")),
                    Job.id != (finishing_job or 0),
                )
            )
            or 0
        )
        free = ctx.settings.backup_max_per_server - running
        if free <= 0:
            return []
        done_today = exists().where(
            Backup.tenant_id == Tenant.id,
            Backup.kind == "scheduled",
            Backup.started_at >= since,
            Backup.status.in_(("running", "succeeded")),
        )
        failures = (
            select(func.count())
            .where(
                Backup.tenant_id == Tenant.id,
                Backup.kind == "scheduled",
                Backup.started_at >= since,
                Backup.status == "failed",
            )
            .scalar_subquery()
        )
        busy = exists().where(Job.tenant_id == Tenant.id, Job.status.in_(("queued", "running")))
        due = list(
            await session.scalars(
                select(Tenant)
                .where(
                    Tenant.odoo_server_id == server_id,
                    Tenant.status == "active",
                    ~done_today,
                    ~busy,
                    failures < MAX_FAILED_PER_WINDOW,
                )
                .order_by(Tenant.id)
                .limit(free)
            )
        )
        job_ids = []
        for tenant in due:
            try:
                async with session.begin_nested():
                    job = await start_job(
                        session, ctx, "backup", tenant.id, {"kind": "scheduled"}, None
                    )
            except IntegrityError:
                continue  # an operator started something on it meanwhile
            job_ids.append(job.id)
        await session.commit()
        await run_after_commit(session)
    return job_ids


# --- retention ---------------------------------------------------------------------------------


@dataclass
class RetentionResult:
    deleted: list[int]
    errors: list[str]


def default_policy(ctx: AppContext) -> RetentionPolicy:
    s = ctx.settings
    return RetentionPolicy(
        daily=s.backup_retention_daily,
        weekly=s.backup_retention_weekly,
        monthly=s.backup_retention_monthly,
        other_days=s.backup_other_retention_days,
    )


async def apply_retention(ctx: AppContext, now: datetime | None = None) -> RetentionResult:
    """Remove what the retention rules say (object first, then the row is marked deleted).

    Both halves are idempotent: a crash in between leaves a row whose object is gone, and
    the next run deletes (nothing) and marks it.
    """
    now = now or datetime.now(UTC)
    base = default_policy(ctx)
    async with ctx.db.sessionmaker() as session:
        rows = (
            await session.execute(
                select(
                    Backup.id,
                    Backup.tenant_id,
                    Backup.kind,
                    Backup.status,
                    Backup.finished_at,
                    Backup.verification_status,
                    Plan.backup_policy,
                )
                .join(Tenant, Tenant.id == Backup.tenant_id)
                .outerjoin(Plan, Plan.code == Tenant.plan)
                .where(Backup.status != "deleted")
            )
        ).all()
        in_use = set(
            await session.scalars(
                select(Job.params["backup_id"].as_integer()).where(
                    Job.status.in_(("queued", "running")), Job.params.has_key("backup_id")
                )
            )
        )
    facts = []
    policies: dict[int, RetentionPolicy] = {}
    for row in rows:
        # A backup that failed verification does not count as a successful one.
        status = "failed" if row.verification_status == "failed" else row.status
        facts.append(BackupFacts(row.id, row.tenant_id, row.kind, status, row.finished_at))
        policies[row.tenant_id] = RetentionPolicy.merged(base, row.backup_policy)
    doomed = sorted(backups_to_delete(facts, policies, now, default=base))
    result = RetentionResult([], [])
    for backup_id in doomed:
        if backup_id in in_use:
            continue  # a restore or drill is reading it right now
        async with ctx.db.sessionmaker() as session:
            backup = await session.get(Backup, backup_id, with_for_update=True)
            if backup is None or backup.status == "deleted":
                continue
            try:
                if backup.location:
                    await store_for(ctx.settings, backup.store).delete(backup.location)
            except StoreError as exc:
                result.errors.append(f"{backup_id}: {exc.message}")
                continue
            backup.status = "deleted"
            await session.commit()
        result.deleted.append(backup_id)
    if result.deleted:
        log.info("backup retention applied", extra={"deleted": len(result.deleted)})
    return result
