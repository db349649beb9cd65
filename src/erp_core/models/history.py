"""Record tenant status changes for every writer (services, job steps, billing) in one place.

A `before_flush` hook sees each new or modified Tenant; when its status changed, it adds a
TenantStatusChange in the same transaction, so history and state can never disagree.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from erp_core.models.tenants import Tenant, TenantStatusChange


@event.listens_for(Session, "before_flush")
def _record_status_changes(session: Session, flush_context: Any, instances: Any) -> None:
    for obj in [*session.new, *session.dirty]:
        if not isinstance(obj, Tenant):
            continue
        if obj in session.new or inspect(obj).attrs.status.history.has_changes():
            session.add(TenantStatusChange(tenant=obj, status=obj.status))
