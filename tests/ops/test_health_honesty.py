"""Health says what is true, in Spanish, with labelled human values."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg

from erp_core.context import AppContext
from erp_core.logs.health import facts


def _tenant(conn: psycopg.Connection, sub: str, server: int, created: datetime) -> int:
    row = conn.execute(
        "INSERT INTO tenants (customer_id, subdomain, company_name, plan, status, language, "
        "admin_login, odoo_server_id, created_at) VALUES ((SELECT min(id) FROM customers), %s, "
        "%s, 'basic', 'active', 'es_ES', 'admin', %s, %s) RETURNING id",
        (sub, sub.title(), server, created),
    ).fetchone()
    assert row is not None
    return int(row[0])


async def test_unreachable_server_is_flagged_down_in_spanish(
    client: httpx.AsyncClient, admin: dict[str, Any]
) -> None:
    h = admin["headers"]
    server = {"name": "apagado", "url": "http://127.0.0.1:9", "master_password": "maestra-1234"}
    assert (await client.post("/api/tenants/servers", json=server, headers=h)).status_code == 201
    [listed] = (await client.get("/api/tenants/servers", headers=h)).json()["data"]
    assert listed["health"] == "down" and listed["status_label"] == "Caído"
    assert listed["health_detail"].startswith("No se pudo conectar con el servidor Odoo")
    assert listed["capacity_label"] == "0 / 50 · 50 libres"
    status = (await client.get("/api/logs/status", headers=h)).json()["data"]
    odoo = next(c for c in status["checks"] if c["name"].startswith("odoo"))
    assert odoo["status"] == "down" and "No se pudo conectar" in odoo["message"]
    assert "Error" not in status and "ConnectError" not in str(status)


async def test_dedicated_container_reads_as_its_tenant(
    client: httpx.AsyncClient, admin: dict[str, Any], database_url: str
) -> None:
    server = {"name": "ct1000-t3", "url": "http://127.0.0.1:9", "master_password": "m-12345678"}
    created = await client.post("/api/tenants/servers", json=server, headers=admin["headers"])
    assert created.status_code == 201
    with psycopg.connect(database_url) as conn:
        conn.execute("INSERT INTO customers (email, company_name) VALUES ('c@x.com', 'C')")
        conn.execute("UPDATE odoo_servers SET capacity = 0")  # how a dedicated CT is stored
        _tenant(conn, "acme", created.json()["data"]["id"], datetime.now(UTC))
    [listed] = (await client.get("/api/tenants/servers", headers=admin["headers"])).json()["data"]
    assert listed["dedicated"] is True
    assert listed["display_name"] == "Contenedor de acme"
    assert listed["capacity_label"] == "Dedicado a acme"
    assert "0 libres" not in listed["capacity_label"]


async def test_backup_health_counts_never_backed_up_and_excused_young(
    client: httpx.AsyncClient, admin: dict[str, Any], database_url: str, ctx: AppContext
) -> None:
    now = datetime.now(UTC)
    with psycopg.connect(database_url) as conn:
        conn.execute("INSERT INTO customers (email, company_name) VALUES ('c@x.com', 'C')")
        server = conn.execute(
            "INSERT INTO odoo_servers (name, url, master_password_enc, capacity, state, mode, "
            "is_default) VALUES ('s', 'http://127.0.0.1:9', 'x', 10, 'active', 'rpc', true) "
            "RETURNING id"
        ).fetchone()
        assert server is not None
        _tenant(conn, "nuevo", server[0], now - timedelta(hours=2))
        old = _tenant(conn, "viejo", server[0], now - timedelta(days=10))
        backed = _tenant(conn, "cuidado", server[0], now - timedelta(days=10))
        conn.execute(
            "INSERT INTO backups (tenant_id, kind, status, database_name, started_at, finished_at)"
            " VALUES (%s, 'manual', 'succeeded', 'cuidado', now(), now()),"
            " (%s, 'manual', 'succeeded', 'viejo', now() - interval '5 days',"
            "  now() - interval '5 days')",
            (backed, old),
        )
    status = (await client.get("/api/logs/status", headers=admin["headers"])).json()["data"]
    backups = next(c for c in status["checks"] if c["name"] == "backups")
    assert backups["status"] == "degraded"
    assert "1 de 3 tenants activos sin respaldo en las últimas 36 h" in backups["message"]
    assert "Todos" not in backups["message"]
    facts = {f["label"]: f["value"] for f in backups["facts"]}
    assert facts["Tenants activos"] == "3"
    assert facts["Con respaldo en las últimas 36 h"] == "1"
    assert facts["Sin ningún respaldo"] == "1"
    assert facts["Creados hace menos de 36 h (en plazo)"] == "1"


async def test_health_facts_are_labelled_human_values(
    client: httpx.AsyncClient, admin: dict[str, Any]
) -> None:
    status = (await client.get("/api/logs/status", headers=admin["headers"])).json()["data"]
    checks = {c["name"]: c for c in status["checks"]}
    disk = {f["label"]: f["value"] for f in checks["disk"]["facts"]}
    assert re.fullmatch(r"[\d.]+(,\d)? (KB|MB|GB|TB)", disk["Usado"]), disk
    for check in status["checks"]:
        for fact in check["facts"]:
            assert "_" not in fact["label"] and fact["value"] not in ("null", "None", "")
        assert not re.search(r"\d\.\d+ ms", check["message"]), check["message"]
        assert "(s)" not in check["message"], check["message"]


def test_facts_read_lists_and_the_queue_in_spanish() -> None:
    """Lists of names read as words ("Ninguno", not "[]"); the queue counts "procesos de
    trabajo", never "workers" (the tour fails on English words shown as text)."""
    shown = {
        f["label"]: f["value"]
        for f in facts({"without_connections": [], "offline": ["pve2"], "workers": 2})
    }
    assert shown == {
        "Túneles sin conexión": "Ninguno",
        "Nodos sin conexión": "pve2",
        "Procesos de trabajo activos": "2",
    }
