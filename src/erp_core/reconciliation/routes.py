"""Drift findings and usage endpoints. Viewers read; operators and admins run and fix."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from sqlalchemy import func, select

from erp_core.api import Envelope, NotFound, Page, Pagination, error_responses, ok
from erp_core.audit.service import record
from erp_core.deps import Admin, Ctx, Operator, Session, Viewer
from erp_core.models import Plan, ReconciliationFinding, Tenant, TenantUsage, TenantUsageAccess
from erp_core.reconciliation import service, usage
from erp_core.reconciliation.fixes import FIX_FOR_KIND
from erp_core.reconciliation.schemas import (
    KIND_LABELS,
    AuditJobOut,
    FindingOut,
    FixOut,
    RunOut,
    TenantUsageOut,
    TopTenantOut,
    UsageAccessIn,
    UsageLimits,
    UsageSampleOut,
)

router = APIRouter(tags=["reconciliation"])
SOURCES = Literal["odoo", "cloudflare", "proxmox", "stripe", "backups", "usage"]


def finding_out(row: ReconciliationFinding) -> FindingOut:
    out = FindingOut.model_validate(row)
    out.kind_label = KIND_LABELS.get(row.kind, row.kind)
    out.fixable = row.resolved_at is None and row.kind in FIX_FOR_KIND
    return out


@router.get(
    "/api/reconciliation/findings",
    response_model=Page[FindingOut],
    responses=error_responses(401, 403, 422),
)
async def list_findings(
    session: Session,
    actor: Viewer,
    pagination: Annotated[Pagination, Depends()],
    kind: Annotated[str | None, Query(max_length=48, description="Tipo de desajuste")] = None,
    source: Annotated[SOURCES | None, Query(description="Fuente")] = None,
    state: Annotated[
        Literal["open", "resolved", "all"], Query(description="Abiertos, resueltos o todos")
    ] = "open",
    tenant_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
) -> dict[str, Any]:
    """Findings, open first then newest; `state=open` by default."""
    rows, total = await service.list_findings(
        session,
        kind=kind,
        source=source,
        state=state,
        tenant_id=tenant_id,
        offset=pagination.offset,
        limit=pagination.per_page,
    )
    counts = await service.open_counts(session)
    return {
        "success": True,
        "data": [finding_out(r) for r in rows],
        "meta": {**pagination.meta(total).model_dump(), "open_by_source": counts},
    }


@router.post(
    "/api/reconciliation/run",
    response_model=Envelope[AuditJobOut],
    status_code=202,
    responses=error_responses(401, 403),
)
async def run_now(ctx: Ctx, session: Session, actor: Operator) -> dict[str, Any]:
    """Queue an audit now over every configured source (one list walk per source); follow
    it at /api/reconciliation/runs/{job_id}."""
    job = await service.request_audit(session, ctx, actor)
    record(session, actor, "reconciliation.run", "job", job.id, None)
    await session.commit()
    return ok(AuditJobOut(job_id=job.id, status=job.status))


@router.get(
    "/api/reconciliation/runs/{job_id}",
    response_model=Envelope[AuditJobOut],
    responses=error_responses(401, 403, 404, 422),
)
async def get_run(job_id: int, session: Session, actor: Viewer) -> dict[str, Any]:
    """An audit job's state and, once finished, what each source reported."""
    if not 1 <= job_id <= 2**62:
        raise NotFound("La auditoría no existe.")
    job, summary = await service.audit_run(session, job_id)
    return ok(
        AuditJobOut(
            job_id=job.id,
            status=job.status,
            error=job.error,
            result=RunOut.model_validate(summary) if summary else None,
        )
    )


@router.post(
    "/api/reconciliation/findings/{finding_id}/fix",
    response_model=Envelope[FixOut],
    status_code=202,
    responses=error_responses(401, 403, 404, 409, 422),
)
async def fix_finding(
    finding_id: int, ctx: Ctx, session: Session, actor: Operator
) -> dict[str, Any]:
    """Start the finding's fix job (202); follow it at /api/jobs/{job_id}."""
    if not 1 <= finding_id <= 2**62:
        raise NotFound("El desajuste no existe.")
    finding, job = await service.request_fix(session, ctx, actor, finding_id)
    record(
        session,
        actor,
        "reconciliation.fix",
        "reconciliation_finding",
        finding.id,
        {"kind": finding.kind, "job_id": job.id},
    )
    await session.commit()
    return ok(FixOut(finding_id=finding.id, job_id=job.id, kind=job.kind))


