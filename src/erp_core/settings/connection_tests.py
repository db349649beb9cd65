"""`Probar conexión`: try an integration's credentials and say what worked and what did not.

Rooms register testers for their vendors (`register_tester`); each check is a short,
read-only call with a timeout.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from erp_core.context import AppContext
from erp_core.drivers.base import DriverError
from erp_core.drivers.factory import cloudflare_for, odoo_for
from erp_core.models import OdooServer


@dataclass
class Check:
    name: str
    ok: bool
    message: str


Tester = Callable[[AppContext], Awaitable[list[Check]]]
_TESTERS: dict[str, Tester] = {}
TEST_TIMEOUT = 10.0


def register_tester(integration: str, tester: Tester) -> None:
    _TESTERS[integration] = tester


async def _cloudflare(ctx: AppContext) -> list[Check]:

    router = cloudflare_for(ctx)
    if router is None:
        return [
            Check("configuración", False, "Faltan el token, la cuenta o la zona de Cloudflare.")
        ]
    checks = []
    try:
        try:
            tunnels = await router.list_tunnels()
            checks.append(Check("túneles", True, f"La cuenta responde: {len(tunnels)} túnel(es)."))
        except DriverError as exc:
            checks.append(Check("túneles", False, exc.message))
        try:
            await router.find_cname(f"erp-core-check.{ctx.settings.base_domain}")
            checks.append(Check("dns", True, "La zona DNS es accesible."))
        except DriverError as exc:
            checks.append(Check("dns", False, exc.message))
    finally:
        await router.aclose()
    return checks


async def _odoo(ctx: AppContext) -> list[Check]:
    from sqlalchemy import select

    async with ctx.db.sessionmaker() as session:
        servers = list(await session.scalars(select(OdooServer).order_by(OdooServer.id)))
    if not servers:
        return [Check("servidores", False, "No hay servidores Odoo registrados.")]
    checks = []
    for server in servers:
        odoo = odoo_for(ctx, server)
        try:
            health = await odoo.health()
            if health["status"] != "ok":
                checks.append(
                    Check(server.name, False, f"No responde: {health['detail'] or 'sin detalle'}.")
                )
                continue
            databases = await odoo.list_databases()
            checks.append(
                Check(
                    server.name,
                    True,
                    f"Odoo {health['version']}: {len(databases)} base(s) de datos.",
                )
            )
        except DriverError as exc:
            checks.append(Check(server.name, False, exc.message))
        finally:
            await odoo.aclose()
    return checks


async def _not_available(ctx: AppContext) -> list[Check]:
    return [
        Check(
            "configuración", False, "Esta integración aún no está disponible en esta instalación."
        )
    ]


register_tester("cloudflare", _cloudflare)
register_tester("odoo", _odoo)
KNOWN = ("stripe", "cloudflare", "proxmox", "odoo")


async def run(ctx: AppContext, integration: str) -> list[Check]:
    tester = _TESTERS.get(integration, _not_available)
    try:
        async with asyncio.timeout(TEST_TIMEOUT):
            return await tester(ctx)
    except TimeoutError:
        return [Check("tiempo", False, f"Sin respuesta en {TEST_TIMEOUT:g} s.")]
