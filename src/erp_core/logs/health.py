"""Service health: every dependency checked concurrently, each within its own timeout, so
one dead dependency makes its own row `down` without slowing the page.

Rooms register extra checks (`register_check`) — Proxmox, Stripe — so this module never
imports their drivers.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import text

from erp_core.context import AppContext
from erp_core.drivers.factory import cloudflare_for
from erp_core.tenants.servers import list_with_status

Status = Literal["ok", "degraded", "down", "not_configured"]
CHECK_TIMEOUT = 3.0


@dataclass
class CheckResult:
    name: str
    label: str
    status: Status
    message: str
    latency_ms: float | None = None
    details: dict[str, Any] = field(default_factory=dict)


CheckFn = Callable[[AppContext], Awaitable[list[CheckResult]]]
_EXTRA: list[tuple[str, str, CheckFn]] = []


def register_check(name: str, label: str, fn: CheckFn) -> None:
    """Add a dependency check (idempotent per name)."""
    if all(existing != name for existing, _, _ in _EXTRA):
        _EXTRA.append((name, label, fn))


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


async def check_postgres(ctx: AppContext) -> list[CheckResult]:
    async with ctx.db.engine.connect() as conn:
        started = time.perf_counter()  # one round trip, not the pool's connection set-up
        await conn.execute(text("SELECT 1"))
        latency = _ms(started)
    status: Status = "ok" if latency < 200 else "degraded"
    return [CheckResult("postgresql", "PostgreSQL", status, f"Responde en {latency} ms.", latency)]


async def check_redis(ctx: AppContext) -> list[CheckResult]:
    if not ctx.settings.redis_url:
        return [
            CheckResult(
                "redis",
                "Redis",
                "not_configured",
                "REDIS_URL no está definido: se usa la caché en memoria del proceso.",
            )
        ]
    started = time.perf_counter()
    await ctx.cache.ping()
    latency = _ms(started)
    return [CheckResult("redis", "Redis", "ok", f"Responde en {latency} ms.", latency)]


QUEUE_SQL = text("""
SELECT
  (SELECT count(*) FROM procrastinate_workers WHERE last_heartbeat > now() - interval '1 minute') AS workers,
  (SELECT count(*) FROM procrastinate_jobs WHERE status = 'todo'
     AND (scheduled_at IS NULL OR scheduled_at <= now())) AS depth,
  (SELECT min(coalesce(scheduled_at, e.at)) FROM procrastinate_jobs j
     LEFT JOIN LATERAL (SELECT min(at) AS at FROM procrastinate_events ev WHERE ev.job_id = j.id) e ON true
     WHERE j.status = 'todo' AND (j.scheduled_at IS NULL OR j.scheduled_at <= now())) AS oldest
