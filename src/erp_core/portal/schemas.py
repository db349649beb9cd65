"""Customer portal bodies (issue 16): the contract the /registro and /portal pages build on."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from erp_core.auth.schemas import TokenOut
from erp_core.plans import PlanCode
from erp_core.tenants.subdomains import subdomain_problem

Interval = Literal["month", "year"]


def _clean_company(value: str) -> str:
    value = " ".join(value.split())
    if len(value) < 2:
        raise ValueError("El nombre de la empresa es demasiado corto.")
    return value


def _clean_subdomain(value: str) -> str:
    value = value.strip().lower()
    problem = subdomain_problem(value)
    if problem:
        raise ValueError(problem)
    return value


class SignupIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    company_name: str = Field(min_length=2, max_length=200)
    email: EmailStr
    password: str = Field(min_length=10, max_length=256)
    subdomain: str = Field(min_length=1, max_length=63)
    plan: PlanCode
    interval: Interval = "month"

    _company = field_validator("company_name")(_clean_company)
    _subdomain = field_validator("subdomain")(_clean_subdomain)


class PublicPlan(BaseModel):
    """A plan as /registro shows it before anyone logs in: price and resources only (no
    Stripe ids, no internal policy), and the billing intervals it can be bought for."""

    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    currency: str
    monthly_price: int = Field(description="Precio mensual en unidades menores (céntimos)")
    yearly_price: int = Field(description="Precio anual en unidades menores (céntimos)")
    cpu_cores: int
    ram_mb: int
    disk_gb: int
    max_users: int | None
    dedicated: bool
    intervals: list[Interval] = Field(description="Periodos con precio en Stripe")
    move_downtime_minutes: int = Field(
        description="Interrupción prevista al pasar a este plan desde el otro tipo de "
        "servidor (compartido o dedicado): se indica antes de confirmar"
    )


class Accepted(BaseModel):
    """The same answer whether or not the e-mail is registered (no enumeration)."""

    accepted: bool = True
    message: str


class Availability(BaseModel):
    subdomain: str
    available: bool
    reason: str | None = Field(default=None, description="Por qué no está disponible")


class VerifyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=20, max_length=200)


class CheckoutLink(BaseModel):
    """A Stripe Checkout the customer must open to pay for a pending sign-up."""

    checkout_id: int
    subdomain: str
    plan: str
    interval: Interval
    url: str


class VerifyOut(BaseModel):
    verified: bool = True
    email: str
    tokens: TokenOut = Field(description="La verificación inicia la sesión del cliente")
    checkout: CheckoutLink | None = Field(
        default=None, description="Pago pendiente; nulo si no queda ningún alta por pagar"
    )


class CheckoutIn(BaseModel):
    """Re-open the payment of the customer's pending sign-up (e.g. the tab was closed)."""

    model_config = ConfigDict(extra="forbid")

    checkout_id: int | None = Field(
        default=None, description="Vacío: el alta pendiente más reciente"
    )
    renew: bool = Field(
        default=False,
        description="«Pagar ahora» tras cancelar o abandonar el pago: abre una sesión de pago "
        "nueva y cierra la anterior en Stripe",
    )


class PasswordResetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr


class PasswordResetConfirmIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=20, max_length=200)
    password: str = Field(min_length=10, max_length=256)


class PasswordResetDone(BaseModel):
    reset: bool = True


class PendingCheckout(BaseModel):
    checkout_id: int
    subdomain: str
    plan: str
    interval: Interval
    status: Literal["pending", "open", "failed", "expired", "needs_attention"]
    url: str | None


class PortalMe(BaseModel):
    user_id: int
    email: str
    customer_id: int
    company_name: str
    verified: bool
    pending_checkouts: list[PendingCheckout]


class NextInvoice(BaseModel):
    amount_due: int = Field(description="Importe en unidades menores (céntimos)")
    currency: str
    date: datetime | None


class PortalTenant(BaseModel):
    id: int
    subdomain: str
    company_name: str
    status: str
    status_label: str
    url: str
    plan: str
    plan_name: str
    interval: Interval | None
    dedicated: bool
    subscription_status: str | None
    cancel_at_period_end: bool
    current_period_end: datetime | None
    next_invoice: NextInvoice | None
    job_id: int | None = Field(description="Trabajo en curso (progreso en vivo), si lo hay")
    created_at: datetime


