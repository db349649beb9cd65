"""Hourly usage per tenant: active internal users, filestore bytes, database bytes, last
login; compared with the plan's limits.

How each figure is read, by server mode:

* **host** (SSH + psql as Odoo's role): everything, including ``pg_database_size``; no Odoo
  login happens, so reading never moves a last-login date.
* **rpc** (JSON-RPC): Odoo's object API as the tenant's service user
  (:mod:`erp_core.tenants.credentials`), or, for tenants created before it, the stored
  usage credential (``tenant_usage_access``: a login and an API key). ``res.users``
  ``search_count`` with ``share = False`` and ``active = True``, the service user excluded
  (it is ours, not the customer's); ``login_date`` of those users, the reading user itself
  excluded too (its own RPC login stamps it); ``ir.attachment`` ``file_size:sum``
  over binary attachments (field attachments included): what Odoo accounts in the
  filestore. Database size is not exposed over RPC: ``None`` ("No disponible").

Per-tenant reads are unavoidable here (no vendor list answers usage); they run with bounded
concurrency. A figure that could not be read is ``None``, never a guess.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from erp_core.context import AppContext
from erp_core.drivers.base import DriverError
from erp_core.drivers.factory import odoo_for
from erp_core.models import OdooServer, Plan, Tenant, TenantUsage, TenantUsageAccess
from erp_core.provisioning.naming import tenant_database
from erp_core.reconciliation.checks.base import Observation
from erp_core.reconciliation.service import persist
from erp_core.tenants.credentials import service_credential

log = logging.getLogger(__name__)

OVER_USERS = "over_user_limit"
OVER_STORAGE = "over_storage_limit"
NO_ACCESS = (
    "Sin credencial de lectura (servidor en modo RPC): el tenant no tiene usuario de servicio."
)


@dataclass
class UsageReading:
    active_users: int | None = None
    filestore_bytes: int | None = None
    database_bytes: int | None = None
    last_login_at: datetime | None = None
    error: str | None = None


def parse_odoo_datetime(value: Any) -> datetime | None:
    """Odoo sends UTC datetimes as ``YYYY-MM-DD HH:MM:SS`` (``False`` when unset)."""
    if not value or not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value[:19], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None


async def read_rpc_usage(
    odoo: Any, db: str, login: str, secret: str, exclude_logins: Sequence[str] = ()
) -> UsageReading:
    """The object calls a real Odoo 17–19 answers (see the module docstring).
    ``exclude_logins``: the control plane's own service user, never the customer's."""
    uid = await odoo.verify_login(db, login, secret)
    internal: list[Any] = [["share", "=", False], ["active", "=", True]]
    if exclude_logins:
        internal.append(["login", "not in", list(exclude_logins)])
    users = await odoo.execute_kw(db, uid, secret, "res.users", "search_count", [internal])
    logins = await odoo.execute_kw(
        db, uid, secret, "res.users", "search_read", [internal], {"fields": ["login_date"]}
    )
    dates = [
        parsed
        for row in logins
        if row.get("id") != uid and (parsed := parse_odoo_datetime(row.get("login_date")))
    ]
    groups = await odoo.execute_kw(
        db,
        uid,
        secret,
        "ir.attachment",
        "read_group",
        [
            ["|", ["res_field", "=", False], ["res_field", "!=", False], ["type", "=", "binary"]],
            ["file_size:sum"],
            [],
        ],
        {"lazy": False},
    )
    size = groups[0].get("file_size") if groups else 0
    return UsageReading(
        active_users=int(users),
        filestore_bytes=int(size or 0),
        database_bytes=None,
        last_login_at=max(dates) if dates else None,
    )


async def read_tenant_usage(
    ctx: AppContext, tenant: Tenant, server: OdooServer, access: TenantUsageAccess | None
) -> UsageReading:
    odoo = odoo_for(ctx, server)
    try:
        if server.mode == "host":
            users, files, size, last = await cast(Any, odoo).usage_row(tenant_database(tenant))
            return UsageReading(users, files, size, parse_odoo_datetime(last))
        service = service_credential(ctx, tenant)
        exclude = [tenant.service_login] if tenant.service_login else []
        if service is not None:
            return await read_rpc_usage(
                odoo, tenant_database(tenant), service.login, service.password, exclude
            )
        if access is None:
            return UsageReading(error=NO_ACCESS)
        secret = ctx.secret_box.decrypt(access.secret_enc)
        return await read_rpc_usage(odoo, tenant_database(tenant), access.login, secret, exclude)
    except DriverError as exc:
        return UsageReading(error=exc.message)
    finally:
        await odoo.aclose()


def over_limits(reading: UsageReading | TenantUsage, plan: Plan | None) -> list[str]:
    """Which limits the reading exceeds (a figure that was not read exceeds nothing)."""
    if plan is None:
        return []
    over = []
    if plan.max_users is not None and reading.active_users is not None:
        if reading.active_users > plan.max_users:
            over.append(OVER_USERS)
    storage = storage_bytes(reading)
    if plan.max_storage_mb is not None and storage is not None:
        if storage > plan.max_storage_mb * 1024 * 1024:
            over.append(OVER_STORAGE)
    return over


def storage_bytes(reading: UsageReading | TenantUsage) -> int | None:
    parts = [p for p in (reading.filestore_bytes, reading.database_bytes) if p is not None]
    return sum(parts) if parts else None


async def notify_over_limit(ctx: AppContext, tenant_id: int, kinds: list[str]) -> None:
    """Hook for the e-mail issue: called (policy ``notify``) when a tenant newly crosses a
    limit. No e-mail system exists yet, so it only logs; wire the mailer in here."""
    log.warning("tenant over plan limit", extra={"tenant_id": tenant_id, "limits": kinds})


async def sample_usage(ctx: AppContext) -> dict[str, int]:
    """Read every active/suspended tenant once, store the samples, flag limits."""

    async with ctx.db.sessionmaker() as session:
        rows = (
            await session.execute(
                select(Tenant, OdooServer, Plan, TenantUsageAccess)
                .join(OdooServer, OdooServer.id == Tenant.odoo_server_id)
                .join(Plan, Plan.code == Tenant.plan, isouter=True)
                .join(TenantUsageAccess, TenantUsageAccess.tenant_id == Tenant.id, isouter=True)
                .where(Tenant.status.in_(("active", "suspended")))
                .order_by(Tenant.id)
            )
        ).all()
        for row in rows:
            for obj in row:
                if obj is not None:
                    session.expunge(obj)
    gate = asyncio.Semaphore(ctx.settings.usage_read_concurrency)

    async def one(tenant: Tenant, server: OdooServer, access: TenantUsageAccess | None) -> Any:
        async with gate:
            return await read_tenant_usage(ctx, tenant, server, access)

    readings: list[UsageReading] = await asyncio.gather(*(one(t, s, a) for t, s, _p, a in rows))
    observations: list[Observation] = []
    now = datetime.now(UTC)
    async with ctx.db.sessionmaker() as session:
        for (tenant, _server, plan, _access), reading in zip(rows, readings, strict=True):
            session.add(
                TenantUsage(
                    tenant_id=tenant.id,
                    measured_at=now,
                    active_users=reading.active_users,
                    filestore_bytes=reading.filestore_bytes,
                    database_bytes=reading.database_bytes,
                    last_login_at=reading.last_login_at,
                    error=reading.error,
                )
            )
            for kind in over_limits(reading, plan):
                observations.append(_limit_observation(tenant, plan, reading, kind))
        await session.commit()
    opened, _resolved = await persist(ctx, "usage", observations)
    if opened and ctx.settings.usage_limit_policy == "notify":
        for obs in observations:
            if obs.tenant_id is not None:
                await notify_over_limit(ctx, obs.tenant_id, [obs.kind])
    return {
        "tenants": len(rows),
        "read": sum(1 for r in readings if r.error is None),
        "over_limit": len(observations),
    }


def _limit_observation(
    tenant: Tenant, plan: Plan | None, reading: UsageReading, kind: str
) -> Observation:
    assert plan is not None
    if kind == OVER_USERS:
        message = (
            f"«{tenant.subdomain}» tiene {reading.active_users} usuarios activos; su plan "
            f"{plan.name} permite {plan.max_users}."
        )
        detail: dict[str, Any] = {"active_users": reading.active_users, "limit": plan.max_users}
    else:
        used = storage_bytes(reading) or 0
        message = (
            f"«{tenant.subdomain}» usa {used / 1048576:.1f} MB; su plan {plan.name} permite "
            f"{plan.max_storage_mb} MB."
        )
        detail = {"storage_bytes": used, "limit_mb": plan.max_storage_mb}
    return Observation(kind, f"usage:{tenant.id}:{kind}", message, tenant.id, detail)


async def tenant_usage(
    session: AsyncSession, tenant_id: int, limit: int = 168
) -> list[TenantUsage]:
    rows = await session.scalars(
        select(TenantUsage)
        .where(TenantUsage.tenant_id == tenant_id)
        .order_by(TenantUsage.measured_at.desc(), TenantUsage.id.desc())
        .limit(limit)
    )
    return list(reversed(list(rows)))
