"""Provisioning: with the lab answering instantly, the control plane's own time from
`POST /api/tenants` to `active` (goal: median <= 250 ms); 100 tenants requested at once all
active within 30 s on one worker process, and the ratio with two worker processes.

The time is read from the server's own record (tenant_deployments.provision_ms = activation
minus the creating transaction's timestamp), so client polling does not distort it.

    .venv/bin/python bench/bench_provisioning.py [--sequential 20] [--burst 100]
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import time

import httpx
import psycopg
from common import report, scratch_database, serve

from erp_core.lab import start_lab_stack


def lab_env(stack: object, master: str, token: str) -> dict[str, str]:
    cf = stack.cloudflare_state  # type: ignore[attr-defined]
    return {
        "ODOO_URL": stack.odoo.url,  # type: ignore[attr-defined]
        "ODOO_MASTER_PASSWORD": master,
        "ODOO_CAPACITY": "100000",
        "CLOUDFLARE_API_TOKEN": token,
        "CLOUDFLARE_ACCOUNT_ID": cf.account_id,
        "CLOUDFLARE_ZONE_ID": cf.zone_id,
        "CLOUDFLARE_TUNNEL_ID": stack.tunnel_ids[0],  # type: ignore[attr-defined]
        "CLOUDFLARE_API_BASE": stack.cloudflare_base_url,  # type: ignore[attr-defined]
        "ERP_CORE_PUBLIC_CHECK_VIA": stack.edge.url,  # type: ignore[attr-defined]
    }


def body(name: str) -> dict[str, str]:
    return {
        "company_name": f"Empresa {name}",
        "email": f"ops@{name}.example.com",
        "subdomain": name,
        "plan": "basic",
    }


async def create(url: str, headers: dict[str, str], names: list[str]) -> None:
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as http:
        responses = await asyncio.gather(*(http.post("/api/tenants", json=body(n)) for n in names))
    assert all(r.status_code == 202 for r in responses), [
        r.text for r in responses if r.status_code != 202
    ][:2]


def wait_active(database_url: str, names: list[str], timeout: float) -> float:
    """Seconds from the first creation to the last activation, per the server's records."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(database_url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute(
                "SELECT count(*) FILTER (WHERE t.status = 'active'), count(*) FILTER (WHERE t.status = 'failed'),"
                " extract(epoch FROM max(d.provisioned_at) - min(t.created_at)) "
                "FROM tenants t LEFT JOIN tenant_deployments d ON d.tenant_id = t.id WHERE t.subdomain = ANY(%s)",
                (names,),
            ).fetchone()
            assert row is not None
            if row[1]:
                raise RuntimeError(f"{row[1]} tenants failed")
            if row[0] == len(names):
                return float(row[2])
            time.sleep(0.05)
    raise RuntimeError(f"not all active within {timeout} s")


def provision_ms(database_url: str, names: list[str]) -> list[int]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT d.provision_ms FROM tenant_deployments d JOIN tenants t ON t.id = d.tenant_id "
            "WHERE t.subdomain = ANY(%s)",
            (names,),
        ).fetchall()
    return [int(r[0]) for r in rows]


def run(
    database_url: str, env: dict[str, str], workers: int, sequential: int, burst: int, tag: str
) -> dict[str, float]:
    with serve(database_url, workers=workers, **env) as server:
        warm = [f"{tag}warm"]
        asyncio.run(create(server.url, server.headers, warm))
        wait_active(database_url, warm, 60)
        singles = []
        for i in range(sequential):
            name = [f"{tag}seq{i}"]
            asyncio.run(create(server.url, server.headers, name))
            wait_active(database_url, name, 60)
            singles.append(name[0])
        names = [f"{tag}burst{i:03d}" for i in range(burst)]
        started = time.monotonic()
        asyncio.run(create(server.url, server.headers, names))
        span = wait_active(database_url, names, 120)
        wall = time.monotonic() - started
        single = provision_ms(database_url, singles)
        return {
            "median_ms": statistics.median(single) if single else 0.0,
            "max_ms": max(single, default=0),
            "burst_span_s": round(span, 2),
            "burst_wall_s": round(wall, 2),
        }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sequential", type=int, default=20)
    parser.add_argument("--burst", type=int, default=100)
    args = parser.parse_args()
    master, token = secrets.token_urlsafe(16), secrets.token_urlsafe(24)
    stack = start_lab_stack(master_password=master, cloudflare_token=token)
    try:
        env = lab_env(stack, master, token)
        with scratch_database() as url:
            one = run(url, env, 0, args.sequential, args.burst, "a")
        with scratch_database() as url:
            two = run(url, env, 1, 0, args.burst, "b")
    finally:
        stack.stop()
    report(
        "provisioning (lab answering instantly)",
        {
            "single tenant POST->active, median ms (goal <= 250)": one["median_ms"],
            "single tenant POST->active, max ms": one["max_ms"],
            f"{args.burst} at once, 1 worker process: s to all active (goal <= 30)": one[
                "burst_span_s"
            ],
            f"{args.burst} at once, 2 worker processes: s to all active": two["burst_span_s"],
            "speed-up 2 workers / 1 worker": round(one["burst_span_s"] / two["burst_span_s"], 2),
        },
    )


if __name__ == "__main__":
    main()
