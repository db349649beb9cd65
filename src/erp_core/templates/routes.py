"""A server's templates for the admin app, and *Reconstruir* (an operator's rebuild)."""

from __future__ import annotations

from fastapi import APIRouter

from erp_core.api import Envelope, error_responses, ok
from erp_core.audit.service import record
from erp_core.deps import Admin, Ctx, Session, Viewer
from erp_core.templates import service
from erp_core.templates.schemas import RebuildOut, TemplateOut

router = APIRouter(prefix="/api/servers/{server_id}/templates", tags=["servers"])


@router.get(
    "",
    response_model=Envelope[list[TemplateOut]],
    responses=error_responses(401, 404),
)
async def list_templates(server_id: int, actor: Viewer, session: Session) -> object:
    rows = await service.list_templates(session, server_id)
    return ok([TemplateOut.model_validate(r) for r in rows], total=len(rows))


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
