"""Dedicated containers and metric rollups (issue 4).

``DedicatedContainer`` is at once the VMID/IP reservation, the container↔tenant link and the
home of the container's own Odoo master password: a row is written (under an advisory lock)
before the clone, so two parallel creates can never pick the same VMID or address, and it is
released (``released_at``) once the container is destroyed, freeing both for reuse.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from erp_core.models.base import Base, Timestamps, check_in

DEDICATED_STATES = ("reserved", "active", "suspended", "released")
METRIC_KINDS = ("node", "container")
_LIVE = text("released_at IS NULL")


class DedicatedContainer(Timestamps, Base):
    __tablename__ = "dedicated_containers"
    __table_args__ = (
        CheckConstraint(check_in("state", DEDICATED_STATES), name="state"),
        Index("uq_dedicated_containers_vmid_live", "vmid", unique=True, postgresql_where=_LIVE),
        Index("uq_dedicated_containers_ip_live", "ip_address", unique=True, postgresql_where=_LIVE),
        Index(
            "uq_dedicated_containers_tenant_live", "tenant_id", unique=True, postgresql_where=_LIVE
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False
    )
    node: Mapped[str] = mapped_column(String(128), nullable=False)
    vmid: Mapped[int] = mapped_column(Integer, nullable=False)
    ip_address: Mapped[str] = mapped_column(String(64), nullable=False)
    hostname: Mapped[str] = mapped_column(String(128), nullable=False)
    cpu_cores: Mapped[int] = mapped_column(Integer, nullable=False)
    ram_mb: Mapped[int] = mapped_column(Integer, nullable=False)
    disk_gb: Mapped[int] = mapped_column(Integer, nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False, default="reserved")
    odoo_server_id: Mapped[int | None] = mapped_column(
        ForeignKey("odoo_servers.id", ondelete="SET NULL")
    )
    master_password_enc: Mapped[str | None] = mapped_column(Text)
    overcommitted: Mapped[bool] = mapped_column(
        nullable=False, default=False, server_default=text("false")
    )
    released_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class MetricRollup(Base):
    """Hourly average and maximum of a node's or a container's samples (kept 13 months).

    The primary key (kind, subject_id, bucket) is also the index every range query uses.
    """

    __tablename__ = "resource_metric_rollups"
    __table_args__ = (
        PrimaryKeyConstraint("kind", "subject_id", "bucket", name="pk_resource_metric_rollups"),
        CheckConstraint(check_in("kind", METRIC_KINDS), name="kind"),
        Index("ix_resource_metric_rollups_bucket", "bucket"),
    )

    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    subject_id: Mapped[int] = mapped_column(Integer, nullable=False)
    bucket: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    samples: Mapped[int] = mapped_column(Integer, nullable=False)
    cpu_avg: Mapped[float] = mapped_column(Float, nullable=False)
    cpu_max: Mapped[float] = mapped_column(Float, nullable=False)
    ram_avg: Mapped[float] = mapped_column(Float, nullable=False)
    ram_max: Mapped[float] = mapped_column(Float, nullable=False)
    disk_avg: Mapped[float] = mapped_column(Float, nullable=False)
    disk_max: Mapped[float] = mapped_column(Float, nullable=False)
    netin_avg: Mapped[float] = mapped_column(Float, nullable=False)
    netin_max: Mapped[float] = mapped_column(Float, nullable=False)
    netout_avg: Mapped[float] = mapped_column(Float, nullable=False)
    netout_max: Mapped[float] = mapped_column(Float, nullable=False)
