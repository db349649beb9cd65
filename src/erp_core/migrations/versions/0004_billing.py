"""Stripe billing history, invoices and plans (issue 5).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "coupons",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("duration", sa.String(length=16), nullable=False),
        sa.Column("duration_in_months", sa.Integer(), nullable=True),
        sa.Column("percent_off", sa.Numeric(precision=9, scale=4), nullable=True),
        sa.Column("amount_off", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column(
            "fetched_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "duration IN ('forever', 'once', 'repeating')", name=op.f("ck_coupons_duration")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coupons")),
    )
    op.create_table(
        "refund_observations",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("stripe_charge_id", sa.String(length=255), nullable=False),
        sa.Column("stripe_customer_id", sa.String(length=255), nullable=True),
        sa.Column("stripe_invoice_id", sa.String(length=255), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount_refunded_total", sa.BigInteger(), nullable=False),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refund_observations")),
        sa.UniqueConstraint("event_id", name=op.f("uq_refund_observations_event_id")),
    )
    op.create_index(
        "ix_refund_observations_charge",
        "refund_observations",
        ["stripe_charge_id", "observed_at"],
        unique=False,
    )
    op.create_index(
        "ix_refund_observations_observed_at", "refund_observations", ["observed_at"], unique=False
    )
    op.create_table(
        "subscription_states",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("stripe_subscription_id", sa.String(length=255), nullable=False),
        sa.Column("stripe_customer_id", sa.String(length=255), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("received_seq", sa.BigInteger(), nullable=False),
        sa.Column("effective_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("mrr_numerator", sa.BigInteger(), nullable=False),
        sa.Column("mrr_denominator", sa.BigInteger(), nullable=False),
        sa.Column("interval_k", sa.Integer(), nullable=False),
        sa.Column("interval_count", sa.Integer(), nullable=False),
        sa.Column("plan_code", sa.String(length=32), nullable=True),
        sa.Column("interval", sa.String(length=8), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("current_period_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("current_period_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancel_at_period_end", sa.Boolean(), nullable=False),
        sa.Column("tenant_ref", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            "status IN ('incomplete', 'incomplete_expired', 'trialing', 'active', 'past_due', 'unpaid', 'canceled', 'paused')",
            name=op.f("ck_subscription_states_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscription_states")),
        sa.UniqueConstraint(
            "event_id",
            "stripe_subscription_id",
            name=op.f("uq_subscription_states_event_id_stripe_subscription_id"),
        ),
    )
    op.create_index(
        "ix_subscription_states_stripe_customer_id",
        "subscription_states",
        ["stripe_customer_id"],
        unique=False,
    )
    op.create_index(
        "ix_subscription_states_timeline",
        "subscription_states",
        ["stripe_subscription_id", "effective_at", "received_seq"],
        unique=False,
    )
    op.create_table(
        "discounts",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("stripe_discount_id", sa.String(length=255), nullable=False),
        sa.Column("stripe_customer_id", sa.String(length=255), nullable=True),
        sa.Column("stripe_subscription_id", sa.String(length=255), nullable=True),
        sa.Column("coupon_id", sa.String(length=255), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("source_updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["coupon_id"],
            ["coupons.id"],
            name=op.f("fk_discounts_coupon_id_coupons"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discounts")),
        sa.UniqueConstraint("stripe_discount_id", name=op.f("uq_discounts_stripe_discount_id")),
    )
    op.create_index(
        "ix_discounts_stripe_customer_id", "discounts", ["stripe_customer_id"], unique=False
    )
    op.create_index(
        "ix_discounts_stripe_subscription_id", "discounts", ["stripe_subscription_id"], unique=False
    )
    op.create_table(
        "invoices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stripe_invoice_id", sa.String(length=255), nullable=False),
        sa.Column("stripe_customer_id", sa.String(length=255), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("stripe_subscription_id", sa.String(length=255), nullable=True),
        sa.Column("number", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount_due", sa.BigInteger(), nullable=False),
        sa.Column("amount_paid", sa.BigInteger(), nullable=False),
        sa.Column("amount_remaining", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("hosted_invoice_url", sa.Text(), nullable=True),
        sa.Column("invoice_pdf", sa.Text(), nullable=True),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("period_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("stripe_created", sa.DateTime(timezone=True), nullable=True),
        sa.Column("due_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finalized_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_payment_error", sa.String(length=500), nullable=True),
        sa.Column("source_updated_at", sa.DateTime(timezone=True), nullable=False),
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
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_invoices_customer_id_customers"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoices")),
        sa.UniqueConstraint("stripe_invoice_id", name=op.f("uq_invoices_stripe_invoice_id")),
    )
    op.create_index("ix_invoices_customer_id", "invoices", ["customer_id"], unique=False)
    op.create_index("ix_invoices_paid_at", "invoices", ["paid_at"], unique=False)
    op.create_index("ix_invoices_status", "invoices", ["status"], unique=False)
    op.create_index("ix_invoices_stripe_created", "invoices", ["stripe_created"], unique=False)
    op.create_index(
        "ix_invoices_stripe_customer_id", "invoices", ["stripe_customer_id"], unique=False
    )
    op.create_index(
        "ix_invoices_stripe_subscription_id", "invoices", ["stripe_subscription_id"], unique=False
    )
    op.create_table(
        "subscription_items",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("state_id", sa.BigInteger(), nullable=False),
        sa.Column("stripe_item_id", sa.String(length=255), nullable=True),
        sa.Column("price_id", sa.String(length=255), nullable=True),
        sa.Column("product_id", sa.String(length=255), nullable=True),
        sa.Column("unit_amount", sa.BigInteger(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("interval", sa.String(length=8), nullable=False),
        sa.Column("interval_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["state_id"],
            ["subscription_states.id"],
            name=op.f("fk_subscription_items_state_id_subscription_states"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscription_items")),
    )
    op.create_index(
        "ix_subscription_items_state_id", "subscription_items", ["state_id"], unique=False
    )
    op.create_table(
        "checkout_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stripe_session_id", sa.String(length=255), nullable=False),
        sa.Column("plan", sa.String(length=32), nullable=False),
        sa.Column("interval", sa.String(length=8), nullable=False),
        sa.Column("subdomain", sa.String(length=63), nullable=False),
        sa.Column("company_name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=True),
        sa.Column("admin_password_enc", sa.Text(), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
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
            "status IN ('open', 'completed', 'failed', 'expired')",
            name=op.f("ck_checkout_sessions_status"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_checkout_sessions_customer_id_customers"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_checkout_sessions_tenant_id_tenants"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkout_sessions")),
        sa.UniqueConstraint(
            "stripe_session_id", name=op.f("uq_checkout_sessions_stripe_session_id")
        ),
    )
    op.create_index(
        "ix_checkout_sessions_subdomain", "checkout_sessions", ["subdomain"], unique=False
    )
    op.add_column(
        "customers", sa.Column("stripe_updated_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column("subscriptions", sa.Column("tenant_id", sa.Integer(), nullable=True))
    op.add_column("subscriptions", sa.Column("state_seq", sa.BigInteger(), nullable=True))
    op.add_column("subscriptions", sa.Column("interval", sa.String(length=8), nullable=True))
    op.add_column(
        "subscriptions", sa.Column("past_due_since", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_index("ix_subscriptions_tenant_id", "subscriptions", ["tenant_id"], unique=False)
    op.create_foreign_key(
        op.f("fk_subscriptions_tenant_id_tenants"),
        "subscriptions",
        "tenants",
        ["tenant_id"],
        ["id"],
        ondelete="SET NULL",
    )


def downgrade() -> None:
    op.drop_constraint(
        op.f("fk_subscriptions_tenant_id_tenants"), "subscriptions", type_="foreignkey"
    )
    op.drop_index("ix_subscriptions_tenant_id", table_name="subscriptions")
    op.drop_column("subscriptions", "past_due_since")
    op.drop_column("subscriptions", "interval")
    op.drop_column("subscriptions", "state_seq")
    op.drop_column("subscriptions", "tenant_id")
    op.drop_column("customers", "stripe_updated_at")
    op.drop_index("ix_checkout_sessions_subdomain", table_name="checkout_sessions")
    op.drop_table("checkout_sessions")
    op.drop_index("ix_subscription_items_state_id", table_name="subscription_items")
    op.drop_table("subscription_items")
    op.drop_index("ix_invoices_stripe_subscription_id", table_name="invoices")
    op.drop_index("ix_invoices_stripe_customer_id", table_name="invoices")
    op.drop_index("ix_invoices_stripe_created", table_name="invoices")
    op.drop_index("ix_invoices_status", table_name="invoices")
    op.drop_index("ix_invoices_paid_at", table_name="invoices")
    op.drop_index("ix_invoices_customer_id", table_name="invoices")
    op.drop_table("invoices")
    op.drop_index("ix_discounts_stripe_subscription_id", table_name="discounts")
    op.drop_index("ix_discounts_stripe_customer_id", table_name="discounts")
    op.drop_table("discounts")
    op.drop_index("ix_subscription_states_timeline", table_name="subscription_states")
    op.drop_index("ix_subscription_states_stripe_customer_id", table_name="subscription_states")
    op.drop_table("subscription_states")
    op.drop_index("ix_refund_observations_observed_at", table_name="refund_observations")
    op.drop_index("ix_refund_observations_charge", table_name="refund_observations")
    op.drop_table("refund_observations")
    op.drop_table("coupons")
