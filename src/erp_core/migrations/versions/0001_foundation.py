"""foundation: the seed's tables, users/auth/audit, tenants and durable jobs, plus the
job queue's own schema (procrastinate, pinned in pyproject so this SQL stays in step).

Revision ID: 0001
Revises:
Create Date: 2026-11-24 05:08:53.671756
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    from procrastinate.schema import SchemaManager

    # psycopg runs a parameterless multi-statement script as is (no % escaping needed).
    op.get_bind().connection.driver_connection.execute(SchemaManager.get_schema())  # type: ignore[union-attr]
    op.create_table(
        "customers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("company_name", sa.String(length=200), nullable=False),
        sa.Column("subdomain", sa.String(length=63), nullable=True),
        sa.Column("stripe_customer_id", sa.String(length=255), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
        sa.UniqueConstraint("stripe_customer_id", name=op.f("uq_customers_stripe_customer_id")),
    )
    op.create_index("ix_customers_created_at", "customers", ["created_at"], unique=False)
    op.create_index(
        "ix_customers_email_lower", "customers", [sa.literal_column("lower(email)")], unique=False
    )
    op.create_table(
        "odoo_servers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("master_password_enc", sa.Text(), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("tunnel_id", sa.String(length=64), nullable=True),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("mode IN ('rpc', 'host')", name=op.f("ck_odoo_servers_mode")),
        sa.CheckConstraint(
            "state IN ('active', 'draining', 'down')", name=op.f("ck_odoo_servers_state")
        ),
        sa.CheckConstraint("capacity >= 0", name=op.f("ck_odoo_servers_capacity")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_odoo_servers")),
        sa.UniqueConstraint("name", name=op.f("uq_odoo_servers_name")),
    )
    op.create_table(
        "plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("monthly_price", sa.BigInteger(), nullable=False),
        sa.Column("yearly_price", sa.BigInteger(), nullable=False),
        sa.Column("stripe_price_monthly_id", sa.String(length=255), nullable=True),
        sa.Column("stripe_price_yearly_id", sa.String(length=255), nullable=True),
        sa.Column("cpu_cores", sa.Integer(), nullable=False),
        sa.Column("ram_mb", sa.Integer(), nullable=False),
        sa.Column("disk_gb", sa.Integer(), nullable=False),
        sa.Column("max_users", sa.Integer(), nullable=True),
        sa.Column("dedicated", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plans")),
        sa.UniqueConstraint("code", name=op.f("uq_plans_code")),
        sa.UniqueConstraint(
            "stripe_price_monthly_id", name=op.f("uq_plans_stripe_price_monthly_id")
        ),
        sa.UniqueConstraint("stripe_price_yearly_id", name=op.f("uq_plans_stripe_price_yearly_id")),
    )
    op.create_table(
        "proxmox_nodes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hostname", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("cpu_total", sa.Integer(), nullable=False),
        sa.Column("ram_total", sa.BigInteger(), nullable=False),
        sa.Column("disk_total", sa.BigInteger(), nullable=False),
        sa.Column("tunnel_id", sa.String(length=64), nullable=True),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('online', 'offline', 'unknown', 'vanished')",
            name=op.f("ck_proxmox_nodes_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proxmox_nodes")),
        sa.UniqueConstraint("hostname", name=op.f("uq_proxmox_nodes_hostname")),
    )
    op.create_table(
        "stripe_events",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("event_type", sa.String(length=120), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("processed", sa.Boolean(), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=2000), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stripe_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_stripe_events_event_id")),
    )
    op.create_index("ix_stripe_events_event_type", "stripe_events", ["event_type"], unique=False)
    op.create_index(
        "ix_stripe_events_processed_received_at",
        "stripe_events",
        ["processed", "received_at"],
        unique=False,
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("role IN ('admin', 'operator', 'viewer')", name=op.f("ck_users_role")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
    )
    op.create_index(
        "uq_users_email_lower", "users", [sa.literal_column("lower(email)")], unique=True
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=254), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("object_type", sa.String(length=64), nullable=True),
        sa.Column("object_id", sa.String(length=128), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_audit_log_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_action_at", "audit_log", ["action", "at"], unique=False)
    op.create_index("ix_audit_log_at", "audit_log", ["at"], unique=False)
    op.create_index("ix_audit_log_object", "audit_log", ["object_type", "object_id"], unique=False)
    op.create_index("ix_audit_log_user_id_at", "audit_log", ["user_id", "at"], unique=False)
    op.create_table(
        "lxc_containers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vmid", sa.Integer(), nullable=False),
        sa.Column("node_id", sa.Integer(), nullable=False),
        sa.Column("hostname", sa.String(length=128), nullable=True),
        sa.Column("ip_address", sa.String(length=64), nullable=True),
        sa.Column("cpu_cores", sa.Integer(), nullable=False),
        sa.Column("ram_mb", sa.Integer(), nullable=False),
        sa.Column("disk_gb", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('running', 'stopped', 'unknown', 'vanished', 'provisioning')",
            name=op.f("ck_lxc_containers_status"),
        ),
        sa.ForeignKeyConstraint(
            ["node_id"],
            ["proxmox_nodes.id"],
            name=op.f("fk_lxc_containers_node_id_proxmox_nodes"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lxc_containers")),
        sa.UniqueConstraint("ip_address", name=op.f("uq_lxc_containers_ip_address")),
        sa.UniqueConstraint("vmid", name=op.f("uq_lxc_containers_vmid")),
    )
    op.create_index("ix_lxc_containers_node_id", "lxc_containers", ["node_id"], unique=False)
    op.create_table(
        "refresh_tokens",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "issued_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_refresh_tokens_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refresh_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_refresh_tokens_token_hash")),
    )
    op.create_index("ix_refresh_tokens_family_id", "refresh_tokens", ["family_id"], unique=False)
    op.create_index(op.f("ix_refresh_tokens_user_id"), "refresh_tokens", ["user_id"], unique=False)
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("plan_name", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("stripe_subscription_id", sa.String(length=255), nullable=True),
        sa.Column("mrr", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("current_period_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("current_period_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("canceled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("state_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('incomplete', 'incomplete_expired', 'trialing', 'active', 'past_due', 'unpaid', 'canceled', 'paused')",
            name=op.f("ck_subscriptions_status"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_subscriptions_customer_id_customers"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscriptions")),
        sa.UniqueConstraint(
            "stripe_subscription_id", name=op.f("uq_subscriptions_stripe_subscription_id")
        ),
    )
    op.create_index("ix_subscriptions_customer_id", "subscriptions", ["customer_id"], unique=False)
    op.create_index("ix_subscriptions_status", "subscriptions", ["status"], unique=False)
    op.create_table(
        "system_config",
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("is_secret", sa.Boolean(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["updated_by"],
            ["users.id"],
            name=op.f("fk_system_config_updated_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_system_config")),
    )
    op.create_index("ix_system_config_category", "system_config", ["category"], unique=False)
    op.create_table(
        "tenants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("subdomain", sa.String(length=63), nullable=False),
        sa.Column("plan", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("suspension_reason", sa.String(length=16), nullable=True),
        sa.Column("odoo_server_id", sa.Integer(), nullable=True),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("admin_login", sa.String(length=254), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'provisioning', 'active', 'suspending', 'suspended', 'reactivating', 'deleting', 'deleted', 'failed')",
            name=op.f("ck_tenants_status"),
        ),
        sa.CheckConstraint(
            "suspension_reason IS NULL OR suspension_reason IN ('manual', 'billing')",
            name=op.f("ck_tenants_suspension_reason"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_tenants_customer_id_customers"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["odoo_server_id"],
            ["odoo_servers.id"],
            name=op.f("fk_tenants_odoo_server_id_odoo_servers"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenants")),
    )
    op.create_index("ix_tenants_created_at", "tenants", ["created_at"], unique=False)
    op.create_index("ix_tenants_customer_id", "tenants", ["customer_id"], unique=False)
    op.create_index("ix_tenants_odoo_server_id", "tenants", ["odoo_server_id"], unique=False)
    op.create_index("ix_tenants_plan", "tenants", ["plan"], unique=False)
    op.create_index("ix_tenants_status", "tenants", ["status"], unique=False)
    op.create_index(
        "uq_tenants_subdomain_live",
        "tenants",
        ["subdomain"],
        unique=True,
        postgresql_where=sa.text("status <> 'deleted'"),
    )
    op.create_table(
        "jobs",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("params", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("queue_job_id", sa.BigInteger(), nullable=True),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')",
            name=op.f("ck_jobs_status"),
        ),
        sa.CheckConstraint("progress BETWEEN 0 AND 100", name=op.f("ck_jobs_progress")),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_jobs_created_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_jobs_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    op.create_index("ix_jobs_status_created_at", "jobs", ["status", "created_at"], unique=False)
    op.create_index(
        "ix_jobs_tenant_id_created_at", "jobs", ["tenant_id", "created_at"], unique=False
    )
    op.create_index(
        "uq_jobs_one_open_per_tenant",
        "jobs",
        ["tenant_id"],
        unique=True,
        postgresql_where=sa.text("status IN ('queued', 'running') AND tenant_id IS NOT NULL"),
    )
    op.create_table(
        "resource_metrics",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("container_id", sa.Integer(), nullable=True),
        sa.Column("node_id", sa.Integer(), nullable=True),
        sa.Column("cpu", sa.Float(), nullable=False),
        sa.Column("ram", sa.BigInteger(), nullable=False),
        sa.Column("disk", sa.BigInteger(), nullable=False),
        sa.Column("netin", sa.Float(), nullable=False),
        sa.Column("netout", sa.Float(), nullable=False),
        sa.Column(
            "network", sa.Float(), sa.Computed("netin + netout", persisted=True), nullable=False
        ),
        sa.Column(
            "timestamp", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.CheckConstraint(
            "(container_id IS NOT NULL) <> (node_id IS NOT NULL)",
            name=op.f("ck_resource_metrics_one_subject"),
        ),
        sa.ForeignKeyConstraint(
            ["container_id"],
            ["lxc_containers.id"],
            name=op.f("fk_resource_metrics_container_id_lxc_containers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["node_id"],
            ["proxmox_nodes.id"],
            name=op.f("fk_resource_metrics_node_id_proxmox_nodes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resource_metrics")),
    )
    op.create_index(
        "ix_resource_metrics_container_id_timestamp",
        "resource_metrics",
        ["container_id", "timestamp"],
        unique=False,
    )
    op.create_index(
        "ix_resource_metrics_node_id_timestamp",
        "resource_metrics",
        ["node_id", "timestamp"],
        unique=False,
    )
    op.create_table(
        "tenant_deployments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("subdomain", sa.String(length=63), nullable=False),
        sa.Column("tunnel_id", sa.String(length=64), nullable=True),
        sa.Column("tunnel_url", sa.String(length=500), nullable=True),
        sa.Column("plan_type", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("odoo_server_id", sa.Integer(), nullable=True),
        sa.Column("database_name", sa.String(length=63), nullable=False),
        sa.Column("service_url", sa.String(length=500), nullable=True),
        sa.Column("provisioned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("provision_ms", sa.Integer(), nullable=True),
        sa.Column(
            "last_checked_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=True,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'provisioning', 'active', 'suspending', 'suspended', 'reactivating', 'deleting', 'deleted', 'failed')",
            name=op.f("ck_tenant_deployments_status"),
        ),
        sa.ForeignKeyConstraint(
            ["odoo_server_id"],
            ["odoo_servers.id"],
            name=op.f("fk_tenant_deployments_odoo_server_id_odoo_servers"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_tenant_deployments_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenant_deployments")),
        sa.UniqueConstraint("tenant_id", name=op.f("uq_tenant_deployments_tenant_id")),
    )
    op.create_index(
        "ix_tenant_deployments_subdomain", "tenant_deployments", ["subdomain"], unique=False
    )
    op.create_table(
        "job_logs",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("job_id", sa.BigInteger(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=True),
        sa.Column("step", sa.String(length=64), nullable=True),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.CheckConstraint(
            "level IN ('debug', 'info', 'warning', 'error')", name=op.f("ck_job_logs_level")
        ),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_job_logs_job_id_jobs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_job_logs_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_logs")),
    )
    op.create_index("ix_job_logs_at", "job_logs", ["at"], unique=False)
    op.create_index("ix_job_logs_job_id_id", "job_logs", ["job_id", "id"], unique=False)
    op.create_index("ix_job_logs_level_at", "job_logs", ["level", "at"], unique=False)
    op.create_index("ix_job_logs_tenant_id_at", "job_logs", ["tenant_id", "at"], unique=False)
    op.create_table(
        "job_steps",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("job_id", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("output", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'running', 'succeeded', 'failed', 'skipped', 'compensated')",
            name=op.f("ck_job_steps_status"),
        ),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_job_steps_job_id_jobs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_steps")),
        sa.UniqueConstraint("job_id", "position", name=op.f("uq_job_steps_job_id_position")),
    )


def downgrade() -> None:
    op.drop_table("job_steps")
    op.drop_index("ix_job_logs_tenant_id_at", table_name="job_logs")
    op.drop_index("ix_job_logs_level_at", table_name="job_logs")
    op.drop_index("ix_job_logs_job_id_id", table_name="job_logs")
    op.drop_index("ix_job_logs_at", table_name="job_logs")
    op.drop_table("job_logs")
    op.drop_index("ix_tenant_deployments_subdomain", table_name="tenant_deployments")
    op.drop_table("tenant_deployments")
    op.drop_index("ix_resource_metrics_node_id_timestamp", table_name="resource_metrics")
    op.drop_index("ix_resource_metrics_container_id_timestamp", table_name="resource_metrics")
    op.drop_table("resource_metrics")
    op.drop_index(
        "uq_jobs_one_open_per_tenant",
        table_name="jobs",
        postgresql_where=sa.text("status IN ('queued', 'running') AND tenant_id IS NOT NULL"),
    )
    op.drop_index("ix_jobs_tenant_id_created_at", table_name="jobs")
    op.drop_index("ix_jobs_status_created_at", table_name="jobs")
    op.drop_table("jobs")
    op.drop_index(
        "uq_tenants_subdomain_live",
        table_name="tenants",
        postgresql_where=sa.text("status <> 'deleted'"),
    )
    op.drop_index("ix_tenants_status", table_name="tenants")
    op.drop_index("ix_tenants_plan", table_name="tenants")
    op.drop_index("ix_tenants_odoo_server_id", table_name="tenants")
    op.drop_index("ix_tenants_customer_id", table_name="tenants")
    op.drop_index("ix_tenants_created_at", table_name="tenants")
    op.drop_table("tenants")
    op.drop_index("ix_system_config_category", table_name="system_config")
    op.drop_table("system_config")
    op.drop_index("ix_subscriptions_status", table_name="subscriptions")
    op.drop_index("ix_subscriptions_customer_id", table_name="subscriptions")
    op.drop_table("subscriptions")
    op.drop_index(op.f("ix_refresh_tokens_user_id"), table_name="refresh_tokens")
    op.drop_index("ix_refresh_tokens_family_id", table_name="refresh_tokens")
    op.drop_table("refresh_tokens")
    op.drop_index("ix_lxc_containers_node_id", table_name="lxc_containers")
    op.drop_table("lxc_containers")
    op.drop_index("ix_audit_log_user_id_at", table_name="audit_log")
    op.drop_index("ix_audit_log_object", table_name="audit_log")
    op.drop_index("ix_audit_log_at", table_name="audit_log")
    op.drop_index("ix_audit_log_action_at", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_index("uq_users_email_lower", table_name="users")
    op.drop_table("users")
    op.drop_index("ix_stripe_events_processed_received_at", table_name="stripe_events")
    op.drop_index("ix_stripe_events_event_type", table_name="stripe_events")
    op.drop_table("stripe_events")
    op.drop_table("proxmox_nodes")
    op.drop_table("plans")
    op.drop_table("odoo_servers")
    op.drop_index("ix_customers_email_lower", table_name="customers")
    op.drop_index("ix_customers_created_at", table_name="customers")
    op.drop_table("customers")
    for table in (
        "procrastinate_events",
        "procrastinate_periodic_defers",
        "procrastinate_jobs",
        "procrastinate_workers",
    ):
        op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
