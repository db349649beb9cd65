"""Issue 15 on a REAL Odoo 19: tenants cloned from per-server templates.

One flow (full creates cost 5–50 s each on this machine, so they are few): the first
create falls back to Odoo's own path and queues a template build; the next is a clone with
its own identity; a clone whose later step fails is dropped; a template dropped behind our
back, and one built by an "older" Odoo, are never used and get rebuilt.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from erp_core.context import AppContext
from erp_core.lab import LabStack
from erp_core.models import JobLog, OdooSpare, OdooTemplate, Tenant
from erp_core.templates.service import TEMPLATE_PREFIX
from odoo_real import RealOdoo

DOMAIN = "sajet.us"
pytestmark = pytest.mark.timeout(900)


async def _login(real: RealOdoo, db: str, login: str, password: str) -> Any:
    async with httpx.AsyncClient(timeout=60) as http:
        response = await http.post(
            f"{real.url}/jsonrpc",
            json={
                "jsonrpc": "2.0",
                "method": "call",
                "params": {"service": "common", "method": "login", "args": [db, login, password]},
                "id": 1,
            },
        )
    return response.json().get("result")


async def _log(ctx: AppContext, job_id: int) -> str:
    async with ctx.db.sessionmaker() as session:
        rows = await session.scalars(select(JobLog.message).where(JobLog.job_id == job_id))
        return "\n".join(rows)


async def _templates(client: httpx.AsyncClient, h: dict[str, str], server_id: int) -> Any:
    resp = await client.get(f"/api/servers/{server_id}/templates", headers=h)
    assert resp.status_code == 200, resp.text
    return resp.json()["data"]


async def _wait_template_ready(
    client: httpx.AsyncClient, h: dict[str, str], server_id: int, not_db: str | None = None
) -> dict[str, Any]:
    deadline = time.monotonic() + 300
    rows: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        rows = await _templates(client, h, server_id)
        ready = [r for r in rows if r["state"] == "ready" and r["db_name"] != not_db]
        if ready:
            return ready[0]
        assert not [r for r in rows if r["state"] == "broken"], rows
        await asyncio.sleep(0.5)
    raise AssertionError(f"no ready template: {rows}")


async def _create(
    client: httpx.AsyncClient, h: dict[str, str], body: Any, wait: Any, sub: str
) -> tuple[dict[str, Any], dict[str, Any], float]:
    t0 = time.monotonic()
    created = await client.post(
        "/api/tenants", json=body(sub, country="DO", language="es_ES"), headers=h
    )
    assert created.status_code == 202, created.text
    data = created.json()["data"]
    final = await wait(client, h, data["id"], "active", "failed", timeout=300)
    return data, final, time.monotonic() - t0


async def test_templates_on_real_odoo(
    client: httpx.AsyncClient,
    admin: dict[str, Any],
    real_odoo: RealOdoo,
    lab_ctx: AppContext,
    lab_stack: LabStack,
    worker: None,
    wait: Any,
    body: Any,
) -> None:
    h = admin["headers"]
    timings: dict[str, float] = {}
    await _spares(client, h, 0)  # the clone path first; spares at the end

    # 1. No template yet: Odoo's own create, and a build is queued.
    first, active, timings["full"] = await _create(client, h, body, wait, "tp-first")
    assert active["status"] == "active", active["last_error"]
    server_id = int(active["odoo_server_id"])
    log = await _log(lab_ctx, first["job_id"])
    assert "Creación completa en Odoo" in log and "Se construye la plantilla" in log, log
    template = await _wait_template_ready(client, h, server_id)
    assert template["db_name"].startswith(TEMPLATE_PREFIX)
    assert template["odoo_version"].startswith("19.0")
    assert template["key"] == f"{template['odoo_version']}|es_ES|DO|{template['key'][-12:]}"
    assert template["size_bytes"] and template["built_at"]
    assert template["db_name"] in real_odoo.databases()

    # 2. The clone: active, its own identity, the customer's company, the public URL.
    second, active, timings["clone"] = await _create(client, h, body, wait, "tp-second")
    assert active["status"] == "active", active["last_error"]
    log = await _log(lab_ctx, second["job_id"])
    assert "Clonado desde plantilla" in log and "Creación completa" not in log, log
    sub = "tp-second"
    assert isinstance(
        await _login(real_odoo, sub, second["admin_login"], second["admin_password"]), int
    )
    assert await _login(real_odoo, sub, "template-admin", "x") is False
    company = real_odoo.sql(
        sub,
        "SELECT c.name, p.email, co.code, cu.name FROM res_company c "
        "JOIN res_partner p ON p.id = c.partner_id "
        "LEFT JOIN res_country co ON co.id = p.country_id "
        "JOIN res_currency cu ON cu.id = c.currency_id WHERE c.id = 1",
    )
    assert company == [(f"Empresa {sub}", second["admin_login"], "DO", "DOP")]
    assert real_odoo.param(sub, "web.base.url") == f"https://{sub}.{DOMAIN}"
    for key in ("database.uuid", "database.secret"):
        values = {real_odoo.param(db, key) for db in (sub, "tp-first", template["db_name"])}
        assert len(values) == 3, key
    admins = {
        db: real_odoo.sql(db, "SELECT password FROM res_users WHERE id = 2")[0][0]
        for db in (sub, template["db_name"])
    }
    assert admins[sub] != admins[template["db_name"]]

    # 3. Compensation: the clone worked, a later step failed → no database left behind.
    lab_stack.faults.set("cf.put_configuration", fail_times=-1, status=400, error_code=1055)
    try:
        third, failed, _ = await _create(client, h, body, wait, "tp-third")
    finally:
        lab_stack.faults.clear()
    assert failed["status"] == "failed"
    assert "Clonado desde plantilla" in await _log(lab_ctx, third["job_id"])
    assert "tp-third" not in real_odoo.databases()

    # 4. Template dropped behind our back: detected, full create, rebuilt.
    dropped = template["db_name"]
    real_odoo.sql("postgres", f'DROP DATABASE "{dropped}" WITH (FORCE)')
    fourth, active, _ = await _create(client, h, body, wait, "tp-fourth")
    assert active["status"] == "active", active["last_error"]
    log = await _log(lab_ctx, fourth["job_id"])
    assert "ya no existe" in log and "Creación completa en Odoo" in log, log
    rebuilt = await _wait_template_ready(client, h, server_id, not_db=dropped)
    assert rebuilt["id"] == template["id"] and rebuilt["db_name"] in real_odoo.databases()

    # 5. A template of an older Odoo is never used on a server that runs a newer one.
    async with lab_ctx.db.sessionmaker() as session:
        await session.execute(
            update(OdooTemplate).where(OdooTemplate.id == rebuilt["id"]).values(odoo_version="18.0")
        )
        await session.commit()
    old_db = rebuilt["db_name"]
    fifth, active, _ = await _create(client, h, body, wait, "tp-fifth")
    assert active["status"] == "active", active["last_error"]
    log = await _log(lab_ctx, fifth["job_id"])
    assert "Odoo 18.0" in log and "Clonado" not in log, log
    newest = await _wait_template_ready(client, h, server_id, not_db=old_db)
    assert newest["odoo_version"].startswith("19.0")
    for _ in range(120):  # the replaced template is dropped right after the row is published
        if old_db not in real_odoo.databases():
            break
        await asyncio.sleep(0.25)
    assert old_db not in real_odoo.databases()

    # 6. Spares: a clone queues one; the next create claims it (rename + personalise).
    await _spares(client, h, 1)
    _sixth, active, _ = await _create(client, h, body, wait, "tp-sixth")
    assert active["status"] == "active", active["last_error"]
    spare_db = await _wait_spare_ready(client, h, server_id, lab_ctx, real_odoo)
    seventh, active, timings["spare"] = await _create(client, h, body, wait, "tp-seventh")
    assert active["status"] == "active", active["last_error"]
    log = await _log(lab_ctx, seventh["job_id"])
    assert f"Base de reserva {spare_db} asignada" in log and "Clonado" not in log, log
    sub = "tp-seventh"
    assert spare_db not in real_odoo.databases()
    assert isinstance(
        await _login(real_odoo, sub, seventh["admin_login"], seventh["admin_password"]), int
    )
    assert await _login(real_odoo, sub, "template-admin", seventh["admin_password"]) is False
    assert real_odoo.company(sub)["name"] == f"Empresa {sub}"
    assert real_odoo.param(sub, "web.base.url") == f"https://{sub}.{DOMAIN}"
    assert real_odoo.param(sub, "erp_core.paused_crons") is None
    admin_lang = "SELECT p.lang FROM res_users u JOIN res_partner p ON p.id = u.partner_id"
    assert real_odoo.sql(sub, f"{admin_lang} WHERE u.id = 2") == [("es_ES",)]
    for key in ("database.uuid", "database.secret"):
        values = {real_odoo.param(db, key) for db in (sub, "tp-sixth", newest["db_name"])}
        assert len(values) == 3, key
    async with lab_ctx.db.sessionmaker() as session:
        tenant = await session.get(Tenant, seventh["id"])
        assert tenant is not None and tenant.service_login and tenant.service_password_enc
        service = (tenant.service_login, lab_ctx.secret_box.decrypt(tenant.service_password_enc))
    assert isinstance(await _login(real_odoo, sub, *service), int)
    # the claimed spare is replaced; a failed create on a spare leaves no database either
    await _wait_spare_ready(client, h, server_id, lab_ctx, real_odoo)
    lab_stack.faults.set("cf.put_configuration", fail_times=-1, status=400, error_code=1055)
    try:
        eighth, failed, _ = await _create(client, h, body, wait, "tp-eighth")
    finally:
        lab_stack.faults.clear()
    assert failed["status"] == "failed"
    assert "Base de reserva" in await _log(lab_ctx, eighth["job_id"])
    assert "tp-eighth" not in real_odoo.databases()

    print("template timings (s):", {k: round(v, 2) for k, v in timings.items()})


async def _spares(client: httpx.AsyncClient, h: dict[str, str], count: int) -> None:
    """Ajustes → Odoo → *Bases de reserva por plantilla*, as an operator sets it."""
    resp = await client.put(
        "/api/settings/odoo_template_spares", json={"value": str(count)}, headers=h
    )
    assert resp.status_code == 200, resp.text


async def _wait_spare_ready(
    client: httpx.AsyncClient, h: dict[str, str], server_id: int, ctx: AppContext, real: RealOdoo
) -> str:
    """The name of this control plane's one ready spare, once the admin app counts it."""
    deadline = time.monotonic() + 300
    rows: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        rows = await _templates(client, h, server_id)
        if any(r["state"] == "ready" and r["spares_ready"] == 1 for r in rows):
            async with ctx.db.sessionmaker() as session:
                names = list(
                    await session.scalars(
                        select(OdooSpare.db_name).where(OdooSpare.state == "ready")
                    )
                )
            assert len(names) == 1 and names[0] in real.databases(), names
            return str(names[0])
        await asyncio.sleep(0.5)
    raise AssertionError(f"no spare became ready: {rows}")
