"""Drift audit, Proxmox source (issue 18): a container left behind on the cluster is found
by one ``/cluster/resources`` read, destroyed by its fix job on request, and resolved;
someone else's container is never judged."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from erp_core.context import AppContext
from erp_core.drivers.proxmox import ProxmoxManager
from erp_core.lab import ProxmoxLab


async def _audit(client: httpx.AsyncClient, h: dict[str, str]) -> dict[str, dict[str, Any]]:
    resp = await client.post("/api/reconciliation/run", headers=h)
    assert resp.status_code == 202, resp.text
    job_id = resp.json()["data"]["job_id"]
    for _ in range(300):
        data = (await client.get(f"/api/reconciliation/runs/{job_id}", headers=h)).json()["data"]
        if data["status"] in ("succeeded", "failed"):
            assert data["status"] == "succeeded", data
            return {s["source"]: s for s in data["result"]["sources"]}
        await asyncio.sleep(0.1)
    raise AssertionError("audit did not finish")


async def test_leftover_container_found_destroyed_on_request_and_resolved(
    client: httpx.AsyncClient,
    operator: dict[str, Any],
    ctx: AppContext,
    pve: ProxmoxManager,
    pve_lab: ProxmoxLab,
    worker: None,
) -> None:
    h = operator["headers"]
    await pve.clone_container("pve1", 9000, 1200, hostname="odoo-olvidado")
    await pve.clone_container("pve1", 9000, 1201, hostname="monitoring")  # not ours
    sources = await _audit(client, h)
    # ``observed``, not ``opened``: the worker's periodic audit (cron minute 23, deferred on
    # start-up when the slot is under ten minutes old) may have opened the finding first.
    assert sources["proxmox"]["status"] == "ok" and sources["proxmox"]["observed"] == 1
    listed = await client.get(
        "/api/reconciliation/findings", params={"source": "proxmox"}, headers=h
    )
    (finding,) = listed.json()["data"]
    assert finding["kind"] == "orphan_container" and finding["detail"]["vmid"] == 1200
    assert 1200 in pve_lab.state.containers  # nothing destroyed by the audit itself

    fix = await client.post(f"/api/reconciliation/findings/{finding['id']}/fix", headers=h)
    assert fix.status_code == 202, fix.text
    job_id = fix.json()["data"]["job_id"]
    for _ in range(300):
        job = (await client.get(f"/api/jobs/{job_id}", headers=h)).json()["data"]
        if job["status"] in ("succeeded", "failed"):
            break
        await asyncio.sleep(0.1)
    assert job["status"] == "succeeded", job.get("error")
    assert 1200 not in pve_lab.state.containers and 1201 in pve_lab.state.containers
    resolved = await client.get(
        "/api/reconciliation/findings", params={"source": "proxmox", "state": "resolved"}, headers=h
    )
    assert [f["id"] for f in resolved.json()["data"]] == [finding["id"]]
    await _audit(client, h)
    still = await client.get(
        "/api/reconciliation/findings", params={"source": "proxmox"}, headers=h
    )
    assert still.json()["data"] == []
