"""Tenants (one Odoo database behind one subdomain), the Odoo servers that host them, and
each tenant's current deployment."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, get_args

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Computed,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from erp_core.models.base import Base, Timestamps, check_in

# The one list of tenant states: the column's CHECK, the API's enum and filters derive from it.
TenantStatus = Literal[
    "pending",
    "provisioning",
    "active",
    "suspending",
    "suspended",
    "reactivating",
    "deleting",
    "deleted",
    "failed",
]
TENANT_STATUSES: tuple[str, ...] = get_args(TenantStatus)
SUSPENSION_REASONS = ("manual", "billing")
SERVER_STATES = ("active", "draining", "down")
SERVER_MODES = ("rpc", "host")


class OdooServer(Timestamps, Base):
    """A shared Odoo process hosting many tenant databases (the seed's LXC 105)."""

    __tablename__ = "odoo_servers"
    __table_args__ = (
        CheckConstraint(check_in("state", SERVER_STATES), name="state"),
        CheckConstraint(check_in("mode", SERVER_MODES), name="mode"),
        CheckConstraint("capacity >= 0", name="capacity"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False, unique=True)
    url: Mapped[str] = mapped_column(String(500), nullable=False)
    master_password_enc: Mapped[str] = mapped_column(Text, nullable=False)
    version: Mapped[str | None] = mapped_column(String(32))
    capacity: Mapped[int] = mapped_column(Integer, nullable=False, default=50)
    state: Mapped[str] = mapped_column(String(16), nullable=False, default="active")
    mode: Mapped[str] = mapped_column(String(8), nullable=False, default="rpc")
    tunnel_id: Mapped[str | None] = mapped_column(String(64))
    is_default: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # host mode (issue 10): SSH to the host, optionally `pct exec <vmid> --`, Odoo's CLI
    ssh_host: Mapped[str | None] = mapped_column(String(253))
    ssh_port: Mapped[int | None] = mapped_column(Integer)
    ssh_user: Mapped[str | None] = mapped_column(String(32))
    ssh_key_enc: Mapped[str | None] = mapped_column(Text)
    known_hosts: Mapped[str | None] = mapped_column(Text)
    pct_vmid: Mapped[int | None] = mapped_column(Integer)
    odoo_user: Mapped[str | None] = mapped_column(String(32))
    odoo_bin: Mapped[str | None] = mapped_column(String(300))
    odoo_conf: Mapped[str | None] = mapped_column(String(300))
    custom_create_script: Mapped[str | None] = mapped_column(String(300))
    internal_url: Mapped[str | None] = mapped_column(String(500))


class Tenant(Timestamps, Base):
    __tablename__ = "tenants"
    __table_args__ = (
        CheckConstraint(check_in("status", TENANT_STATUSES), name="status"),
        CheckConstraint(
            "suspension_reason IS NULL OR " + check_in("suspension_reason", SUSPENSION_REASONS),
            name="suspension_reason",
        ),
        Index(
            "uq_tenants_subdomain_live",
            "subdomain",
            unique=True,
            postgresql_where=text("status <> 'deleted'"),
        ),
        Index("ix_tenants_status", "status"),
        Index("ix_tenants_plan", "plan"),
        Index("ix_tenants_created_at", "created_at"),
        Index(
            "ix_tenants_live_created_at_id",
            "created_at",
            "id",
            postgresql_where=text("status <> 'deleted'"),
        ),
        Index(
            "ix_tenants_search_text_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
        Index("ix_tenants_customer_id", "customer_id"),
        Index("ix_tenants_odoo_server_id", "odoo_server_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="RESTRICT"), nullable=False
    )
    subdomain: Mapped[str] = mapped_column(String(63), nullable=False)
    company_name: Mapped[str] = mapped_column(String(200), nullable=False)
    plan: Mapped[str] = mapped_column(String(32), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")
    suspension_reason: Mapped[str | None] = mapped_column(String(16))
    odoo_server_id: Mapped[int | None] = mapped_column(
        ForeignKey("odoo_servers.id", ondelete="RESTRICT")
    )
    language: Mapped[str] = mapped_column(String(16), nullable=False, default="es_ES")
    country: Mapped[str | None] = mapped_column(String(2))
    admin_login: Mapped[str] = mapped_column(String(254), nullable=False)
    # The Odoo service user the control plane logs in with after creation (the admin's
    # password is shown once, never kept). NULL for tenants created before it existed.
    service_login: Mapped[str | None] = mapped_column(String(254))
    service_password_enc: Mapped[str | None] = mapped_column(Text)
    last_error: Mapped[str | None] = mapped_column(Text)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # What the list's free-text search reads: one trigram-indexed column on this table, so a
    # search over 100k tenants is an index scan with no join before LIMIT.
    search_text: Mapped[str] = mapped_column(
        Text,
        Computed("lower(subdomain || ' ' || company_name || ' ' || admin_login)", persisted=True),
    )


class TenantDeployment(Timestamps, Base):
    """Where a tenant runs now: server, tunnel, URL and how long the last provisioning took."""

    __tablename__ = "tenant_deployments"
    __table_args__ = (
        CheckConstraint(check_in("status", TENANT_STATUSES), name="status"),
        Index("ix_tenant_deployments_subdomain", "subdomain"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False, unique=True
    )
    subdomain: Mapped[str] = mapped_column(String(63), nullable=False)
    tunnel_id: Mapped[str | None] = mapped_column(String(64))
    tunnel_url: Mapped[str | None] = mapped_column(String(500))
    plan_type: Mapped[str] = mapped_column(String(32), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    odoo_server_id: Mapped[int | None] = mapped_column(
        ForeignKey("odoo_servers.id", ondelete="SET NULL")
    )
    database_name: Mapped[str] = mapped_column(String(63), nullable=False)
    service_url: Mapped[str | None] = mapped_column(String(500))
    provisioned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    provision_ms: Mapped[int | None] = mapped_column(Integer)
    last_checked_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class TenantStatusChange(Base):
    """Every status a tenant took, and when: month-end counts are read from here."""

    __tablename__ = "tenant_status_changes"
    __table_args__ = (
        CheckConstraint(check_in("status", TENANT_STATUSES), name="status"),
        Index("ix_tenant_status_changes_tenant_id_at", "tenant_id", "at"),
        Index("ix_tenant_status_changes_at", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False
    )
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    tenant: Mapped[Tenant] = relationship(lazy="raise")
