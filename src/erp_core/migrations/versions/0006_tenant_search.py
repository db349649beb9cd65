"""Tenant search and listing indexes: trigram search column, partial index for live tenants.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # pg_trgm is a trusted extension (PostgreSQL 13+): a database owner may create it.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.add_column(
        "tenants",
        sa.Column(
            "search_text",
            sa.Text(),
            sa.Computed(
                "lower(subdomain || ' ' || company_name || ' ' || admin_login)", persisted=True
            ),
            nullable=False,
        ),
    )
    op.create_index(
        "ix_tenants_search_text_trgm",
        "tenants",
        ["search_text"],
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    )
    op.create_index(
        "ix_tenants_live_created_at_id",
        "tenants",
        ["created_at", "id"],
        postgresql_where=sa.text("status <> 'deleted'"),
    )


def downgrade() -> None:
    op.drop_index("ix_tenants_live_created_at_id", table_name="tenants")
    op.drop_index("ix_tenants_search_text_trgm", table_name="tenants")
    op.drop_column("tenants", "search_text")
