"""Tenant backups: Odoo's own zip format, stored with its size and checksum."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from erp_core.models.base import Base, check_in

BACKUP_KINDS = ("scheduled", "manual", "pre-delete", "pre-restore", "pre-move")
BACKUP_STATUSES = ("running", "succeeded", "failed", "deleted")
CHECK_RESULTS = ("ok", "failed")


class Backup(Base):
    __tablename__ = "backups"
    __table_args__ = (
        CheckConstraint(check_in("kind", BACKUP_KINDS), name="kind"),
        CheckConstraint(check_in("status", BACKUP_STATUSES), name="status"),
        CheckConstraint(
            "verification_status IS NULL OR " + check_in("verification_status", CHECK_RESULTS),
            name="verification_status",
        ),
        CheckConstraint(
            "drill_status IS NULL OR " + check_in("drill_status", CHECK_RESULTS),
            name="drill_status",
        ),
        Index("ix_backups_status_finished_at", "status", "finished_at"),
        Index("ix_backups_tenant_id_started_at", "tenant_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="RESTRICT"), nullable=False
    )
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="running")
    database_name: Mapped[str] = mapped_column(String(63), nullable=False)
    location: Mapped[str | None] = mapped_column(String(1000))
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Which BackupStore holds `location` (a key relative to that store's root).
    store: Mapped[str] = mapped_column(String(16), nullable=False, server_default="local")
    # Last integrity check (sha256 recomputed + zip index): ok | failed, and why.
    verification_status: Mapped[str | None] = mapped_column(String(16))
    verification_error: Mapped[str | None] = mapped_column(Text)
    # Last restore drill (restored into a scratch database, opened, dropped).
    drill_status: Mapped[str | None] = mapped_column(String(16))
    drill_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    drill_error: Mapped[str | None] = mapped_column(Text)
