"""Shapes of the infrastructure API (sizes in bytes unless the name says MB/GB)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class NodeOut(BaseModel):
    id: int
    hostname: str
    status: str
    cpu_total: int
    cpu_usage: float | None = Field(None, description="Fracción de CPU en uso (0..1)")
    ram_total: int
    ram_used: int | None
    disk_total: int
    disk_used: int | None
    tunnel_id: str | None
    containers: int
    last_seen_at: datetime | None


class NodeUpdate(BaseModel):
    tunnel_id: str | None = Field(
        None, max_length=64, pattern=r"^[A-Za-z0-9-]+$", description="Túnel de Cloudflare"
    )


class TenantRef(BaseModel):
    id: int
    subdomain: str
    status: str


class ContainerOut(BaseModel):
    id: int
    vmid: int
    node: str
    hostname: str | None
    ip_address: str | None
    status: str
    cpu_cores: int
    cpu_usage: float | None
    ram_mb: int
    ram_used: int | None
    disk_gb: int
    disk_used: int | None
    last_seen_at: datetime | None
    tenant: TenantRef | None


class MetricPoint(BaseModel):
    t: datetime
    cpu: float | None
    cpu_max: float | None
    ram: float | None
    ram_max: float | None
    disk: float | None
    disk_max: float | None
    netin: float | None
    netin_max: float | None
    netout: float | None
    netout_max: float | None
    samples: int


class MetricSeries(BaseModel):
    kind: str
    id: int
    source: str = Field(description="raw (muestras) u hourly (agregados por hora)")
    step: int
    points: list[MetricPoint]


class TunnelOut(BaseModel):
    id: str
    name: str
    status: str
    connections: int
    created_at: datetime | None
    nodes: list[str]
    servers: list[str]
