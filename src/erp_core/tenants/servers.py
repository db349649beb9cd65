"""The Odoo server registry: CRUD, the default server from the environment, live status."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from erp_core.api import Conflict, FieldError, NotFound, ValidationFailed
from erp_core.context import AppContext
from erp_core.drivers.base import DriverError, OdooHealth
from erp_core.drivers.factory import odoo_for
from erp_core.drivers.ssh import key_fingerprint
from erp_core.models import OdooServer, Tenant
from erp_core.tenants.schemas import OdooServerIn, OdooServerOut, OdooServerUpdate

DEFAULT_SERVER_NAME = "odoo-principal"
HEALTH_TIMEOUT = 3.0
HOST_FIELDS = (
    "ssh_host",
    "ssh_port",
    "ssh_user",
    "known_hosts",
    "pct_vmid",
    "odoo_user",
    "odoo_bin",
    "odoo_conf",
    "custom_create_script",
    "internal_url",
)


def _ssh_key_enc(ctx: AppContext, private_key: str) -> str:
    """Check the key parses (write-only secret), then encrypt it."""

    try:
        key_fingerprint(private_key)
    except DriverError as exc:
        raise ValidationFailed(exc.message, code="SSH_KEY_INVALID") from None
    return ctx.secret_box.encrypt(private_key)


def _fingerprint(ctx: AppContext, server: OdooServer) -> str | None:
    if not server.ssh_key_enc:
        return None

    try:
        return key_fingerprint(ctx.secret_box.decrypt(server.ssh_key_enc))
    except (DriverError, ValueError):
        return None


async def ensure_default_server(ctx: AppContext) -> None:
    """ODOO_URL + ODOO_MASTER_PASSWORD register (or update) the default server at start."""
    settings = ctx.settings
    if not (settings.odoo_url and settings.odoo_master_password):
        return
    async with ctx.db.sessionmaker() as session:
        await session.execute(select(func.pg_advisory_xact_lock(727_002)))
        server = await session.scalar(select(OdooServer).where(OdooServer.is_default.is_(True)))
        if server is None:
            server = OdooServer(name=DEFAULT_SERVER_NAME, is_default=True, state="active")
            session.add(server)
        server.url = settings.odoo_url.rstrip("/")
        server.master_password_enc = ctx.secret_box.encrypt(settings.odoo_master_password)
        server.capacity = settings.odoo_capacity
        if settings.cloudflare_tunnel_id:
            server.tunnel_id = settings.cloudflare_tunnel_id
        await session.commit()


async def get(session: AsyncSession, server_id: int) -> OdooServer:
    server = await session.get(OdooServer, server_id)
    if server is None:
        raise NotFound(f"El servidor Odoo con ID {server_id} no existe.", code="SERVER_NOT_FOUND")
    return server


async def create(session: AsyncSession, ctx: AppContext, body: OdooServerIn) -> OdooServer:
    if await session.scalar(select(OdooServer.id).where(OdooServer.name == body.name)):
        raise Conflict(f"Ya existe un servidor llamado «{body.name}».", code="SERVER_EXISTS")
    server = OdooServer(
        name=body.name,
        url=body.url.rstrip("/"),
        master_password_enc=ctx.secret_box.encrypt(body.master_password or ""),
        capacity=body.capacity,
        state=body.state,
        tunnel_id=body.tunnel_id,
        mode=body.mode,
        **{field: getattr(body, field) for field in HOST_FIELDS},
    )
    if body.ssh_private_key:
        server.ssh_key_enc = _ssh_key_enc(ctx, body.ssh_private_key)
    session.add(server)
    await session.flush()
    return server


async def update(
    session: AsyncSession, ctx: AppContext, server: OdooServer, body: OdooServerUpdate
) -> list[str]:
    changes = body.model_dump(exclude_unset=True)
    nulls = [
        k
        for k in ("name", "url", "capacity", "state", "mode")
        if k in changes and changes[k] is None
    ]
    if nulls:
        message = (
            "Estos campos no pueden ser nulos (omítalos para no cambiarlos): "
            + ", ".join(nulls)
            + "."
        )
        raise ValidationFailed(
            message, fields=[FieldError(field=k, message=message) for k in nulls]
        )
    if "name" in changes and changes["name"] != server.name:
        if await session.scalar(select(OdooServer.id).where(OdooServer.name == changes["name"])):
            raise Conflict(
                f"Ya existe un servidor llamado «{changes['name']}».", code="SERVER_EXISTS"
            )
    password = changes.pop("master_password", None)
    if password:
        server.master_password_enc = ctx.secret_box.encrypt(password)
    secrets = ["master_password"] if password else []
    if "ssh_private_key" in changes:  # null clears it (the SSH agent is used then)
        key = changes.pop("ssh_private_key")
        server.ssh_key_enc = _ssh_key_enc(ctx, key) if key else None
        secrets.append("ssh_private_key")
    for key, value in changes.items():
        setattr(server, key, value.rstrip("/") if key == "url" and value else value)
    if server.mode == "host" and not server.ssh_host:
        raise ValidationFailed("El modo host necesita el host SSH (ssh_host).")
    await session.flush()
    return sorted([*changes, *secrets])


async def delete(session: AsyncSession, server: OdooServer) -> None:
    hosted = await session.scalar(
        select(func.count())
        .select_from(Tenant)
        .where(Tenant.odoo_server_id == server.id, Tenant.status != "deleted")
    )
    if hosted:
        raise Conflict(
            f"El servidor aloja {hosted} tenants; muévalos o elimínelos antes (o márquelo «draining»).",
            code="SERVER_IN_USE",
        )
    await session.delete(server)
    await session.flush()


STATE_ES = {"active": "Activo", "draining": "Drenando", "down": "Caído"}


def server_status_label(state: str, health: str) -> str:
    """What the server list shows: a server that does not answer is «Caído», never «Activo»."""
    if health == "down":
        return "Caído"
    return STATE_ES.get(state, state)


def health_detail_es(detail: str | None, url: str) -> str | None:
    """A probe's failure as an operator reads it, not `ConnectError: All connection ...`."""
    if not detail:
        return None
    low = detail.lower()
    if low.startswith(("connecterror", "connecttimeout")) or "connection attempts failed" in low:
        return f"No se pudo conectar con el servidor Odoo en {url} (¿está encendido y accesible?)."
    if "timeout" in low or detail.startswith("Sin respuesta"):
        return f"El servidor Odoo en {url} no respondió a tiempo."
    if "http" in low and any(ch.isdigit() for ch in detail):
        code = "".join(ch for ch in detail.rsplit(" ", 1)[-1] if ch.isdigit())
        return f"El servidor Odoo en {url} respondió con un error (HTTP {code})."
    if low.startswith(("remoteprotocolerror", "readerror", "writeerror")):
        return f"El servidor Odoo en {url} cortó la conexión."
    return f"El servidor Odoo en {url} respondió de forma inesperada."


