"""API shapes of custom domains (Spanish labels for what the UI shows the operator)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

DomainStatus = Literal["pending_dns", "pending_ssl", "active", "failed", "expired", "removing"]

STATUS_ES: dict[str, str] = {
    "pending_dns": "Esperando DNS",
    "pending_ssl": "Emitiendo certificado",
    "active": "Activo",
    "failed": "Fallido",
    "expired": "Caducado",
    "removing": "Eliminando",
}
PURPOSE_ES: dict[str, str] = {
    "routing": "Dirige el dominio a su ERP",
    "ownership": "Demuestra que el dominio es suyo",
    "ssl": "Permite emitir el certificado TLS",
}


class DomainIn(BaseModel):
    hostname: str = Field(
        min_length=1, max_length=300, description="Dominio del cliente, p. ej. erp.cliente.com"
    )
    ssl_method: Literal["txt", "http"] = Field(
        "txt", description="Validación del certificado: registro TXT o HTTP"
    )


class PrimaryIn(BaseModel):
    admin_password: str | None = Field(
        None,
        max_length=256,
        description=(
            "Solo para tenants sin usuario de servicio (creados antes): contraseña del "
            "administrador de Odoo, para cambiar web.base.url"
        ),
    )


class DomainDeleteIn(BaseModel):
    admin_password: str | None = Field(
        None,
        max_length=256,
        description=(
            "Solo si el dominio es el principal y el tenant no tiene usuario de servicio: "
            "contraseña del administrador de Odoo"
        ),
    )


class DnsRecordOut(BaseModel):
    type: str
    name: str
    value: str
    purpose: str
    description: str


class DomainOut(BaseModel):
    id: int
    tenant_id: int
    hostname: str
    status: DomainStatus
    status_label: str
    status_reason: str | None
    ssl_method: str
    is_primary: bool
    url: str
    records: list[DnsRecordOut]
    cloudflare_status: str | None
    ssl_status: str | None
    created_at: datetime
    last_checked_at: datetime | None
    activated_at: datetime | None
    expires_at: datetime | None
    job_id: int | None = None


class DomainsMeta(BaseModel):
    total: int
    limit: int
    plan: str
    base_url: str
    service_user: bool = Field(
        description="El tenant tiene usuario de servicio en Odoo: no se pide la contraseña "
        "del administrador para cambiar web.base.url"
    )


class DomainList(BaseModel):
    success: bool = True
    data: list[DomainOut]
    meta: DomainsMeta


class LabPublishIn(BaseModel):
    ssl: Literal["active", "pending_validation", "validation_timed_out"] = Field(
        "active", description="Estado del certificado tras publicar el DNS (solo laboratorio)"
    )
