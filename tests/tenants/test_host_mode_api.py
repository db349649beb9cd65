"""A tenant on a `host`-mode Odoo server (issue 10), end to end through the HTTP API.

The server is reached over a real sshd on loopback; `pct`, `odoo-bin` and `psql` are the
lab stand-ins; the tenant's login page is served by the host lab's web face.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from erp_core.lab import LabServer, LabStack
from erp_core.lab.host.sshd import LabSshd, sshd_missing_reason, start_lab_sshd
from erp_core.lab.host.standins import State
from erp_core.lab.host.web import create_host_web

VMID = 105


@dataclass
class HostLab:
    sshd: LabSshd
    web: LabServer
    state: State


@pytest.fixture(scope="module")
def host_lab() -> Iterator[HostLab]:
    reason = sshd_missing_reason()
    if reason:
        pytest.skip(reason)
    with tempfile.TemporaryDirectory(prefix="erp-host-api-") as tmp:
        sshd = start_lab_sshd(Path(tmp) / "sshd")
        sshd.add_container(VMID)
        web = LabServer(create_host_web(sshd.state_dir)).start()
        try:
            yield HostLab(sshd, web, State(sshd.state_dir))
        finally:
            web.stop()
            sshd.stop()


async def test_tenant_on_host_mode_server_becomes_active(
    client: httpx.AsyncClient,
    admin: dict[str, Any],
    lab_stack: LabStack,
    host_lab: HostLab,
    worker: None,
    wait: Any,
    body: Any,
    settings: Any,
) -> None:
    host_lab.state.reset()
    h = admin["headers"]
    listed = (await client.get("/api/tenants/servers", headers=h)).json()["data"]
    for server in listed:  # the default RPC server takes no new tenants
        await client.put(
            f"/api/tenants/servers/{server['id']}", json={"state": "draining"}, headers=h
        )
    key = host_lab.sshd.client_private_key
    created = await client.post(
        "/api/tenants/servers",
        json={
            "name": "odoo-host",
            "url": host_lab.web.url,
            "mode": "host",
            "capacity": 10,
            "tunnel_id": lab_stack.tunnel_ids[0],
            "ssh_host": host_lab.sshd.host,
            "ssh_port": host_lab.sshd.port,
            "ssh_user": host_lab.sshd.user,
            "ssh_private_key": key,
            "known_hosts": host_lab.sshd.known_hosts,
            "pct_vmid": VMID,
            "odoo_conf": "/etc/odoo/odoo.conf",
        },
        headers=h,
    )
    assert created.status_code == 201, created.text
    server = created.json()["data"]
    assert server["mode"] == "host" and server["pct_vmid"] == VMID
    assert server["ssh_key_fingerprint"].startswith("SHA256:")
    assert "PRIVATE KEY" not in created.text and "ssh_private_key" not in server

    servers = (await client.get("/api/tenants/servers", headers=h)).json()["data"]
    host = next(s for s in servers if s["id"] == server["id"])
    assert host["health"] == "ok", host["health_detail"]
    assert host["version"] == "18.0" and host["mode"] == "host"
    assert "PRIVATE KEY" not in str(servers)

    tenant = (await client.post("/api/tenants", json=body("hostco"), headers=h)).json()["data"]
    active = await wait(client, h, tenant["id"], "active", "failed", timeout=60)
    assert active["status"] == "active", active["last_error"]
    assert active["odoo_server_id"] == server["id"]
    meta = host_lab.state.read("hostco")
    assert meta["company_name"] == "Empresa hostco" and meta["lang"] == "es_ES"
    assert meta["users"]["2"]["login"] == tenant["admin_login"]
    pct = [i["argv"] for i in host_lab.state.invocations() if i["tool"] == "pct"]
    assert pct and all(a[:2] == ["exec", str(VMID)] for a in pct)
    assert tenant["admin_password"] not in str(host_lab.state.invocations())

    resp = await client.delete(f"/api/tenants/{tenant['id']}", headers=h)
    assert resp.status_code == 202
    deleted = await wait(client, h, tenant["id"], "deleted", "failed", timeout=60)
    assert deleted["status"] == "deleted", deleted["last_error"]
    assert not host_lab.state.exists("hostco")
    backups = list(Path(settings.effective_backup_dir, "hostco").glob("*.zip"))
    assert len(backups) == 1  # the pre-delete dump streamed over SSH


async def test_host_mode_server_validation(
    client: httpx.AsyncClient, admin: dict[str, Any], lab_ctx: Any
) -> None:
    h = admin["headers"]
    base = {"name": "odoo-host-2", "url": "http://127.0.0.1:9", "mode": "host"}
    missing = await client.post("/api/tenants/servers", json=base, headers=h)
    assert missing.status_code == 422
    for bad in (
        {"ssh_host": "h; id"},
        {"ssh_host": "h", "odoo_bin": "odoo-bin; reboot"},
        {"ssh_host": "h", "odoo_conf": "$(id)"},
        {"ssh_host": "h", "pct_vmid": 5},
    ):
        resp = await client.post("/api/tenants/servers", json={**base, **bad}, headers=h)
        assert resp.status_code == 422, bad
    resp = await client.post(
        "/api/tenants/servers",
        json={**base, "ssh_host": "h", "ssh_private_key": "-----BEGIN nonsense " + "x" * 40},
        headers=h,
    )
    assert resp.status_code == 422 and resp.json()["error"] == "SSH_KEY_INVALID"
    rpc = await client.post(
        "/api/tenants/servers", json={**base, "mode": "rpc", "ssh_host": None}, headers=h
    )
    assert rpc.status_code == 422  # rpc still needs the master password
