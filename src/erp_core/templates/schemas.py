"""API shapes of a server's templates (no credential ever leaves the server)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class TemplateOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    odoo_server_id: int
    key: str
    lang: str
    country: str
    modules: list[str]
    db_name: str | None
    state: str
    odoo_version: str | None
    size_bytes: int | None
    built_at: datetime | None
    last_error: str | None
    build_job_id: int | None
    # prepared clones (issue 15): ready to be claimed / being prepared
    spares_ready: int = 0
    spares_preparing: int = 0


class RebuildOut(BaseModel):
    template_id: int
    job_id: int
