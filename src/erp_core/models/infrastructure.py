"""The Proxmox cluster as last synced: nodes, containers and their resource samples."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Computed,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from erp_core.models.base import Base, Timestamps, check_in

NODE_STATUSES = ("online", "offline", "unknown", "vanished")
CONTAINER_STATUSES = ("running", "stopped", "unknown", "vanished", "provisioning")


class ProxmoxNode(Timestamps, Base):
    __tablename__ = "proxmox_nodes"
    __table_args__ = (CheckConstraint(check_in("status", NODE_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hostname: Mapped[str] = mapped_column(String(128), nullable=False, unique=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="unknown")
    cpu_total: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    ram_total: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    disk_total: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    tunnel_id: Mapped[str | None] = mapped_column(String(64))
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Last synced usage (what /cluster/resources said at last_seen_at).
    cpu_usage: Mapped[float | None] = mapped_column(Float)
    ram_used: Mapped[int | None] = mapped_column(BigInteger)
    disk_used: Mapped[int | None] = mapped_column(BigInteger)


class LxcContainer(Timestamps, Base):
    __tablename__ = "lxc_containers"
    __table_args__ = (
        CheckConstraint(check_in("status", CONTAINER_STATUSES), name="status"),
        Index("ix_lxc_containers_node_id", "node_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    vmid: Mapped[int] = mapped_column(Integer, nullable=False, unique=True)
    node_id: Mapped[int] = mapped_column(
        ForeignKey("proxmox_nodes.id", ondelete="RESTRICT"), nullable=False
    )
    hostname: Mapped[str | None] = mapped_column(String(128))
    ip_address: Mapped[str | None] = mapped_column(String(64), unique=True)
    cpu_cores: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    ram_mb: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    disk_gb: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="unknown")
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Cumulative network counters at last_seen_at: rates are the difference between syncs.
    netin_total: Mapped[int | None] = mapped_column(BigInteger)
    netout_total: Mapped[int | None] = mapped_column(BigInteger)
    cpu_usage: Mapped[float | None] = mapped_column(Float)
    ram_used: Mapped[int | None] = mapped_column(BigInteger)
    disk_used: Mapped[int | None] = mapped_column(BigInteger)


class ResourceMetric(Base):
    """One sample of a node or a container; `network` is the seed's column (netin + netout)."""

    __tablename__ = "resource_metrics"
    __table_args__ = (
        CheckConstraint("(container_id IS NOT NULL) <> (node_id IS NOT NULL)", name="one_subject"),
        Index("ix_resource_metrics_container_id_timestamp", "container_id", "timestamp"),
        Index("ix_resource_metrics_node_id_timestamp", "node_id", "timestamp"),
        Index("ix_resource_metrics_timestamp", "timestamp"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    container_id: Mapped[int | None] = mapped_column(
        ForeignKey("lxc_containers.id", ondelete="CASCADE")
    )
    node_id: Mapped[int | None] = mapped_column(ForeignKey("proxmox_nodes.id", ondelete="CASCADE"))
    cpu: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    ram: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    disk: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    netin: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    netout: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    network: Mapped[float] = mapped_column(Float, Computed("netin + netout", persisted=True))
    timestamp: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
