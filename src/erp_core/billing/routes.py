"""Billing endpoints: Stripe webhooks, metrics, invoices, plans, events, a tenant's billing
and the public self-service checkout."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from erp_core.api import ApiError, Envelope, Page, Pagination, ValidationFailed, error_responses, ok
from erp_core.audit.service import record
from erp_core.billing import checkout, metrics, service, webhooks
from erp_core.billing.schemas import (
    CheckoutIn,
    CheckoutOut,
    CheckoutStatus,
    Comparison,
    EventOut,
    InvoiceOut,
    MonthMetrics,
    PlanCreate,
    PlanOut,
    PlanUpdate,
    TenantBilling,
    parse_month,
)
from erp_core.billing.tasks import SYNC_TASK
from erp_core.db import on_commit
from erp_core.deps import Admin, Ctx, Session, Viewer, client_ip
from erp_core.observability.metrics import WEBHOOKS

router = APIRouter()
billing = APIRouter(prefix="/api/billing", tags=["billing"])
public = APIRouter(tags=["billing"])
MAX_SERIES_MONTHS = 120
COMPARED = (
    "mrr", "arr", "mrr_start", "new_mrr", "expansion_mrr", "contraction_mrr", "churned_mrr",
    "reactivation_mrr", "active_customers", "customers_start", "new_customers",
    "reactivated_customers", "churned_customers", "customer_churn_rate",
    "gross_mrr_churn_rate", "net_mrr_churn_rate", "nrr", "arpa", "revenue",
)  # fmt: skip


def _now() -> datetime:
    return datetime.now(UTC)


def _month_or_current(value: str | None, field: str = "month") -> date:
    month = parse_month(value, field)
    now = _now()
    current = date(now.year, now.month, 1)
    if month is None:
        return current
    if month > current:
        raise ValidationFailed("El mes no puede ser posterior al actual.")
    return month


def _previous(month: date) -> date:
    return date(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)


@public.post("/api/webhooks/stripe", include_in_schema=True, responses=error_responses(400, 503))
async def stripe_webhook(request: Request, ctx: Ctx, session: Session) -> object:
    """Stripe's endpoint (no login: the signature authenticates). Answers at once."""
    payload = await request.body()
    try:
        row_id, event = await webhooks.receive(
            session, ctx, payload, request.headers.get("stripe-signature")
        )
    except ApiError:
        WEBHOOKS.labels("stripe", "unknown", "rejected").inc()
        raise
    outcome = "duplicate" if row_id is None else "accepted"
    WEBHOOKS.labels("stripe", str(event.get("type", "unknown")), outcome).inc()
    return ok({"received": True, "duplicate": row_id is None, "event_id": event["id"]})


@billing.get("/metrics", response_model=Envelope[MonthMetrics], responses=error_responses(401, 422))
async def get_metrics(
    actor: Viewer, ctx: Ctx, session: Session, month: str | None = None
) -> object:
    target = _month_or_current(month)
    currency = ctx.settings.billing_currency.lower()
    [figures] = await metrics.compute_months(session, [target], currency, _now())
    return ok(figures.report(currency))


@billing.get(
    "/comparison", response_model=Envelope[Comparison], responses=error_responses(401, 422)
)
async def get_comparison(
    actor: Viewer, ctx: Ctx, session: Session, month: str | None = None
) -> object:
    target = _month_or_current(month)
    currency = ctx.settings.billing_currency.lower()
    previous_fig, current_fig = await metrics.compute_months(
        session, [_previous(target), target], currency, _now()
    )
    current, previous = current_fig.report(currency), previous_fig.report(currency)
    change: dict[str, float | int | None] = {}
    change_pct: dict[str, float | None] = {}
    for key in COMPARED:
        now_value, before = current[key], previous[key]
        if now_value is None or before is None:
            change[key], change_pct[key] = None, None
            continue
        change[key] = now_value - before
        change_pct[key] = None if before == 0 else (now_value - before) / abs(before)
    return ok(
        {
            "month": current["month"],
            "previous_month": previous["month"],
            "current": current,
            "previous": previous,
            "change": change,
            "change_pct": change_pct,
        }
    )


@billing.get(
    "/metrics/series",
    response_model=Envelope[list[MonthMetrics]],
    responses=error_responses(401, 422),
)
async def get_series(
    actor: Viewer,
    ctx: Ctx,
    session: Session,
    from_: Annotated[str | None, Query(alias="from")] = None,
    to: str | None = None,
) -> object:
    end = _month_or_current(to, "to")
    start = parse_month(from_, "from") or date(end.year - 1, end.month, 1)
    if start > end:
        raise ValidationFailed("«from» debe ser anterior o igual a «to».")
    months = [start]
    while months[-1] < end:
        months.append(metrics.next_month(months[-1]))
        if len(months) > MAX_SERIES_MONTHS:
            raise ValidationFailed(f"Como máximo {MAX_SERIES_MONTHS} meses por consulta.")
    currency = ctx.settings.billing_currency.lower()
    figures = await metrics.compute_months(session, months, currency, _now())
    return ok([f.report(currency) for f in figures], currency=currency)


