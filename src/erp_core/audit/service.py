"""The audit trail: every write through the API, and every login attempt.

`record` writes in the caller's transaction (the entry exists exactly when the change does);
`record_detached` uses its own transaction for events that must survive a rolled-back
request, such as a failed login.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from erp_core.context import AppContext
from erp_core.deps import Actor
from erp_core.models import AuditLog

# Spanish names of the audit actions, for the log's "Acción" column. An action missing here
# falls back to a readable sentence built from its parts (see `action_label`), never its code.
ACTION_LABELS: dict[str, str] = {
    "auth.login": "Inicio de sesión",
    "auth.login_failed": "Inicio de sesión fallido",
    "auth.logout": "Cierre de sesión",
    "auth.refresh_reuse": "Reutilización de sesión detectada (sesión revocada)",
    "backup.create": "Respaldo solicitado",
    "backup.download": "Descarga de respaldo",
    "backup.restore": "Restauración de respaldo",
    "billing.event.reprocess": "Evento de facturación reprocesado",
    "billing.invoices.sync": "Sincronización de facturas",
    "billing.plan.update": "Plan modificado",
    "node.update": "Nodo modificado",
    "server.create": "Servidor registrado",
    "server.delete": "Servidor eliminado",
    "server.update": "Servidor modificado",
    "setting.delete": "Ajuste restablecido al valor predeterminado",
    "setting.test": "Prueba de conexión",
    "setting.update": "Ajuste modificado",
    "tenant.create": "Tenant creado",
    "tenant.delete": "Tenant eliminado",
    "tenant.restore_copy": "Restauración como nuevo tenant",
    "tenant.reactivate": "Tenant reactivado",
    "tenant.retry": "Operación reintentada",
    "tenant.suspend": "Tenant suspendido",
    "tenant.backup": "Respaldo solicitado",
    "tenant.restore": "Restauración de respaldo",
    "tenant.plan_move": "Traslado por cambio de plan",
    "portal.plan_change": "Cambio de plan",
    "user.create": "Usuario creado",
    "user.reset_password": "Contraseña restablecida",
    "user.update": "Usuario modificado",
}

_OBJECTS_ES = {
    "auth": "Sesión",
    "backup": "Respaldo",
    "billing": "Facturación",
    "node": "Nodo",
    "server": "Servidor",
    "setting": "Ajuste",
    "tenant": "Tenant",
    "user": "Usuario",
}


def action_label(action: str) -> str:
    """The Spanish label of an audit action (the UI never shows `auth.login`)."""
    if action in ACTION_LABELS:
        return ACTION_LABELS[action]
    head = action.split(".", 1)[0]
    return f"Acción sobre {_OBJECTS_ES.get(head, 'el sistema').lower()}"


def _entry(
    actor: Actor,
    action: str,
    object_type: str | None,
    object_id: object | None,
    details: dict[str, Any] | None,
    success: bool,
) -> AuditLog:
    return AuditLog(
        user_id=actor.user_id,
        actor=actor.email,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        ip=actor.ip,
        request_id=actor.request_id,
        success=success,
        details=details or {},
    )


def record(
    session: AsyncSession,
    actor: Actor,
    action: str,
    object_type: str | None = None,
    object_id: object | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    session.add(_entry(actor, action, object_type, object_id, details, True))


async def record_detached(
    ctx: AppContext,
    actor: Actor,
    action: str,
    object_type: str | None = None,
    object_id: object | None = None,
    details: dict[str, Any] | None = None,
    *,
    success: bool = False,
) -> None:
    async with ctx.db.sessionmaker() as session:
        session.add(_entry(actor, action, object_type, object_id, details, success))
        await session.commit()


async def search(
    session: AsyncSession,
    *,
    offset: int,
    limit: int,
    action: str | None = None,
    user_id: int | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> tuple[list[AuditLog], int]:
    query = select(AuditLog)
    if action:
        query = query.where(AuditLog.action == action)
    if user_id is not None:
        query = query.where(AuditLog.user_id == user_id)
    if object_type:
        query = query.where(AuditLog.object_type == object_type)
    if object_id:
        query = query.where(AuditLog.object_id == object_id)
    if since:
        query = query.where(AuditLog.at >= since)
    if until:
        query = query.where(AuditLog.at < until)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.scalars(
        query.order_by(AuditLog.at.desc(), AuditLog.id.desc()).offset(offset).limit(limit)
    )
    return list(rows), int(total or 0)
