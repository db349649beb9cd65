"""Response models of the dashboard (documented in OpenAPI; the body is served from cache)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class Cluster(BaseModel):
    cpu_used: float
    cpu_total: int
    ram_used: int
    ram_total: int
    disk_used: int
    disk_total: int


class JobCounts(BaseModel):
    running: int
    queued: int
    failed_24h: int


class DriftCounts(BaseModel):
    """Open drift findings (issue 18): vendor mismatches, and tenants over a plan limit."""

    open_findings: int = 0
    tenants_over_limit: int = 0


class DashboardMetricsOut(BaseModel):
    tenants_by_status: dict[str, int]
    tenants_by_plan: dict[str, int]
    tenants_total: int
    new_tenants_this_month: int
    new_tenants_last_month: int
    currency: str
    mrr: int
    mrr_change: float | None
    arr: int
    customer_churn_rate: float | None
    cluster: Cluster | None
    jobs: JobCounts
    drift: DriftCounts = DriftCounts()
    generated_at: datetime | None = None


class RecentTenant(BaseModel):
    id: int
    subdomain: str
    company_name: str
    plan: str
    status: str
    created_at: datetime
    email: str


class NodeLoad(BaseModel):
    id: int
    hostname: str
    status: str
    cpu_total: int
    cpu_usage: float | None
    ram_used: int | None
    ram_total: int
    disk_used: int | None
    disk_total: int
    sampled_at: datetime | None


class ServerCapacity(BaseModel):
    id: int
    name: str
    state: str
    mode: str
    capacity: int
    is_default: bool
    tenants: int
    free: int


class MrrPoint(BaseModel):
    month: str
    mrr: int


class TenantSeriesPoint(BaseModel):
    month: str
    counts: dict[str, int]


class FailedJob(BaseModel):
    id: int
    tenant_id: int | None
    subdomain: str | None
    kind: str
    error: str | None
    finished_at: datetime | None


class DashboardAll(BaseModel):
    metrics: DashboardMetricsOut
    recent_tenants: list[RecentTenant]
    nodes: list[NodeLoad]
    odoo_servers: list[ServerCapacity]
    mrr_series: list[MrrPoint]
    tenant_series: list[TenantSeriesPoint]
    failed_jobs: list[FailedJob]
    generated_at: datetime
