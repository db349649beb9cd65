"""Billing history kept from Stripe: subscription states, items, discounts, coupons,
invoices, refund observations and self-service checkout sessions (issue 5).

The history tables are append-only and keyed by the Stripe event that produced each row, so
processing an event twice changes nothing and events arriving out of order still give one
timeline: ordering is by the event's `created` time, ties broken by reception order
(`received_seq`, the stripe_events row id).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from erp_core.models.base import Base, Timestamps, check_in
from erp_core.models.customers import SUBSCRIPTION_STATUSES

INTERVALS = ("day", "week", "month", "year")
COUPON_DURATIONS = ("forever", "once", "repeating")
CHECKOUT_STATUSES = ("pending", "open", "completed", "failed", "expired", "needs_attention")


class SubscriptionState(Base):
    """A subscription as one event showed it, effective at that event's `created` time.

    MRR of the state (before discounts) is the exact fraction
    ``mrr_numerator / mrr_denominator`` in minor units; ``interval_k``/``interval_count`` say
    how one billing interval converts to months (k/12 months per interval_count intervals),
    which is what an ``amount_off`` discount needs.
    """

    __tablename__ = "subscription_states"
    __table_args__ = (
        CheckConstraint(check_in("status", SUBSCRIPTION_STATUSES), name="status"),
        UniqueConstraint("event_id", "stripe_subscription_id"),
        Index(
            "ix_subscription_states_timeline",
            "stripe_subscription_id",
            "effective_at",
            "received_seq",
        ),
        Index("ix_subscription_states_stripe_customer_id", "stripe_customer_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    stripe_subscription_id: Mapped[str] = mapped_column(String(255), nullable=False)
    stripe_customer_id: Mapped[str] = mapped_column(String(255), nullable=False)
    event_id: Mapped[str] = mapped_column(String(255), nullable=False)
    received_seq: Mapped[int] = mapped_column(BigInteger, nullable=False)
    effective_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    status: Mapped[str] = mapped_column(String(24), nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    mrr_numerator: Mapped[int] = mapped_column(BigInteger, nullable=False)
    mrr_denominator: Mapped[int] = mapped_column(BigInteger, nullable=False)
    interval_k: Mapped[int] = mapped_column(Integer, nullable=False)
    interval_count: Mapped[int] = mapped_column(Integer, nullable=False)
    plan_code: Mapped[str | None] = mapped_column(String(32))
    interval: Mapped[str | None] = mapped_column(String(8))
    quantity: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    current_period_start: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    current_period_end: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancel_at_period_end: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    tenant_ref: Mapped[str | None] = mapped_column(String(64))


class SubscriptionItem(Base):
    """One priced line of a subscription state."""

    __tablename__ = "subscription_items"
    __table_args__ = (Index("ix_subscription_items_state_id", "state_id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    state_id: Mapped[int] = mapped_column(
        ForeignKey("subscription_states.id", ondelete="CASCADE"), nullable=False
    )
    stripe_item_id: Mapped[str | None] = mapped_column(String(255))
    price_id: Mapped[str | None] = mapped_column(String(255))
    product_id: Mapped[str | None] = mapped_column(String(255))
    unit_amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    interval: Mapped[str] = mapped_column(String(8), nullable=False)
    interval_count: Mapped[int] = mapped_column(Integer, nullable=False)


class Coupon(Base):
    """A Stripe coupon, kept once (from a discount event or one API fetch)."""

    __tablename__ = "coupons"
    __table_args__ = (CheckConstraint(check_in("duration", COUPON_DURATIONS), name="duration"),)

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(255))
    duration: Mapped[str] = mapped_column(String(16), nullable=False)
    duration_in_months: Mapped[int | None] = mapped_column(Integer)
    percent_off: Mapped[Decimal | None] = mapped_column(Numeric(9, 4))
    amount_off: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    fetched_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )


class Discount(Base):
    """A discount on a customer or one subscription, active from `started_at` until the
    `created` time of its deletion event (`ended_at`)."""

    __tablename__ = "discounts"
    __table_args__ = (
        Index("ix_discounts_stripe_customer_id", "stripe_customer_id"),
        Index("ix_discounts_stripe_subscription_id", "stripe_subscription_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    stripe_discount_id: Mapped[str] = mapped_column(String(255), nullable=False, unique=True)
    stripe_customer_id: Mapped[str | None] = mapped_column(String(255))
    stripe_subscription_id: Mapped[str | None] = mapped_column(String(255))
    coupon_id: Mapped[str] = mapped_column(
        ForeignKey("coupons.id", ondelete="RESTRICT"), nullable=False
    )
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    source_updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class Invoice(Timestamps, Base):
    """An invoice as last seen (webhook or list sync); `source_updated_at` guards order."""

    __tablename__ = "invoices"
    __table_args__ = (
        Index("ix_invoices_customer_id", "customer_id"),
        Index("ix_invoices_stripe_customer_id", "stripe_customer_id"),
        Index("ix_invoices_status", "status"),
        Index("ix_invoices_paid_at", "paid_at"),
        Index("ix_invoices_stripe_created", "stripe_created"),
        Index("ix_invoices_stripe_subscription_id", "stripe_subscription_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stripe_invoice_id: Mapped[str] = mapped_column(String(255), nullable=False, unique=True)
    stripe_customer_id: Mapped[str | None] = mapped_column(String(255))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    stripe_subscription_id: Mapped[str | None] = mapped_column(String(255))
    number: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(24), nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    amount_due: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    amount_paid: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    amount_remaining: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    total: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    hosted_invoice_url: Mapped[str | None] = mapped_column(Text)
    invoice_pdf: Mapped[str | None] = mapped_column(Text)
    period_start: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    period_end: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    stripe_created: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    due_date: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finalized_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_payment_error: Mapped[str | None] = mapped_column(String(500))
    source_updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class RefundObservation(Base):
    """`charge.refunded` carries the charge's cumulative `amount_refunded`; each event is an
    observation and the refunded amount at its time is the increase over every earlier one
    (computed in SQL, so the order of arrival does not matter)."""

    __tablename__ = "refund_observations"
    __table_args__ = (
        Index("ix_refund_observations_charge", "stripe_charge_id", "observed_at"),
        Index("ix_refund_observations_observed_at", "observed_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(255), nullable=False, unique=True)
    stripe_charge_id: Mapped[str] = mapped_column(String(255), nullable=False)
    stripe_customer_id: Mapped[str | None] = mapped_column(String(255))
    stripe_invoice_id: Mapped[str | None] = mapped_column(String(255))
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    amount_refunded_total: Mapped[int] = mapped_column(BigInteger, nullable=False)
    observed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    received_seq: Mapped[int] = mapped_column(BigInteger, nullable=False)


class CheckoutSession(Timestamps, Base):
    """A self-service sign-up opened through Stripe Checkout."""

    __tablename__ = "checkout_sessions"
    __table_args__ = (
        CheckConstraint(check_in("status", CHECKOUT_STATUSES), name="status"),
        Index("ix_checkout_sessions_subdomain", "subdomain"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # NULL while a portal sign-up waits for its e-mail verification (status `pending`).
    stripe_session_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    plan: Mapped[str] = mapped_column(String(32), nullable=False)
    interval: Mapped[str] = mapped_column(String(8), nullable=False, default="month")
    subdomain: Mapped[str] = mapped_column(String(63), nullable=False)
    company_name: Mapped[str] = mapped_column(String(200), nullable=False)
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="open")
    url: Mapped[str | None] = mapped_column(Text)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="SET NULL"))
    admin_password_enc: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(String(500))
