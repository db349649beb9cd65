"""Service health: every dependency checked concurrently, each within its own timeout, so
one dead dependency makes its own row `down` without slowing the page.

Rooms register extra checks (`register_check`) — Proxmox, Stripe — so this module never
imports their drivers.
"""

from __future__ import annotations

import asyncio
import logging
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
log = logging.getLogger(__name__)


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


def es_number(value: float, decimals: int = 1) -> str:
    """12.82 → "12,8"; 31383 → "31.383" (Spanish separators, as the UI writes numbers)."""
    text = f"{value:,.{decimals}f}" if decimals else f"{round(value):,}"
    return text.replace(",", " ").replace(".", ",").replace(" ", ".")


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _bytes(n: float) -> str:
    for unit, size in (("TB", 1024**4), ("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if n >= size:
            return f"{es_number(n / size)} {unit}"
    return f"{int(n)} B"


FACT_LABELS: dict[str, str] = {
    "workers": "Procesos de trabajo activos",
    "depth": "Trabajos en cola",
    "oldest_waiting_at": "Trabajo más antiguo en espera desde",
    "oldest_waiting_seconds": "Espera del trabajo más antiguo",
    "path": "Ruta",
    "used_bytes": "Usado",
    "free_bytes": "Libre",
    "total_bytes": "Total",
    "tunnels": "Túneles",
    "without_connections": "Túneles sin conexión",
    "url": "URL",
    "tenants": "Tenants alojados",
    "capacity": "Capacidad",
    "nodes": "Nodos",
    "offline": "Nodos sin conexión",
    "active_tenants": "Tenants activos",
    "tenants_with_recent_backup": "Con respaldo en las últimas 36 h",
    "tenants_never_backed_up": "Sin ningún respaldo",
    "young_tenants_excused": "Creados hace menos de 36 h (en plazo)",
    "tenants_without_recent_backup": "Sin respaldo reciente (más de 36 h)",
    "corrupt_backups": "Respaldos que no superan la verificación",
    "drills_ok": "Simulacros correctos (7 días)",
    "drills_failed": "Simulacros fallidos (7 días)",
    "last_drill_at": "Último simulacro",
    "store": "Almacenamiento",
}


def _fact_value(key: str, value: Any) -> str:
    if value is None:
        return "—" if not key.endswith("_at") else "Nunca"
    if isinstance(value, bool):
        return "Sí" if value else "No"
    if isinstance(value, list | tuple):
        # Names of tunnels or nodes: "Ninguno" rather than "[]".
        return ", ".join(str(v) for v in value) if value else "Ninguno"
    if key.endswith("_bytes") and isinstance(value, int | float):
        return _bytes(value)
    if key.endswith("_seconds") and isinstance(value, int | float):
        return f"{es_number(value)} s" if value < 120 else f"{es_number(value / 60, 0)} min"
    if key.endswith("_at") and isinstance(value, str):
        try:
            at = datetime.fromisoformat(value)
        except ValueError:
            return value
        return at.astimezone(UTC).strftime("%d/%m/%Y %H:%M UTC")
    if key == "store":
        return {"local": "Disco local", "s3": "S3"}.get(str(value), str(value))
    if isinstance(value, int | float):
        return es_number(value, 0 if float(value).is_integer() else 1)
    return str(value)


def facts(details: dict[str, Any]) -> list[dict[str, str]]:
    """Details as labelled, human values for the UI (no raw keys, no `null`, no bytes)."""
    return [
        {"label": FACT_LABELS[key], "value": _fact_value(key, value)}
        for key, value in details.items()
        if key in FACT_LABELS
    ]


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


async def check_postgres(ctx: AppContext) -> list[CheckResult]:
    async with ctx.db.engine.connect() as conn:
        started = time.perf_counter()  # one round trip, not the pool's connection set-up
        await conn.execute(text("SELECT 1"))
        latency = _ms(started)
    status: Status = "ok" if latency < 200 else "degraded"
    return [
        CheckResult(
            "postgresql", "PostgreSQL", status, f"Responde en {es_number(latency)} ms.", latency
        )
    ]


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
    return [CheckResult("redis", "Redis", "ok", f"Responde en {es_number(latency)} ms.", latency)]


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
                "Ningún proceso de trabajo ha dado señales en el último minuto.",
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
            f"{_plural(row.workers, 'proceso de trabajo activo', 'procesos de trabajo activos')}, "
            f"{_plural(row.depth, 'trabajo', 'trabajos')} en cola.",
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
    message = f"{es_number(pct)} % libre en el disco de datos."
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
            f"Odoo {server.version} responde en {es_number(server.latency_ms or 0)} ms."
            if status == "ok"
            else server.health_detail or "El servidor Odoo no responde."
        )
        results.append(
            CheckResult(
                f"odoo:{server.id}",
                f"Odoo «{server.display_name or server.name}»",
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
        # Never "ConnectError: All connection attempts failed": a driver's message is already
        # Spanish; anything else is said plainly, and the class name goes only to the log.
        log.warning("health check failed", extra={"check": name, "error": type(exc).__name__})
        detail = getattr(exc, "message", None)
        message = (
            f"{detail}." if isinstance(detail, str) and detail else f"No se pudo comprobar {label}."
        )
        if isinstance(exc, OSError | ConnectionError) or "connect" in type(exc).__name__.lower():
            message = f"No se pudo conectar con {label}."
        return [CheckResult(name, label, "down", message, _ms(started))]


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
