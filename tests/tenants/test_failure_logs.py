"""A failed operation is a WARNING/ERROR line an alert can match, never INFO `job_success`."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
import pytest

from erp_core.lab import LabStack


async def test_failed_provisioning_logs_error_with_tenant_job_and_step(
    client: httpx.AsyncClient,
    admin: dict[str, Any],
    lab_stack: LabStack,
    worker: None,
    wait: Any,
    body: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    lab_stack.faults.set(
        "cf.put_configuration", fail_times=-1, status=400, error_code=1055, message="Bad config"
    )
    h = admin["headers"]
    created = (await client.post("/api/tenants", json=body("alerta"), headers=h)).json()["data"]
    assert (await wait(client, h, created["id"], "failed", "active"))["status"] == "failed"
    lab_stack.faults.clear()
    for _ in range(100):  # the tenant reads "failed" a moment before the job's last lines
        if any(getattr(r, "action", None) == "job_error" for r in caplog.records):
            break
        await asyncio.sleep(0.05)

    failed = [r for r in caplog.records if r.getMessage() == "operation failed"]
    assert len(failed) == 1 and failed[0].levelno == logging.ERROR
    line = failed[0].__dict__
    assert line["tenant_id"] == created["id"] and line["job_id"] == created["job_id"]
    assert line["operation"] == "create" and line["step"] == "route"
    assert "Publicar en Cloudflare" in line["error"]
    step = [r for r in caplog.records if r.getMessage() == "job step failed"]
    assert step and step[0].levelno == logging.WARNING and step[0].__dict__["step"] == "route"
    # this create's queue job only: the create also queues a template build (issue 15)
    ours = [
        r
        for r in caplog.records
        if r.getMessage().startswith("Job erp.run_job")
        and (getattr(r, "job", None) or {}).get("task_kwargs", {}).get("job_id")
        == created["job_id"]
    ]
    outcomes = [r for r in ours if getattr(r, "action", None) == "job_success"]
    assert outcomes == [], "the queue reported a failed operation as a success"
    errors = [r for r in ours if getattr(r, "action", None) == "job_error"]
    assert errors and errors[0].levelno == logging.ERROR
