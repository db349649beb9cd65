"""customer portal: customer users, link tokens, mail outbox, pending sign-ups (issue 16).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_ROLES = "role IN ('admin', 'operator', 'viewer')"
NEW_ROLES = "role IN ('admin', 'operator', 'viewer', 'customer')"
OLD_CHECKOUT = "status IN ('open', 'completed', 'failed', 'expired')"
NEW_CHECKOUT = "status IN ('pending', 'open', 'completed', 'failed', 'expired', 'needs_attention')"


def upgrade() -> None:
    op.drop_constraint(op.f("ck_users_role"), "users", type_="check")
    op.create_check_constraint(op.f("ck_users_role"), "users", NEW_ROLES)
    op.add_column("users", sa.Column("customer_id", sa.Integer(), nullable=True))
    op.add_column(
        "users", sa.Column("email_verified_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_foreign_key(
        op.f("fk_users_customer_id_customers"),
        "users",
        "customers",
        ["customer_id"],
        ["id"],
        ondelete="CASCADE",
    )
    op.create_index(op.f("ix_users_customer_id"), "users", ["customer_id"])

    op.drop_constraint(op.f("ck_checkout_sessions_status"), "checkout_sessions", type_="check")
    op.create_check_constraint(
        op.f("ck_checkout_sessions_status"), "checkout_sessions", NEW_CHECKOUT
    )
    op.alter_column(
        "checkout_sessions", "stripe_session_id", existing_type=sa.String(255), nullable=True
    )

    op.add_column(
        "subscriptions",
        sa.Column(
            "cancel_at_period_end", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
    )

    op.create_table(
        "portal_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("purpose IN ('verify', 'reset')", name=op.f("ck_portal_tokens_purpose")),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_portal_tokens_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_portal_tokens_token_hash")),
    )
    op.create_index("ix_portal_tokens_user_id", "portal_tokens", ["user_id"])

    op.create_table(
        "mail_outbox",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("to_addr", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body_enc", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('queued', 'sent', 'failed')", name=op.f("ck_mail_outbox_status")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_mail_outbox_customer_id_customers"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_outbox")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_mail_outbox_idempotency_key")),
    )
    op.create_index("ix_mail_outbox_status", "mail_outbox", ["status"])
    op.create_index("ix_mail_outbox_customer_id", "mail_outbox", ["customer_id"])


def downgrade() -> None:
    op.drop_table("mail_outbox")
    op.drop_table("portal_tokens")
    op.drop_column("subscriptions", "cancel_at_period_end")
    op.execute("DELETE FROM checkout_sessions WHERE stripe_session_id IS NULL")
    op.alter_column(
        "checkout_sessions", "stripe_session_id", existing_type=sa.String(255), nullable=False
    )
    op.execute(
        "UPDATE checkout_sessions SET status = 'failed' "
        "WHERE status IN ('pending', 'needs_attention')"
    )
    op.drop_constraint(op.f("ck_checkout_sessions_status"), "checkout_sessions", type_="check")
    op.create_check_constraint(
        op.f("ck_checkout_sessions_status"), "checkout_sessions", OLD_CHECKOUT
    )
    op.drop_index(op.f("ix_users_customer_id"), table_name="users")
    op.drop_constraint(op.f("fk_users_customer_id_customers"), "users", type_="foreignkey")
    op.drop_column("users", "email_verified_at")
    op.drop_column("users", "customer_id")
    op.execute("DELETE FROM users WHERE role = 'customer'")
    op.drop_constraint(op.f("ck_users_role"), "users", type_="check")
    op.create_check_constraint(op.f("ck_users_role"), "users", OLD_ROLES)
