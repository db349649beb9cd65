"""Backup and restore bodies as the API shows and accepts them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from erp_core.api import ListMeta
from erp_core.models import Backup

BackupKind = Literal["scheduled", "manual", "pre-delete", "pre-restore", "pre-move"]
BackupStatus = Literal["running", "succeeded", "failed", "deleted"]
CheckStatus = Literal["ok", "failed"]


class BackupOut(BaseModel):
    id: int
    tenant_id: int
    job_id: int | None
    kind: BackupKind
    status: BackupStatus
    database_name: str
    filename: str | None
    store: str
    size_bytes: int | None
    sha256: str | None
    error: str | None
    created_at: datetime
    started_at: datetime
    finished_at: datetime | None
    verified_at: datetime | None
    verification_status: CheckStatus | None
    verification_error: str | None
    drill_status: CheckStatus | None
    drill_at: datetime | None
    drill_error: str | None


def backup_out(row: Backup) -> BackupOut:
    return BackupOut(
        id=row.id,
        tenant_id=row.tenant_id,
        job_id=row.job_id,
        kind=row.kind,  # type: ignore[arg-type]
        status=row.status,  # type: ignore[arg-type]
        database_name=row.database_name,
        filename=row.location.rsplit("/", 1)[-1] if row.location else None,
        store=row.store,
        size_bytes=row.size_bytes,
        sha256=row.sha256,
        error=row.error,
        created_at=row.started_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        verified_at=row.verified_at,
        verification_status=row.verification_status,  # type: ignore[arg-type]
        verification_error=row.verification_error,
        drill_status=row.drill_status,  # type: ignore[arg-type]
        drill_at=row.drill_at,
        drill_error=row.drill_error,
    )


class BackupStarted(BaseModel):
    """A 202 answer: the job that does the work (follow it at /api/jobs/{id}/events)."""

    job_id: int
    tenant_id: int
    kind: str
    backup_id: int | None = None


class RestoreIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    backup_id: int = Field(ge=1, le=2**63 - 1)
    mode: Literal["in_place", "copy"]
    subdomain: str | None = Field(default=None, min_length=1, max_length=63)

    @model_validator(mode="after")
    def _copy_needs_subdomain(self) -> RestoreIn:
        if self.mode == "copy" and not self.subdomain:
            raise ValueError("Indique el subdominio del tenant nuevo para restaurar una copia.")
        if self.mode == "in_place" and self.subdomain:
            raise ValueError("El subdominio solo se indica al restaurar como copia.")
        if self.subdomain:
            self.subdomain = self.subdomain.strip().lower()
        return self


class RestoreStarted(BaseModel):
    job_id: int
    mode: Literal["in_place", "copy"]
    backup_id: int
    tenant_id: int
    """The tenant the job works on: the same one (in place) or the new copy."""
    subdomain: str
    admin_login: str | None = None
    admin_password: str | None = None
    """Copy only: the copy's own Odoo admin password, shown once and never stored."""


class BackupListMeta(ListMeta):
    """Pagination plus the tenant's backup health: last success and last restore drill."""

    last_success_at: datetime | None = None
    last_drill_at: datetime | None = None
    last_drill_status: CheckStatus | None = None


class BackupPage(BaseModel):
    success: bool = True
    data: list[BackupOut]
    meta: BackupListMeta
