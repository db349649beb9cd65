"""Bulk seeding in SQL (generate_series), so a benchmark's setup takes seconds, not minutes."""

from __future__ import annotations

import psycopg


def tenants(database_url: str, count: int, *, months: int = 12) -> None:
    """`count` customers and tenants spread over `months`, each with a status history."""
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "INSERT INTO odoo_servers (name, url, master_password_enc, capacity, state, mode, is_default) "
            "VALUES ('bench', 'http://127.0.0.1:9', 'x', 1000000, 'active', 'rpc', false)"
        )
        conn.execute(
            "INSERT INTO customers (email, company_name) "
            "SELECT 'c' || g || '@bench.example.com', 'Empresa ' || g || CASE WHEN g %% 7 = 0 THEN ' O''Brien' ELSE '' END "
            "FROM generate_series(1, %s) g",
            (count,),
        )
        conn.execute(
            "INSERT INTO tenants (customer_id, subdomain, company_name, plan, status, language, admin_login, "
            "odoo_server_id, created_at, updated_at) "
            "SELECT g, 'bench' || g, 'Empresa ' || g, (ARRAY['basic','pro','enterprise'])[1 + g %% 3], "
            "(ARRAY['active','active','active','active','suspended','failed','deleted'])[1 + g %% 7], 'es_ES', "
            "'admin@bench.example.com', (SELECT id FROM odoo_servers WHERE name = 'bench'), "
            "now() - ((g %% (%s * 30)) || ' days')::interval, now() "
            "FROM generate_series(1, %s) g",
            (months, count),
        )
        conn.execute(
            "INSERT INTO tenant_status_changes (tenant_id, status, at) "
            "SELECT id, 'provisioning', created_at FROM tenants "
            "UNION ALL SELECT id, 'active', created_at + interval '2 minutes' FROM tenants "
            "UNION ALL SELECT id, status, created_at + interval '20 days' FROM tenants WHERE status <> 'active'"
        )
        conn.execute(
            "INSERT INTO proxmox_nodes (hostname, status, cpu_total, ram_total, disk_total) "
            "SELECT 'pve' || g, 'online', 32, 128 * 1024^3, 4 * 1024^4 FROM generate_series(1, 4) g"
        )
        conn.execute(
            "INSERT INTO resource_metrics (node_id, cpu, ram, disk, netin, netout, timestamp) "
            "SELECT n.id, random(), (random() * 128 * 1024^3)::bigint, (random() * 4 * 1024^4)::bigint, 0, 0, "
            "now() - (m || ' minutes')::interval FROM proxmox_nodes n, generate_series(1, 1440) m"
        )
    # What autovacuum does on a live table: a visibility map, so listings can be index-only.
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
