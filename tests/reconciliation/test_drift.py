"""Sabotage each source behind the control plane's back, run the audit, see the finding,
fix it through its job, and see it resolve (issue 18)."""

from __future__ import annotations

from typing import Any

import httpx

from erp_core.context import AppContext
from erp_core.drivers.cloudflare import CloudflareManager
from erp_core.lab import LabStack
from erp_core.reconciliation import RESERVED_DATABASE_PREFIXES


async def _findings(
    client: httpx.AsyncClient, h: dict[str, str], **params: Any
) -> list[dict[str, Any]]:
    resp = await client.get(
        "/api/reconciliation/findings", params={"per_page": 200, **params}, headers=h
    )
    assert resp.status_code == 200, resp.text
    data: list[dict[str, Any]] = resp.json()["data"]
    return data


def _by_kind(findings: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {f["kind"]: f for f in findings}


async def test_odoo_routing_and_backup_drift_found_fixed_resolved(
    client: httpx.AsyncClient,
    operator: dict[str, Any],
    viewer: dict[str, Any],
    lab_stack: LabStack,
    lab_ctx: AppContext,
    worker: None,
    wait: Any,
    body: Any,
    finish: Any,
    audit: Any,
) -> None:
    h = operator["headers"]
    ids = {}
    for name in ("alfa", "beta"):
        created = await client.post("/api/tenants", json=body(name), headers=h)
        assert created.status_code == 202, created.text
        ids[name] = created.json()["data"]["id"]
    for tenant_id in ids.values():
        assert (await wait(client, h, tenant_id, "active", "failed"))["status"] == "active"
    backup = await client.post(f"/api/tenants/{ids['beta']}/backups", headers=h)
    assert backup.status_code == 202, backup.text
    assert (await finish(client, h, backup.json()["data"]["job_id"]))["status"] == "succeeded"

    # a clean control plane has nothing to report
    sources = await audit(client, h)
    assert sources["odoo"]["status"] == "ok" and sources["cloudflare"]["status"] == "ok"
    assert sources["backups"]["status"] == "ok"
    assert sources["stripe"]["status"] == "skipped" and sources["proxmox"]["status"] == "skipped"
    assert await _findings(client, h) == []

    # --- sabotage, all behind the control plane's back
    odoo = lab_stack.odoo_state
    odoo.drop("alfa")  # an active tenant's database vanishes
    odoo.add_database("huerfana")  # a database nobody owns
    odoo.add_database(f"{RESERVED_DATABASE_PREFIXES[0]}plantilla")  # a template: not an orphan
    tunnel = lab_stack.tunnel_ids[0]
    cf = CloudflareManager(
        lab_ctx.settings.cloudflare_api_token or "",
        account_id=lab_ctx.settings.cloudflare_account_id or "",
        zone_id=lab_ctx.settings.cloudflare_zone_id or "",
        base_url=lab_ctx.settings.cloudflare_api_base,
    )
    try:
        await cf.ensure_route(tunnel, "fantasma.sajet.us", "http://127.0.0.1:9")
        await cf.ensure_cname("fantasma.sajet.us", tunnel)
        await cf.remove_route(tunnel, "beta.sajet.us")  # beta loses its route
    finally:
        await cf.aclose()
    store_root = lab_ctx.settings.effective_backup_dir
    stored = [p for p in store_root.rglob("*") if p.is_file()]
    assert len(stored) == 1
    stored[0].unlink()  # the backup row says succeeded; its file is gone
    (store_root / "suelto.zip").write_bytes(b"PK")  # a file no row owns

    sources = await audit(client, h)
    assert {s: sources[s]["status"] for s in ("odoo", "cloudflare", "backups")} == {
        "odoo": "ok",
        "cloudflare": "ok",
        "backups": "ok",
    }
    found = _by_kind(await _findings(client, h))
    assert set(found) == {
        "missing_database",
        "orphan_database",
        "orphan_ingress",
        "orphan_dns",
        "missing_ingress",
        "missing_backup_file",
        "orphan_backup_file",
    }, found
    assert found["missing_database"]["tenant_id"] == ids["alfa"]
    assert found["orphan_database"]["detail"]["database"] == "huerfana"
    assert found["orphan_ingress"]["detail"]["hostname"] == "fantasma.sajet.us"
    assert found["missing_ingress"]["tenant_id"] == ids["beta"]
    assert found["missing_backup_file"]["fixable"] is False
    assert found["orphan_database"]["fixable"] is True
    first_seen = found["orphan_database"]["first_seen_at"]

    # a second run keeps the same findings (no duplicates), only last_seen moves
    await audit(client, h)
    again = await _findings(client, h)
    assert len(again) == 7
    assert _by_kind(again)["orphan_database"]["first_seen_at"] == first_seen
    metrics = (await client.get("/api/dashboard/metrics", headers=viewer["headers"])).json()
    assert metrics["data"]["drift"] == {"open_findings": 7, "tenants_over_limit": 0}

    # viewers read but do not fix or run
    assert (
        await client.get("/api/reconciliation/findings", headers=viewer["headers"])
    ).status_code == 200
    fid = found["orphan_database"]["id"]
    resp = await client.post(f"/api/reconciliation/findings/{fid}/fix", headers=viewer["headers"])
    assert resp.status_code == 403
    assert (
        await client.post("/api/reconciliation/run", headers=viewer["headers"])
    ).status_code == 403
    resp = await client.post(
        f"/api/reconciliation/findings/{found['missing_backup_file']['id']}/fix", headers=h
    )
    assert resp.status_code == 422 and resp.json()["error"] == "NOT_FIXABLE"

    # --- fix: each an ordinary job
    jobs = {}
    for kind in ("orphan_database", "orphan_ingress", "orphan_dns", "missing_ingress"):
        resp = await client.post(f"/api/reconciliation/findings/{found[kind]['id']}/fix", headers=h)
        assert resp.status_code == 202, resp.text
        jobs[kind] = resp.json()["data"]["job_id"]
    resp = await client.post(f"/api/reconciliation/findings/{fid}/fix", headers=h)
    assert resp.status_code in (202, 409)  # already running, or already done
    for kind, job_id in jobs.items():
        job = await finish(client, h, job_id)
        assert job["status"] == "succeeded", (kind, job.get("error"))
    assert "huerfana" not in odoo.names()
    kept = list((store_root / "reconciliation").rglob("*.zip"))
    assert len(kept) == 1 and "huerfana" in kept[0].name  # the verified backup before the drop
    rules = {r.get("hostname") for r in lab_stack.cloudflare_state.ingress(tunnel)}
    assert "fantasma.sajet.us" not in rules and "beta.sajet.us" in rules
    names = {r["name"] for r in lab_stack.cloudflare_state.dns_records.values()}
    assert "fantasma.sajet.us" not in names

    resolved = _by_kind(await _findings(client, h, state="resolved"))
    assert set(resolved) == set(jobs)
    assert all(r["resolved_at"] for r in resolved.values())

    # reality matches again for the rest: they resolve on the next run by themselves
    odoo.add_database("alfa", login="dueno@alfa.example.com")
    (store_root / "suelto.zip").unlink()
    await audit(client, h)
    still_open = _by_kind(await _findings(client, h))
    assert set(still_open) == {"missing_backup_file"}, still_open
    assert (await _findings(client, h, tenant_id=ids["beta"]))[0]["kind"] == "missing_backup_file"
