"""What every source check shares: the control plane's side (one snapshot of our rows,
read once per run) and the shape of an observation.

A check walks its vendor's list calls once (paginated; never one call per tenant where a
list exists), compares with the snapshot and returns observations. A later source (custom
hostnames) is one more class with ``source``, ``configured()`` and ``observe()``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from erp_core.context import AppContext
from erp_core.models import (
    Backup,
    DedicatedContainer,
    OdooServer,
    Plan,
    Subscription,
    Tenant,
)

LIVE_STATUSES = frozenset({"active", "suspended"})
"""Tenants that must exist everywhere; transitional states are left to their job."""


@dataclass(frozen=True, slots=True)
class TenantRow:
    id: int
    subdomain: str
    status: str
    suspension_reason: str | None
    plan: str
    odoo_server_id: int | None


@dataclass(frozen=True, slots=True)
class ServerRow:
    id: int
    name: str
    url: str
    state: str
    mode: str
    tunnel_id: str | None


@dataclass(frozen=True, slots=True)
class ContainerRow:
    tenant_id: int
    node: str
    vmid: int
    hostname: str
    state: str
    released: bool


@dataclass(frozen=True, slots=True)
class BackupRow:
    id: int
    tenant_id: int
    status: str
    store: str
    location: str | None


@dataclass(frozen=True, slots=True)
class PlanRow:
    code: str
    monthly_price: int
    yearly_price: int


@dataclass
class Snapshot:
    """Our side, read in a handful of queries whatever the number of tenants."""

    tenants: dict[int, TenantRow]
    servers: dict[int, ServerRow]
    containers: list[ContainerRow]
    backups: list[BackupRow]
    plans: dict[str, PlanRow]
    subscription_tenants: dict[str, int]

    def tenants_on(self, server_id: int) -> list[TenantRow]:
        return [t for t in self.tenants.values() if t.odoo_server_id == server_id]

    def live_by_subdomain(self) -> dict[str, TenantRow]:
        """Non-deleted tenants by subdomain (the partial unique index makes this 1:1)."""
        return {t.subdomain: t for t in self.tenants.values() if t.status != "deleted"}


async def load_snapshot(session: AsyncSession) -> Snapshot:
    tenants = {
        row.id: TenantRow(*row)
        for row in await session.execute(
            select(
                Tenant.id,
                Tenant.subdomain,
                Tenant.status,
                Tenant.suspension_reason,
                Tenant.plan,
                Tenant.odoo_server_id,
            )
        )
    }
    servers = {
        row.id: ServerRow(*row)
        for row in await session.execute(
            select(
                OdooServer.id,
                OdooServer.name,
                OdooServer.url,
                OdooServer.state,
                OdooServer.mode,
                OdooServer.tunnel_id,
            )
        )
    }
    containers = [
        ContainerRow(tenant_id, node, vmid, hostname, state, released_at is not None)
        for tenant_id, node, vmid, hostname, state, released_at in await session.execute(
            select(
                DedicatedContainer.tenant_id,
                DedicatedContainer.node,
                DedicatedContainer.vmid,
                DedicatedContainer.hostname,
                DedicatedContainer.state,
                DedicatedContainer.released_at,
            )
        )
    ]
    backups = [
        BackupRow(*row)
        for row in await session.execute(
            select(Backup.id, Backup.tenant_id, Backup.status, Backup.store, Backup.location)
        )
    ]
    plans = {
        row.code: PlanRow(*row)
        for row in await session.execute(select(Plan.code, Plan.monthly_price, Plan.yearly_price))
    }
    subscription_tenants = {
        str(sub_id): int(tenant_id or 0)
        for sub_id, tenant_id in await session.execute(
            select(Subscription.stripe_subscription_id, Subscription.tenant_id).where(
                Subscription.stripe_subscription_id.is_not(None),
                Subscription.tenant_id.is_not(None),
            )
        )
    }
    return Snapshot(tenants, servers, containers, backups, plans, subscription_tenants)


@dataclass(frozen=True, slots=True)
class Observation:
    """One mismatch seen now. ``resource`` names the vendor object; with ``kind`` it is
    the finding's identity across runs. ``message`` is Spanish, for the operator."""

    kind: str
    resource: str
    message: str
    tenant_id: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)


class SourceCheck(Protocol):
    """One source of truth. ``observe`` raises DriverError when the vendor cannot be read:
    the run then leaves that source's open findings as they are (nothing resolves on an
    unreadable source)."""

    source: str

    def configured(self, ctx: AppContext) -> bool: ...

    async def observe(self, ctx: AppContext, snapshot: Snapshot) -> list[Observation]: ...
