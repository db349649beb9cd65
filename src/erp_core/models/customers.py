"""Customers, plans and subscriptions (the seed's billing core)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

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
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from erp_core.models.base import Base, Timestamps, check_in

SUBSCRIPTION_STATUSES = (
    "incomplete",
    "incomplete_expired",
    "trialing",
    "active",
    "past_due",
    "unpaid",
    "canceled",
    "paused",
)
PLAN_CODES = ("basic", "pro", "enterprise")


class Customer(Timestamps, Base):
    """A paying organisation; it may own several tenants (subdomain kept as in the seed)."""

    __tablename__ = "customers"
    __table_args__ = (
        Index("ix_customers_email_lower", text("lower(email)")),
        Index("ix_customers_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    company_name: Mapped[str] = mapped_column(String(200), nullable=False)
    subdomain: Mapped[str | None] = mapped_column(String(63))
    stripe_customer_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    country: Mapped[str | None] = mapped_column(String(2))
    # billing (issue 5): `created` of the newest customer.* event applied
    stripe_updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Plan(Timestamps, Base):
    """A sellable plan: price per interval (minor units) and the resources it grants."""

    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False, default="usd")
    monthly_price: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    yearly_price: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    stripe_price_monthly_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    stripe_price_yearly_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    cpu_cores: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    ram_mb: Mapped[int] = mapped_column(Integer, nullable=False, default=2048)
    disk_gb: Mapped[int] = mapped_column(Integer, nullable=False, default=20)
    max_users: Mapped[int | None] = mapped_column(Integer)
    # usage limit (issue 18): filestore + database megabytes; NULL means no limit
    max_storage_mb: Mapped[int | None] = mapped_column(Integer)
    dedicated: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    # Backup retention for this plan's tenants (issue 8): {"daily", "weekly", "monthly",
    # "other_days"}; missing keys (or NULL) fall back to the BACKUP_RETENTION_* settings.
    backup_policy: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    # Custom domains a tenant of this plan may have (issue 17); NULL means the plan code's
    # default in erp_core.domains.service.DEFAULT_MAX_CUSTOM_DOMAINS.
    max_custom_domains: Mapped[int | None] = mapped_column(Integer)
    # Odoo modules a tenant of this plan starts with (issue 15): installed once into the
    # server's template, never per tenant; empty means just `base` (and its auto-installs).
    modules: Mapped[list[Any]] = mapped_column(
        JSONB, nullable=False, default=list, server_default=text("'[]'::jsonb")
    )


class Subscription(Timestamps, Base):
    """The seed's subscription row; `mrr` is the current normalised monthly amount (minor units)."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        CheckConstraint(check_in("status", SUBSCRIPTION_STATUSES), name="status"),
        Index("ix_subscriptions_customer_id", "customer_id"),
        Index("ix_subscriptions_status", "status"),
        Index("ix_subscriptions_tenant_id", "tenant_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="RESTRICT"), nullable=False
    )
    plan_name: Mapped[str] = mapped_column(String(32), nullable=False)
    status: Mapped[str] = mapped_column(String(24), nullable=False)
    stripe_subscription_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    mrr: Mapped[Decimal] = mapped_column(Numeric(18, 4), nullable=False, default=Decimal(0))
    currency: Mapped[str] = mapped_column(String(3), nullable=False, default="usd")
    current_period_start: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    current_period_end: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    canceled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    state_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # billing (issue 5): the tenant this subscription pays for, the current state's position
    # in the history, and since when it has been past_due (dunning grace).
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="SET NULL"))
    state_seq: Mapped[int | None] = mapped_column(BigInteger)
    interval: Mapped[str | None] = mapped_column(String(8))
    past_due_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # customer portal (issue 16): the customer asked to cancel at the end of the period.
    cancel_at_period_end: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=text("false")
    )


class StripeEvent(Base):
    """A webhook delivery stored raw before processing: nothing received is ever lost."""

    __tablename__ = "stripe_events"
    __table_args__ = (
        Index("ix_stripe_events_processed_received_at", "processed", "received_at"),
        Index("ix_stripe_events_event_type", "event_type"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(255), nullable=False, unique=True)
    event_type: Mapped[str] = mapped_column(String(120), nullable=False)
    payload: Mapped[dict[str, object]] = mapped_column(JSONB, nullable=False)
    created: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    processed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    error: Mapped[str | None] = mapped_column(String(2000))
