"""Jobs, steps and provisioning log lines as the API shows them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field


class StepOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    position: int
    name: str
    label: str
    status: Literal["pending", "running", "succeeded", "failed", "skipped", "compensated"]
    attempts: int
    error: str | None
    started_at: datetime | None
    finished_at: datetime | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def duration_ms(self) -> int | None:
        if self.started_at and self.finished_at:
            return int((self.finished_at - self.started_at).total_seconds() * 1000)
        return None


class JobOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    tenant_id: int | None
    status: Literal["queued", "running", "succeeded", "failed", "cancelled"]
    progress: int
    error: str | None
    runs: int
    created_by: int | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    steps: list[StepOut] = []
    params: dict[str, Any] = {}


class LogOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    job_id: int
    tenant_id: int | None
    step: str | None
    level: Literal["debug", "info", "warning", "error"]
    message: str
    at: datetime
    # For people: names instead of "#7", and the operation each line belongs to, so the log
    # can be grouped by (job_id, job_title).
    tenant_subdomain: str | None = None
    tenant_name: str | None = None
    job_title: str | None = Field(default=None, description="La operación, p. ej. «Creación»")
    step_label: str | None = Field(default=None, description="El paso en español")
