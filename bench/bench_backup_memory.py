"""Memory while backing up: a tenant whose database carries a large incompressible filestore
(default 2 GB) is backed up through the API by a real `erp-core serve` process (its
in-process worker runs the job); the peak resident memory of that process is compared with
its resident memory before the backup (baseline, same process, same run). Goal: flat memory.

    .venv/bin/python bench/bench_backup_memory.py [--megabytes 2048]
"""

from __future__ import annotations

import argparse
import secrets
import time

import httpx
from bench_provisioning import lab_env, wait_active
from common import PeakRss, report, scratch_database, serve

from erp_core.lab import start_lab_stack


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--megabytes", type=int, default=2048)
    args = parser.parse_args()
    master, token = secrets.token_urlsafe(16), secrets.token_urlsafe(24)
    stack = start_lab_stack(master_password=master, cloudflare_token=token)
    try:
        with scratch_database() as url, serve(url, **lab_env(stack, master, token)) as server:
            h = server.headers
            body = {
                "company_name": "Grande SA",
                "email": "ops@grande.example.com",
                "subdomain": "grande",
                "plan": "basic",
            }
            tenant = httpx.post(
                f"{server.url}/api/tenants", json=body, headers=h, timeout=30
            ).json()["data"]
            wait_active(url, ["grande"], 60)

            def backup() -> dict[str, object]:
                job_id = httpx.post(
                    f"{server.url}/api/tenants/{tenant['id']}/backups", headers=h, timeout=30
                ).json()["data"]["job_id"]
                while True:
                    job = httpx.get(
                        f"{server.url}/api/jobs/{job_id}", headers=h, timeout=30
                    ).json()["data"]
                    if job["status"] in ("succeeded", "failed"):
                        return job  # type: ignore[no-any-return]
                    time.sleep(0.2)

            assert backup()["status"] == "succeeded"  # warm every code path first
            size = args.megabytes * 1024 * 1024
            stack.odoo_state.add_large_file("grande", "ab/large-attachment", size, seed=3)
            with PeakRss(server.proc.pid) as memory:
                base_mb = round(memory.process.memory_info().rss / 2**20, 1)
                started = time.monotonic()
                job = backup()
                elapsed = time.monotonic() - started
            assert job["status"] == "succeeded", job.get("error")
            rows = httpx.get(
                f"{server.url}/api/tenants/{tenant['id']}/backups", headers=h, timeout=30
            ).json()["data"]
            stored = max(r["size_bytes"] or 0 for r in rows)
    finally:
        stack.stop()
    report(
        "backup memory (serve process, in-process worker)",
        {
            "backup size MB": round(stored / 2**20, 1),
            "RSS before the backup MB (baseline)": base_mb,
            "peak RSS during the backup MB": memory.peak_mb,
            "growth MB (goal: flat, far below the backup size)": round(memory.peak_mb - base_mb, 1),
            "growth / backup size": round((memory.peak_mb - base_mb) / (stored / 2**20), 4),
            "backup job seconds (stream + sha256 re-check + zip index)": round(elapsed, 1),
        },
    )


if __name__ == "__main__":
    main()
