"""Backups through the HTTP API against the lab Odoo (real zips over real HTTP on loopback)."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select, update

from erp_core.context import AppContext
from erp_core.drivers.store import LocalBackupStore
from erp_core.lab import ALWAYS, LabStack
from erp_core.models import AuditLog, Backup, Tenant

from .conftest import active_tenant, backup_now, edge_login, wait_job, wait_tenant


async def _rows(ctx: AppContext, tenant_id: int) -> list[Backup]:
    async with ctx.db.sessionmaker() as session:
        return list(
            await session.scalars(
                select(Backup).where(Backup.tenant_id == tenant_id).order_by(Backup.id)
            )
        )


def _path(ctx: AppContext, row: Backup) -> Path:
    assert row.location
    return LocalBackupStore(ctx.settings.effective_backup_dir).path(row.location)


async def test_manual_backup_checksum_contents_download_and_roles(
    client: httpx.AsyncClient,
    admin: dict[str, Any],
    operator: dict[str, Any],
    viewer: dict[str, Any],
    lab_ctx: AppContext,
    worker: None,
) -> None:
    h = operator["headers"]
    tenant = await active_tenant(client, h, "acme")
    denied = await client.post(f"/api/tenants/{tenant['id']}/backups", headers=viewer["headers"])
    assert denied.status_code == 403 and denied.json()["error"] == "FORBIDDEN"

    job = await backup_now(client, h, tenant["id"])
    assert job["status"] == "succeeded", job["error"]
    assert [s["name"] for s in job["steps"]] == ["backup", "verify"]
    assert lab_ctx.settings.backup_store == "local"

    listed = await client.get(f"/api/tenants/{tenant['id']}/backups", headers=viewer["headers"])
    assert listed.status_code == 200
    body = listed.json()
    assert body["meta"]["total"] == 1 and body["meta"]["last_success_at"]
    item = body["data"][0]
    assert item["kind"] == "manual" and item["status"] == "succeeded"
    assert item["verification_status"] == "ok" and item["verified_at"]
    assert item["job_id"] == job["id"] and item["filename"].endswith(".zip")

    row = (await _rows(lab_ctx, tenant["id"]))[0]
    raw = _path(lab_ctx, row).read_bytes()
    assert hashlib.sha256(raw).hexdigest() == row.sha256 == item["sha256"]
    assert len(raw) == row.size_bytes
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        names = set(archive.namelist())
        assert {"dump.sql", "manifest.json"} <= names
        assert any(n.startswith("filestore/") for n in names)
        assert "Empresa acme" in archive.read("dump.sql").decode()
        assert json.loads(archive.read("manifest.json"))["db_name"] == "acme"

    url = f"/api/backups/{row.id}/download"
    assert (await client.get(url, headers=viewer["headers"])).status_code == 403
    download = await client.get(url, headers=h)
    assert download.status_code == 200
    assert download.content == raw
    assert download.headers["content-type"] == "application/zip"
    assert f'filename="{item["filename"]}"' in download.headers["content-disposition"]
    async with lab_ctx.db.sessionmaker() as session:
        audit = await session.scalar(select(AuditLog).where(AuditLog.action == "backup.download"))
    assert audit is not None and audit.object_id == str(row.id)

    missing = await client.get("/api/backups/999999/download", headers=h)
    assert missing.status_code == 404 and missing.json()["error"] == "BACKUP_NOT_FOUND"
    bad = await client.post(
        f"/api/tenants/{tenant['id']}/restore", json={"backup_id": row.id, "mode": "x"}, headers=h
    )
    assert bad.status_code == 422 and bad.json()["error"] == "VALIDATION_ERROR"
    no_sub = await client.post(
        f"/api/tenants/{tenant['id']}/restore",
        json={"backup_id": row.id, "mode": "copy"},
        headers=h,
    )
    assert no_sub.status_code == 422

    # Deleting a backup is for admins; it removes the file and marks the row.
    assert (await client.delete(f"/api/backups/{row.id}", headers=h)).status_code == 403
    deleted = await client.delete(f"/api/backups/{row.id}", headers=admin["headers"])
    assert deleted.status_code == 202
    assert (await wait_job(client, h, deleted.json()["data"]["job_id"]))["status"] == "succeeded"
    assert not _path(lab_ctx, row).exists()
    assert (await _rows(lab_ctx, tenant["id"]))[0].status == "deleted"
    gone = await client.get(url, headers=h)
    assert gone.status_code == 409 and gone.json()["error"] == "BACKUP_UNAVAILABLE"


async def test_corrupted_file_is_detected_by_verification(
    client: httpx.AsyncClient, operator: dict[str, Any], lab_ctx: AppContext, worker: None
) -> None:
    h = operator["headers"]
    tenant = await active_tenant(client, h, "dañado".replace("ñ", "n"))
    assert (await backup_now(client, h, tenant["id"]))["status"] == "succeeded"
    row = (await _rows(lab_ctx, tenant["id"]))[0]
    path = _path(lab_ctx, row)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte somewhere in the middle
    path.write_bytes(bytes(data))

    started = await client.post(f"/api/backups/{row.id}/verify", headers=h)
    assert started.status_code == 202
    job = await wait_job(client, h, started.json()["data"]["job_id"])
    assert job["status"] == "failed"
    assert "suma de comprobación" in job["error"]
    row = (await _rows(lab_ctx, tenant["id"]))[0]
    assert row.verification_status == "failed" and row.verification_error
    # A corrupted backup is never restored.
    refused = await client.post(
        f"/api/tenants/{tenant['id']}/restore",
        json={"backup_id": row.id, "mode": "in_place"},
        headers=h,
    )
    assert refused.status_code == 409 and refused.json()["error"] == "BACKUP_NOT_RESTORABLE"
    # The tenant itself is untouched by a failed verification.
    assert (await wait_tenant(client, h, tenant["id"], "active"))["last_error"] is None


async def test_restore_in_place_and_as_a_new_tenant(
    client: httpx.AsyncClient,
    operator: dict[str, Any],
    lab_ctx: AppContext,
    lab_stack: LabStack,
    worker: None,
) -> None:
    h = operator["headers"]
    tenant = await active_tenant(client, h, "acme")
    assert (await backup_now(client, h, tenant["id"]))["status"] == "succeeded"
    original = (await _rows(lab_ctx, tenant["id"]))[0]
    odoo = lab_stack.odoo_state
    uuid_before = odoo.get("acme").db_uuid
    odoo.get("acme").company_name = "Datos cambiados después del respaldo"

    started = await client.post(
        f"/api/tenants/{tenant['id']}/restore",
        json={"backup_id": original.id, "mode": "in_place"},
        headers=h,
    )
    assert started.status_code == 202, started.text
    data = started.json()["data"]
    assert data["tenant_id"] == tenant["id"] and data["mode"] == "in_place"
    busy = await client.post(f"/api/tenants/{tenant['id']}/backups", headers=h)
    assert busy.status_code == 409 and busy.json()["error"] == "TENANT_BUSY"
    job = await wait_job(client, h, data["job_id"])
    assert job["status"] == "succeeded", job["error"]
    assert [s["name"] for s in job["steps"]] == [
        "pre_restore",
        "restore_scratch",
        "check",
        "swap",
        "verify_http",
    ]
    restored = odoo.get("acme")
    assert restored.company_name == "Empresa acme" and restored.db_uuid == uuid_before
    assert not restored.neutralized
    assert [n for n in odoo.names() if n.startswith("acme")] == ["acme"]
    assert (await edge_login(lab_stack, "acme.sajet.us")).status_code == 200
    after = await wait_tenant(client, h, tenant["id"], "active")
    assert after["status"] == "active"
    kinds = [(r.kind, r.status, r.verification_status) for r in await _rows(lab_ctx, tenant["id"])]
    assert kinds == [("manual", "succeeded", "ok"), ("pre-restore", "succeeded", "ok")]

    copy = await client.post(
        f"/api/tenants/{tenant['id']}/restore",
        json={"backup_id": original.id, "mode": "copy", "subdomain": "acme-staging"},
        headers=h,
    )
    assert copy.status_code == 202, copy.text
    copy_data = copy.json()["data"]
    assert copy_data["tenant_id"] != tenant["id"] and copy_data["subdomain"] == "acme-staging"
    job = await wait_job(client, h, copy_data["job_id"])
    assert job["status"] == "succeeded", job["error"]
    staged = await wait_tenant(client, h, copy_data["tenant_id"], "active")
    assert staged["customer_id"] == tenant["customer_id"] and staged["plan"] == "basic"
    assert "acme-staging" in odoo.names()
    clone = odoo.get("acme-staging")
    assert clone.neutralized and clone.db_uuid != uuid_before
    assert clone.company_name == "Empresa acme"
    # The copy's own admin password (returned once) and service user password; its
    # web.base.url is its own address (a restore-as-copy resets it to localhost).
    new_password = copy_data["admin_password"]
    assert copy_data["admin_login"] == tenant["admin_login"] and len(new_password) >= 16
    source = odoo.get("acme")
    admin_uid = odoo.login("acme-staging", tenant["admin_login"], new_password)
    assert isinstance(admin_uid, int) and admin_uid > 1
    for uid in clone.users:
        if uid != 1:
            assert clone.users[uid][1] != source.users[uid][1], clone.users[uid][0]
    assert clone.web_base_url == "https://acme-staging.sajet.us"
    assert clone.config_params["web.base.url.freeze"] == "True"
    assert new_password not in str(job)
    staged_detail = (await client.get(f"/api/tenants/{copy_data['tenant_id']}", headers=h)).text
    assert new_password not in staged_detail and "service_password" not in staged_detail
    page = await edge_login(lab_stack, "acme-staging.sajet.us")
    assert page.status_code == 200 and 'name="login"' in page.text
    assert not [n for n in odoo.names() if "-restore-" in n]

    taken = await client.post(
        f"/api/tenants/{tenant['id']}/restore",
        json={"backup_id": original.id, "mode": "copy", "subdomain": "acme-staging"},
        headers=h,
    )
    assert taken.status_code == 409 and taken.json()["error"] == "SUBDOMAIN_TAKEN"

    # A source created before the service user: the platform cannot give a copy its own
    # admin password, so it refuses before restoring anything.
    async with lab_ctx.db.sessionmaker() as session:
        await session.execute(
            update(Tenant)
            .where(Tenant.id == tenant["id"])
            .values(service_login=None, service_password_enc=None)
        )
        await session.commit()
    old = await client.post(
        f"/api/tenants/{tenant['id']}/restore",
        json={"backup_id": original.id, "mode": "copy", "subdomain": "acme-otra"},
        headers=h,
    )
    assert old.status_code == 409 and old.json()["error"] == "SERVICE_CREDENTIAL_MISSING"
    assert "usuario de servicio" in old.json()["detail"]


async def test_delete_leaves_a_verified_backup_and_a_failed_backup_stops_it(
    client: httpx.AsyncClient,
    operator: dict[str, Any],
    lab_ctx: AppContext,
    lab_stack: LabStack,
    worker: None,
) -> None:
    h = operator["headers"]
    first = await active_tenant(client, h, "uno")
    second = await active_tenant(client, h, "dos")

    assert (await client.delete(f"/api/tenants/{first['id']}", headers=h)).status_code == 202
    assert (await wait_tenant(client, h, first["id"], "deleted", "failed"))["status"] == "deleted"
    rows = await _rows(lab_ctx, first["id"])
    assert [(r.kind, r.status, r.verification_status) for r in rows] == [
        ("pre-delete", "succeeded", "ok")
    ]
    raw = _path(lab_ctx, rows[0]).read_bytes()
    assert hashlib.sha256(raw).hexdigest() == rows[0].sha256

    lab_stack.faults.set("web.backup", fail_times=ALWAYS, status=500)
    assert (await client.delete(f"/api/tenants/{second['id']}", headers=h)).status_code == 202
    failed = await wait_tenant(client, h, second["id"], "active", "failed", "deleted")
    # The tenant goes back to where it was (its database is intact), the error shown.
    assert failed["status"] == "active" and failed["last_error"]
    assert "dos" in lab_stack.odoo_state.names()  # nothing was dropped
    rows = await _rows(lab_ctx, second["id"])
    assert rows and all(r.status == "failed" for r in rows)
    assert not list(Path(lab_ctx.settings.effective_backup_dir, "dos").glob("*"))


async def test_a_failed_restore_leaves_the_tenant_as_it_was(
    client: httpx.AsyncClient,
    operator: dict[str, Any],
    lab_ctx: AppContext,
    lab_stack: LabStack,
    worker: None,
) -> None:
    h = operator["headers"]
    tenant = await active_tenant(client, h, "firme")
    assert (await backup_now(client, h, tenant["id"]))["status"] == "succeeded"
    backup = (await _rows(lab_ctx, tenant["id"]))[0]
    odoo = lab_stack.odoo_state
    odoo.get("firme").company_name = "Datos actuales"
    lab_stack.faults.set("web.restore", fail_times=ALWAYS, status=500)

    started = await client.post(
        f"/api/tenants/{tenant['id']}/restore",
        json={"backup_id": backup.id, "mode": "in_place"},
        headers=h,
    )
    job = await wait_job(client, h, started.json()["data"]["job_id"])
    assert job["status"] == "failed" and "Cargar el respaldo" in job["error"]
    assert odoo.get("firme").company_name == "Datos actuales"
    assert [n for n in odoo.names() if n.startswith("firme")] == ["firme"]
    after = await wait_tenant(client, h, tenant["id"], "active")
    assert after["last_error"] and "Cargar el respaldo" in after["last_error"]
