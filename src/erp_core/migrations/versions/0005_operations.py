"""settings, backups schedule and other operations tables (issues 6 and 8).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # tenant status history (issue 6: month-end tenant counts)
    op.create_table(
        "tenant_status_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'provisioning', 'active', 'suspending', 'suspended', "
            "'reactivating', 'deleting', 'deleted', 'failed')",
            name=op.f("ck_tenant_status_changes_status"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_tenant_status_changes_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenant_status_changes")),
    )
    op.create_index("ix_tenant_status_changes_at", "tenant_status_changes", ["at"])
    op.create_index(
        "ix_tenant_status_changes_tenant_id_at", "tenant_status_changes", ["tenant_id", "at"]
    )
    # Tenants that existed before this migration start their history at their creation.
    op.execute(
        "INSERT INTO tenant_status_changes (tenant_id, status, at) "
        "SELECT id, status, created_at FROM tenants"
    )
    # backups (issue 8)
    op.add_column(
        "backups",
        sa.Column("store", sa.String(length=16), server_default="local", nullable=False),
    )
    op.add_column("backups", sa.Column("verification_status", sa.String(length=16)))
    op.add_column("backups", sa.Column("verification_error", sa.Text()))
    op.add_column("backups", sa.Column("drill_status", sa.String(length=16)))
    op.add_column("backups", sa.Column("drill_at", sa.DateTime(timezone=True)))
    op.add_column("backups", sa.Column("drill_error", sa.Text()))
    op.create_check_constraint(
        op.f("ck_backups_verification_status"),
        "backups",
        "verification_status IS NULL OR verification_status IN ('ok', 'failed')",
    )
    op.create_check_constraint(
        op.f("ck_backups_drill_status"),
        "backups",
        "drill_status IS NULL OR drill_status IN ('ok', 'failed')",
    )
    op.create_index("ix_backups_status_finished_at", "backups", ["status", "finished_at"])
    op.add_column("plans", sa.Column("backup_policy", postgresql.JSONB(astext_type=sa.Text())))
    # host mode (issue 10)
    op.add_column("odoo_servers", sa.Column("ssh_host", sa.String(length=253), nullable=True))
    op.add_column("odoo_servers", sa.Column("ssh_port", sa.Integer(), nullable=True))
    op.add_column("odoo_servers", sa.Column("ssh_user", sa.String(length=32), nullable=True))
    op.add_column("odoo_servers", sa.Column("ssh_key_enc", sa.Text(), nullable=True))
    op.add_column("odoo_servers", sa.Column("known_hosts", sa.Text(), nullable=True))
    op.add_column("odoo_servers", sa.Column("pct_vmid", sa.Integer(), nullable=True))
    op.add_column("odoo_servers", sa.Column("odoo_user", sa.String(length=32), nullable=True))
    op.add_column("odoo_servers", sa.Column("odoo_bin", sa.String(length=300), nullable=True))
    op.add_column("odoo_servers", sa.Column("odoo_conf", sa.String(length=300), nullable=True))
    op.add_column(
        "odoo_servers", sa.Column("custom_create_script", sa.String(length=300), nullable=True)
    )
    op.add_column("odoo_servers", sa.Column("internal_url", sa.String(length=500), nullable=True))


def downgrade() -> None:
    # backups (issue 8)
    op.drop_column("plans", "backup_policy")
    op.drop_index("ix_backups_status_finished_at", table_name="backups")
    op.drop_constraint(op.f("ck_backups_drill_status"), "backups", type_="check")
    op.drop_constraint(op.f("ck_backups_verification_status"), "backups", type_="check")
    for column in (
        "drill_error",
        "drill_at",
        "drill_status",
        "verification_error",
        "verification_status",
        "store",
    ):
        op.drop_column("backups", column)
    op.drop_index("ix_tenant_status_changes_tenant_id_at", table_name="tenant_status_changes")
    op.drop_index("ix_tenant_status_changes_at", table_name="tenant_status_changes")
    op.drop_table("tenant_status_changes")
    # host mode (issue 10)
    op.drop_column("odoo_servers", "internal_url")
    op.drop_column("odoo_servers", "custom_create_script")
    op.drop_column("odoo_servers", "odoo_conf")
    op.drop_column("odoo_servers", "odoo_bin")
    op.drop_column("odoo_servers", "odoo_user")
    op.drop_column("odoo_servers", "pct_vmid")
    op.drop_column("odoo_servers", "known_hosts")
    op.drop_column("odoo_servers", "ssh_key_enc")
    op.drop_column("odoo_servers", "ssh_user")
    op.drop_column("odoo_servers", "ssh_port")
    op.drop_column("odoo_servers", "ssh_host")
