"""Instant tenants on a REAL Odoo 19 (issue 15), in one run:

- Odoo's own ``db.create_database`` median (what every create cost before templates);
- our ``POST /api/tenants`` → ``active`` median once the server's template is ready (the
  clone path), from the server's own record (``tenant_deployments.provision_ms``) and from
  the client's clock; the ratio to Odoo's own create (goal: ≤ 1.5 s and ≤ 0.35 ×);
- 20 creates at once: all active, no two tenants share ``database.uuid``,
  ``database.secret`` or an admin password hash, every ``web.base.url`` is the tenant's
  public URL.

Odoo runs as in the tests (``tests/odoo_real.py``: own role, dbfilter ``^%d$``,
proxy_mode) on the PostgreSQL of ``BENCH_DATABASE_URL``/``TEST_DATABASE_URL`` (default
127.0.0.1:5432); the lab plays Cloudflare and the public edge. Loopback only.

    .venv/bin/python bench/bench_real_odoo.py [--own 3] [--sequential 5] [--burst 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import sys
import time
from typing import Any

import httpx
import psycopg
from bench_provisioning import lab_env
from common import ROOT, report, scratch_database, serve

from erp_core.drivers.odoo import OdooRpcManager
from erp_core.lab import start_lab_stack

sys.path.insert(0, str(ROOT / "tests"))
os.environ.setdefault(
    "TEST_DATABASE_URL",
    os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
)
from odoo_real import RealOdoo, running_odoo

DOMAIN = "sajet.us"


def body(name: str) -> dict[str, str]:
    return {
        "company_name": f"Empresa {name}",
        "email": f"ops@{name}.example.com",
        "subdomain": name,
        "plan": "basic",
        "country": "DO",
        "language": "es_ES",
    }


async def own_creates(odoo: RealOdoo, count: int) -> list[float]:
    """Odoo's own create_database, sequentially, on databases dropped afterwards."""
    times = []
    async with OdooRpcManager(odoo.url, odoo.master_password, slow_timeout=600) as rpc:
        for i in range(count):
            name = f"bench-own-{i}"
            started = time.perf_counter()
            await rpc.create_database(
                name,
                admin_login="admin@example.com",
                admin_password="x" * 12,
                lang="es_ES",
                country_code="DO",
            )
            times.append(time.perf_counter() - started)
            await rpc.drop_database(name)
    return times


async def post(url: str, headers: dict[str, str], names: list[str]) -> None:
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=120) as http:
        responses = await asyncio.gather(*(http.post("/api/tenants", json=body(n)) for n in names))
    bad = [r.text for r in responses if r.status_code != 202]
    assert not bad, bad[:2]


