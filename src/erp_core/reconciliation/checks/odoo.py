"""Odoo servers: each server's database list (``db.list``, one call per server) vs tenants."""

from __future__ import annotations

from erp_core.context import AppContext
from erp_core.drivers.factory import odoo_for
from erp_core.models import OdooServer
from erp_core.reconciliation import is_reserved_database
from erp_core.reconciliation.checks.base import LIVE_STATUSES, Observation, Snapshot

ORPHAN_DATABASE = "orphan_database"
MISSING_DATABASE = "missing_database"


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
        owners = {t.subdomain: t for t in snapshot.tenants_on(server.id) if t.status != "deleted"}
        deleted = {t.subdomain: t for t in snapshot.tenants_on(server.id) if t.status == "deleted"}
        found: list[Observation] = []
        for name in sorted(databases):
            if name in owners or is_reserved_database(name):
                continue
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
        for tenant in owners.values():
            if tenant.status in LIVE_STATUSES and tenant.subdomain not in databases:
                found.append(
                    Observation(
                        MISSING_DATABASE,
                        database_resource(server.id, tenant.subdomain),
                        f"El tenant «{tenant.subdomain}» está "
                        f"{'activo' if tenant.status == 'active' else 'suspendido'} pero su "
                        f"base de datos no existe en {server.name}.",
                        tenant_id=tenant.id,
                        detail={
                            "server_id": server.id,
                            "server": server.name,
                            "database": tenant.subdomain,
                        },
                    )
                )
        return found
