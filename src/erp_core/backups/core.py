"""Take, verify and record one backup: the piece every backup-taking step shares.

Used by the manual/scheduled backup job, the pre-restore step and the pre-delete step.
The zip streams from the Odoo driver straight into the store (never whole in memory); the
stored object's sha256 is then recomputed and its zip index checked before the row says
``succeeded``.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from erp_core.config import Settings
from erp_core.drivers.base import DriverError, OdooDatabaseManager
from erp_core.drivers.factory import store_for
from erp_core.drivers.store import BackupStore, StoreError, backup_key
from erp_core.models import Backup, Tenant
from erp_core.provisioning.backup import BackupInvalid, verify_stored
from erp_core.runner.engine import StepFailed, StepRun

log = logging.getLogger(__name__)


def now_utc() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class TakenBackup:
    id: int
    key: str
    size: int
    sha256: str

    def as_output(self) -> dict[str, Any]:
        return {"backup_id": self.id, "key": self.key, "size": self.size, "sha256": self.sha256}


async def verify_object(store: BackupStore, key: str, sha256: str | None) -> None:
    """Recompute the stored object's sha256 and check the zip index; BackupInvalid if not."""
    if not sha256:
        raise BackupInvalid("El respaldo no tiene suma de comprobación registrada.")
    try:
        async with store.local_copy(key) as path:
            await asyncio.to_thread(verify_stored, path, sha256)
    except StoreError as exc:
        raise BackupInvalid(exc.message) from exc


async def record_verification(run: StepRun, backup_id: int, error: str | None) -> None:
    async with run.session() as session:
        row = await session.get(Backup, backup_id)
        if row is None:
            return
        row.verification_status = "failed" if error else "ok"
        row.verification_error = error
        if error is None:
            row.verified_at = now_utc()


async def _open_row(
    run: StepRun, tenant: Tenant, kind: str, store_name: str, database: str
) -> Backup:
    """This job's unfinished row of this kind (a resumed step reuses it), or a new one."""
    async with run.session() as session:
        row = await session.scalar(
            select(Backup).where(
                Backup.job_id == run.job_id, Backup.kind == kind, Backup.status == "running"
            )
        )
        if row is None:
            row = Backup(
                tenant_id=tenant.id,
                job_id=run.job_id,
                kind=kind,
                status="running",
                database_name=database,
                store=store_name,
            )
            session.add(row)
            await session.flush()
        if row.location is None:
            row.started_at = now_utc()
            row.location = backup_key(tenant.subdomain, kind, row.id, row.started_at)
            await session.flush()
        session.expunge(row)
        return row


async def fail_row(run: StepRun, backup_id: int, error: str) -> None:
    async with run.session() as session:
        row = await session.get(Backup, backup_id)
        if row is not None and row.status == "running":
            row.status, row.error, row.finished_at = "failed", error, now_utc()


async def store_backup(
    run: StepRun,
    odoo: OdooDatabaseManager,
    tenant: Tenant,
    kind: str,
    settings: Settings,
    database: str,
) -> TakenBackup:
    """Stream ``tenant``'s database into the store; the row stays ``running`` until verified.

    ``database`` is the physical name (``__susp_…`` while suspended: a tenant suspended for
    non-payment is still backed up, and backed up again before retention deletes it); the
    store key keeps the subdomain so a tenant's backups sit together whatever its state."""
    store = store_for(settings)
    row = await _open_row(run, tenant, kind, store.name, database)
    assert row.location is not None
    try:
        async with odoo.backup_stream(database) as chunks:
            put = await store.put(row.location, chunks)
    except (DriverError, StoreError) as exc:
        await fail_row(run, row.id, exc.message)
        raise
    except Exception:
        await fail_row(run, row.id, "El respaldo no se pudo completar.")
        raise
    async with run.session() as session:
        saved = await session.get(Backup, row.id)
        assert saved is not None
        saved.size_bytes, saved.sha256 = put.size, put.sha256
    await run.log("info", f"Respaldo guardado: {put.key} ({put.size} bytes).")
    return TakenBackup(row.id, put.key, put.size, put.sha256)


async def verify_and_finish(run: StepRun, backup_id: int, settings: Settings) -> TakenBackup:
    """Check the stored object; mark the row succeeded (verified) or failed."""
    async with run.session() as session:
        row = await session.get(Backup, backup_id)
        if row is None:
            raise StepFailed("El registro del respaldo ya no existe.")
        session.expunge(row)
    assert row.location is not None
    try:
        await verify_object(store_for(settings, row.store), row.location, row.sha256)
    except BackupInvalid as exc:
        await record_verification(run, backup_id, exc.message)
        await fail_row(run, backup_id, exc.message)
        raise StepFailed(f"El respaldo no es válido: {exc.message}") from exc
    async with run.session() as session:
        saved = await session.get(Backup, backup_id)
        assert saved is not None
        stamp = now_utc()
        saved.status, saved.error, saved.finished_at = "succeeded", None, stamp
        saved.verification_status, saved.verification_error, saved.verified_at = "ok", None, stamp
    sha = row.sha256 or ""
    await run.log("info", f"Respaldo verificado (sha256 {sha[:12]}…, índice del zip correcto).")
    return TakenBackup(backup_id, row.location, row.size_bytes or 0, sha)


async def take_verified_backup(
    run: StepRun, odoo: OdooDatabaseManager, tenant: Tenant, kind: str, database: str
) -> TakenBackup:
    """Stream, store and verify in one go (pre-delete and pre-restore backups)."""
    taken = await store_backup(run, odoo, tenant, kind, run.ctx.settings, database)
    return await verify_and_finish(run, taken.id, run.ctx.settings)