def wait_active(database_url: str, names: list[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    with psycopg.connect(database_url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute(
                "SELECT count(*) FILTER (WHERE status = 'active'), "
                "count(*) FILTER (WHERE status = 'failed'), "
                "string_agg(last_error, ' | ') FILTER (WHERE status = 'failed') "
                "FROM tenants WHERE subdomain = ANY(%s)",
                (names,),
            ).fetchone()
            assert row is not None
            if row[1]:
                for line in failure_logs(conn, names):
                    print(line, file=sys.stderr)
                raise RuntimeError(f"{row[1]} tenants failed: {row[2]}")
            if row[0] == len(names):
                return
            time.sleep(0.02)
    raise RuntimeError(f"not all active within {timeout} s")


def failure_logs(conn: psycopg.Connection[Any], names: list[str]) -> list[str]:
    """The job log of every failed tenant among ``names`` (what an operator would read)."""
    rows = conn.execute(
        "SELECT t.subdomain, l.step, l.level, l.message FROM job_logs l "
        "JOIN tenants t ON t.id = l.tenant_id "
        "WHERE t.subdomain = ANY(%s) AND t.status = 'failed' ORDER BY l.id",
        (names,),
    ).fetchall()
    return [f"{sub} [{step}] {level}: {message}" for sub, step, level, message in rows]


def wait_template(database_url: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    with psycopg.connect(database_url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute(
                "SELECT db_name FROM odoo_templates WHERE state = 'ready' LIMIT 1"
            ).fetchone()
            if row:
                return str(row[0])
            time.sleep(0.2)
    raise RuntimeError("no template became ready")


def wait_spare(database_url: str, timeout: float) -> None:
    """The pool has refilled: a spare is ready and none is being prepared. Real sign-ups
    come seconds to hours apart, so a preparation (four password hashes on Odoo's CPU)
    is over before the next one; back-to-back creates would time that overlap instead
    (the burst below shows the contended case)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with psycopg.connect(database_url) as conn:
            row = conn.execute(
                "SELECT count(*) FILTER (WHERE state = 'ready'), "
                "count(*) FILTER (WHERE state = 'preparing') FROM odoo_spares"
            ).fetchone()
        if row and row[0] and not row[1]:
            return
        time.sleep(0.2)
    raise SystemExit("the spare pool did not refill")


def provision_ms(database_url: str, names: list[str]) -> list[int]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT d.provision_ms FROM tenant_deployments d JOIN tenants t ON t.id = d.tenant_id "
            "WHERE t.subdomain = ANY(%s)",
            (names,),
        ).fetchall()
    return [int(r[0]) for r in rows]


def paths(database_url: str, names: list[str]) -> dict[str, int]:
    """How ``names`` were created (the create_database step's output): ``spare`` (a
    prepared clone renamed), ``template`` (cloned at create time) or ``full``."""
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT coalesce(s.output->>'path', 'full'), count(*) FROM job_steps s "
            "JOIN jobs j ON j.id = s.job_id JOIN tenants t ON t.id = j.tenant_id "
            "WHERE j.kind = 'create' AND s.name = 'create_database' "
            "AND t.subdomain = ANY(%s) GROUP BY 1 ORDER BY 1",
            (names,),
        ).fetchall()
    return {str(path): int(count) for path, count in rows}


def step_medians(database_url: str, names: list[str]) -> dict[str, float]:
    """Where a create's time goes: the median duration of each step (s), plus the wait
    between the POST and the first step (queueing) and between steps (the runner)."""
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT t.subdomain, s.position, s.name, "
            "extract(epoch FROM s.finished_at - s.started_at), "
            "extract(epoch FROM s.started_at - t.created_at) "
            "FROM job_steps s JOIN jobs j ON j.id = s.job_id JOIN tenants t ON t.id = j.tenant_id "
            "WHERE j.kind = 'create' AND t.subdomain = ANY(%s) AND s.finished_at IS NOT NULL "
            "ORDER BY t.subdomain, s.position",
            (names,),
        ).fetchall()
    per_step: dict[str, list[float]] = {}
    queued: list[float] = []
    for _name, position, step, duration, since_post in rows:
        per_step.setdefault(str(step), []).append(float(duration))
        if position == min(r[1] for r in rows if r[0] == _name):
            queued.append(float(since_post))
    medians = (
        {"queued before the first step": round(statistics.median(queued), 3)} if queued else {}
    )
    medians |= {step: round(statistics.median(values), 3) for step, values in per_step.items()}
    return medians


def identities(odoo: RealOdoo, names: list[str]) -> dict[str, Any]:
    seen: dict[str, set[str]] = {"uuid": set(), "secret": set(), "password": set()}
    wrong_url = []
    for name in names:
        params = dict(
            odoo.sql(
                name,
                "SELECT key, value FROM ir_config_parameter WHERE key IN "
                "('database.uuid', 'database.secret', 'web.base.url')",
            )
        )
        seen["uuid"].add(str(params["database.uuid"]))
        seen["secret"].add(str(params["database.secret"]))
        seen["password"].add(
            str(odoo.sql(name, "SELECT password FROM res_users WHERE id = 2")[0][0])
        )
        if params.get("web.base.url") != f"https://{name}.{DOMAIN}":
            wrong_url.append(name)
    return {k: len(v) for k, v in seen.items()} | {"wrong_base_url": wrong_url}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--own", type=int, default=3, help="Odoo's own creates to time")
    parser.add_argument("--sequential", type=int, default=5, help="clones timed one by one")
    parser.add_argument("--burst", type=int, default=20, help="creates at once")
    args = parser.parse_args()
    master, token = secrets.token_urlsafe(16), secrets.token_urlsafe(24)
    stack = start_lab_stack(master_password=master, cloudflare_token=token)
    try:
        with running_odoo() as odoo:
            own = asyncio.run(own_creates(odoo, args.own))
            env = lab_env(stack, master, token) | {
                "ODOO_URL": odoo.url,
                "ODOO_MASTER_PASSWORD": odoo.master_password,
                "ODOO_TIMEOUT_SECONDS": "120",
                "ERP_CORE_WORKER_CONCURRENCY": str(max(args.burst, 4)),
            }
            with scratch_database() as url, serve(url, **env) as server:
                warm = ["bw-warm"]
                asyncio.run(post(server.url, server.headers, warm))
                wait_active(url, warm, 300)
                wait_template(url, 300)
                singles, client_s = [], []
                for i in range(args.sequential):
                    name = [f"bw-seq{i}"]
                    wait_spare(url, 120)
                    started = time.perf_counter()
                    asyncio.run(post(server.url, server.headers, name))
                    wait_active(url, name, 120)
                    client_s.append(time.perf_counter() - started)
                    singles += name
                burst = [f"bw-burst{i:02d}" for i in range(args.burst)]
                started = time.perf_counter()
                asyncio.run(post(server.url, server.headers, burst))
                try:
                    wait_active(url, burst, 600)
                except RuntimeError:
                    print(odoo.log_text()[-6000:], file=sys.stderr)
                    print(server.running.log_tail(20000), file=sys.stderr)
                    raise
                burst_s = time.perf_counter() - started
                single_ms = provision_ms(url, singles)
                steps = step_medians(url, singles)
                seq_paths, burst_paths = paths(url, singles), paths(url, burst)
                ident = identities(odoo, burst)
    finally:
        stack.stop()
    own_median = statistics.median(own)
    ours = statistics.median(single_ms) / 1000 if single_ms else float("nan")
    report(
        "instant tenants on real Odoo 19",
        {
            f"Odoo's own create_database, median of {len(own)} (s)": round(own_median, 2),
            "Odoo's own create_database, all (s)": [round(t, 2) for t in own],
            f"POST -> active, spare ready, median of {len(single_ms)} (s, server record)": round(
                ours, 3
            ),
            "POST -> active, spare ready, client clock (s)": [round(t, 2) for t in client_s],
            "ratio ours / Odoo's own (goal <= 0.35)": round(ours / own_median, 3),
            "median per step of the sequential creates (s)": steps,
            f"{args.burst} at once: s until all active": round(burst_s, 2),
            "how the sequential creates were made": seq_paths,
            f"how the {args.burst} at once were made": burst_paths,
            "distinct uuid / secret / admin password": (
                f"{ident['uuid']} / {ident['secret']} / {ident['password']} of {len(burst)}"
            ),
            "tenants with a wrong web.base.url": ident["wrong_base_url"] or "none",
        },
    )


if __name__ == "__main__":
    main()
