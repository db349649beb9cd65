"""Backup endpoints: list, back up now, restore, verify, delete, download (streamed file)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, StreamingResponse

from erp_core.api import Envelope, Pagination, error_responses, ok
from erp_core.backups import service
from erp_core.backups.schemas import (
    BackupListMeta,
    BackupPage,
    BackupStarted,
    RestoreIn,
    RestoreStarted,
    backup_out,
)
from erp_core.deps import Admin, Ctx, Operator, Session, Viewer

router = APIRouter(prefix="/api", tags=["backups"])


def _accepted(payload: object) -> JSONResponse:
    return JSONResponse(jsonable_encoder(ok(payload)), status_code=202)


@router.get(
    "/tenants/{tenant_id}/backups",
    response_model=BackupPage,
    responses=error_responses(401, 404, 422),
)
async def list_backups(
    tenant_id: int,
    actor: Viewer,
    session: Session,
    pagination: Annotated[Pagination, Depends()],
    include_deleted: bool = False,
) -> object:
    rows, total, summary = await service.list_backups(
        session,
        tenant_id,
        offset=pagination.offset,
        limit=pagination.per_page,
        include_deleted=include_deleted,
    )
    meta = BackupListMeta(
        **pagination.meta(total).model_dump(),
        last_success_at=summary.last_success_at,
        last_drill_at=summary.last_drill_at,
        last_drill_status=summary.last_drill_status,
    )
    return BackupPage(data=[backup_out(r) for r in rows], meta=meta)


@router.post(
    "/tenants/{tenant_id}/backups",
    status_code=202,
    response_model=Envelope[BackupStarted],
    responses=error_responses(401, 403, 404, 409, 422),
)
async def create_backup(tenant_id: int, actor: Operator, ctx: Ctx, session: Session) -> object:
    job = await service.start_backup(session, ctx, actor, tenant_id)
    return _accepted(BackupStarted(job_id=job.id, tenant_id=tenant_id, kind="manual"))


@router.post(
    "/tenants/{tenant_id}/restore",
    status_code=202,
    response_model=Envelope[RestoreStarted],
    responses=error_responses(401, 403, 404, 409, 422),
)
async def restore_backup(
    tenant_id: int, body: RestoreIn, actor: Operator, ctx: Ctx, session: Session
) -> object:
    admin_password = None
    if body.mode == "copy":
        assert body.subdomain is not None
        job, tenant, admin_password = await service.start_restore_copy(
            session, ctx, actor, tenant_id, body.backup_id, body.subdomain
        )
    else:
        job, tenant = await service.start_restore_in_place(
            session, ctx, actor, tenant_id, body.backup_id
        )
    out = RestoreStarted(
        job_id=job.id,
        mode=body.mode,
        backup_id=body.backup_id,
        tenant_id=tenant.id,
        subdomain=tenant.subdomain,
        admin_login=tenant.admin_login if admin_password else None,
        admin_password=admin_password,
    )
    return _accepted(out)


@router.post(
    "/backups/{backup_id}/verify",
    status_code=202,
    response_model=Envelope[BackupStarted],
    responses=error_responses(401, 403, 404, 409, 422),
)
async def verify_backup(backup_id: int, actor: Operator, ctx: Ctx, session: Session) -> object:
    job, backup = await service.start_verify(session, ctx, actor, backup_id)
    return _accepted(
        BackupStarted(job_id=job.id, tenant_id=backup.tenant_id, kind=job.kind, backup_id=backup.id)
    )


@router.delete(
    "/backups/{backup_id}",
    status_code=202,
    response_model=Envelope[BackupStarted],
    responses=error_responses(401, 403, 404, 409, 422),
)
async def delete_backup(backup_id: int, actor: Admin, ctx: Ctx, session: Session) -> object:
    job, backup = await service.start_delete(session, ctx, actor, backup_id)
    return _accepted(
        BackupStarted(job_id=job.id, tenant_id=backup.tenant_id, kind=job.kind, backup_id=backup.id)
    )


@router.get(
    "/backups/{backup_id}/download",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/zip": {}}, "description": "El zip del respaldo."},
        **error_responses(401, 403, 404, 409, 422),
    },
)
async def download_backup(
    backup_id: int, actor: Operator, ctx: Ctx, session: Session
) -> StreamingResponse:
    """The backup zip, streamed from the store (admin/operator; every download is audited)."""
    download = await service.open_download(session, ctx, actor, backup_id)
    ascii_name = download.filename.encode("ascii", "replace").decode().replace('"', "")
    headers = {
        "Content-Disposition": (
            f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(download.filename)}"
        ),
        "Cache-Control": "no-store",
    }
    if download.size is not None:
        headers["Content-Length"] = str(download.size)
    return StreamingResponse(download.chunks, media_type="application/zip", headers=headers)
