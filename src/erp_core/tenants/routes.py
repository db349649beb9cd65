"""Tenant endpoints (the seed's paths) and the Odoo server registry."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, Query
from fastapi.responses import JSONResponse

from erp_core.api import Envelope, Page, Pagination, error_responses, ok
from erp_core.audit.service import record
from erp_core.context import AppContext
from erp_core.deps import Admin, Ctx, Operator, Session, Viewer
from erp_core.models.tenants import TenantStatus
from erp_core.plans import PlanCode
from erp_core.tenants import history, servers, service
from erp_core.tenants.schemas import (
    OdooServerIn,
    OdooServerOut,
    OdooServerUpdate,
    SubdomainCheck,
    SuspendIn,
    TenantCreate,
    TenantCreated,
    TenantDetail,
    TenantOut,
)
from erp_core.tenants.service import TenantView

router = APIRouter(prefix="/api/tenants", tags=["tenants"])

SortKey = Literal[
    "created_at",
    "-created_at",
    "updated_at",
    "-updated_at",
    "subdomain",
    "-subdomain",
    "company_name",
    "-company_name",
    "status",
    "-status",
    "plan",
    "-plan",
    "id",
    "-id",
]


def tenant_out(ctx: AppContext, view: TenantView) -> TenantOut:
    t = view.tenant
    return TenantOut(
        id=t.id,
        customer_id=t.customer_id,
        subdomain=t.subdomain,
        company_name=t.company_name,
        email=view.email,
        plan=t.plan,
        status=t.status,  # type: ignore[arg-type]
        suspension_reason=t.suspension_reason,  # type: ignore[arg-type]
        url=f"https://{t.subdomain}.{ctx.settings.base_domain}",
        odoo_server_id=t.odoo_server_id,
        language=t.language,
        country=t.country,
        last_error=t.last_error,
        created_at=t.created_at,
        updated_at=t.updated_at,
        job_id=view.job_id,
        admin_login=t.admin_login,
    )


def accepted(payload: object) -> JSONResponse:
    from fastapi.encoders import jsonable_encoder

    return JSONResponse(jsonable_encoder(ok(payload)), status_code=202)


@router.get("", response_model=Page[TenantOut], responses=error_responses(401, 422))
async def list_tenants(
    actor: Viewer,
    ctx: Ctx,
    session: Session,
    pagination: Annotated[Pagination, Depends()],
    q: Annotated[
        str | None, Query(max_length=100, description="Busca en subdominio, empresa y correo")
    ] = None,
    status: TenantStatus | None = None,
    plan: PlanCode | None = None,
    sort: SortKey = "-created_at",
    include_deleted: bool = False,
) -> object:
    views, total = await service.search(
        session,
        q=q,
        status=status,
        plan=plan,
        sort=sort,
        offset=pagination.offset,
        limit=pagination.per_page,
        include_deleted=include_deleted,
    )
    return Page(data=[tenant_out(ctx, v) for v in views], meta=pagination.meta(total))


@router.get(
    "/check-subdomain", response_model=Envelope[SubdomainCheck], responses=error_responses(401, 422)
)
async def check_subdomain(
    actor: Viewer, session: Session, subdomain: Annotated[str, Query(min_length=1, max_length=100)]
) -> object:
    reason = await service.subdomain_availability(session, subdomain.strip().lower())
    return ok(SubdomainCheck(subdomain=subdomain, available=reason is None, reason=reason))


@router.get(
    "/servers",
    response_model=Envelope[list[OdooServerOut]],
    tags=["servers"],
    responses=error_responses(401),
)
async def list_servers(actor: Viewer, ctx: Ctx, session: Session) -> object:
    items = await servers.list_with_status(session, ctx)
    total_capacity = sum(s.capacity for s in items)
    used = sum(s.tenants for s in items)
    return ok(items, total=len(items), capacity=total_capacity, used=used)


@router.post(
    "/servers",
    status_code=201,
    response_model=Envelope[OdooServerOut],
    tags=["servers"],
    responses=error_responses(401, 403, 409, 422),
)
async def create_server(body: OdooServerIn, actor: Admin, ctx: Ctx, session: Session) -> object:
    server = await servers.create(session, ctx, body)
    record(
        session,
        actor,
        "server.create",
        "odoo_server",
        server.id,
        {"name": server.name, "url": server.url},
    )
    listed = await servers.list_with_status(session, ctx, live=False)
    return ok(next(s for s in listed if s.id == server.id))


@router.put(
    "/servers/{server_id}",
    response_model=Envelope[OdooServerOut],
    tags=["servers"],
    responses=error_responses(401, 403, 404, 409, 422),
)
async def update_server(
    server_id: int, body: OdooServerUpdate, actor: Admin, ctx: Ctx, session: Session
) -> object:
    server = await servers.get(session, server_id)
    changed = await servers.update(session, ctx, server, body)
    record(session, actor, "server.update", "odoo_server", server.id, {"fields": changed})
    listed = await servers.list_with_status(session, ctx, live=False)
    return ok(next(s for s in listed if s.id == server.id))


@router.delete(
    "/servers/{server_id}",
    response_model=Envelope[dict[str, bool]],
    tags=["servers"],
    responses=error_responses(401, 403, 404, 409),
)
async def delete_server(server_id: int, actor: Admin, session: Session) -> object:
    server = await servers.get(session, server_id)
    await servers.delete(session, server)
    record(session, actor, "server.delete", "odoo_server", server_id, {"name": server.name})
    return ok({"deleted": True})


@router.post(
    "",
    status_code=202,
    response_model=Envelope[TenantCreated],
    responses=error_responses(401, 403, 409, 422),
)
async def create_tenant(body: TenantCreate, actor: Operator, ctx: Ctx, session: Session) -> object:
    view, generated = await service.create(session, ctx, actor, body)
    out = TenantCreated(
        **tenant_out(ctx, view).model_dump(),
        admin_password=generated,
    )
    return accepted(out)


@router.get(
    "/{tenant_id}", response_model=Envelope[TenantDetail], responses=error_responses(401, 404, 422)
)
async def get_tenant(tenant_id: int, actor: Viewer, ctx: Ctx, session: Session) -> object:
    """Also for a deleted tenant: its page keeps its backups and past operations."""
    out = tenant_out(ctx, await service.get_view(session, tenant_id))
    return ok(
        TenantDetail(
            **out.model_dump(),
            restored_from=await history.restored_from(session, tenant_id),
            operations=await history.operations(session, tenant_id),
        )
    )


@router.put(
    "/{tenant_id}/suspend",
    status_code=202,
    response_model=Envelope[TenantOut],
    responses=error_responses(401, 403, 404, 409, 422),
)
async def suspend_tenant(
    tenant_id: int,
    actor: Operator,
    ctx: Ctx,
    session: Session,
    body: Annotated[SuspendIn | None, Body()] = None,
) -> object:
    reason = body.reason if body else "manual"
    return accepted(tenant_out(ctx, await service.suspend(session, ctx, actor, tenant_id, reason)))


@router.put(
    "/{tenant_id}/reactivate",
    status_code=202,
    response_model=Envelope[TenantOut],
    responses=error_responses(401, 403, 404, 409),
)
async def reactivate_tenant(tenant_id: int, actor: Operator, ctx: Ctx, session: Session) -> object:
    return accepted(tenant_out(ctx, await service.reactivate(session, ctx, actor, tenant_id)))


@router.delete(
    "/{tenant_id}",
    status_code=202,
    response_model=Envelope[TenantOut],
    responses=error_responses(401, 403, 404, 409),
)
async def delete_tenant(tenant_id: int, actor: Operator, ctx: Ctx, session: Session) -> object:
    return accepted(tenant_out(ctx, await service.delete(session, ctx, actor, tenant_id)))


@router.post(
    "/{tenant_id}/retry",
    status_code=202,
    response_model=Envelope[TenantOut],
    responses=error_responses(401, 403, 404, 409),
)
async def retry_tenant(tenant_id: int, actor: Operator, ctx: Ctx, session: Session) -> object:
    return accepted(tenant_out(ctx, await service.retry(session, ctx, actor, tenant_id)))