async def _probe(ctx: AppContext, server: OdooServer) -> OdooHealth:
    odoo = odoo_for(ctx, server)
    try:
        async with asyncio.timeout(HEALTH_TIMEOUT):
            return await odoo.health()
    except TimeoutError:
        return {
            "status": "down",
            "version": None,
            "latency_ms": HEALTH_TIMEOUT * 1000,
            "detail": "Sin respuesta en 3 s.",
        }
    finally:
        await odoo.aclose()


async def list_with_status(
    session: AsyncSession, ctx: AppContext, *, live: bool = True
) -> list[OdooServerOut]:
    """Every server with tenants hosted and capacity; health probed concurrently when `live`."""
    servers = list(await session.scalars(select(OdooServer).order_by(OdooServer.id)))
    counts = dict(
        (
            await session.execute(
                select(Tenant.odoo_server_id, func.count())
                .where(Tenant.status.notin_(("deleted", "failed")))
                .group_by(Tenant.odoo_server_id)
            )
        ).all()
    )
    dedicated_to = dict(
        (
            await session.execute(
                select(Tenant.odoo_server_id, func.min(Tenant.subdomain))
                .join(OdooServer, OdooServer.id == Tenant.odoo_server_id)
                .where(OdooServer.capacity == 0)
                .group_by(Tenant.odoo_server_id)
            )
        ).all()
    )
    probes: list[OdooHealth | None] = [None] * len(servers)
    if live and servers:
        probes = list(await asyncio.gather(*(_probe(ctx, s) for s in servers)))
    out = []
    for server, probe in zip(servers, probes, strict=True):
        hosted = int(counts.get(server.id, 0))
        health = probe["status"] if probe else "unknown"
        dedicated = server.capacity == 0
        owner = dedicated_to.get(server.id)
        out.append(
            OdooServerOut(
                display_name=(f"Contenedor de {owner}" if dedicated and owner else server.name),
                dedicated=dedicated,
                status_label=server_status_label(server.state, health),
                capacity_label=(
                    f"Dedicado a {owner}"
                    if dedicated and owner
                    else "Dedicado"
                    if dedicated
                    else f"{hosted} / {server.capacity} · {max(server.capacity - hosted, 0)} libres"
                ),
                id=server.id,
                name=server.name,
                url=server.url,
                mode=server.mode,  # type: ignore[arg-type]
                state=server.state,
                capacity=server.capacity,
                tenants=hosted,  # type: ignore[arg-type]
                free=max(server.capacity - hosted, 0),
                tunnel_id=server.tunnel_id,
                is_default=server.is_default,
                version=(probe["version"] if probe else None) or server.version,
                health=probe["status"] if probe else "unknown",
                latency_ms=probe["latency_ms"] if probe else None,
                health_detail=health_detail_es(probe["detail"], server.url) if probe else None,
                ssh_key_fingerprint=_fingerprint(ctx, server),
                **{field: getattr(server, field) for field in HOST_FIELDS},
            )
        )
    return out