@billing.get("/invoices", response_model=Page[InvoiceOut], responses=error_responses(401, 422))
async def list_invoices(
    actor: Viewer,
    session: Session,
    pagination: Annotated[Pagination, Depends()],
    customer_id: int | None = None,
    status: Literal["draft", "open", "paid", "void", "uncollectible"] | None = None,
    month: str | None = None,
) -> object:
    rows, total = await service.search_invoices(
        session,
        customer_id=customer_id,
        status=status,
        month=parse_month(month),
        offset=pagination.offset,
        limit=pagination.per_page,
    )
    return Page(data=[InvoiceOut.model_validate(r) for r in rows], meta=pagination.meta(total))


@billing.post("/invoices/sync", status_code=202, responses=error_responses(401, 403))
async def sync_invoices(actor: Admin, ctx: Ctx, session: Session) -> object:
    record(session, actor, "billing.invoices.sync", "invoice", None, {})

    async def _defer() -> None:
        await ctx.queue.tasks[SYNC_TASK].defer_async(timestamp=0)

    on_commit(session, _defer)  # after the audit row commits, like every other job
    return JSONResponse(ok({"queued": True}), status_code=202)


@billing.get("/plans", response_model=Envelope[list[PlanOut]], responses=error_responses(401))
async def list_plans(actor: Viewer, ctx: Ctx, session: Session) -> object:
    plans = await service.list_plans(session, ctx)
    return ok([PlanOut.model_validate(p) for p in plans])


@billing.post(
    "/plans",
    status_code=201,
    response_model=Envelope[PlanOut],
    responses=error_responses(401, 403, 409, 422),
)
async def create_plan(body: PlanCreate, actor: Admin, ctx: Ctx, session: Session) -> object:
    plan = await service.create_plan(session, ctx, body)
    record(session, actor, "billing.plan.create", "plan", plan.code, {"name": plan.name})
    return ok(PlanOut.model_validate(plan))


@billing.put(
    "/plans/{code}",
    response_model=Envelope[PlanOut],
    responses=error_responses(401, 403, 404, 409, 422),
)
async def update_plan(
    code: str, body: PlanUpdate, actor: Admin, ctx: Ctx, session: Session
) -> object:
    plan, changed = await service.update_plan(session, ctx, code, body)
    record(session, actor, "billing.plan.update", "plan", code, {"fields": changed})
    return ok(PlanOut.model_validate(plan))


@billing.get("/events", response_model=Page[EventOut], responses=error_responses(401, 403, 422))
async def list_events(
    actor: Admin,
    session: Session,
    pagination: Annotated[Pagination, Depends()],
    type: Annotated[str | None, Query(max_length=120)] = None,
    state: Literal["pending", "failed", "processed"] | None = None,
) -> object:
    items, total = await service.search_events(
        session, event_type=type, state=state, offset=pagination.offset, limit=pagination.per_page
    )
    return Page(data=[EventOut.model_validate(i) for i in items], meta=pagination.meta(total))


@billing.post(
    "/events/{event_pk}/reprocess",
    status_code=202,
    response_model=Envelope[EventOut],
    responses=error_responses(401, 403, 404),
)
async def reprocess_event(event_pk: int, actor: Admin, ctx: Ctx, session: Session) -> object:
    row = await webhooks.reprocess(session, ctx, event_pk)
    record(
        session,
        actor,
        "billing.event.reprocess",
        "stripe_event",
        event_pk,
        {"event_id": row.event_id},
    )
    out = EventOut.model_validate(row)
    return JSONResponse(jsonable_encoder(ok(out)), status_code=202)


@public.get(
    "/api/tenants/{tenant_id}/billing",
    tags=["tenants"],
    response_model=Envelope[TenantBilling],
    responses=error_responses(401, 404, 422),
)
async def tenant_billing(tenant_id: int, actor: Viewer, ctx: Ctx, session: Session) -> object:
    return ok(await service.tenant_billing(session, ctx, tenant_id))


@public.post(
    "/api/public/checkout",
    status_code=201,
    response_model=Envelope[CheckoutOut],
    responses=error_responses(409, 422, 429, 503),
)
async def public_checkout(body: CheckoutIn, request: Request, ctx: Ctx, session: Session) -> object:
    """Self-service sign-up (no login): opens Stripe Checkout; the tenant comes after payment."""
    row = await checkout.start_checkout(session, ctx, body, client_ip(request))
    return JSONResponse(
        ok({"session_id": row.stripe_session_id, "url": row.url or ""}), status_code=201
    )


@public.get(
    "/api/public/checkout/{session_id}",
    response_model=Envelope[CheckoutStatus],
    responses=error_responses(404, 422),
)
async def public_checkout_status(
    session_id: Annotated[str, Path(max_length=255)], ctx: Ctx, session: Session
) -> object:
    return ok(await checkout.checkout_status(session, ctx, session_id))


router.include_router(public)
router.include_router(billing)
