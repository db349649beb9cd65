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
