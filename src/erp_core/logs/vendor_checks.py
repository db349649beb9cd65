"""Health rows and "Probar conexión" for Proxmox and Stripe: one short, read-only call each
(the cluster's resource list; one invoice from Stripe's list)."""

from __future__ import annotations

import time

from erp_core.context import AppContext
from erp_core.drivers.base import DriverError

# Imported here, at start-up: importing the vendor SDKs inside a check would block the event
# loop (hundreds of milliseconds) while the other checks are being timed.
from erp_core.drivers.factory import cluster_for, gateway_for
from erp_core.logs.health import CheckResult
from erp_core.settings.connection_tests import Check


async def proxmox_health(ctx: AppContext) -> list[CheckResult]:
    cluster = cluster_for(ctx)
    if cluster is None:
        return [
            CheckResult(
                "proxmox",
                "Proxmox",
                "not_configured",
                "PROXMOX_HOST o el token no están definidos.",
            )
        ]
    started = time.perf_counter()
    try:
        nodes = await cluster.cluster_resources("node")
    finally:
        await cluster.aclose()
    latency = round((time.perf_counter() - started) * 1000, 2)
    offline = [n.node for n in nodes if n.status != "online"]
    details = {"nodes": len(nodes), "offline": offline}
    if offline:
        return [
            CheckResult(
                "proxmox",
                "Proxmox",
                "degraded",
                f"Nodos sin conexión: {', '.join(offline)}.",
                latency,
                details,
            )
        ]
    return [
        CheckResult("proxmox", "Proxmox", "ok", f"{len(nodes)} nodo(s) en línea.", latency, details)
    ]


async def stripe_health(ctx: AppContext) -> list[CheckResult]:
    gateway = gateway_for(ctx)
    if gateway is None:
        return [
            CheckResult("stripe", "Stripe", "not_configured", "STRIPE_SECRET_KEY no está definido.")
        ]
    started = time.perf_counter()
    try:
        async for _invoice in gateway.list_invoices(page_size=1):
            break
    finally:
        await gateway.aclose()
    latency = round((time.perf_counter() - started) * 1000, 2)
    return [CheckResult("stripe", "Stripe", "ok", "La API de Stripe responde.", latency)]


async def _as_test(ctx: AppContext, fn: object) -> list[Check]:
    try:
        rows = await fn(ctx)  # type: ignore[operator]
    except DriverError as exc:
        return [Check("conexión", False, exc.message)]
    return [Check(r.label, r.status == "ok", r.message) for r in rows]


async def proxmox_test(ctx: AppContext) -> list[Check]:
    return await _as_test(ctx, proxmox_health)


async def stripe_test(ctx: AppContext) -> list[Check]:
    return await _as_test(ctx, stripe_health)
