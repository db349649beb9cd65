"""odoo templates (issue 15): per-server template databases and each plan's module list.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "plans",
        sa.Column(
            "modules",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
    )
    op.create_table(
        "odoo_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("odoo_server_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("lang", sa.String(length=16), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("modules", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("modules_hash", sa.String(length=16), nullable=False),
        sa.Column("db_name", sa.String(length=63), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("odoo_version", sa.String(length=32), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("admin_login", sa.String(length=64), nullable=True),
        sa.Column("admin_password_enc", sa.Text(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("build_job_id", sa.BigInteger(), nullable=True),
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
            "state IN ('building', 'ready', 'broken', 'stale')",
            name=op.f("ck_odoo_templates_state"),
        ),
        sa.ForeignKeyConstraint(
            ["odoo_server_id"],
            ["odoo_servers.id"],
            name=op.f("fk_odoo_templates_odoo_server_id_odoo_servers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["build_job_id"],
            ["jobs.id"],
            name=op.f("fk_odoo_templates_build_job_id_jobs"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_odoo_templates")),
        sa.UniqueConstraint(
            "odoo_server_id",
            "lang",
            "country",
            "modules_hash",
            name=op.f("uq_odoo_templates_odoo_server_id_lang_country_modules_hash"),
        ),
    )


def downgrade() -> None:
    op.drop_table("odoo_templates")
    op.drop_column("plans", "modules")
