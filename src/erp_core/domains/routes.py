"""``/api/tenants/{id}/domains``: the tenant's custom domains."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from erp_core.api import Envelope, NotFound, error_responses, ok
from erp_core.deps import Ctx, Operator, Session, Viewer
from erp_core.domains import service
from erp_core.domains.schemas import (
    DomainDeleteIn,
    DomainIn,
    DomainList,
    DomainOut,
    DomainsMeta,
    LabPublishIn,
    PrimaryIn,
)
from erp_core.drivers.factory import public_url
from erp_core.tenants.credentials import has_service_credential

tenant_router = APIRouter(prefix="/api/tenants", tags=["domains"])
lab_router = APIRouter(prefix="/api/lab", tags=["lab"])


def _accepted(payload: object) -> JSONResponse:
    return JSONResponse(jsonable_encoder(ok(payload)), status_code=202)


@tenant_router.get(
    "/{tenant_id}/domains", response_model=DomainList, responses=error_responses(401, 404, 422)
)
async def list_domains(tenant_id: int, actor: Viewer, ctx: Ctx, session: Session) -> object:
    tenant, rows, limit = await service.list_domains(session, tenant_id)
    primary = next((r for r in rows if r.is_primary), None)
    return DomainList(
        data=[service.domain_out(ctx, tenant, row) for row in rows],
        meta=DomainsMeta(
            total=len(rows),
            limit=limit,
            plan=tenant.plan,
            base_url=f"https://{primary.hostname}"
            if primary
            else public_url(ctx, tenant.subdomain),
            service_user=has_service_credential(tenant),
        ),
    )


@tenant_router.post(
    "/{tenant_id}/domains",
    status_code=202,
    response_model=Envelope[DomainOut],
    responses=error_responses(401, 403, 404, 409, 422),
)
async def add_domain(
    tenant_id: int, body: DomainIn, actor: Operator, ctx: Ctx, session: Session
) -> object:
    """Register the domain; a job creates it at Cloudflare and routes it. The answer lists
    the records the customer must create (the TXT values arrive when the job has run)."""
    tenant, row, job = await service.add_domain(session, ctx, actor, tenant_id, body)
    return _accepted(service.domain_out(ctx, tenant, row, job.id))


@tenant_router.delete(
    "/{tenant_id}/domains/{domain_id}",
    status_code=202,
    response_model=Envelope[DomainOut],
    responses=error_responses(401, 403, 404, 409, 422),
)
async def remove_domain(
    tenant_id: int,
    domain_id: int,
    actor: Operator,
    ctx: Ctx,
    session: Session,
    body: Annotated[DomainDeleteIn | None, Body()] = None,
) -> object:
    password = body.admin_password if body else None
    tenant, row, job = await service.remove_domain(
        session, ctx, actor, tenant_id, domain_id, password
    )
    return _accepted(service.domain_out(ctx, tenant, row, job.id))


@tenant_router.post(
    "/{tenant_id}/domains/{domain_id}/check",
    response_model=Envelope[DomainOut],
    responses=error_responses(401, 403, 404, 409, 422),
)
async def check_domain(
    tenant_id: int, domain_id: int, actor: Operator, ctx: Ctx, session: Session
) -> object:
    tenant, row = await service.check_domain(session, ctx, tenant_id, domain_id)
    return ok(service.domain_out(ctx, tenant, row))


@tenant_router.put(
    "/{tenant_id}/domains/{domain_id}/primary",
    status_code=202,
    response_model=Envelope[DomainOut],
    responses=error_responses(401, 403, 404, 409, 422),
)
async def make_primary(
    tenant_id: int,
    domain_id: int,
    actor: Operator,
    ctx: Ctx,
    session: Session,
    body: Annotated[PrimaryIn | None, Body()] = None,
) -> object:
    """Make the domain the tenant's primary: a job sets Odoo's ``web.base.url`` as the
    tenant's service user (no password needed; older tenants: the admin's password)."""
    password = body.admin_password if body else None
    tenant, row, job = await service.make_primary(
        session, ctx, actor, tenant_id, domain_id, password
    )
    return _accepted(service.domain_out(ctx, tenant, row, job.id))


@lab_router.post(
    "/custom_hostnames/{hostname}/publish",
    response_model=Envelope[dict[str, str]],
    responses=error_responses(401, 403, 404, 422),
)
async def lab_publish(
    hostname: str, actor: Operator, ctx: Ctx, body: Annotated[LabPublishIn | None, Body()] = None
) -> object:
    """Lab only (``serve --lab``): play the customer publishing their DNS records, so the
    Cloudflare emulator turns the custom hostname active. 404 outside the lab."""
    runtime = ctx.lab
    if runtime is None:
        raise NotFound("Solo disponible en modo laboratorio.", code="LAB_ONLY")
    ssl_status = body.ssl if body else "active"
    try:
        record = runtime.stack.cloudflare_state.publish(hostname, ssl_status=ssl_status)
    except KeyError:
        raise NotFound(
            f"El laboratorio no tiene el dominio personalizado {hostname}.",
            code="DOMAIN_NOT_FOUND",
        ) from None
    return ok({"hostname": str(record["hostname"]), "status": str(record["status"])})


# One ``router`` for main.py's list: the tenant routes and the lab-only helper.
router = APIRouter()
router.include_router(tenant_router)
router.include_router(lab_router)
