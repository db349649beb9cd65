"""Custom domains of tenants (issue 17): the customer's own hostname, served through
Cloudflare for SaaS with a certificate Cloudflare issues."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from erp_core.models.base import Base, Timestamps, check_in

DOMAIN_STATUSES = ("pending_dns", "pending_ssl", "active", "failed", "expired", "removing")
SSL_METHODS = ("txt", "http")


class TenantDomain(Timestamps, Base):
    """One custom hostname of a tenant.

    ``hostname`` is unique across all tenants (punycode, lower case): Cloudflare holds one
    custom hostname per name in the zone, so two tenants can never share one.
    ``dns_records`` is what the customer must create, as Cloudflare last reported it.
    """

    __tablename__ = "tenant_domains"
    __table_args__ = (
        CheckConstraint(check_in("status", DOMAIN_STATUSES), name="status"),
        CheckConstraint(check_in("ssl_method", SSL_METHODS), name="ssl_method"),
        Index("uq_tenant_domains_hostname", "hostname", unique=True),
        Index("ix_tenant_domains_tenant_id", "tenant_id"),
        Index("ix_tenant_domains_status_created_at", "status", "created_at"),
        Index(
            "uq_tenant_domains_one_primary",
            "tenant_id",
            unique=True,
            postgresql_where=text("is_primary"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False
    )
    hostname: Mapped[str] = mapped_column(String(253), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="pending_dns")
    status_reason: Mapped[str | None] = mapped_column(Text)
    ssl_method: Mapped[str] = mapped_column(String(8), nullable=False, default="txt")
    cloudflare_id: Mapped[str | None] = mapped_column(String(64))
    cloudflare_status: Mapped[str | None] = mapped_column(String(32))
    ssl_status: Mapped[str | None] = mapped_column(String(32))
    dns_records: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False, default=list)
    is_primary: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    last_checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    activated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
