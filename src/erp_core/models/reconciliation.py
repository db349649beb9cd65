"""Drift findings (issue 18) and hourly usage samples per tenant.

A finding is one mismatch between what the control plane believes and what a vendor
reports, keyed by (kind, resource): the hourly audit bumps ``last_seen_at`` while it holds
and stamps ``resolved_at`` the first run it no longer does. The partial unique index keeps
at most one open finding per key, so two overlapping runs cannot duplicate one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from erp_core.models.base import Base


class ReconciliationFinding(Base):
    __tablename__ = "reconciliation_findings"
    __table_args__ = (
        Index(
            "uq_reconciliation_findings_open",
            "kind",
            "resource",
            unique=True,
            postgresql_where=text("resolved_at IS NULL"),
        ),
        Index("ix_reconciliation_findings_last_seen_at", "last_seen_at"),
        Index("ix_reconciliation_findings_tenant_id", "tenant_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    source: Mapped[str] = mapped_column(String(32), nullable=False)
    kind: Mapped[str] = mapped_column(String(48), nullable=False)
    resource: Mapped[str] = mapped_column(String(500), nullable=False)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="SET NULL"))
    message: Mapped[str] = mapped_column(Text, nullable=False)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    first_seen_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    last_seen_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    fix_job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))


class TenantUsage(Base):
    """One hourly usage reading. ``None`` means "could not be read here", never zero."""

    __tablename__ = "tenant_usage"
    __table_args__ = (Index("ix_tenant_usage_tenant_id_measured_at", "tenant_id", "measured_at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False
    )
    measured_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    active_users: Mapped[int | None] = mapped_column(Integer)
    filestore_bytes: Mapped[int | None] = mapped_column(BigInteger)
    database_bytes: Mapped[int | None] = mapped_column(BigInteger)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    error: Mapped[str | None] = mapped_column(Text)


class TenantUsageAccess(Base):
    """How the usage reader logs in to a tenant's database in RPC mode.

    Odoo's object API needs a user credential (the master password opens only the ``db``
    service), and the control plane keeps no tenant password after provisioning: an
    operator stores a login and an API key (ideally of a read-only internal user) here.
    Without a row, RPC-mode usage is recorded as "not available", never guessed.
    """

    __tablename__ = "tenant_usage_access"

    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    login: Mapped[str] = mapped_column(String(254), nullable=False)
    secret_enc: Mapped[str] = mapped_column(Text, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now(), nullable=False
    )
