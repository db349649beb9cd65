"""The cluster as the control plane knows it: inventory sync, listings, node tunnels.

Everything listed comes from the database rows the sync wrote (from Proxmox) or from a live
vendor call; nothing is estimated. With Proxmox unconfigured the listings are empty and the
API says which source is missing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from erp_core.context import AppContext
from erp_core.drivers.base import ClusterManager, ClusterResource, DriverError
from erp_core.drivers.factory import cluster_for
from erp_core.models import (
    DedicatedContainer,
    LxcContainer,
    OdooServer,
    ProxmoxNode,
    ResourceMetric,
    Tenant,
)

log = logging.getLogger(__name__)
SYNC_LOCK = (7272, 1)
MIB, GIB = 1024**2, 1024**3


@dataclass
class SyncResult:
    configured: bool = True
    nodes: int = 0
    containers: int = 0
    vanished: int = 0
    samples: int = 0
    warnings: list[str] = field(default_factory=list)


def _node_status(value: str) -> str:
    return value if value in ("online", "offline") else "unknown"


def _container_status(value: str) -> str:
    return value if value in ("running", "stopped") else "unknown"


async def _node_net_rates(
    cluster: ClusterManager, nodes: list[ClusterResource], result: SyncResult
) -> dict[str, tuple[float, float]]:
    """Each online node's latest network rates (bytes/s) from its rrddata."""
    rates: dict[str, tuple[float, float]] = {}
    for node in nodes:
        if node.status != "online":
            continue
        try:
            points = await cluster.rrddata(node.node, timeframe="hour", cf="AVERAGE")
        except DriverError as exc:
            result.warnings.append(f"{node.node}: {exc.message}")
            continue
        for point in reversed(points):
            if point.netin is not None and point.netout is not None:
                rates[node.node] = (point.netin, point.netout)
                break
    return rates


async def sync_inventory(ctx: AppContext, *, now: datetime | None = None) -> SyncResult:
    """Upsert nodes and containers from ``/cluster/resources``, mark vanished ones, and
    write one resource sample per online node and running container."""
    cluster = cluster_for(ctx)
    if cluster is None:
        return SyncResult(configured=False)
    result = SyncResult()
    try:
        resources = await cluster.cluster_resources()
        nodes = [r for r in resources if r.type == "node"]
        rates = await _node_net_rates(cluster, nodes, result)
    finally:
        await cluster.aclose()
    moment = now or datetime.now(UTC)
    containers = [r for r in resources if r.type == "lxc" and not r.template and r.vmid]
    tunnels = ctx.settings.proxmox_node_tunnel_map
    async with ctx.db.sessionmaker() as session:
        await session.execute(select(func.pg_advisory_xact_lock(*SYNC_LOCK)))
        node_rows = {n.hostname: n for n in await session.scalars(select(ProxmoxNode))}
        for resource in nodes:
            row = node_rows.get(resource.node)
            if row is None:
                row = ProxmoxNode(hostname=resource.node)
                session.add(row)
                node_rows[resource.node] = row
            row.status = _node_status(resource.status)
            row.cpu_total, row.ram_total, row.disk_total = (
                resource.maxcpu,
                resource.maxmem,
                resource.maxdisk,
            )
            row.cpu_usage, row.ram_used, row.disk_used = resource.cpu, resource.mem, resource.disk
            row.last_seen_at = moment
            if row.tunnel_id is None and resource.node in tunnels:
                row.tunnel_id = tunnels[resource.node]
        seen_nodes = {r.node for r in nodes}
        for name, row in node_rows.items():
            if name not in seen_nodes and row.status != "vanished":
                row.status = "vanished"
                result.vanished += 1
        await session.flush()
        for resource in nodes:
            row = node_rows[resource.node]
            if resource.node in rates:
                netin, netout = rates[resource.node]
                session.add(
                    ResourceMetric(
                        node_id=row.id,
                        cpu=resource.cpu,
                        ram=resource.mem,
                        disk=resource.disk,
                        netin=netin,
                        netout=netout,
                        timestamp=moment,
                    )
                )
                result.samples += 1
        result.nodes = len(nodes)
        await _sync_containers(session, containers, node_rows, moment, result)
        await session.commit()
    return result


async def _sync_containers(
    session: AsyncSession,
    containers: list[ClusterResource],
    node_rows: dict[str, ProxmoxNode],
    moment: datetime,
    result: SyncResult,
) -> None:
    rows = {c.vmid: c for c in await session.scalars(select(LxcContainer))}
    ours = dict(
        (
            await session.execute(
                select(DedicatedContainer.vmid, DedicatedContainer.ip_address).where(
                    DedicatedContainer.released_at.is_(None)
                )
            )
        ).all()
    )
    seen = {r.vmid for r in containers}
    for vmid, row in rows.items():
        if vmid not in seen and row.status != "vanished":
            row.status, row.ip_address = "vanished", None
            result.vanished += 1
    await session.flush()
    for resource in containers:
        assert resource.vmid is not None
        existing = rows.get(resource.vmid)
        previous = None
        if existing is None:
            row = LxcContainer(vmid=resource.vmid, node_id=node_rows[resource.node].id)
            session.add(row)
        else:
            row = existing
            if row.netin_total is not None and row.last_seen_at is not None:
                previous = (row.netin_total, row.netout_total or 0, row.last_seen_at)
        row.node_id = node_rows[resource.node].id
        row.hostname = resource.name
        row.ip_address = ours.get(resource.vmid)
        row.cpu_cores = resource.maxcpu
        row.ram_mb = resource.maxmem // MIB
        row.disk_gb = resource.maxdisk // GIB
        row.status = _container_status(resource.status)
        row.cpu_usage, row.ram_used, row.disk_used = resource.cpu, resource.mem, resource.disk
        row.netin_total, row.netout_total = resource.netin, resource.netout
        row.last_seen_at = moment
        await session.flush()
        if resource.status != "running" or previous is None:
            continue
        elapsed = (moment - previous[2]).total_seconds()
        if elapsed <= 0 or resource.netin < previous[0] or resource.netout < previous[1]:
            continue  # first look after a restart: counters started again
        session.add(
            ResourceMetric(
                container_id=row.id,
                cpu=resource.cpu,
                ram=resource.mem,
                disk=resource.disk,
                netin=(resource.netin - previous[0]) / elapsed,
                netout=(resource.netout - previous[1]) / elapsed,
                timestamp=moment,
            )
        )
        result.samples += 1
    result.containers = len(containers)


