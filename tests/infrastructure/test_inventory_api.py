"""Inventory sync against the lab and the infrastructure API (envelope, roles, sources)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import procrastinate
import procrastinate.testing
from sqlalchemy import select

from erp_core.composition import build_queue
from erp_core.context import AppContext
from erp_core.drivers.proxmox import ProxmoxManager
from erp_core.infrastructure.service import sync_inventory
from erp_core.infrastructure.tasks import interval_cron, register_tasks
from erp_core.lab import LabStack, ProxmoxLab
from erp_core.models import LxcContainer, ProxmoxNode, ResourceMetric

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


async def _two_containers(pve: ProxmoxManager) -> None:
    await pve.clone_container("pve1", 9000, 500, hostname="running-one")
    await pve.configure_container(
        "pve1", 500, cores=2, memory_mb=1024, net0="name=eth0,bridge=vmbr0,ip=127.0.0.90/8"
    )
    await pve.start_container("pve1", 500)
    await pve.clone_container("pve1", 9000, 501, hostname="stopped-one", target_node="pve2")


async def test_sync_upserts_samples_and_marks_vanished(
    ctx: AppContext, pve: ProxmoxManager, pve_lab: ProxmoxLab, lab_stack: LabStack
) -> None:
    await _two_containers(pve)
    first = await sync_inventory(ctx, now=T0)
    assert (first.nodes, first.containers) == (2, 2)
    assert first.samples == 2  # nodes only: container rates need two looks
    second = await sync_inventory(ctx, now=T0 + timedelta(seconds=60))
    assert second.samples == 3  # two nodes and the running container
    async with ctx.db.sessionmaker() as session:
        nodes = {n.hostname: n for n in await session.scalars(select(ProxmoxNode))}
        containers = {c.vmid: c for c in await session.scalars(select(LxcContainer))}
        samples = list(await session.scalars(select(ResourceMetric)))
    assert nodes["pve1"].status == "online" and nodes["pve1"].ram_total == 32 * 1024**3
    assert nodes["pve1"].tunnel_id == lab_stack.tunnel_ids[0]  # from PROXMOX_NODE_TUNNELS
    assert containers[500].status == "running" and containers[500].cpu_cores == 2
    assert containers[500].ram_mb == 1024 and containers[500].hostname == "running-one"
    assert containers[501].status == "stopped"
    assert 9000 not in containers  # the template is not a workload
    container_samples = [s for s in samples if s.container_id == containers[500].id]
    assert len(container_samples) == 1 and container_samples[0].netin >= 0

    await pve.stop_container("pve1", 500)
    await pve.destroy_container("pve1", 500)
    pve_lab.state.nodes["pve2"].status = "offline"
    third = await sync_inventory(ctx, now=T0 + timedelta(seconds=120))
    assert third.vanished == 1
    async with ctx.db.sessionmaker() as session:
        gone = await session.scalar(select(LxcContainer).where(LxcContainer.vmid == 500))
        pve2 = await session.scalar(select(ProxmoxNode).where(ProxmoxNode.hostname == "pve2"))
    assert gone is not None and gone.status == "vanished"
    assert pve2 is not None and pve2.status == "offline"


async def test_unconfigured_sources_answer_empty_with_meta(
    client: httpx.AsyncClient, viewer: dict[str, Any], settings: Any
) -> None:
    settings.proxmox_host = None
    settings.cloudflare_api_token = None
    h = viewer["headers"]
    for path in ("/api/infrastructure/nodes", "/api/infrastructure/containers"):
        body = (await client.get(path, headers=h)).json()
        assert body["success"] and body["data"] == []
        assert body["meta"]["configured"] == {"proxmox": False}
    tunnels = (await client.get("/api/tunnels", headers=h)).json()
    assert tunnels["data"] == [] and tunnels["meta"]["configured"] == {"cloudflare": False}
    assert (await client.get("/api/tunnels")).status_code == 401


async def test_infrastructure_api(
    ctx: AppContext,
    client: httpx.AsyncClient,
    admin: dict[str, Any],
    viewer: dict[str, Any],
    pve: ProxmoxManager,
    lab_stack: LabStack,
) -> None:
    await _two_containers(pve)
    await sync_inventory(ctx, now=datetime.now(UTC) - timedelta(minutes=1))
    await sync_inventory(ctx)
    h = viewer["headers"]

    nodes = (await client.get("/api/infrastructure/nodes", headers=h)).json()
    assert nodes["meta"]["configured"] == {"proxmox": True} and nodes["meta"]["total"] == 2
    pve1 = next(n for n in nodes["data"] if n["hostname"] == "pve1")
    assert pve1["cpu_total"] == 8 and pve1["containers"] == 1 and pve1["ram_used"] > 0

    containers = (await client.get("/api/infrastructure/containers", headers=h)).json()
    assert [c["vmid"] for c in containers["data"]] == [500, 501]
    assert containers["data"][0]["tenant"] is None and containers["meta"]["total"] == 2

    metrics = await client.get(
        "/api/infrastructure/metrics",
        params={"kind": "node", "id": pve1["id"], "step": 60},
        headers=h,
    )
    assert metrics.status_code == 200, metrics.text
    series = metrics.json()["data"]
    assert series["source"] == "raw" and len(series["points"]) == 2
    assert series["points"][0]["ram"] > 0
    missing = await client.get(
        "/api/infrastructure/metrics", params={"kind": "container", "id": 999}, headers=h
    )
    assert missing.status_code == 404 and missing.json()["error"] == "CONTAINER_NOT_FOUND"
    backwards = await client.get(
        "/api/infrastructure/metrics",
        params={
            "kind": "node",
            "id": 1,
            "from": "2026-01-02T00:00:00Z",
            "to": "2026-01-01T00:00:00Z",
        },
        headers=h,
    )
    assert backwards.status_code == 422

    tunnel = lab_stack.tunnel_ids[0]
    forbidden = await client.put(
        "/api/infrastructure/nodes/pve2", json={"tunnel_id": tunnel}, headers=h
    )
    assert forbidden.status_code == 403
    ah = admin["headers"]
    unknown = await client.put(
        "/api/infrastructure/nodes/pve2", json={"tunnel_id": "nope"}, headers=ah
    )
    assert unknown.status_code == 422 and unknown.json()["error"] == "TUNNEL_NOT_FOUND"
    absent = await client.put(
        "/api/infrastructure/nodes/pve9", json={"tunnel_id": tunnel}, headers=ah
    )
    assert absent.status_code == 404 and absent.json()["error"] == "NODE_NOT_FOUND"
    cleared = await client.put(
        "/api/infrastructure/nodes/pve2", json={"tunnel_id": None}, headers=ah
    )
    assert cleared.status_code == 200 and cleared.json()["data"]["tunnel_id"] is None

    tunnels = (await client.get("/api/tunnels", headers=h)).json()
    listed = next(t for t in tunnels["data"] if t["id"] == tunnel)
    assert listed["nodes"] == ["pve1"] and isinstance(listed["connections"], int)
    assert tunnels["meta"]["configured"] == {"cloudflare": True}


def test_periodic_tasks_register() -> None:
    wired = build_queue("postgresql://unused@127.0.0.1/unused")
    assert {"erp.infra_sync", "erp.metrics_rollup", "erp.metrics_prune"} <= set(wired.tasks)
    app = procrastinate.App(connector=procrastinate.testing.InMemoryConnector())
    register_tasks(app, sync_interval_seconds=120)
    assert {"erp.infra_sync", "erp.metrics_rollup", "erp.metrics_prune"} <= set(app.tasks)
    assert interval_cron(60) == "* * * * *"
    assert interval_cron(120) == "*/2 * * * *"
    assert interval_cron(30) == "* * * * * */30"
