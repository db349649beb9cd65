"""A clone whose personalisation step is retried after the administrator was handed over
(issue 15): the retry finishes as the tenant instead of reporting the template broken.

Found with 20 creates at once on a real Odoo 19: PostgreSQL ran out of connections for a
moment, the step's last login failed, and the retry found the template's administrator
already renamed to the tenant's. The lab plays that moment with one failed login.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from sqlalchemy import select

from erp_core.context import AppContext
from erp_core.lab import LabStack
from erp_core.models import JobLog

TOO_MANY_CLIENTS = (
    'connection to server at "127.0.0.1", port 5432 failed: FATAL:  sorry, too many clients already'
)


async def _ready_template(client: httpx.AsyncClient, h: dict[str, str], server_id: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        resp = await client.get(f"/api/servers/{server_id}/templates", headers=h)
        assert resp.status_code == 200, resp.text
        if any(row["state"] == "ready" for row in resp.json()["data"]):
            return
        await asyncio.sleep(0.1)
    raise AssertionError("no template became ready")


async def test_clone_step_retried_after_the_hand_over_finishes_as_the_tenant(
    client: httpx.AsyncClient,
    admin: dict[str, Any],
    lab_stack: LabStack,
    lab_ctx: AppContext,
    worker: None,
    wait: Any,
    body: Any,
) -> None:
    h = admin["headers"]
    resp = await client.put("/api/settings/odoo_template_spares", json={"value": "0"}, headers=h)
    assert resp.status_code == 200, resp.text
    first = (await client.post("/api/tenants", json=body("semilla"), headers=h)).json()["data"]
    assert (await wait(client, h, first["id"], "active", "failed"))["status"] == "active"
    server_id = int((await client.get(f"/api/tenants/{first['id']}", headers=h)).json()["data"][
        "odoo_server_id"
    ])  # fmt: skip
    await _ready_template(client, h, server_id)

    # The clone's first login with the tenant's credentials (after the hand-over) fails.
    lab_stack.faults.set(
        "common.login", fail_times=1, error_name="psycopg2.OperationalError",
        message=TOO_MANY_CLIENTS,
    )  # fmt: skip
    created = (await client.post("/api/tenants", json=body("reintento"), headers=h)).json()["data"]
    final = await wait(client, h, created["id"], "active", "failed")
    lab_stack.faults.clear()
    assert final["status"] == "active", final["last_error"]

    async with lab_ctx.db.sessionmaker() as session:
        log = "\n".join(
            await session.scalars(select(JobLog.message).where(JobLog.job_id == created["job_id"]))
        )
    assert "Clonado desde plantilla" in log, log
    assert "Intento 1 fallido: La base de datos de Odoo está saturada" in log, log
    assert "plantilla" in log and "no aceptó" not in log, log
    templates = (await client.get(f"/api/servers/{server_id}/templates", headers=h)).json()
    assert [row["state"] for row in templates["data"]] == ["ready"]
    uid = lab_stack.odoo_state.login("reintento", created["admin_login"], created["admin_password"])
    assert isinstance(uid, int) and uid > 1, "the tenant's administrator logs in"


async def test_spare_step_retried_after_the_hand_over_finishes(
    client: httpx.AsyncClient,
    admin: dict[str, Any],
    lab_stack: LabStack,
    lab_ctx: AppContext,
    worker: None,
    wait: Any,
    body: Any,
) -> None:
    """The same moment on the spare path: the retry finds the administrator already
    answering to the tenant's login and hands it over again instead of failing."""
    h = admin["headers"]
    resp = await client.put("/api/settings/odoo_template_spares", json={"value": "1"}, headers=h)
    assert resp.status_code == 200, resp.text
    first = (await client.post("/api/tenants", json=body("semilla"), headers=h)).json()["data"]
    assert (await wait(client, h, first["id"], "active", "failed"))["status"] == "active"
    server_id = int((await client.get(f"/api/tenants/{first['id']}", headers=h)).json()["data"][
        "odoo_server_id"
    ])  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        rows = (await client.get(f"/api/servers/{server_id}/templates", headers=h)).json()["data"]
        if any(row.get("spares_ready") for row in rows):
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("no spare became ready")

    lab_stack.faults.set(
        "common.login", fail_times=1, error_name="psycopg2.OperationalError",
        message=TOO_MANY_CLIENTS,
    )  # fmt: skip
    created = (await client.post("/api/tenants", json=body("reserva"), headers=h)).json()["data"]
    final = await wait(client, h, created["id"], "active", "failed")
    lab_stack.faults.clear()
    assert final["status"] == "active", final["last_error"]
    async with lab_ctx.db.sessionmaker() as session:
        log = "\n".join(
            await session.scalars(select(JobLog.message).where(JobLog.job_id == created["job_id"]))
        )
    assert "Base de reserva" in log and "Intento 1 fallido" in log, log
    uid = lab_stack.odoo_state.login("reserva", created["admin_login"], created["admin_password"])
    assert isinstance(uid, int) and uid > 1