# --- usage ---------------------------------------------------------------------------------


@router.get(
    "/api/tenants/{tenant_id}/usage",
    response_model=Envelope[TenantUsageOut],
    responses=error_responses(401, 403, 404),
)
async def get_tenant_usage(tenant_id: int, session: Session, actor: Viewer) -> dict[str, Any]:
    """The last week of hourly samples, the plan's limits and which are exceeded."""
    tenant = await session.get(Tenant, tenant_id) if 1 <= tenant_id <= 2**31 - 1 else None
    if tenant is None:
        raise NotFound("El tenant no existe.")
    plan = await session.scalar(select(Plan).where(Plan.code == tenant.plan))
    series = await usage.tenant_usage(session, tenant.id)
    latest = series[-1] if series else None
    return ok(
        TenantUsageOut(
            tenant_id=tenant.id,
            latest=UsageSampleOut.model_validate(latest) if latest else None,
            limits=UsageLimits(
                max_users=plan.max_users if plan else None,
                max_storage_mb=plan.max_storage_mb if plan else None,
            ),
            over_limits=usage.over_limits(latest, plan) if latest else [],
            series=[UsageSampleOut.model_validate(s) for s in series],
        )
    )


@router.put(
    "/api/tenants/{tenant_id}/usage/access",
    response_model=Envelope[dict[str, str]],
    responses=error_responses(401, 403, 404, 422),
)
async def set_usage_access(
    tenant_id: int, body: UsageAccessIn, ctx: Ctx, session: Session, actor: Admin
) -> dict[str, Any]:
    """Store the login and Odoo API key the usage reader uses on an RPC-mode server."""
    tenant = await session.get(Tenant, tenant_id) if 1 <= tenant_id <= 2**31 - 1 else None
    if tenant is None:
        raise NotFound("El tenant no existe.")
    row = await session.get(TenantUsageAccess, tenant.id)
    secret = ctx.secret_box.encrypt(body.api_key)
    if row is None:
        session.add(TenantUsageAccess(tenant_id=tenant.id, login=body.login, secret_enc=secret))
    else:
        row.login, row.secret_enc = body.login, secret
    record(session, actor, "tenant.usage_access", "tenant", tenant.id, {"login": body.login})
    await session.commit()
    return ok({"login": body.login})


@router.get(
    "/api/usage/top",
    response_model=Envelope[list[TopTenantOut]],
    responses=error_responses(401, 403, 422),
)
async def top_tenants(
    session: Session,
    actor: Viewer,
    by: Annotated[Literal["storage", "users"], Query(description="Orden")] = "storage",
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> dict[str, Any]:
    """Tenants with the most storage (or users) in their latest sample."""
    latest = (
        select(
            TenantUsage.tenant_id,
            func.max(TenantUsage.measured_at).label("at"),
        )
        .group_by(TenantUsage.tenant_id)
        .subquery()
    )
    storage = func.coalesce(TenantUsage.filestore_bytes, 0) + func.coalesce(
        TenantUsage.database_bytes, 0
    )
    order = storage if by == "storage" else func.coalesce(TenantUsage.active_users, -1)
    rows = await session.execute(
        select(
            TenantUsage.tenant_id,
            Tenant.subdomain,
            TenantUsage.active_users,
            TenantUsage.filestore_bytes,
            TenantUsage.database_bytes,
            TenantUsage.measured_at,
        )
        .join(
            latest,
            (latest.c.tenant_id == TenantUsage.tenant_id)
            & (latest.c.at == TenantUsage.measured_at),
        )
        .join(Tenant, Tenant.id == TenantUsage.tenant_id)
        .where(Tenant.status != "deleted", TenantUsage.error.is_(None))
        .order_by(order.desc(), TenantUsage.tenant_id)
        .limit(limit)
    )
    data = []
    for tid, sub, users, files, dbb, at in rows:
        parts = [p for p in (files, dbb) if p is not None]
        data.append(
            TopTenantOut(
                tenant_id=tid,
                subdomain=sub,
                active_users=users,
                storage_bytes=sum(parts) if parts else None,
                measured_at=at,
            )
        )
    return ok(data)
