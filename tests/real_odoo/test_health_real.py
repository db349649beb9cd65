"""Server health on real Odoo 19: a wrong master password, ``list_db = False`` and a server
without ``/jsonrpc`` each say so (Spanish), where ``/web/health`` alone said "ok"."""

from __future__ import annotations

import pytest

from erp_core.drivers.odoo import OdooRpcManager
from leakguard import register_secret
from odoo_real import RealOdoo, running_odoo

pytestmark = pytest.mark.timeout(300)


async def test_health_tells_the_misconfigurations_apart(real_odoo: RealOdoo) -> None:
    async with OdooRpcManager(real_odoo.url, real_odoo.master_password) as odoo:
        healthy = await odoo.health()
    assert healthy["status"] == "ok" and str(healthy["version"]).startswith("19.0")

    async with OdooRpcManager(real_odoo.url, "no-es-la-maestra-22") as wrong:
        bad_password = await wrong.health()
    assert bad_password["status"] == "down"
    assert bad_password["detail"] == "Odoo rechazó la contraseña maestra del servidor."

    with running_odoo({"list_db": "False"}) as closed:
        register_secret(closed.master_password)
        async with OdooRpcManager(closed.url, closed.master_password) as odoo:
            no_list = await odoo.health()
    assert no_list["status"] == "down"
    assert "list_db = False" in str(no_list["detail"])

    with running_odoo({"server_wide_modules": "base,web"}) as no_rpc:
        register_secret(no_rpc.master_password)
        async with OdooRpcManager(no_rpc.url, no_rpc.master_password) as odoo:
            missing = await odoo.health()
    assert missing["status"] == "down"
    assert "/jsonrpc" in str(missing["detail"])
    assert missing["version"] is not None  # the server itself answers