class PortalTenantDetail(PortalTenant):
    admin_login: str | None


class Credentials(BaseModel):
    """ "Tu Odoo está listo": the password is returned once and then forgotten."""

    tenant_id: int
    url: str
    admin_login: str | None
    admin_password: str | None = Field(
        default=None, description="Se muestra una sola vez; después siempre es nulo"
    )


class PortalInvoice(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    number: str | None
    status: str
    currency: str
    total: int
    amount_due: int
    amount_paid: int
    hosted_invoice_url: str | None
    invoice_pdf: str | None
    period_start: datetime | None
    period_end: datetime | None
    created: datetime | None = Field(validation_alias="stripe_created")


class BillingPortalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    return_path: str = Field(default="/portal", max_length=200, pattern=r"^/[A-Za-z0-9/_\-?=&.]*$")


class UrlOut(BaseModel):
    url: str


class PlanChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plan: PlanCode
    interval: Interval | None = Field(default=None, description="Vacío: el periodo actual")
    accept_downtime: bool = Field(
        default=False,
        description="Acepta la interrupción de un traslado entre servidor compartido y "
        "dedicado (sin ella, 409 MIGRATION_NEEDS_CONFIRMATION la indica)",
    )


class PlanChangeOut(BaseModel):
    tenant_id: int
    plan: str
    interval: Interval
    kind: Literal["proration", "migration"] = Field(
        description="proration: cambio inmediato prorrateado; migration: respaldo y "
        "restauración en otro tipo de servidor"
    )
    downtime_minutes: int = Field(description="Interrupción prevista (0 si no hay)")
    notice: str = Field(description="Aviso para el cliente, en español")
    job_id: int | None
    proration_amount: int | None = Field(
        default=None, description="Importe prorrateado en la próxima factura (unidades menores)"
    )
    currency: str | None = None


class CancelOut(BaseModel):
    tenant_id: int
    cancel_at_period_end: bool
    current_period_end: datetime | None
    deletion_after: datetime | None = Field(
        description="Tras esta fecha se hace un respaldo final y se elimina la instancia"
    )
    notice: str


class PortalBackup(BaseModel):
    id: int
    tenant_id: int
    kind: str
    status: str
    size_bytes: int | None
    started_at: datetime
    finished_at: datetime | None
    downloadable: bool


class PortalJob(BaseModel):
    id: int
    tenant_id: int | None
    kind: str
    status: str
    progress: int
    error: str | None
    created_at: datetime
    finished_at: datetime | None


# --- operators: customers, sign-ups needing attention, lab mail ---


class CustomerSummary(BaseModel):
    id: int
    email: str
    company_name: str
    stripe_customer_id: str | None
    created_at: datetime
    verified: bool = Field(description="Algún usuario del cliente verificó su correo")
    tenants: int


class CustomerUser(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    disabled: bool
    email_verified_at: datetime | None
    last_login_at: datetime | None
    created_at: datetime


class CustomerTenant(BaseModel):
    id: int
    subdomain: str
    status: str
    plan: str
    url: str


class CustomerDetail(BaseModel):
    customer: CustomerSummary
    users: list[CustomerUser]
    tenants: list[CustomerTenant]
    invoices: list[PortalInvoice]


class Queued(BaseModel):
    queued: bool = True


class CheckoutRow(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    stripe_session_id: str | None
    status: str
    plan: str
    interval: str
    subdomain: str
    company_name: str
    email: str
    customer_id: int | None
    tenant_id: int | None
    error: str | None
    created_at: datetime
    updated_at: datetime


class CheckoutContinueIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subdomain: str = Field(min_length=1, max_length=63)

    _subdomain = field_validator("subdomain")(_clean_subdomain)


class CheckoutContinued(BaseModel):
    checkout: CheckoutRow
    tenant_id: int
    job_id: int | None


class CapturedMail(BaseModel):
    id: int
    received_at: datetime
    mail_from: str
    to: list[str]
    subject: str
    text: str
    html: str | None