""")


async def check_queue(ctx: AppContext) -> list[CheckResult]:
    started = time.perf_counter()
    async with ctx.db.engine.connect() as conn:
        row = (await conn.execute(QUEUE_SQL)).one()
    latency = _ms(started)
    oldest = row.oldest
    waiting_s = (datetime.now(UTC) - oldest).total_seconds() if oldest else 0.0
    details = {
        "workers": row.workers,
        "depth": row.depth,
        "oldest_waiting_at": oldest.isoformat() if oldest else None,
        "oldest_waiting_seconds": round(waiting_s, 1),
    }
    if row.workers == 0:
        return [
            CheckResult(
                "queue",
                "Cola de trabajos",
                "down",
                "Ningún worker ha dado señales en el último minuto.",
                latency,
                details,
            )
        ]
    if waiting_s > 300:
        return [
            CheckResult(
                "queue",
                "Cola de trabajos",
                "degraded",
                f"Hay trabajos esperando desde hace {int(waiting_s // 60)} min.",
                latency,
                details,
            )
        ]
    return [
        CheckResult(
            "queue",
            "Cola de trabajos",
            "ok",
            f"{row.workers} worker(s) activos, {row.depth} trabajo(s) en cola.",
            latency,
            details,
        )
    ]


async def check_disk(ctx: AppContext) -> list[CheckResult]:
    path = ctx.settings.var_dir
    path.mkdir(parents=True, exist_ok=True)
    usage = await asyncio.to_thread(shutil.disk_usage, path)
    free_ratio = usage.free / usage.total if usage.total else 0.0
    details = {
        "path": str(path),
        "used_bytes": usage.used,
        "free_bytes": usage.free,
        "total_bytes": usage.total,
    }
    pct = round(free_ratio * 100, 1)
    status: Status = "ok" if free_ratio >= 0.10 else ("degraded" if free_ratio >= 0.02 else "down")
    message = f"{pct} % libre en el disco de datos."
    return [CheckResult("disk", "Disco de datos", status, message, None, details)]


async def check_cloudflare(ctx: AppContext) -> list[CheckResult]:

    router = cloudflare_for(ctx)
    if router is None:
        return [
            CheckResult(
                "cloudflare",
                "Cloudflare",
                "not_configured",
                "Faltan CLOUDFLARE_API_TOKEN, CLOUDFLARE_ACCOUNT_ID o CLOUDFLARE_ZONE_ID.",
            )
        ]
    started = time.perf_counter()
    try:
        tunnels = await router.list_tunnels()
    finally:
        await router.aclose()
    latency = _ms(started)
    down = [t.name for t in tunnels if t.connections == 0]
    details = {"tunnels": len(tunnels), "without_connections": down}
    if down:
        return [
            CheckResult(
                "cloudflare",
                "Cloudflare",
                "degraded",
                f"Túneles sin conexiones: {', '.join(down)}.",
                latency,
                details,
            )
        ]
    return [
        CheckResult(
            "cloudflare",
            "Cloudflare",
            "ok",
            f"{len(tunnels)} túnel(es) conectados.",
            latency,
            details,
        )
    ]


async def check_odoo_servers(ctx: AppContext) -> list[CheckResult]:

    async with ctx.db.sessionmaker() as session:
        servers = await list_with_status(session, ctx)
    if not servers:
        return [
            CheckResult(
                "odoo",
                "Servidores Odoo",
                "not_configured",
                "No hay servidores Odoo registrados (ODOO_URL o Infraestructura).",
            )
        ]
    results = []
    for server in servers:
        status: Status = "ok" if server.health == "ok" else "down"
        message = (
            f"Odoo {server.version} responde en {server.latency_ms} ms."
            if status == "ok"
            else f"No responde: {server.health_detail or 'sin detalle'}."
        )
        results.append(
            CheckResult(
                f"odoo:{server.id}",
                f"Odoo «{server.name}»",
                status,
                message,
                server.latency_ms,
                {"url": server.url, "tenants": server.tenants, "capacity": server.capacity},
            )
        )
    return results


def _stripe_not_configured(ctx: AppContext) -> list[CheckResult]:
    return [
        CheckResult("stripe", "Stripe", "not_configured", "STRIPE_SECRET_KEY no está definido.")
    ]


BUILTIN: list[tuple[str, str, CheckFn]] = [
    ("postgresql", "PostgreSQL", check_postgres),
    ("redis", "Redis", check_redis),
    ("queue", "Cola de trabajos", check_queue),
    ("disk", "Disco de datos", check_disk),
    ("cloudflare", "Cloudflare", check_cloudflare),
    ("odoo", "Servidores Odoo", check_odoo_servers),
]


async def _guarded(
    ctx: AppContext, name: str, label: str, fn: CheckFn, timeout: float
) -> list[CheckResult]:
    started = time.perf_counter()
    try:
        async with asyncio.timeout(timeout):
            return await fn(ctx)
    except TimeoutError:
        return [CheckResult(name, label, "down", f"Sin respuesta en {timeout:g} s.", _ms(started))]
    except Exception as exc:
        detail = getattr(exc, "message", None) or type(exc).__name__
        return [CheckResult(name, label, "down", f"Error: {detail}", _ms(started))]


async def run_checks(ctx: AppContext, timeout: float = CHECK_TIMEOUT) -> list[CheckResult]:
    checks = list(BUILTIN) + list(_EXTRA)
    names = {name for name, _, _ in checks}
    if "stripe" not in names:
        checks.append(("stripe", "Stripe", _stripe_placeholder))
    if "proxmox" not in names:
        checks.append(("proxmox", "Proxmox", _proxmox_placeholder))
    groups = await asyncio.gather(
        *(_guarded(ctx, n, label, fn, timeout) for n, label, fn in checks)
    )
    return [result for group in groups for result in group]


async def _stripe_placeholder(ctx: AppContext) -> list[CheckResult]:
    if not ctx.settings.stripe_configured:
        return _stripe_not_configured(ctx)
    return [
        CheckResult(
            "stripe",
            "Stripe",
            "degraded",
            "Stripe está configurado pero no hay comprobación disponible.",
        )
    ]


async def _proxmox_placeholder(ctx: AppContext) -> list[CheckResult]:
    return [CheckResult("proxmox", "Proxmox", "not_configured", "PROXMOX_HOST no está definido.")]


def overall(results: list[CheckResult]) -> Literal["ok", "degraded", "down"]:
    essential = {"postgresql", "queue", "disk"}
    if any(r.status == "down" and r.name in essential for r in results):
        return "down"
    if any(r.status in ("down", "degraded") for r in results):
        return "degraded"
    return "ok"
