"""Proxmox inventory, rollups and dedicated containers (issue 4).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "resource_metric_rollups",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.DateTime(timezone=True), nullable=False),
        sa.Column("samples", sa.Integer(), nullable=False),
        sa.Column("cpu_avg", sa.Float(), nullable=False),
        sa.Column("cpu_max", sa.Float(), nullable=False),
        sa.Column("ram_avg", sa.Float(), nullable=False),
        sa.Column("ram_max", sa.Float(), nullable=False),
        sa.Column("disk_avg", sa.Float(), nullable=False),
        sa.Column("disk_max", sa.Float(), nullable=False),
        sa.Column("netin_avg", sa.Float(), nullable=False),
        sa.Column("netin_max", sa.Float(), nullable=False),
        sa.Column("netout_avg", sa.Float(), nullable=False),
        sa.Column("netout_max", sa.Float(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('node', 'container')", name=op.f("ck_resource_metric_rollups_kind")
        ),
        sa.PrimaryKeyConstraint("kind", "subject_id", "bucket", name="pk_resource_metric_rollups"),
    )
    op.create_index(
        "ix_resource_metric_rollups_bucket", "resource_metric_rollups", ["bucket"], unique=False
    )
    op.create_table(
        "dedicated_containers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("node", sa.String(length=128), nullable=False),
        sa.Column("vmid", sa.Integer(), nullable=False),
        sa.Column("ip_address", sa.String(length=64), nullable=False),
        sa.Column("hostname", sa.String(length=128), nullable=False),
        sa.Column("cpu_cores", sa.Integer(), nullable=False),
        sa.Column("ram_mb", sa.Integer(), nullable=False),
        sa.Column("disk_gb", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("odoo_server_id", sa.Integer(), nullable=True),
        sa.Column("master_password_enc", sa.Text(), nullable=True),
        sa.Column("overcommitted", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
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
            "state IN ('reserved', 'active', 'suspended', 'released')",
            name=op.f("ck_dedicated_containers_state"),
        ),
        sa.ForeignKeyConstraint(
            ["odoo_server_id"],
            ["odoo_servers.id"],
            name=op.f("fk_dedicated_containers_odoo_server_id_odoo_servers"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_dedicated_containers_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dedicated_containers")),
    )
    op.create_index(
        "uq_dedicated_containers_ip_live",
        "dedicated_containers",
        ["ip_address"],
        unique=True,
        postgresql_where=sa.text("released_at IS NULL"),
    )
    op.create_index(
        "uq_dedicated_containers_tenant_live",
        "dedicated_containers",
        ["tenant_id"],
        unique=True,
        postgresql_where=sa.text("released_at IS NULL"),
    )
    op.create_index(
        "uq_dedicated_containers_vmid_live",
        "dedicated_containers",
        ["vmid"],
        unique=True,
        postgresql_where=sa.text("released_at IS NULL"),
    )
    op.add_column("lxc_containers", sa.Column("netin_total", sa.BigInteger(), nullable=True))
    op.add_column("lxc_containers", sa.Column("netout_total", sa.BigInteger(), nullable=True))
    op.add_column("lxc_containers", sa.Column("cpu_usage", sa.Float(), nullable=True))
    op.add_column("lxc_containers", sa.Column("ram_used", sa.BigInteger(), nullable=True))
    op.add_column("lxc_containers", sa.Column("disk_used", sa.BigInteger(), nullable=True))
    op.add_column("proxmox_nodes", sa.Column("cpu_usage", sa.Float(), nullable=True))
    op.add_column("proxmox_nodes", sa.Column("ram_used", sa.BigInteger(), nullable=True))
    op.add_column("proxmox_nodes", sa.Column("disk_used", sa.BigInteger(), nullable=True))
    op.create_index(
        "ix_resource_metrics_timestamp", "resource_metrics", ["timestamp"], unique=False
    )
    # ### end Alembic commands ###


def downgrade() -> None:
    op.drop_index("ix_resource_metrics_timestamp", table_name="resource_metrics")
    op.drop_column("proxmox_nodes", "disk_used")
    op.drop_column("proxmox_nodes", "ram_used")
    op.drop_column("proxmox_nodes", "cpu_usage")
    op.drop_column("lxc_containers", "disk_used")
    op.drop_column("lxc_containers", "ram_used")
    op.drop_column("lxc_containers", "cpu_usage")
    op.drop_column("lxc_containers", "netout_total")
    op.drop_column("lxc_containers", "netin_total")
    op.drop_index(
        "uq_dedicated_containers_vmid_live",
        table_name="dedicated_containers",
        postgresql_where=sa.text("released_at IS NULL"),
    )
    op.drop_index(
        "uq_dedicated_containers_tenant_live",
        table_name="dedicated_containers",
        postgresql_where=sa.text("released_at IS NULL"),
    )
    op.drop_index(
        "uq_dedicated_containers_ip_live",
        table_name="dedicated_containers",
        postgresql_where=sa.text("released_at IS NULL"),
    )
    op.drop_table("dedicated_containers")
    op.drop_index("ix_resource_metric_rollups_bucket", table_name="resource_metric_rollups")
    op.drop_table("resource_metric_rollups")
    # ### end Alembic commands ###
