"""A server's templates for the admin app, and *Reconstruir* (an operator's rebuild)."""

from __future__ import annotations

from fastapi import APIRouter

from erp_core.api import Envelope, error_responses, ok
from erp_core.audit.service import record
from erp_core.deps import Admin, Ctx, Session, Viewer
from erp_core.templates import service, spares
from erp_core.templates.schemas import RebuildOut, TemplateOut

router = APIRouter(prefix="/api/servers/{server_id}/templates", tags=["servers"])


@router.get(
    "",
    response_model=Envelope[list[TemplateOut]],
    responses=error_responses(401, 404),
)
async def list_templates(server_id: int, actor: Viewer, session: Session) -> object:
    rows = await service.list_templates(session, server_id)
    counts = await spares.counts(session, [r.id for r in rows])
    out = []
    for row in rows:
        view = TemplateOut.model_validate(row)
        view.spares_ready = counts.get(row.id, {}).get("ready", 0)
        view.spares_preparing = counts.get(row.id, {}).get("preparing", 0)
        out.append(view)
    return ok(out, total=len(out))


@router.post(
    "/{template_id}/rebuild",
    status_code=202,
    response_model=Envelope[RebuildOut],
    responses=error_responses(401, 403, 404, 409),
)
async def rebuild_template(
    server_id: int, template_id: int, actor: Admin, ctx: Ctx, session: Session
) -> object:
    job = await service.request_rebuild(session, ctx, server_id, template_id, actor.user_id)
    record(session, actor, "template.rebuild", "odoo_template", template_id, {"job_id": job.id})
    return ok(RebuildOut(template_id=template_id, job_id=job.id))
