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


async def _seed(
    client: httpx.AsyncClient, h: dict[str, str], wait: Any, body: Any, spares: int
) -> int:
    """Spares set to ``spares``, a first tenant (Odoo's own create, which queues the
    template build), then wait until the server's template (and spares, if any) are ready;
    returns the server's id."""
    resp = await client.put(
        "/api/settings/odoo_template_spares", json={"value": str(spares)}, headers=h
    )
    assert resp.status_code == 200, resp.text
    first = (await client.post("/api/tenants", json=body("semilla"), headers=h)).json()["data"]
    assert (await wait(client, h, first["id"], "active", "failed"))["status"] == "active"
    tenant = (await client.get(f"/api/tenants/{first['id']}", headers=h)).json()["data"]
    server_id = int(tenant["odoo_server_id"])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        resp = await client.get(f"/api/servers/{server_id}/templates", headers=h)
        assert resp.status_code == 200, resp.text
        rows = resp.json()["data"]
        if any(r["state"] == "ready" and (r.get("spares_ready") or not spares) for r in rows):
            return server_id
        await asyncio.sleep(0.1)
    raise AssertionError("no template (or spare) became ready")


async def _create_through_one_failed_login(
    client: httpx.AsyncClient,
    h: dict[str, str],
    lab_stack: LabStack,
    lab_ctx: AppContext,
    wait: Any,
    body: Any,
    sub: str,
) -> tuple[dict[str, Any], str]:
    """Create ``sub`` while Odoo's next ``common.login`` fails as a real one did; the
    tenant must end active, its administrator logging in. Returns it and its job log."""
    lab_stack.faults.set(
        "common.login", fail_times=1, error_name="psycopg2.OperationalError",
        message=TOO_MANY_CLIENTS,
    )  # fmt: skip
    created = (await client.post("/api/tenants", json=body(sub), headers=h)).json()["data"]
    final = await wait(client, h, created["id"], "active", "failed")
    lab_stack.faults.clear()
    assert final["status"] == "active", final["last_error"]
    uid = lab_stack.odoo_state.login(sub, created["admin_login"], created["admin_password"])
    assert isinstance(uid, int) and uid > 1, "the tenant's administrator logs in"
    async with lab_ctx.db.sessionmaker() as session:
        rows = await session.scalars(
            select(JobLog.message).where(JobLog.job_id == created["job_id"])
        )
        return created, "\n".join(rows)


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
    server_id = await _seed(client, h, wait, body, spares=0)
    # The clone's first login with the tenant's credentials (after the hand-over) fails.
    _created, log = await _create_through_one_failed_login(
        client, h, lab_stack, lab_ctx, wait, body, "reintento"
    )
    assert "Clonado desde plantilla" in log, log
    assert "Intento 1 fallido: La base de datos de Odoo está saturada" in log, log
    assert "no aceptó" not in log, log
    templates = (await client.get(f"/api/servers/{server_id}/templates", headers=h)).json()
    assert [row["state"] for row in templates["data"]] == ["ready"]


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
    await _seed(client, h, wait, body, spares=1)
    _created, log = await _create_through_one_failed_login(
        client, h, lab_stack, lab_ctx, wait, body, "reserva"
    )
    assert "Base de reserva" in log and "Intento 1 fallido" in log, log
