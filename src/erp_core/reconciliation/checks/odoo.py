"""Odoo servers: each server's database list (``db.list``, one call per server) vs tenants."""

from __future__ import annotations

from typing import Any

from erp_core.context import AppContext
from erp_core.drivers.factory import odoo_for
from erp_core.models import OdooServer
from erp_core.provisioning.naming import (
    is_suspended_database,
    suspended_database_name,
    tenant_database,
)
from erp_core.reconciliation import is_reserved_database
from erp_core.reconciliation.checks.base import LIVE_STATUSES, Observation, Snapshot, TenantRow

ORPHAN_DATABASE = "orphan_database"
MISSING_DATABASE = "missing_database"
LOCKED_DATABASE = "locked_database"  # an active tenant's database sits under the suspended name
UNLOCKED_DATABASE = "unlocked_database"  # a suspended tenant's database is still reachable


def database_resource(server_id: int, database: str) -> str:
    return f"odoo:{server_id}:{database}"


class OdooDatabasesCheck:
    source = "odoo"

    def configured(self, ctx: AppContext) -> bool:
        return True

    async def observe(self, ctx: AppContext, snapshot: Snapshot) -> list[Observation]:
        found: list[Observation] = []
        for server in snapshot.servers.values():
            if server.state == "down":
                continue
            found.extend(await self._one_server(ctx, snapshot, server.id))
        return found

    async def _one_server(
        self, ctx: AppContext, snapshot: Snapshot, server_id: int
    ) -> list[Observation]:
        async with ctx.db.sessionmaker() as session:
            server = await session.get(OdooServer, server_id)
            assert server is not None
            session.expunge(server)
        odoo = odoo_for(ctx, server)
        try:
            databases = set(await odoo.list_databases())
        finally:
            await odoo.aclose()
        live = [t for t in snapshot.tenants_on(server.id) if t.status != "deleted"]
        owners = {t.subdomain: t for t in live}
        # A suspended tenant's database is renamed (provisioning.naming); whatever the
        # tenant's state, its database under either name is owned, never an orphan.
        owners.update({suspended_database_name(t.subdomain): t for t in live})
        deleted = {t.subdomain: t for t in snapshot.tenants_on(server.id) if t.status == "deleted"}
        deleted.update(
            {
                suspended_database_name(t.subdomain): t
                for t in snapshot.tenants_on(server.id)
                if t.status == "deleted"
            }
        )
        found: list[Observation] = []
        for name in sorted(databases):
            if name in owners:
                continue
            if is_reserved_database(name) and not is_suspended_database(name):
                continue  # a template's database
            former = deleted.get(name)
            found.append(
                Observation(
                    ORPHAN_DATABASE,
                    database_resource(server.id, name),
                    f"La base de datos «{name}» del servidor {server.name} no pertenece a "
                    "ningún tenant.",
                    tenant_id=former.id if former else None,
                    detail={"server_id": server.id, "server": server.name, "database": name},
                )
            )
        for tenant in live:
            if tenant.status not in LIVE_STATUSES:
                continue
            expected = tenant_database(tenant)
            if expected in databases:
                continue
            detail = {"server_id": server.id, "server": server.name, "database": expected}
            other = (
                tenant.subdomain
                if tenant.status == "suspended"
                else suspended_database_name(tenant.subdomain)
            )
            if other in databases:
                found.append(_lock_mismatch(tenant, server.name, other, detail))
                continue
            found.append(
                Observation(
                    MISSING_DATABASE,
                    database_resource(server.id, expected),
                    f"El tenant «{tenant.subdomain}» está "
                    f"{'activo' if tenant.status == 'active' else 'suspendido'} pero su "
                    f"base de datos no existe en {server.name}.",
                    tenant_id=tenant.id,
                    detail=detail,
                )
            )
        return found


def _lock_mismatch(
    tenant: TenantRow, server_name: str, actual: str, detail: dict[str, Any]
) -> Observation:
    """The database exists under the other name: the state and Odoo disagree."""
    resource = database_resource(int(detail["server_id"]), actual)
    if tenant.status == "suspended":
        return Observation(
            UNLOCKED_DATABASE,
            resource,
            f"El tenant «{tenant.subdomain}» está suspendido pero su base de datos "
            f"«{actual}» no está bloqueada en {server_name}: Odoo sigue admitiendo sus "
            "inicios de sesión.",
            tenant_id=tenant.id,
            detail={**detail, "actual": actual},
        )
    return Observation(
        LOCKED_DATABASE,
        resource,
        f"El tenant «{tenant.subdomain}» está activo pero su base de datos sigue bloqueada "
        f"como «{actual}» en {server_name}: Odoo rechaza sus inicios de sesión.",
        tenant_id=tenant.id,
        detail={**detail, "actual": actual},
    )
