"""Billing request and response bodies."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator, model_validator

from erp_core.api import FieldError, ValidationFailed
from erp_core.plans import PlanCode
from erp_core.tenants.subdomains import subdomain_problem

MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def parse_month(value: str | None, field: str = "month") -> date | None:
    if value is None:
        return None
    match = MONTH_RE.match(value)
    if not match:
        raise ValidationFailed(
            "El mes debe tener el formato AAAA-MM.",
            fields=[FieldError(field=field, message="Formato AAAA-MM, p. ej. 2026-11.")],
        )
    return date(int(match[1]), int(match[2]), 1)


class MonthMetrics(BaseModel):
    month: str
    currency: str
    mrr: int
    arr: int
    mrr_start: int
    new_mrr: int
    expansion_mrr: int
    contraction_mrr: int
    churned_mrr: int
    reactivation_mrr: int
    active_customers: int
    customers_start: int
    new_customers: int
    reactivated_customers: int
    churned_customers: int
    customer_churn_rate: float | None
    gross_mrr_churn_rate: float | None
    net_mrr_churn_rate: float | None
    nrr: float | None
    arpa: int | None
    revenue: int


class Comparison(BaseModel):
    month: str
    previous_month: str
    current: MonthMetrics
    previous: MonthMetrics
    change: dict[str, float | int | None]
    change_pct: dict[str, float | None]


class PlanOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    currency: str
    monthly_price: int
    yearly_price: int
    stripe_price_monthly_id: str | None
    stripe_price_yearly_id: str | None
    cpu_cores: int
    ram_mb: int
    disk_gb: int
    max_users: int | None
    active: bool


class PlanCreate(BaseModel):
    """A new sellable plan; Stripe prices are mapped afterwards with PUT."""

    model_config = ConfigDict(extra="forbid")

    code: PlanCode
    name: str = Field(min_length=1, max_length=100)
    monthly_price: int = Field(default=0, ge=0)
    yearly_price: int = Field(default=0, ge=0)
    cpu_cores: int = Field(default=1, ge=1, le=256)
    ram_mb: int = Field(default=2048, ge=256, le=1_048_576)
    disk_gb: int = Field(default=20, ge=1, le=65_536)
    max_users: int | None = Field(default=None, ge=1)
    dedicated: bool = False


class PlanUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=100)
    stripe_price_monthly_id: str | None = Field(default=None, max_length=255)
    stripe_price_yearly_id: str | None = Field(default=None, max_length=255)
    monthly_price: int | None = Field(default=None, ge=0)
    yearly_price: int | None = Field(default=None, ge=0)
    cpu_cores: int | None = Field(default=None, ge=1, le=256)
    ram_mb: int | None = Field(default=None, ge=256, le=1_048_576)
    disk_gb: int | None = Field(default=None, ge=1, le=65_536)
    max_users: int | None = Field(default=None, ge=1)
    active: bool | None = None

    @model_validator(mode="after")
    def _required_not_null(self) -> PlanUpdate:
        """Omit a field to keep it; only Stripe prices and max_users may be cleared with null."""
        for name in (
            "name",
            "monthly_price",
            "yearly_price",
            "cpu_cores",
            "ram_mb",
            "disk_gb",
            "active",
        ):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"«{name}» no puede ser nulo; omítalo para no cambiarlo.")
        return self


class InvoiceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    stripe_invoice_id: str
    customer_id: int | None
    stripe_customer_id: str | None
    stripe_subscription_id: str | None
    number: str | None
    status: str
    currency: str
    amount_due: int
    amount_paid: int
    amount_remaining: int
    total: int
    hosted_invoice_url: str | None
    period_start: datetime | None
    period_end: datetime | None
    created: datetime | None = Field(validation_alias="stripe_created")
    due_date: datetime | None
    paid_at: datetime | None
    last_payment_error: str | None


class EventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    event_id: str
    event_type: str
    created: datetime | None
    received_at: datetime
    processed: bool
    processed_at: datetime | None
    attempts: int
    error: str | None
    object_id: str | None = None


class SubscriptionOut(BaseModel):
    stripe_subscription_id: str | None
    plan: str
    status: str
    interval: str | None
    currency: str
    current_period_start: datetime | None
    current_period_end: datetime | None
    past_due_since: datetime | None
    canceled_at: datetime | None
    mrr: int


class CustomerOut(BaseModel):
    id: int
    email: str
    company_name: str
    stripe_customer_id: str | None


class TenantBilling(BaseModel):
    tenant_id: int
    stripe_configured: bool
    customer: CustomerOut
    subscription: SubscriptionOut | None
    invoices: list[InvoiceOut]


class CheckoutIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    company_name: str = Field(min_length=2, max_length=200)
    email: EmailStr
    subdomain: str = Field(min_length=1, max_length=63)
    plan: PlanCode
    interval: Literal["month", "year"] = "month"

    @field_validator("company_name")
    @classmethod
    def _company(cls, value: str) -> str:
        value = " ".join(value.split())
        if len(value) < 2:
            raise ValueError("El nombre de la empresa es demasiado corto.")
        return value

    @field_validator("subdomain")
    @classmethod
    def _subdomain(cls, value: str) -> str:
        value = value.strip().lower()
        problem = subdomain_problem(value)
        if problem:
            raise ValueError(problem)
        return value


class CheckoutOut(BaseModel):
    session_id: str
    url: str


class CheckoutStatus(BaseModel):
    session_id: str
    status: str
    subdomain: str
    tenant_id: int | None
    tenant_status: str | None
    url: str | None
    admin_login: str | None
    admin_password: str | None = Field(
        default=None, description="Se muestra una sola vez, en la primera consulta tras el pago."
    )
    error: str | None


class SyncResult(BaseModel):
    invoices: int
    extra: dict[str, Any] = Field(default_factory=dict)
