"""Migrations build the whole schema on an empty database, with no drift from the models."""

from __future__ import annotations

import psycopg
from alembic import command
from alembic.config import Config

from erp_core.cli import migrations_dir

SEED_TABLES = {
    "customers": {"email", "company_name", "subdomain", "stripe_customer_id"},
    "subscriptions": {"customer_id", "plan_name", "status", "stripe_subscription_id", "mrr"},
    "stripe_events": {"event_id", "event_type", "payload", "processed"},
    "proxmox_nodes": {"hostname", "status", "cpu_total", "ram_total", "disk_total"},
    "lxc_containers": {"vmid", "node_id", "ip_address", "cpu_cores", "ram_mb"},
    "tenant_deployments": {"subdomain", "tunnel_id", "tunnel_url", "plan_type", "status"},
    "resource_metrics": {"container_id", "cpu", "ram", "disk", "network", "timestamp"},
    "system_config": {"key", "value", "category", "is_secret", "updated_at"},
}


def test_seed_tables_and_columns_exist(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema='public'"
        ).fetchall()
    columns: dict[str, set[str]] = {}
    for table, column in rows:
        columns.setdefault(table, set()).add(column)
    for table, expected in SEED_TABLES.items():
        assert expected <= columns.get(table, set()), table
    for extra in (
        "users",
        "refresh_tokens",
        "plans",
        "audit_log",
        "tenants",
        "odoo_servers",
        "jobs",
    ):
        assert extra in columns
    assert "procrastinate_jobs" in columns


def test_no_drift_between_models_and_migrations(database_url: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    command.check(cfg)  # raises when autogenerate would emit operations


def test_subdomain_unique_only_among_live_tenants(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        conn.execute("TRUNCATE tenants, customers RESTART IDENTITY CASCADE")
        conn.execute("INSERT INTO customers (email, company_name) VALUES ('a@b.c', 'A')")
        insert = (
            "INSERT INTO tenants (customer_id, subdomain, company_name, plan, status, language, admin_login) "
            "VALUES (1, 'acme', 'A', 'basic', %s, 'es_ES', 'admin')"
        )
        conn.execute(insert, ("deleted",))
        conn.execute(insert, ("active",))
        try:
            conn.execute(insert, ("pending",))
        except psycopg.errors.UniqueViolation:
            conn.rollback()
        else:
            raise AssertionError("a second live tenant took the same subdomain")
