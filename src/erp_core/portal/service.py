"""Customer self-service: sign-up, verification, password reset and the scoped portal reads.

Isolation rule: every lookup of a tenant, invoice, backup or job here filters on the calling
customer's id in SQL, and a miss answers the same 404 as an id that does not exist, so a
customer cannot even learn that another customer's object exists.

No enumeration: sign-up and password reset answer the same 202 whether or not the e-mail is
registered, do the same expensive work (a password hash) in both branches, and tell the
truth only by e-mail, to the address's owner.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from erp_core.api import BadRequest, Conflict, NotFound, RateLimited, ServiceUnavailable
from erp_core.audit.service import record
from erp_core.auth.service import issue_session
from erp_core.context import AppContext
from erp_core.deps import Actor
from erp_core.drivers.base import DriverError
from erp_core.drivers.factory import gateway_for
from erp_core.mail.outbox import queue_mail
from erp_core.models import (
    Backup,
    CheckoutSession,
    Customer,
    Invoice,
    Job,
    Plan,
    PortalToken,
    RefreshToken,
    Subscription,
    Tenant,
    User,
)
from erp_core.plans import MOVE_DOWNTIME_MINUTES
from erp_core.portal.deps import CustomerActor
from erp_core.portal.schemas import (
    Accepted,
    CheckoutLink,
    NextInvoice,
    PendingCheckout,
    PortalMe,
    PortalTenant,
    PortalTenantDetail,
    PublicPlan,
    SignupIn,
    VerifyOut,
)
from erp_core.security import hash_password, sha256_hex
from erp_core.tenants import service as tenants

SIGNUP_ACCEPTED = (
    "Si los datos son correctos, recibirá en unos minutos un correo para confirmar su "
    "dirección y continuar con el pago."
)
RESET_ACCEPTED = (
    "Si existe una cuenta con ese correo, recibirá un enlace para restablecer la contraseña."
)
INVALID_LINK = "El enlace no es válido o ha caducado. Solicite uno nuevo."
HOUR = 3600
# A hash computed on the "already registered" branch too, so both take the same time.
_DUMMY_PASSWORD = secrets.token_urlsafe(16)


def _now() -> datetime:
    return datetime.now(UTC)


def _email_key(email: str) -> str:
    return hashlib.sha256(email.encode()).hexdigest()[:32]


async def _limit(ctx: AppContext, key: str, limit: int, window: int, detail: str) -> None:
    if await ctx.cache.incr(key, window) > limit:
        raise RateLimited(detail, retry_after=window)


def portal_url(ctx: AppContext, path: str = "/portal") -> str:
    return ctx.settings.erp_core_public_url.rstrip("/") + path


def tenant_url(ctx: AppContext, subdomain: str) -> str:
    return f"https://{subdomain}.{ctx.settings.base_domain}"


async def new_link_token(session: AsyncSession, user_id: int, purpose: str, ttl: timedelta) -> str:
    """A fresh one-time token; earlier unused tokens of the same purpose stop working."""
    await session.execute(
        update(PortalToken)
        .where(
            PortalToken.user_id == user_id,
            PortalToken.purpose == purpose,
            PortalToken.used_at.is_(None),
        )
        .values(used_at=_now())
    )
    raw = secrets.token_urlsafe(32)
    session.add(
        PortalToken(
            user_id=user_id, purpose=purpose, token_hash=sha256_hex(raw), expires_at=_now() + ttl
        )
    )
    await session.flush()
    return raw


async def _spend_token(session: AsyncSession, raw: str, purpose: str) -> User:
    token = await session.scalar(
        select(PortalToken)
        .where(PortalToken.token_hash == sha256_hex(raw), PortalToken.purpose == purpose)
        .with_for_update()
    )
    if token is None or token.used_at is not None or token.expires_at <= _now():
        raise BadRequest(INVALID_LINK, code="INVALID_LINK")
    user = await session.get(User, token.user_id)
    if user is None or user.disabled or user.customer_id is None:
        raise BadRequest(INVALID_LINK, code="INVALID_LINK")
    token.used_at = _now()
    return user


async def queue_verification(
    session: AsyncSession, ctx: AppContext, user: User, company: str
) -> None:
    ttl = timedelta(hours=ctx.settings.portal_verify_token_ttl_hours)
    raw = await new_link_token(session, user.id, "verify", ttl)
    await queue_mail(
        session,
        ctx,
        key=f"verification:{sha256_hex(raw)}",
        kind="verification",
        to=user.email,
        customer_id=user.customer_id,
        params={"company": company, "link": portal_url(ctx, f"/registro/verificar?token={raw}")},
    )


async def queue_reset(session: AsyncSession, ctx: AppContext, user: User) -> None:
    ttl = timedelta(minutes=ctx.settings.portal_reset_token_ttl_minutes)
    raw = await new_link_token(session, user.id, "reset", ttl)
    await queue_mail(
        session,
        ctx,
        key=f"password_reset:{sha256_hex(raw)}",
        kind="password_reset",
        to=user.email,
        customer_id=user.customer_id,
        params={"link": portal_url(ctx, f"/portal/restablecer?token={raw}")},
    )


async def _sellable_price(session: AsyncSession, plan_code: str, interval: str) -> Plan:
    plan = await session.scalar(select(Plan).where(Plan.code == plan_code, Plan.active))
    price = None
    if plan is not None:
        price = plan.stripe_price_yearly_id if interval == "year" else plan.stripe_price_monthly_id
    if plan is None or not price:
        raise Conflict(
            f"El plan «{plan_code}» no está a la venta para ese periodo.",
            code="PLAN_NOT_CONFIGURED",
        )
    return plan


async def public_plans(session: AsyncSession, ctx: AppContext, ip: str | None) -> list[PublicPlan]:
    """Active plans that can be bought (a Stripe price for at least one interval), cheapest
    first. Public for /registro, so rate-limited per IP like the availability check."""
    await _limit(
        ctx,
        f"rl:plans:ip:{ip}",
        ctx.settings.portal_availability_rate_limit_per_ip,
        60,
        "Demasiadas consultas. Espere un minuto.",
    )
    plans = await session.scalars(
        select(Plan).where(Plan.active).order_by(Plan.monthly_price, Plan.code)
    )
    out: list[PublicPlan] = []
    for plan in plans:
        intervals: list[Literal["month", "year"]] = []
        if plan.stripe_price_monthly_id:
            intervals.append("month")
        if plan.stripe_price_yearly_id:
            intervals.append("year")
        if intervals:
            out.append(
                PublicPlan(
                    code=plan.code,
                    name=plan.name,
                    currency=plan.currency,
                    monthly_price=plan.monthly_price,
                    yearly_price=plan.yearly_price,
                    cpu_cores=plan.cpu_cores,
                    ram_mb=plan.ram_mb,
                    disk_gb=plan.disk_gb,
                    max_users=plan.max_users,
                    dedicated=plan.dedicated,
                    intervals=intervals,
                    move_downtime_minutes=MOVE_DOWNTIME_MINUTES,
                )
            )
    return out


async def signup(
    session: AsyncSession, ctx: AppContext, body: SignupIn, ip: str | None
) -> Accepted:
    """Create the unverified user, its customer and a pending checkout; mail the link."""
    email = str(body.email).strip().lower()
    settings = ctx.settings
    busy = "Demasiadas altas en poco tiempo. Inténtelo más tarde."
    await _limit(ctx, f"rl:signup:ip:{ip}", settings.portal_signup_rate_limit_per_ip, HOUR, busy)
    await _limit(
        ctx,
        f"rl:signup:email:{_email_key(email)}",
        settings.portal_signup_rate_limit_per_email,
        HOUR,
        busy,
    )
    await _sellable_price(session, body.plan, body.interval)
    reason = await tenants.subdomain_availability(session, body.subdomain)
    if reason:
        raise Conflict(reason, code="SUBDOMAIN_TAKEN")
    existing = await session.scalar(select(User).where(func.lower(User.email) == email))
    if existing is not None:
        hash_password(_DUMMY_PASSWORD)  # same cost as the new-account branch
        if existing.role == "customer" and existing.email_verified_at is None:
            customer = await session.get(Customer, existing.customer_id)
            await queue_verification(
                session, ctx, existing, customer.company_name if customer else body.company_name
            )
        return Accepted(message=SIGNUP_ACCEPTED)
    customer = Customer(email=email, company_name=body.company_name, subdomain=body.subdomain)
    session.add(customer)
    await session.flush()
    user = User(
        email=email,
        name=body.company_name[:120],
        role="customer",
        password_hash=hash_password(body.password),
        customer_id=customer.id,
    )
    session.add(user)
    session.add(
        CheckoutSession(
            plan=body.plan,
            interval=body.interval,
            subdomain=body.subdomain,
            company_name=body.company_name,
            email=email,
            status="pending",
            customer_id=customer.id,
        )
    )
    await session.flush()
    await queue_verification(session, ctx, user, body.company_name)
    actor = Actor(user.id, email, "customer", ip, None)
    record(session, actor, "portal.signup", "customer", customer.id, {"subdomain": body.subdomain})
    return Accepted(message=SIGNUP_ACCEPTED)


async def availability(
    session: AsyncSession, ctx: AppContext, name: str, ip: str | None
) -> str | None:
    await _limit(
        ctx,
        f"rl:availability:ip:{ip}",
        ctx.settings.portal_availability_rate_limit_per_ip,
        60,
        "Demasiadas consultas. Espere un minuto.",
    )
    return await tenants.subdomain_availability(session, name.strip().lower())


async def open_checkout(
    session: AsyncSession,
    ctx: AppContext,
    customer_id: int,
    checkout_id: int | None,
    *,
    renew: bool = False,
) -> CheckoutLink | None:
    """Open (or return the already open) Stripe Checkout of a pending sign-up.

    ``renew`` ("Pagar ahora" after a cancelled or abandoned Checkout): a new Checkout
    session replaces the earlier one, which is expired at Stripe first so the sign-up can
    never be paid twice; an earlier session that was paid meanwhile is reported instead."""
    statuses = ("pending", "open", "expired") if renew else ("pending", "open")
    query = select(CheckoutSession).where(
        CheckoutSession.customer_id == customer_id,
        CheckoutSession.status.in_(statuses),
    )
    if checkout_id is not None:
        query = query.where(CheckoutSession.id == checkout_id)
    row = await session.scalar(query.order_by(CheckoutSession.id.desc()).limit(1).with_for_update())
    if row is None:
        if checkout_id is not None:
            raise NotFound("El alta no existe o ya está pagada.", code="CHECKOUT_NOT_FOUND")
        return None
    if row.status == "open" and row.url and not renew:
        return _link(row)
    plan = await _sellable_price(session, row.plan, row.interval)
    price_id = (
        plan.stripe_price_yearly_id if row.interval == "year" else plan.stripe_price_monthly_id
    )
    assert price_id is not None
    gateway = gateway_for(ctx)
    if gateway is None:
        raise ServiceUnavailable(
            "El pago en línea no está disponible: Stripe no está configurado.",
            code="STRIPE_NOT_CONFIGURED",
        )
    metadata = {
        "plan": row.plan,
        "interval": row.interval,
        "subdomain": row.subdomain,
        "company": row.company_name,
        "email": row.email,
        "checkout_id": str(row.id),
    }
    base = ctx.settings.erp_core_public_url.rstrip("/")
    previous = row.stripe_session_id if renew else None
    key = f"erp-portal-checkout-{row.id}" + (f"-after-{previous}" if previous else "")
    try:
        if previous:
            await _close_previous_checkout(gateway, previous)
        link = await gateway.create_checkout_session(
            price_id=price_id,
            customer_email=row.email,
            metadata=metadata,
            success_url=f"{base}/portal?checkout={row.id}",
            cancel_url=f"{base}/portal?checkout={row.id}&cancelado=1",
            idempotency_key=key,
        )
    except DriverError as exc:
        raise ServiceUnavailable(
            f"Stripe no pudo abrir el pago: {exc.message}", code="STRIPE_ERROR"
        ) from exc
    finally:
        await gateway.aclose()
    row.stripe_session_id, row.url, row.status = link.id, link.url, "open"
    await session.flush()
    return _link(row)


async def _close_previous_checkout(gateway: Any, session_id: str) -> None:
    """Expire the sign-up's earlier Checkout session at Stripe (if still open); a session
    paid meanwhile means the sign-up is done and no second payment may be opened."""
    current = await gateway.retrieve_checkout_session(session_id)
    if current.get("status") == "open":
        try:
            current = await gateway.expire_checkout_session(session_id)
        except DriverError:
            current = await gateway.retrieve_checkout_session(session_id)  # paid meanwhile?
    if current.get("status") == "complete":
        raise Conflict(
            "Este alta ya está pagada: su Odoo aparecerá en «Mis instancias» en unos segundos.",
            code="CHECKOUT_ALREADY_PAID",
        )


def _link(row: CheckoutSession) -> CheckoutLink:
    return CheckoutLink(
        checkout_id=row.id,
        subdomain=row.subdomain,
        plan=row.plan,
        interval="year" if row.interval == "year" else "month",
        url=row.url or "",
    )


async def verify(session: AsyncSession, ctx: AppContext, raw: str, ip: str | None) -> VerifyOut:
    user = await _spend_token(session, raw, "verify")
    if user.email_verified_at is None:
        user.email_verified_at = _now()
    assert user.customer_id is not None
    checkout = await open_checkout(session, ctx, user.customer_id, None)
    user.last_login_at = _now()
    tokens = await issue_session(session, ctx, user, ip)
    actor = Actor(user.id, user.email, user.role, ip, None)
    record(session, actor, "portal.verify", "user", user.id)
    return VerifyOut(email=user.email, tokens=tokens, checkout=checkout)


async def request_reset(
    session: AsyncSession, ctx: AppContext, email: str, ip: str | None
) -> Accepted:
    email = email.strip().lower()
    settings = ctx.settings
    busy = "Demasiadas solicitudes. Inténtelo más tarde."
    await _limit(ctx, f"rl:reset:ip:{ip}", settings.portal_reset_rate_limit_per_ip, HOUR, busy)
    await _limit(
        ctx,
        f"rl:reset:email:{_email_key(email)}",
        settings.portal_reset_rate_limit_per_email,
        HOUR,
        busy,
    )
    user = await session.scalar(select(User).where(func.lower(User.email) == email))
    if user is not None and user.role == "customer" and not user.disabled:
        await queue_reset(session, ctx, user)
    return Accepted(message=RESET_ACCEPTED)


async def confirm_reset(session: AsyncSession, raw: str, password: str, ip: str | None) -> None:
    user = await _spend_token(session, raw, "reset")
    user.password_hash = hash_password(password)
    # Resetting proves control of the mailbox, exactly like the verification link.
    if user.email_verified_at is None:
        user.email_verified_at = _now()
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user.id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=_now())
    )
    record(
        session,
        Actor(user.id, user.email, user.role, ip, None),
        "portal.password_reset",
        "user",
        user.id,
    )


async def me(session: AsyncSession, who: CustomerActor) -> PortalMe:
    customer = await session.get(Customer, who.customer_id)
    assert customer is not None
    rows = await session.scalars(
        select(CheckoutSession)
        .where(
            CheckoutSession.customer_id == who.customer_id,
            CheckoutSession.status.in_(("pending", "open", "failed", "expired", "needs_attention")),
        )
        .order_by(CheckoutSession.id.desc())
        .limit(20)
    )
    return PortalMe(
        user_id=who.user_id,
        email=who.email,
        customer_id=who.customer_id,
        company_name=customer.company_name,
        verified=who.verified,
        pending_checkouts=[
            PendingCheckout(
                checkout_id=r.id,
                subdomain=r.subdomain,
                plan=r.plan,
                interval="year" if r.interval == "year" else "month",
                status=r.status,  # type: ignore[arg-type]
                url=r.url if r.status == "open" else None,
            )
            for r in rows
        ],
    )


# --- scoped reads -----------------------------------------------------------------------


async def own_tenant(session: AsyncSession, customer_id: int, tenant_id: int) -> Tenant:
    tenant = await session.scalar(
        select(Tenant).where(
            Tenant.id == tenant_id, Tenant.customer_id == customer_id, Tenant.status != "deleted"
        )
    )
    if tenant is None:
        raise NotFound(f"La instancia con ID {tenant_id} no existe.", code="TENANT_NOT_FOUND")
    return tenant


async def own_backup(session: AsyncSession, customer_id: int, backup_id: int) -> Backup:
    backup = await session.scalar(
        select(Backup)
        .join(Tenant, Tenant.id == Backup.tenant_id)
        .where(Backup.id == backup_id, Tenant.customer_id == customer_id)
    )
    if backup is None:
        raise NotFound(f"El respaldo con ID {backup_id} no existe.", code="BACKUP_NOT_FOUND")
    return backup


async def own_job(session: AsyncSession, customer_id: int, job_id: int) -> Job:
    job = await session.scalar(
        select(Job)
        .join(Tenant, Tenant.id == Job.tenant_id)
        .where(Job.id == job_id, Tenant.customer_id == customer_id)
    )
    if job is None:
        raise NotFound(f"El trabajo con ID {job_id} no existe.", code="JOB_NOT_FOUND")
    return job


async def _subscription(session: AsyncSession, tenant_id: int) -> Subscription | None:
    sub: Subscription | None = await session.scalar(
        select(Subscription)
        .where(Subscription.tenant_id == tenant_id)
        .order_by(Subscription.id.desc())
        .limit(1)
    )
    return sub


async def tenant_view(
    session: AsyncSession, ctx: AppContext, tenant: Tenant, *, detail: bool = False
) -> PortalTenant:
    plan = await session.scalar(select(Plan).where(Plan.code == tenant.plan))
    sub = await _subscription(session, tenant.id)
    job_id = await session.scalar(
        select(Job.id)
        .where(Job.tenant_id == tenant.id, Job.status.in_(("queued", "running")))
        .order_by(Job.id.desc())
        .limit(1)
    )
    interval = sub.interval if sub and sub.interval in ("month", "year") else None
    next_invoice = None
    if plan is not None and sub is not None and sub.status in ("active", "trialing", "past_due"):
        if not sub.cancel_at_period_end:
            amount = plan.yearly_price if interval == "year" else plan.monthly_price
            next_invoice = NextInvoice(
                amount_due=amount, currency=plan.currency, date=sub.current_period_end
            )
    fields = {
        "id": tenant.id,
        "subdomain": tenant.subdomain,
        "company_name": tenant.company_name,
        "status": tenant.status,
        "status_label": tenants.STATUS_ES.get(tenant.status, tenant.status),
        "url": tenant_url(ctx, tenant.subdomain),
        "plan": tenant.plan,
        "plan_name": plan.name if plan else tenant.plan,
        "interval": interval,
        "dedicated": bool(plan and plan.dedicated),
        "subscription_status": sub.status if sub else None,
        "cancel_at_period_end": bool(sub and sub.cancel_at_period_end),
        "current_period_end": sub.current_period_end if sub else None,
        "next_invoice": next_invoice,
        "job_id": job_id,
        "created_at": tenant.created_at,
    }
    if detail:
        return PortalTenantDetail(**fields, admin_login=tenant.admin_login)
    return PortalTenant(**fields)


async def list_tenants(
    session: AsyncSession, ctx: AppContext, customer_id: int
) -> list[PortalTenant]:
    rows = await session.scalars(
        select(Tenant)
        .where(Tenant.customer_id == customer_id, Tenant.status != "deleted")
        .order_by(Tenant.id)
    )
    return [await tenant_view(session, ctx, t) for t in rows]


async def reveal_credentials(
    session: AsyncSession, ctx: AppContext, customer_id: int, tenant_id: int
) -> tuple[Tenant, str | None]:
    """The generated admin password of a paid sign-up, returned once and then erased."""
    tenant = await own_tenant(session, customer_id, tenant_id)
    row = await session.scalar(
        select(CheckoutSession)
        .where(CheckoutSession.tenant_id == tenant.id, CheckoutSession.customer_id == customer_id)
        .with_for_update()
    )
    password = None
    if row is not None and row.admin_password_enc and tenant.status == "active":
        password = ctx.secret_box.decrypt(row.admin_password_enc)
        row.admin_password_enc = None
    return tenant, password


async def list_invoices(session: AsyncSession, customer_id: int) -> list[Invoice]:
    rows = await session.scalars(
        select(Invoice)
        .where(Invoice.customer_id == customer_id, Invoice.status != "draft")
        .order_by(Invoice.stripe_created.desc().nulls_last(), Invoice.id.desc())
        .limit(200)
    )
    return list(rows)


async def list_backups(session: AsyncSession, customer_id: int, tenant_id: int) -> list[Backup]:
    tenant = await own_tenant(session, customer_id, tenant_id)
    rows = await session.scalars(
        select(Backup)
        .where(Backup.tenant_id == tenant.id, Backup.status.in_(("running", "succeeded")))
        .order_by(Backup.started_at.desc())
        .limit(100)
    )
    return list(rows)


async def link_paid_subscription(
    session: AsyncSession, row: CheckoutSession, tenant_id: int
) -> None:
    """Attach the customer's unlinked paid subscription to the tenant created late."""
    if row.customer_id is None:
        return
    sub = await session.scalar(
        select(Subscription)
        .where(Subscription.customer_id == row.customer_id, Subscription.tenant_id.is_(None))
        .order_by(Subscription.id.desc())
        .limit(1)
    )
    if sub is not None:
        sub.tenant_id = tenant_id
