"""settings, backups schedule and other operations tables (issues 6 and 8).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

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


def downgrade() -> None:
    op.drop_index("ix_tenant_status_changes_tenant_id_at", table_name="tenant_status_changes")
    op.drop_index("ix_tenant_status_changes_at", table_name="tenant_status_changes")
    op.drop_table("tenant_status_changes")
