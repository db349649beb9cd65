"""The provisioning log names tenants and operations and filters by tenant name."""

from __future__ import annotations

from typing import Any

import httpx
import psycopg


async def test_log_lines_carry_names_and_filter_by_tenant_name(
    client: httpx.AsyncClient, admin: dict[str, Any], database_url: str
) -> None:
    with psycopg.connect(database_url) as conn:
        conn.execute("INSERT INTO customers (email, company_name) VALUES ('c@x.com', 'C')")
        for sub, company in (("acme", "Acme Industrial"), ("beta", "Beta_Logística")):
            row = conn.execute(
                "INSERT INTO tenants (customer_id, subdomain, company_name, plan, status, "
                "language, admin_login) VALUES ((SELECT min(id) FROM customers), %s, %s, "
                "'basic', 'active', 'es_ES', 'admin') RETURNING id",
                (sub, company),
            ).fetchone()
            assert row is not None
            job = conn.execute(
                "INSERT INTO jobs (kind, tenant_id, status, params, progress, runs) "
                "VALUES ('create', %s, 'succeeded', '{}', 100, 1) RETURNING id",
                (row[0],),
            ).fetchone()
            assert job is not None
            conn.execute(
                "INSERT INTO job_steps (job_id, position, name, label, status, output, attempts)"
                " VALUES (%s, 0, 'verify_http', 'Comprobar acceso web', 'succeeded', '{}', 1)",
                (job[0],),
            )
            conn.execute(
                "INSERT INTO job_logs (job_id, tenant_id, step, level, message) "
                "VALUES (%s, %s, 'verify_http', 'info', 'ok')",
                (job[0], row[0]),
            )
    h = admin["headers"]
    resp = await client.get("/api/logs/provisioning?tenant=industrial", headers=h)
    assert resp.status_code == 200, resp.text
    [line] = resp.json()["data"]
    assert line["tenant_subdomain"] == "acme" and line["tenant_name"] == "Acme Industrial"
    assert line["job_title"] == "Creación" and line["step_label"] == "Comprobar acceso web"
    by_sub = (await client.get("/api/logs/provisioning?tenant=BETA", headers=h)).json()["data"]
    assert [x["tenant_subdomain"] for x in by_sub] == ["beta"]
    # "_" is a character, not a wildcard
    assert (await client.get("/api/logs/provisioning?tenant=e_i", headers=h)).json()["data"] == []
    every = (await client.get("/api/logs/provisioning", headers=h)).json()
    assert every["meta"]["total"] == 2 and len(every["data"]) == 2
