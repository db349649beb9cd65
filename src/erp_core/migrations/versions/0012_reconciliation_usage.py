"""reconciliation findings, tenant usage samples and plan storage limits (issue 18).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("plans", sa.Column("max_storage_mb", sa.Integer(), nullable=True))
    op.create_table(
        "reconciliation_findings",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=48), nullable=False),
        sa.Column("resource", sa.String(length=500), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("detail", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "first_seen_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "last_seen_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fix_job_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_reconciliation_findings_tenant_id_tenants"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["fix_job_id"],
            ["jobs.id"],
            name=op.f("fk_reconciliation_findings_fix_job_id_jobs"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliation_findings")),
    )
    op.create_index(
        "uq_reconciliation_findings_open",
        "reconciliation_findings",
        ["kind", "resource"],
        unique=True,
        postgresql_where=sa.text("resolved_at IS NULL"),
    )
    op.create_index(
        "ix_reconciliation_findings_last_seen_at", "reconciliation_findings", ["last_seen_at"]
    )
    op.create_index(
        "ix_reconciliation_findings_tenant_id", "reconciliation_findings", ["tenant_id"]
    )
    op.create_table(
        "tenant_usage",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column(
            "measured_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("active_users", sa.Integer(), nullable=True),
        sa.Column("filestore_bytes", sa.BigInteger(), nullable=True),
        sa.Column("database_bytes", sa.BigInteger(), nullable=True),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_tenant_usage_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenant_usage")),
    )
    op.create_index(
        "ix_tenant_usage_tenant_id_measured_at", "tenant_usage", ["tenant_id", "measured_at"]
    )
    op.create_table(
        "tenant_usage_access",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("login", sa.String(length=254), nullable=False),
        sa.Column("secret_enc", sa.Text(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_tenant_usage_access_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_tenant_usage_access")),
    )


def downgrade() -> None:
    op.drop_table("tenant_usage_access")
    op.drop_index("ix_tenant_usage_tenant_id_measured_at", table_name="tenant_usage")
    op.drop_table("tenant_usage")
    op.drop_index("ix_reconciliation_findings_tenant_id", table_name="reconciliation_findings")
    op.drop_index("ix_reconciliation_findings_last_seen_at", table_name="reconciliation_findings")
    op.drop_index("uq_reconciliation_findings_open", table_name="reconciliation_findings")
    op.drop_table("reconciliation_findings")
    op.drop_column("plans", "max_storage_mb")
