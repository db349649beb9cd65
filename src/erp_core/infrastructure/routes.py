"""Infrastructure endpoints: nodes, containers, metrics and tunnels."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from fastapi import APIRouter, Query
from sqlalchemy import select

from erp_core.api import (
    Envelope,
    NotFound,
    Pagination,
    ServiceUnavailable,
    ValidationFailed,
    error_responses,
    ok,
)
from erp_core.audit.service import record
from erp_core.deps import Admin, Ctx, Session, Viewer
from erp_core.drivers.base import DriverError
from erp_core.drivers.factory import cloudflare_for
from erp_core.infrastructure import metrics, service
from erp_core.infrastructure.schemas import (
    ContainerOut,
    MetricSeries,
    NodeOut,
    NodeUpdate,
    TunnelOut,
)
from erp_core.models import LxcContainer, ProxmoxNode

router = APIRouter(tags=["infrastructure"])
ERRORS = error_responses(401, 403)


def _proxmox_meta(ctx: Any) -> dict[str, Any]:
    return {"configured": {"proxmox": ctx.settings.proxmox_configured}}


@router.get("/api/infrastructure/nodes", response_model=Envelope[list[NodeOut]], responses=ERRORS)
async def list_nodes(ctx: Ctx, session: Session, actor: Viewer) -> dict[str, Any]:
    """Proxmox nodes as last synced (capacity, usage, tunnel, container count)."""
    meta = _proxmox_meta(ctx)
    if not ctx.settings.proxmox_configured:
        return ok([], total=0, **meta)
    nodes = await service.list_nodes(session)
    return ok(nodes, total=len(nodes), last_sync_at=await service.last_sync_at(session), **meta)


@router.put(
    "/api/infrastructure/nodes/{node}",
    response_model=Envelope[NodeOut],
    responses=error_responses(401, 403, 404, 422, 503),
)
async def update_node(
    node: str, body: NodeUpdate, ctx: Ctx, session: Session, actor: Admin
) -> dict[str, Any]:
    """Set (or clear) the Cloudflare tunnel a node's dedicated containers publish through."""
    row = await session.scalar(
        select(ProxmoxNode).where(ProxmoxNode.hostname == node).with_for_update()
    )
    if row is None:
        raise NotFound(f"El nodo «{node}» no existe.", code="NODE_NOT_FOUND")
    if body.tunnel_id:
        router_ = cloudflare_for(ctx)
        if router_ is not None:
            try:
                known = {t.id for t in await router_.list_tunnels()}
            except DriverError as exc:
                raise ServiceUnavailable(exc.message, code="CLOUDFLARE_UNAVAILABLE") from exc
            finally:
                await router_.aclose()
            if body.tunnel_id not in known:
                raise ValidationFailed(
                    f"El túnel «{body.tunnel_id}» no existe en la cuenta de Cloudflare.",
                    code="TUNNEL_NOT_FOUND",
                )
    previous, row.tunnel_id = row.tunnel_id, body.tunnel_id
    record(
        session,
        actor,
        "node.update",
        "proxmox_node",
        row.id,
        {"hostname": node, "tunnel_id": body.tunnel_id, "previous_tunnel_id": previous},
    )
    await session.flush()
    nodes = await service.list_nodes(session)
    return ok(next(n for n in nodes if n["id"] == row.id))


@router.get(
    "/api/infrastructure/containers",
    response_model=Envelope[list[ContainerOut]],
    responses=ERRORS,
)
async def list_containers(
    ctx: Ctx,
    session: Session,
    actor: Viewer,
    include_vanished: bool = Query(False, description="Incluir los que ya no existen"),
    page: int = Query(1, ge=1, le=1_000_000),
    per_page: int = Query(50, ge=1, le=200),
) -> dict[str, Any]:
    """LXC containers with their node, address, resources and the tenant each one hosts."""
    meta = _proxmox_meta(ctx)
    if not ctx.settings.proxmox_configured:
        return ok([], total=0, page=page, per_page=per_page, **meta)
    paging = Pagination(page=page, per_page=per_page)
    items, total = await service.list_containers(
        session, offset=paging.offset, limit=per_page, include_vanished=include_vanished
    )
    return ok(items, total=total, page=page, per_page=per_page, **meta)


@router.get(
    "/api/infrastructure/metrics",
    response_model=Envelope[MetricSeries],
    responses=error_responses(401, 403, 404, 422),
)
async def get_metrics(
    ctx: Ctx,
    session: Session,
    actor: Viewer,
    kind: Literal["node", "container"] = Query(..., description="node o container"),
    id: int = Query(..., ge=1, description="ID del nodo o del contenedor"),
    from_: datetime | None = Query(None, alias="from", description="Inicio (ISO 8601)"),
    to: datetime | None = Query(None, description="Fin (ISO 8601)"),
    step: int | None = Query(None, ge=60, le=31 * 86400, description="Segundos por punto"),
) -> dict[str, Any]:
    """Average and maximum per step: raw samples (last 7 days) or hourly rollups (13 months)."""
    now = datetime.now(UTC)
    end = _aware(to) if to else now
    start = _aware(from_) if from_ else end - timedelta(hours=24)
    if start >= end:
        raise ValidationFailed("El inicio del intervalo debe ser anterior al fin.")
    width = metrics.choose_step(start, end, step)
    if (end - start).total_seconds() / width > metrics.MAX_POINTS:
        raise ValidationFailed(
            f"El intervalo pide más de {metrics.MAX_POINTS} puntos; aumente «step»."
        )
    model = ProxmoxNode if kind == "node" else LxcContainer
    if await session.get(model, id) is None:
        label = "nodo" if kind == "node" else "contenedor"
        raise NotFound(f"El {label} con ID {id} no existe.", code=f"{kind.upper()}_NOT_FOUND")
    series = await metrics.query_metrics(
        session, ctx.settings, kind=kind, subject_id=id, start=start, end=end, step=width, now=now
    )
    return ok(
        {"kind": kind, "id": id, **series},
        **{"from": start.isoformat(), "to": end.isoformat()},
        **_proxmox_meta(ctx),
    )


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@router.get(
    "/api/tunnels",
    response_model=Envelope[list[TunnelOut]],
    responses=error_responses(401, 403, 503),
)
async def list_tunnels(ctx: Ctx, session: Session, actor: Viewer) -> dict[str, Any]:
    """Cloudflare tunnels with their live connection status, and who publishes through them."""
    router_ = cloudflare_for(ctx)
    if router_ is None:
        return ok([], total=0, configured={"cloudflare": False})
    try:
        tunnels = await router_.list_tunnels()
    except DriverError as exc:
        raise ServiceUnavailable(exc.message, code="CLOUDFLARE_UNAVAILABLE") from exc
    finally:
        await router_.aclose()
    usage = await service.tunnel_usage(session)
    items = [
        {
            "id": t.id,
            "name": t.name,
            "status": t.status,
            "connections": t.connections,
            "created_at": t.created_at,
            "nodes": usage.get(t.id, {}).get("nodes", []),
            "servers": usage.get(t.id, {}).get("servers", []),
        }
        for t in tunnels
    ]
    return ok(items, total=len(items), configured={"cloudflare": True})
