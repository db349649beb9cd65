"""API shapes of the drift audit and usage."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

KIND_LABELS: dict[str, str] = {
    "orphan_database": "Base de datos huérfana",
    "missing_database": "Base de datos ausente",
    "locked_database": "Base de datos bloqueada de un tenant activo",
    "unlocked_database": "Base de datos sin bloquear de un tenant suspendido",
    "orphan_ingress": "Regla de túnel huérfana",
    "missing_ingress": "Ruta de túnel ausente",
    "wrong_service": "Ruta con destino incorrecto",
    "orphan_dns": "Registro DNS huérfano",
    "missing_dns": "Registro DNS ausente",
    "wrong_dns_target": "Registro DNS con destino incorrecto",
    "orphan_container": "Contenedor huérfano",
    "missing_container": "Contenedor ausente",
    "charging_inactive_tenant": "Suscripción cobrando a un tenant inactivo",
    "missing_subscription": "Tenant de pago sin suscripción",
    "missing_backup_file": "Archivo de respaldo ausente",
    "orphan_backup_file": "Archivo de respaldo sin registro",
    "over_user_limit": "Supera el límite de usuarios",
    "over_storage_limit": "Supera el límite de almacenamiento",
}


class FindingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    source: str
    kind: str
    kind_label: str = ""
    resource: str
    tenant_id: int | None
    message: str
    detail: dict[str, Any]
    first_seen_at: datetime
    last_seen_at: datetime
    resolved_at: datetime | None
    fix_job_id: int | None
    fixable: bool = False


class SourceRunOut(BaseModel):
    source: str
    status: str = Field(description="ok | skipped (no configurado) | failed (no se pudo leer)")
    observed: int
    opened: int
    resolved: int
    seconds: float
    error: str | None


class RunOut(BaseModel):
    started_at: datetime
    finished_at: datetime | None
    sources: list[SourceRunOut]


class AuditJobOut(BaseModel):
    job_id: int
    status: str = Field(description="queued | running | succeeded | failed")
    error: str | None = None
    result: RunOut | None = None


class FixOut(BaseModel):
    finding_id: int
    job_id: int
    kind: str


class UsageSampleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    measured_at: datetime
    active_users: int | None
    filestore_bytes: int | None
    database_bytes: int | None
    last_login_at: datetime | None
    error: str | None


class UsageLimits(BaseModel):
    max_users: int | None
    max_storage_mb: int | None


class TenantUsageOut(BaseModel):
    tenant_id: int
    latest: UsageSampleOut | None
    limits: UsageLimits
    over_limits: list[str]
    series: list[UsageSampleOut]


class TopTenantOut(BaseModel):
    tenant_id: int
    subdomain: str
    active_users: int | None
    storage_bytes: int | None
    measured_at: datetime


class UsageAccessIn(BaseModel):
    login: str = Field(min_length=1, max_length=254)
    api_key: str = Field(min_length=1, max_length=500, description="Clave API de Odoo")