# --- listings -----------------------------------------------------------------------------


async def list_nodes(session: AsyncSession) -> list[dict[str, Any]]:
    counts = dict(
        (
            await session.execute(
                select(LxcContainer.node_id, func.count())
                .where(LxcContainer.status != "vanished")
                .group_by(LxcContainer.node_id)
            )
        ).all()
    )
    rows = await session.scalars(select(ProxmoxNode).order_by(ProxmoxNode.hostname))
    return [
        {
            "id": n.id,
            "hostname": n.hostname,
            "status": n.status,
            "cpu_total": n.cpu_total,
            "cpu_usage": n.cpu_usage,
            "ram_total": n.ram_total,
            "ram_used": n.ram_used,
            "disk_total": n.disk_total,
            "disk_used": n.disk_used,
            "tunnel_id": n.tunnel_id,
            "containers": int(counts.get(n.id, 0)),
            "last_seen_at": n.last_seen_at,
        }
        for n in rows
    ]


async def list_containers(
    session: AsyncSession, *, offset: int, limit: int, include_vanished: bool = False
) -> tuple[list[dict[str, Any]], int]:
    """Containers with their node and the tenant each one hosts (dedicated link)."""
    link = (
        select(DedicatedContainer.vmid, DedicatedContainer.tenant_id)
        .where(DedicatedContainer.released_at.is_(None))
        .subquery()
    )
    query = (
        select(LxcContainer, ProxmoxNode.hostname, Tenant.id, Tenant.subdomain, Tenant.status)
        .join(ProxmoxNode, ProxmoxNode.id == LxcContainer.node_id)
        .outerjoin(link, link.c.vmid == LxcContainer.vmid)
        .outerjoin(Tenant, Tenant.id == link.c.tenant_id)
    )
    count_query = select(func.count()).select_from(LxcContainer)
    if not include_vanished:
        query = query.where(LxcContainer.status != "vanished")
        count_query = count_query.where(LxcContainer.status != "vanished")
    total = int(await session.scalar(count_query) or 0)
    rows = await session.execute(query.order_by(LxcContainer.vmid).offset(offset).limit(limit))
    items = []
    for container, node, tenant_id, subdomain, tenant_status in rows.all():
        items.append(
            {
                "id": container.id,
                "vmid": container.vmid,
                "node": node,
                "hostname": container.hostname,
                "ip_address": container.ip_address,
                "status": container.status,
                "cpu_cores": container.cpu_cores,
                "cpu_usage": container.cpu_usage,
                "ram_mb": container.ram_mb,
                "ram_used": container.ram_used,
                "disk_gb": container.disk_gb,
                "disk_used": container.disk_used,
                "last_seen_at": container.last_seen_at,
                "tenant": (
                    {"id": tenant_id, "subdomain": subdomain, "status": tenant_status}
                    if tenant_id is not None
                    else None
                ),
            }
        )
    return items, total


async def node_tunnel(session: AsyncSession, ctx: AppContext, node: str) -> str | None:
    """The tunnel a node's containers are published through: the node row, else settings."""
    tunnel = await session.scalar(select(ProxmoxNode.tunnel_id).where(ProxmoxNode.hostname == node))
    return tunnel or ctx.settings.proxmox_node_tunnel_map.get(node)


async def last_sync_at(session: AsyncSession) -> datetime | None:
    value: datetime | None = await session.scalar(select(func.max(ProxmoxNode.last_seen_at)))
    return value


async def tunnel_usage(session: AsyncSession) -> dict[str, dict[str, list[str]]]:
    """Which nodes and Odoo servers publish through each tunnel id."""
    usage: dict[str, dict[str, list[str]]] = {}
    for hostname, tunnel in await session.execute(
        select(ProxmoxNode.hostname, ProxmoxNode.tunnel_id).where(
            ProxmoxNode.tunnel_id.is_not(None)
        )
    ):
        if tunnel:
            usage.setdefault(tunnel, {"nodes": [], "servers": []})["nodes"].append(hostname)
    for name, tunnel in await session.execute(
        select(OdooServer.name, OdooServer.tunnel_id).where(OdooServer.tunnel_id.is_not(None))
    ):
        if tunnel:
            usage.setdefault(tunnel, {"nodes": [], "servers": []})["servers"].append(name)
    return usage


async def explain(session: AsyncSession, sql: str, params: dict[str, Any]) -> str:
    """EXPLAIN output of a query (operators' diagnostics and the index tests)."""
    rows = await session.execute(text("EXPLAIN " + sql), params)
    return "\n".join(str(r[0]) for r in rows)
