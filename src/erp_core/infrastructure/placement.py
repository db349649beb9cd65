"""Where a dedicated container goes: live node load against the operator's thresholds.

A node qualifies when, after reserving the plan's RAM (and what in-flight reservations
already promised it), at least ``min_ram_free_pct`` of its RAM stays free, its CPU was idle
at least ``min_cpu_idle_pct`` on average over the last hour, and its storage has room for the
plan's disk. The best qualifying node is the one with the most headroom. With none
qualifying, placement fails with every node's reason — or, when the admin allows
overcommit, takes the least-loaded node that still has the disk, and says so.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass

from erp_core.drivers.base import ClusterManager

log = logging.getLogger(__name__)
MIB = 1024**2
GIB = 1024**3


@dataclass(frozen=True, slots=True)
class PlanResources:
    cores: int
    ram_mb: int
    disk_gb: int


@dataclass(frozen=True, slots=True)
class NodeLoad:
    """A node's live figures: bytes for memory and disk, CPU idle as a fraction (0..1)."""

    node: str
    online: bool
    mem_used: int
    mem_total: int
    disk_used: int
    disk_total: int
    cpu_idle_hour: float | None
    reserved_mem: int = 0


@dataclass(frozen=True, slots=True)
class Thresholds:
    min_ram_free_pct: float = 20.0
    min_cpu_idle_pct: float = 50.0
    allow_overcommit: bool = False


@dataclass(frozen=True, slots=True)
class Placement:
    node: str
    overcommitted: bool
    reasons: dict[str, str]


class NoCapacity(Exception):
    """No node qualifies; ``message`` is the Spanish, operator-facing explanation."""

    def __init__(self, message: str, reasons: dict[str, str]) -> None:
        super().__init__(message)
        self.message = message
        self.reasons = reasons


def _ram_free_after(load: NodeLoad, plan: PlanResources) -> float:
    if load.mem_total <= 0:
        return 0.0
    free = load.mem_total - load.mem_used - load.reserved_mem - plan.ram_mb * MIB
    return free / load.mem_total


def _headroom(load: NodeLoad, plan: PlanResources) -> float:
    return _ram_free_after(load, plan) + (load.cpu_idle_hour or 0.0)


def _problem(load: NodeLoad, plan: PlanResources, limits: Thresholds) -> str | None:
    """Why a node does not qualify (Spanish), or None when it does."""
    if not load.online:
        return "fuera de línea"
    if load.disk_total - load.disk_used < plan.disk_gb * GIB:
        free_gb = max(0, load.disk_total - load.disk_used) / GIB
        return f"disco libre {free_gb:.0f} GB < {plan.disk_gb} GB del plan"
    ram_free = _ram_free_after(load, plan) * 100
    if ram_free < limits.min_ram_free_pct:
        return f"RAM libre tras reservar {ram_free:.0f} % < {limits.min_ram_free_pct:.0f} %"
    if load.cpu_idle_hour is None:
        return "sin historial de CPU de la última hora"
    idle = load.cpu_idle_hour * 100
    if idle < limits.min_cpu_idle_pct:
        return f"CPU libre en la última hora {idle:.0f} % < {limits.min_cpu_idle_pct:.0f} %"
    return None


def choose_node(loads: list[NodeLoad], plan: PlanResources, limits: Thresholds) -> Placement:
    """The best qualifying node, or the least-loaded one under overcommit; else NoCapacity."""
    reasons = {load.node: _problem(load, plan, limits) for load in loads}
    qualifying = [load for load in loads if reasons[load.node] is None]
    failed = {node: reason for node, reason in reasons.items() if reason is not None}
    if qualifying:
        best = max(qualifying, key=lambda load: (_headroom(load, plan), load.node))
        return Placement(best.node, False, failed)
    summary = "; ".join(f"{node}: {reason}" for node, reason in sorted(failed.items()))
    if limits.allow_overcommit:
        fallback = [
            load
            for load in loads
            if load.online and load.disk_total - load.disk_used >= plan.disk_gb * GIB
        ]
        if fallback:
            best = max(fallback, key=lambda load: (_headroom(load, plan), load.node))
            log.warning(
                "placing dedicated container with overcommit",
                extra={"node": best.node, "reasons": summary},
            )
            return Placement(best.node, True, failed)
    if not loads:
        summary = "el clúster no informó ningún nodo"
    raise NoCapacity(f"Ningún nodo de Proxmox tiene capacidad para el plan ({summary}).", failed)


async def live_loads(cluster: ClusterManager, reserved_mem: dict[str, int]) -> list[NodeLoad]:
    """Current memory/disk from ``/cluster/resources``, CPU idle from the last hour's rrddata."""
    loads = []
    for resource in await cluster.cluster_resources("node"):
        idle: float | None = None
        if resource.status == "online":
            points = await cluster.rrddata(resource.node, timeframe="hour", cf="AVERAGE")
            cpus = [p.cpu for p in points if p.cpu is not None]
            if cpus:
                idle = max(0.0, 1.0 - sum(cpus) / len(cpus))
        loads.append(
            NodeLoad(
                node=resource.node,
                online=resource.status == "online",
                mem_used=resource.mem,
                mem_total=resource.maxmem,
                disk_used=resource.disk,
                disk_total=resource.maxdisk,
                cpu_idle_hour=idle,
                reserved_mem=reserved_mem.get(resource.node, 0),
            )
        )
    return loads


# --- VMIDs and addresses ----------------------------------------------------------------------


def parse_ip_pool(pool: str) -> tuple[ipaddress.IPv4Address, ipaddress.IPv4Address]:
    """``first-last`` (PROXMOX_IP_POOL) → the two addresses, validated."""
    first_text, sep, last_text = pool.partition("-")
    try:
        first = ipaddress.IPv4Address(first_text.strip())
        last = ipaddress.IPv4Address(last_text.strip()) if sep else first
    except ValueError as exc:
        raise ValueError(f"PROXMOX_IP_POOL no es un rango válido: {pool!r}") from exc
    if last < first:
        raise ValueError(f"PROXMOX_IP_POOL termina antes de empezar: {pool!r}")
    return first, last


def first_free_ip(pool: str, used: set[str]) -> str | None:
    first, last = parse_ip_pool(pool)
    for value in range(int(first), int(last) + 1):
        candidate = str(ipaddress.IPv4Address(value))
        if candidate not in used:
            return candidate
    return None


def first_free_vmid(low: int, high: int, used: set[int]) -> int | None:
    for candidate in range(max(100, low), high + 1):
        if candidate not in used:
            return candidate
    return None
