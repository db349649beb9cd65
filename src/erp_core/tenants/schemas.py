"""Tenant, Odoo server and subdomain-check bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator, model_validator

from erp_core.models.tenants import TenantStatus
from erp_core.plans import PlanCode
from erp_core.tenants.history import OperationOut, TenantRef
from erp_core.tenants.odoo_locales import ODOO_COUNTRIES, ODOO_LANGUAGES
from erp_core.tenants.subdomains import subdomain_problem

LANG_RE = r"^[a-z]{2}(_[A-Z]{2})?$"
SERVER_URL_RE = r"^https?://[^\s/]+(:\d+)?/?$"
SSH_USER_RE = r"^[a-z_][a-z0-9_.-]{0,31}$"
CLI_WORD = r"[A-Za-z0-9_./@:+=,-]+"


class TenantCreate(BaseModel):
    """The seed's TenantCreate plus optional admin password, language and country."""

    model_config = ConfigDict(extra="forbid")

    company_name: str = Field(min_length=2, max_length=200)
    email: EmailStr
    subdomain: str = Field(min_length=1, max_length=63)
    plan: PlanCode
    admin_password: str | None = Field(default=None, min_length=10, max_length=128)
    language: str = Field(default="es_ES", min_length=2, max_length=16)
    country: str | None = Field(default=None, min_length=2, max_length=2)

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        """Odoo's own codes only: ``es`` passes a pattern yet breaks the database."""
        if value not in ODOO_LANGUAGES:
            raise ValueError(
                f"El idioma «{value}» no existe en Odoo; use un código completo como es_ES, "
                "es_419 o en_US."
            )
        return value

    @field_validator("country")
    @classmethod
    def _country(cls, value: str | None) -> str | None:
        """Odoo's countries only: an unknown code leaves the database with admin/admin."""
        if value is None:
            return None
        if value.upper() not in ODOO_COUNTRIES:
            raise ValueError(
                f"El país «{value}» no existe en Odoo; use un código ISO de dos letras como DO."
            )
        return value.upper()

    @field_validator("company_name")
    @classmethod
    def _company(cls, value: str) -> str:
        value = " ".join(value.split())
        if len(value) < 2:
            raise ValueError("El nombre de la empresa es demasiado corto.")
        return value

    @field_validator("subdomain")
    @classmethod
    def _subdomain(cls, value: str) -> str:
        problem = subdomain_problem(value)
        if problem:
            raise ValueError(problem)
        return value


class TenantOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    customer_id: int
    subdomain: str
    company_name: str
    email: str
    plan: str
    status: TenantStatus
    suspension_reason: Literal["manual", "billing"] | None
    url: str
    odoo_server_id: int | None
    language: str
    country: str | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    job_id: int | None = None
    admin_login: str | None = Field(default=None, description="Usuario administrador de Odoo")


class TenantDetail(TenantOut):
    """The tenant page: also its past operations and, for a restored copy, its source."""

    restored_from: TenantRef | None = Field(
        default=None, description="Tenant de origen si es una copia restaurada de un respaldo"
    )
    operations: list[OperationOut] = Field(default_factory=list)


class TenantCreated(TenantOut):
    admin_login: str | None = Field(
        default=None, description="El usuario al que pertenece la contraseña de un solo uso"
    )
    admin_password: str | None = Field(
        default=None, description="Solo si se generó: se muestra en esta respuesta y nunca más"
    )


class SubdomainCheck(BaseModel):
    subdomain: str
    available: bool
    reason: str | None


class SuspendIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Literal["manual", "billing"] = "manual"


class OdooServerHostFields(BaseModel):
    """Host mode (issue 10): SSH to the host, optionally `pct exec <vmid> --`, Odoo's CLI.

    `ssh_private_key` is write-only (stored encrypted, answered as a fingerprint)."""

    ssh_host: str | None = Field(default=None, pattern=r"^[A-Za-z0-9.:-]{1,253}$")
    ssh_port: int | None = Field(default=None, ge=1, le=65535)
    ssh_user: str | None = Field(default=None, pattern=SSH_USER_RE)
    ssh_private_key: str | None = Field(default=None, min_length=32, max_length=16_384)
    known_hosts: str | None = Field(default=None, max_length=20_000)
    pct_vmid: int | None = Field(default=None, ge=100, le=999_999_999)
    odoo_user: str | None = Field(default=None, pattern=SSH_USER_RE)
    odoo_bin: str | None = Field(
        default=None, pattern=rf"^{CLI_WORD}( {CLI_WORD})*$", max_length=300
    )
    odoo_conf: str | None = Field(default=None, pattern=rf"^{CLI_WORD}$", max_length=300)
    custom_create_script: str | None = Field(default=None, pattern=rf"^{CLI_WORD}$", max_length=300)
    internal_url: str | None = Field(default=None, pattern=SERVER_URL_RE, max_length=500)


class OdooServerIn(OdooServerHostFields):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=2, max_length=100)
    url: str = Field(pattern=SERVER_URL_RE, max_length=500)
    mode: Literal["rpc", "host"] = "rpc"
    master_password: str | None = Field(default=None, min_length=8, max_length=256)
    capacity: int = Field(default=50, ge=0, le=100_000)
    state: Literal["active", "draining", "down"] = "active"
    tunnel_id: str | None = Field(default=None, max_length=64, pattern=r"^[A-Za-z0-9-]+$")

    @model_validator(mode="after")
    def _mode_needs(self) -> OdooServerIn:
        if self.mode == "rpc" and not self.master_password:
            raise ValueError("El modo rpc necesita la contraseña maestra de Odoo.")
        if self.mode == "host" and not self.ssh_host:
            raise ValueError("El modo host necesita el host SSH (ssh_host).")
        return self


class OdooServerUpdate(OdooServerHostFields):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=2, max_length=100)
    url: str | None = Field(default=None, pattern=SERVER_URL_RE, max_length=500)
    mode: Literal["rpc", "host"] | None = None
    master_password: str | None = Field(default=None, min_length=8, max_length=256)
    capacity: int | None = Field(default=None, ge=0, le=100_000)
    state: Literal["active", "draining", "down"] | None = None
    tunnel_id: str | None = Field(default=None, max_length=64, pattern=r"^[A-Za-z0-9-]+$")


class OdooServerOut(BaseModel):
    id: int
    name: str
    url: str
    mode: Literal["rpc", "host"]
    state: Literal["active", "draining", "down"]
    capacity: int
    tenants: int
    free: int
    tunnel_id: str | None
    is_default: bool
    version: str | None
    health: Literal["ok", "down", "unknown"]
    latency_ms: float | None
    health_detail: str | None
    display_name: str = Field(
        default="", description="Nombre para mostrar (el subdominio del tenant si es dedicado)"
    )
    dedicated: bool = Field(default=False, description="Contenedor dedicado a un solo tenant")
    status_label: str = Field(
        default="", description="Estado para mostrar: «Caído» si no responde, nunca «Activo»"
    )
    capacity_label: str = Field(default="", description="Ocupación para mostrar")
    ssh_host: str | None = None
    ssh_port: int | None = None
    ssh_user: str | None = None
    ssh_key_fingerprint: str | None = Field(
        default=None, description="SHA256 de la clave privada SSH guardada (nunca la clave)"
    )
    known_hosts: str | None = None
    pct_vmid: int | None = None
    odoo_user: str | None = None
    odoo_bin: str | None = None
    odoo_conf: str | None = None
    custom_create_script: str | None = None
    internal_url: str | None = None
