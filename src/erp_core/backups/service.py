"""Backup use cases: list, back up now, restore (in place or as a new tenant), verify,
delete and download. Writes record a job in the caller's transaction (deferred after
commit); one operation at a time per tenant, enforced by the jobs' partial unique index."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from erp_core.api import Conflict, NotFound
from erp_core.audit.service import record
from erp_core.backups import operations as _operations  # noqa: F401  (registers job kinds)
from erp_core.context import AppContext
from erp_core.dashboard.cache_hooks import invalidate_dashboard
from erp_core.db import on_commit
from erp_core.deps import Actor
from erp_core.drivers.factory import store_for
from erp_core.drivers.store import StoreError
from erp_core.models import Backup, Job, Tenant
from erp_core.runner.service import open_job, start_job
from erp_core.security import generate_password
from erp_core.tenants.credentials import MISSING, has_service_credential
from erp_core.tenants.service import (
    STATUS_ES,
    get_view,
    insert_tenant,
    subdomain_availability,
)

BACKUP_FROM = ("active", "suspended", "failed")
RESTORE_FROM = ("active", "suspended", "failed")


@dataclass
class BackupSummary:
    last_success_at: datetime | None
    last_drill_at: datetime | None
    last_drill_status: Literal["ok", "failed"] | None


async def get_backup(session: AsyncSession, backup_id: int, *, lock: bool = False) -> Backup:
    row = await session.get(Backup, backup_id, with_for_update=lock)
    if row is None:
        raise NotFound(f"El respaldo con ID {backup_id} no existe.", code="BACKUP_NOT_FOUND")
    return row


async def list_backups(
    session: AsyncSession,
    tenant_id: int,
    *,
    offset: int,
    limit: int,
    include_deleted: bool = False,
) -> tuple[list[Backup], int, BackupSummary]:
    await get_view(session, tenant_id)
    where = [Backup.tenant_id == tenant_id]
    if not include_deleted:
        where.append(Backup.status != "deleted")
    total = int(await session.scalar(select(func.count()).select_from(Backup).where(*where)) or 0)
    rows = list(
        await session.scalars(
            select(Backup)
            .where(*where)
            .order_by(Backup.started_at.desc(), Backup.id.desc())
            .offset(offset)
            .limit(limit)
        )
    )
    last_success = await session.scalar(
        select(func.max(Backup.finished_at)).where(
            Backup.tenant_id == tenant_id, Backup.status == "succeeded"
        )
    )
    drill = (
        await session.execute(
            select(Backup.drill_at, Backup.drill_status)
            .where(Backup.tenant_id == tenant_id, Backup.drill_at.is_not(None))
            .order_by(Backup.drill_at.desc())
            .limit(1)
        )
    ).first()
    summary = BackupSummary(
        last_success,
        drill[0] if drill else None,
        "failed" if drill and drill[1] == "failed" else ("ok" if drill else None),
    )
    return rows, total, summary


async def _start(
    session: AsyncSession,
    ctx: AppContext,
    actor: Actor,
    tenant: Tenant,
    kind: str,
    params: dict[str, Any],
    action: str,
) -> Job:
    """Record ``kind`` for ``tenant`` unless another operation is open on it (409)."""
    await session.refresh(tenant, with_for_update=True)
    busy = await open_job(session, tenant.id)
    if busy is not None:
        raise Conflict(
            f"El tenant ya tiene una operación en curso (trabajo {busy}). Espere a que termine.",
            code="TENANT_BUSY",
        )
    try:
        async with session.begin_nested():
            job = await start_job(session, ctx, kind, tenant.id, params, actor.user_id)
    except IntegrityError as exc:
        raise Conflict("El tenant ya tiene una operación en curso.", code="TENANT_BUSY") from exc
    record(session, actor, action, "tenant", tenant.id, {"job_id": job.id, **params})
    return job


def _require_status(tenant: Tenant, allowed: tuple[str, ...], verb: str) -> None:
    if tenant.status not in allowed:
        raise Conflict(
            f"No se puede {verb} un tenant en estado «{STATUS_ES[tenant.status]}».",
            code="INVALID_STATE",
        )


async def start_backup(session: AsyncSession, ctx: AppContext, actor: Actor, tenant_id: int) -> Job:
    tenant = (await get_view(session, tenant_id)).tenant
    _require_status(tenant, BACKUP_FROM, "respaldar")
    return await _start(session, ctx, actor, tenant, "backup", {"kind": "manual"}, "tenant.backup")


def _restorable(backup: Backup) -> None:
    if backup.status != "succeeded" or backup.verification_status == "failed":
        raise Conflict(
            "Solo se restaura un respaldo completado y verificado.", code="BACKUP_NOT_RESTORABLE"
        )


async def start_restore_in_place(
    session: AsyncSession, ctx: AppContext, actor: Actor, tenant_id: int, backup_id: int
) -> tuple[Job, Tenant]:
    tenant = (await get_view(session, tenant_id)).tenant
    backup = await get_backup(session, backup_id)
    if backup.tenant_id != tenant.id:
        raise NotFound(
            f"El respaldo {backup_id} no pertenece al tenant {tenant_id}.", code="BACKUP_NOT_FOUND"
        )
    _restorable(backup)
    _require_status(tenant, RESTORE_FROM, "restaurar")
    params = {
        "backup_id": backup.id,
        "mode": "in_place",
        "scratch": "restore",
        "copy": False,
        "neutralize": False,
    }
    job = await _start(session, ctx, actor, tenant, "restore", params, "tenant.restore")
    return job, tenant


async def start_restore_copy(
    session: AsyncSession,
    ctx: AppContext,
    actor: Actor,
    tenant_id: int,
    backup_id: int,
    subdomain: str,
) -> tuple[Job, Tenant, str]:
    """A new tenant (same customer and plan) from a backup, neutralised: mail and crons off.

    The copy gets its own admin password (returned here, shown once, like at create): the
    restored database still holds the source's, which the copy's users must not share."""
    admin_password = generate_password()
    source = (await get_view(session, tenant_id)).tenant
    backup = await get_backup(session, backup_id)
    if backup.tenant_id != source.id:
        raise NotFound(
            f"El respaldo {backup_id} no pertenece al tenant {tenant_id}.", code="BACKUP_NOT_FOUND"
        )
    _restorable(backup)
    reason = await subdomain_availability(session, subdomain)
    if reason:
        raise Conflict(reason, code="SUBDOMAIN_TAKEN")
    if not has_service_credential(source):
        raise Conflict(
            f"{MISSING} Restaure el respaldo en el mismo tenant o cree uno nuevo.",
            code="SERVICE_CREDENTIAL_MISSING",
        )
    copy = Tenant(
        customer_id=source.customer_id,
        subdomain=subdomain,
        company_name=source.company_name,
        plan=source.plan,
        status="provisioning",
        language=source.language,
        country=source.country,
        admin_login=source.admin_login,
    )
    await insert_tenant(session, copy)
    params = {
        "backup_id": backup.id,
        "source_tenant_id": source.id,
        "mode": "copy",
        "scratch": "restore",
        "copy": True,
        "neutralize": True,
    }
    audited = dict(params)
    params["admin_password_enc"] = ctx.secret_box.encrypt(admin_password)
    job = await start_job(session, ctx, "restore_copy", copy.id, params, actor.user_id)
    record(
        session,
        actor,
        "tenant.restore_copy",
        "tenant",
        copy.id,
        {"job_id": job.id, "subdomain": subdomain, **audited},
    )
    on_commit(session, lambda: invalidate_dashboard(ctx))
    return job, copy, admin_password


async def _backup_in_use(session: AsyncSession, backup_id: int) -> int | None:
    return await session.scalar(
        select(Job.id).where(
            Job.status.in_(("queued", "running")),
            Job.params["backup_id"].as_integer() == backup_id,
        )
    )


async def _start_on_backup(
    session: AsyncSession, ctx: AppContext, actor: Actor, backup_id: int, kind: str, action: str
) -> tuple[Job, Backup]:
    backup = await get_backup(session, backup_id, lock=True)
    if backup.status == "deleted":
        raise Conflict("El respaldo ya fue eliminado.", code="BACKUP_DELETED")
    if backup.status == "running":
        raise Conflict("El respaldo aún se está creando.", code="BACKUP_RUNNING")
    using = await _backup_in_use(session, backup.id)
    if using is not None:
        raise Conflict(
            f"El respaldo está en uso por el trabajo {using}. Espere a que termine.",
            code="BACKUP_IN_USE",
        )
    tenant = await session.get(Tenant, backup.tenant_id)
    assert tenant is not None
    job = await _start(session, ctx, actor, tenant, kind, {"backup_id": backup.id}, action)
    return job, backup


async def start_verify(
    session: AsyncSession, ctx: AppContext, actor: Actor, backup_id: int
) -> tuple[Job, Backup]:
    return await _start_on_backup(session, ctx, actor, backup_id, "backup_verify", "backup.verify")


async def start_delete(
    session: AsyncSession, ctx: AppContext, actor: Actor, backup_id: int
) -> tuple[Job, Backup]:
    return await _start_on_backup(session, ctx, actor, backup_id, "backup_delete", "backup.delete")


@dataclass
class Download:
    filename: str
    size: int | None
    chunks: AsyncIterator[bytes]


async def open_download(
    session: AsyncSession, ctx: AppContext, actor: Actor, backup_id: int
) -> Download:
    """Check the file is there, audit the download, and stream it from the store."""
    backup = await get_backup(session, backup_id)
    if backup.status != "succeeded" or not backup.location:
        raise Conflict("Este respaldo no tiene un archivo descargable.", code="BACKUP_UNAVAILABLE")
    store = store_for(ctx.settings, backup.store)
    try:
        present = await store.exists(backup.location)
    except StoreError as exc:
        raise Conflict(exc.message, code="BACKUP_UNAVAILABLE") from exc
    if not present:
        raise Conflict("El archivo del respaldo no se encuentra.", code="BACKUP_FILE_MISSING")
    record(
        session,
        actor,
        "backup.download",
        "backup",
        backup.id,
        {"tenant_id": backup.tenant_id, "size_bytes": backup.size_bytes},
    )
    key = backup.location

    async def chunks() -> AsyncIterator[bytes]:
        async with store.open(key) as stream:
            async for chunk in stream:
                yield chunk

    return Download(key.rsplit("/", 1)[-1], backup.size_bytes, chunks())
