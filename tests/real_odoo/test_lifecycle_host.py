"""The tenant lifecycle through OUR API on a real Odoo 19 in HOST mode: the server row is
registered with ``mode: host`` and reached over the loopback sshd, where ``pct exec`` hands
over to the real ``odoo-bin`` and ``psql`` (``odoo_real.running_host_odoo``). The same
assertions as the RPC-mode lifecycle: both modes must leave the same tenant behind."""

from __future__ import annotations

import time
import zipfile
from typing import Any

import httpx
import pytest

from erp_core.context import AppContext
from erp_core.drivers.factory import store_for
from erp_core.models import Backup
from odoo_real import RealHostOdoo, real_host_odoo, wait_job  # noqa: F401

from .test_lifecycle_rpc import DOMAIN, _login

pytestmark = pytest.mark.timeout(900)


def _print_steps(what: str, job: dict[str, Any]) -> None:
    """Where a job's time went (``pytest -s``): the figures docs/odoo-servers.md quotes."""
    steps = job["data"]["steps"]
    print(what, [(s["name"], s["started_at"], s["finished_at"]) for s in steps])


async def test_host_mode_lifecycle_through_the_api(
    client: httpx.AsyncClient,
    admin: dict[str, Any],
    real_host_odoo: RealHostOdoo,
    lab_ctx: AppContext,
    lab_stack: Any,
    worker: None,
    wait: Any,
    body: Any,
) -> None:
    h = admin["headers"]
    host, real = real_host_odoo, real_host_odoo.odoo
    for server in (await client.get("/api/tenants/servers", headers=h)).json()["data"]:
        await client.put(  # the RPC server takes no new tenants: they go to the host one
            f"/api/tenants/servers/{server['id']}", json={"state": "draining"}, headers=h
        )
    registered = await client.post(
        "/api/tenants/servers",
        json={
            "name": "odoo-host-real",
            "url": real.url,
            "mode": "host",
            "capacity": 10,
            "tunnel_id": lab_stack.tunnel_ids[0],
            "ssh_host": host.sshd.host,
            "ssh_port": host.sshd.port,
            "ssh_user": host.sshd.user,
            "ssh_private_key": host.sshd.client_private_key,
            "known_hosts": host.sshd.known_hosts,
            "pct_vmid": host.vmid,
            "odoo_bin": host.odoo_bin,
            "odoo_conf": str(real.config),
        },
        headers=h,
    )
    assert registered.status_code == 201, registered.text
    server_id = registered.json()["data"]["id"]
    servers = (await client.get("/api/tenants/servers", headers=h)).json()["data"]
    row = next(s for s in servers if s["id"] == server_id)
    assert row["health"] == "ok" and str(row["version"]).startswith("19.0"), row

    timings: dict[str, float] = {}
    sub = "hm-api"
    t0 = time.monotonic()
    created = await client.post(
        "/api/tenants", json=body(sub, country="ES", language="es_ES"), headers=h
    )
    assert created.status_code == 202, created.text
    data = created.json()["data"]
    tenant_id, login, password = data["id"], data["admin_login"], data["admin_password"]
    active = await wait(client, h, tenant_id, "active", "failed", timeout=300)
    timings["create"] = time.monotonic() - t0
    _print_steps("create", (await client.get(f"/api/jobs/{data['job_id']}", headers=h)).json())
    assert active["status"] == "active", active["last_error"]
    assert active["odoo_server_id"] == server_id

    # Exactly what RPC mode leaves: company, e-mail, country + currency, language, base URL.
    assert isinstance(await _login(real, sub, login, password), int)
    assert real.company(sub) == {
        "name": f"Empresa {sub}",
        "email": login,
        "country": "ES",
        "currency": "EUR",
        "active": True,
    }
    assert real.param(sub, "web.base.url") == f"https://{sub}.{DOMAIN}"
    assert real.param(sub, "web.base.url.freeze") == "True"
    lang = real.sql(
        sub,
        "SELECT p.lang FROM res_users u JOIN res_partner p ON p.id = u.partner_id "
        "WHERE u.login = %s",
        login,
    )
    assert lang == [("es_ES",)]
    assert real.sql(sub, "SELECT count(*) FROM ir_module_module WHERE demo") == [(0,)]

    # Backup over SSH: Odoo's own zip.
    t0 = time.monotonic()
    started = await client.post(f"/api/tenants/{tenant_id}/backups", headers=h)
    assert started.status_code == 202, started.text
    job_id = started.json()["data"]["job_id"]
    job = await wait_job(client, h, job_id, timeout=300)
    timings["backup"] = time.monotonic() - t0
    assert job["status"] == "succeeded", job["error"]
    # This job's backup, not the newest: the per-minute schedule may have started another.
    listed = (await client.get(f"/api/tenants/{tenant_id}/backups", headers=h)).json()["data"]
    backup_id = int(next(r["id"] for r in listed if r["job_id"] == job_id))
    async with lab_ctx.db.sessionmaker() as session:
        backup = await session.get(Backup, backup_id)
        assert backup is not None and backup.location
        location = backup.location
    async with store_for(lab_ctx.settings).local_copy(location) as archive_path:
        with zipfile.ZipFile(archive_path) as archive:
            names = archive.namelist()
    assert "dump.sql" in names and "manifest.json" in names
    assert any(n.startswith("filestore/") for n in names)

    # Restore in place (odoo-bin db load): the change made after the backup is undone.
    uuid_before = real.param(sub, "database.uuid")
    real.sql(sub, "UPDATE res_company SET name = 'Cambiado' WHERE id = 1")
    t0 = time.monotonic()
    restored = await client.post(
        f"/api/tenants/{tenant_id}/restore",
        json={"backup_id": backup_id, "mode": "in_place"},
        headers=h,
    )
    assert restored.status_code == 202, restored.text
    job = await wait_job(client, h, restored.json()["data"]["job_id"], timeout=300)
    timings["restore_in_place"] = time.monotonic() - t0
    _print_steps("restore", {"data": job})
    assert job["status"] == "succeeded", job["error"]
    assert real.company(sub)["name"] == f"Empresa {sub}"
    assert isinstance(await _login(real, sub, login, password), int)
    # odoo-bin db load restores as a copy: Odoo had reset these to localhost / new ones.
    assert real.param(sub, "web.base.url") == f"https://{sub}.{DOMAIN}"
    assert real.param(sub, "database.uuid") == uuid_before

    # Delete: a verified backup first, then database and filestore gone.
    t0 = time.monotonic()
    deleted = await client.delete(f"/api/tenants/{tenant_id}", headers=h)
    assert deleted.status_code == 202, deleted.text
    gone = await wait(client, h, tenant_id, "deleted", "failed", "active", timeout=300)
    timings["delete"] = time.monotonic() - t0
    assert gone["status"] == "deleted", gone["last_error"]
    assert sub not in real.databases() and not real.filestore(sub).exists()
    kinds = {
        r["kind"]
        for r in (await client.get(f"/api/tenants/{tenant_id}/backups", headers=h)).json()["data"]
    }
    assert "pre-delete" in kinds
    print("host-mode API real-odoo timings (s):", {k: round(v, 2) for k, v in timings.items()})
