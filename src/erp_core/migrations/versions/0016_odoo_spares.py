"""odoo spares (issue 15): prepared clones of a template waiting for a tenant.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "odoo_spares",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=False),
        sa.Column("db_name", sa.String(length=63), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("admin_password_enc", sa.Text(), nullable=False),
        sa.Column("service_password_enc", sa.Text(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=True),
        sa.Column("prepare_job_id", sa.BigInteger(), nullable=True),
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
            "state IN ('preparing', 'ready', 'reserved')", name=op.f("ck_odoo_spares_state")
        ),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["odoo_templates.id"],
            name=op.f("fk_odoo_spares_template_id_odoo_templates"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_odoo_spares_tenant_id_tenants"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["prepare_job_id"],
            ["jobs.id"],
            name=op.f("fk_odoo_spares_prepare_job_id_jobs"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_odoo_spares")),
        sa.UniqueConstraint("db_name", name=op.f("uq_odoo_spares_db_name")),
    )
    op.create_index("ix_odoo_spares_template_state", "odoo_spares", ["template_id", "state"])


def downgrade() -> None:
    op.drop_index("ix_odoo_spares_template_state", table_name="odoo_spares")
    op.drop_table("odoo_spares")
