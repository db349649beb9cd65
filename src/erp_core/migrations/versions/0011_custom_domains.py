"""custom domains (issue 17): tenant_domains and plans.max_custom_domains.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tenant_domains",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("hostname", sa.String(length=253), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("ssl_method", sa.String(length=8), nullable=False),
        sa.Column("cloudflare_id", sa.String(length=64), nullable=True),
        sa.Column("cloudflare_status", sa.String(length=32), nullable=True),
        sa.Column("ssl_status", sa.String(length=32), nullable=True),
        sa.Column("dns_records", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        sa.Column("last_checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
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
            "status IN ('pending_dns', 'pending_ssl', 'active', 'failed', 'expired', 'removing')",
            name=op.f("ck_tenant_domains_status"),
        ),
        sa.CheckConstraint(
            "ssl_method IN ('txt', 'http')", name=op.f("ck_tenant_domains_ssl_method")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_tenant_domains_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenant_domains")),
    )
    op.create_index("uq_tenant_domains_hostname", "tenant_domains", ["hostname"], unique=True)
    op.create_index("ix_tenant_domains_tenant_id", "tenant_domains", ["tenant_id"])
    op.create_index(
        "ix_tenant_domains_status_created_at", "tenant_domains", ["status", "created_at"]
    )
    op.create_index(
        "uq_tenant_domains_one_primary",
        "tenant_domains",
        ["tenant_id"],
        unique=True,
        postgresql_where=sa.text("is_primary"),
    )
    op.add_column("plans", sa.Column("max_custom_domains", sa.Integer(), nullable=True))
    # Existing plans get the documented defaults (docs/custom-domains.md).
    op.execute(
        "UPDATE plans SET max_custom_domains = CASE code "
        "WHEN 'basic' THEN 1 WHEN 'pro' THEN 3 WHEN 'enterprise' THEN 10 END "
        "WHERE max_custom_domains IS NULL"
    )


def downgrade() -> None:
    op.drop_column("plans", "max_custom_domains")
    op.drop_index("uq_tenant_domains_one_primary", table_name="tenant_domains")
    op.drop_index("ix_tenant_domains_status_created_at", table_name="tenant_domains")
    op.drop_index("ix_tenant_domains_tenant_id", table_name="tenant_domains")
    op.drop_index("uq_tenant_domains_hostname", table_name="tenant_domains")
    op.drop_table("tenant_domains")
