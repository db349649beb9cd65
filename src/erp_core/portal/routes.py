"""`/api/portal/…`: the customer's own API (sign-up, verification, reset, and the portal).

Public routes (no login): plans, signup, availability, verify, password-reset(+confirm). Every
other route needs a `customer` session (`CurrentCustomer`) and passes its customer id to the
service, which filters on it in SQL.

Checkout design: `POST /verify` spends the link token, marks the e-mail verified, signs the
customer in (returns tokens) and opens the Stripe Checkout of the pending sign-up, returning
its URL. `POST /checkout` (logged in, verified) re-opens or returns the same URL if the
customer closed the tab.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Header, Path, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, StreamingResponse

from erp_core.api import Envelope, Forbidden, NotFound, error_responses, ok
from erp_core.auth.routes import set_refresh_cookie
from erp_core.backups import service as backup_service
from erp_core.deps import Ctx, Session, client_ip
from erp_core.portal import billing, service
from erp_core.portal.deps import CurrentCustomer
from erp_core.portal.schemas import (
    Accepted,
    Availability,
    BillingPortalIn,
    CancelOut,
    CheckoutIn,
    CheckoutLink,
    Credentials,
    PasswordResetConfirmIn,
    PasswordResetDone,
    PasswordResetIn,
    PlanChangeIn,
    PlanChangeOut,
    PortalBackup,
    PortalInvoice,
    PortalJob,
    PortalMe,
    PortalTenant,
    PortalTenantDetail,
    PublicPlan,
    SignupIn,
    UrlOut,
    VerifyIn,
    VerifyOut,
)
from erp_core.runner.routes import job_events

router = APIRouter(prefix="/api/portal", tags=["portal"])
SubdomainName = Annotated[str, Path(min_length=1, max_length=63)]
Id = Annotated[int, Path(ge=1, le=2**62)]


def _accepted(payload: object) -> JSONResponse:
    return JSONResponse(jsonable_encoder(ok(payload)), status_code=202)


@router.post(
    "/signup",
    status_code=202,
    response_model=Envelope[Accepted],
    responses=error_responses(409, 422, 429, 503),
)
async def signup(body: SignupIn, request: Request, ctx: Ctx, session: Session) -> object:
    """Same 202 whether or not the e-mail is registered; the truth goes only by e-mail."""
    return _accepted(await service.signup(session, ctx, body, client_ip(request)))


@router.get("/plans", response_model=Envelope[list[PublicPlan]], responses=error_responses(429))
async def plans(request: Request, ctx: Ctx, session: Session) -> object:
    """Plans on sale with their prices, for /registro (no login: a visitor compares plans)."""
    return ok(await service.public_plans(session, ctx, client_ip(request)))


@router.get(
    "/subdomains/{name}/availability",
    response_model=Envelope[Availability],
    responses=error_responses(422, 429),
)
async def subdomain_availability(
    name: SubdomainName, request: Request, ctx: Ctx, session: Session
) -> object:
    reason = await service.availability(session, ctx, name, client_ip(request))
    return ok(Availability(subdomain=name.strip().lower(), available=reason is None, reason=reason))


@router.post(
    "/verify", response_model=Envelope[VerifyOut], responses=error_responses(400, 409, 422, 503)
)
async def verify(
    body: VerifyIn, request: Request, response: Response, ctx: Ctx, session: Session
) -> object:
    """Signs the customer in like a login does, refresh cookie included: the browser goes
    to Stripe Checkout next and comes back to /portal in a fresh page load, which restores
    the session from that cookie."""
    verified = await service.verify(session, ctx, body.token, client_ip(request))
    set_refresh_cookie(response, request, ctx, verified.tokens.refresh_token)
    return ok(verified)


@router.post(
    "/password-reset",
    status_code=202,
    response_model=Envelope[Accepted],
    responses=error_responses(422, 429),
)
async def password_reset(
    body: PasswordResetIn, request: Request, ctx: Ctx, session: Session
) -> object:
    return _accepted(await service.request_reset(session, ctx, str(body.email), client_ip(request)))


@router.post(
    "/password-reset/confirm",
    response_model=Envelope[PasswordResetDone],
    responses=error_responses(400, 422),
)
async def password_reset_confirm(
    body: PasswordResetConfirmIn, request: Request, session: Session
) -> object:
    await service.confirm_reset(session, body.token, body.password, client_ip(request))
    return ok(PasswordResetDone())


# --- logged-in customer -------------------------------------------------------------------


@router.get("/me", response_model=Envelope[PortalMe], responses=error_responses(401, 403))
async def me(who: CurrentCustomer, session: Session) -> object:
    return ok(await service.me(session, who))


@router.post(
    "/checkout",
    response_model=Envelope[CheckoutLink],
    responses=error_responses(401, 403, 404, 409, 422, 503),
)
async def checkout(body: CheckoutIn, who: CurrentCustomer, ctx: Ctx, session: Session) -> object:
    if not who.verified:
        raise Forbidden(
            "Confirme primero su correo electrónico con el enlace que le enviamos.",
            code="EMAIL_NOT_VERIFIED",
        )
    link = await service.open_checkout(
        session, ctx, who.customer_id, body.checkout_id, renew=body.renew
    )
    if link is None:
        raise NotFound("No hay ningún alta pendiente de pago.", code="CHECKOUT_NOT_FOUND")
    return ok(link)


@router.get(
    "/tenants", response_model=Envelope[list[PortalTenant]], responses=error_responses(401, 403)
)
async def list_tenants(who: CurrentCustomer, ctx: Ctx, session: Session) -> object:
    return ok(await service.list_tenants(session, ctx, who.customer_id))


@router.get(
    "/tenants/{tenant_id}",
    response_model=Envelope[PortalTenantDetail],
    responses=error_responses(401, 403, 404, 422),
)
async def get_tenant(tenant_id: Id, who: CurrentCustomer, ctx: Ctx, session: Session) -> object:
    tenant = await service.own_tenant(session, who.customer_id, tenant_id)
    return ok(await service.tenant_view(session, ctx, tenant, detail=True))


@router.post(
    "/tenants/{tenant_id}/credentials",
    response_model=Envelope[Credentials],
    responses=error_responses(401, 403, 404, 422),
)
async def credentials(tenant_id: Id, who: CurrentCustomer, ctx: Ctx, session: Session) -> object:
    """ "Tu Odoo está listo": URL, admin login and the generated password, shown once."""
    tenant, password = await service.reveal_credentials(session, ctx, who.customer_id, tenant_id)
    return ok(
        Credentials(
            tenant_id=tenant.id,
            url=service.tenant_url(ctx, tenant.subdomain),
            admin_login=tenant.admin_login,
            admin_password=password,
        )
    )


@router.get(
    "/invoices", response_model=Envelope[list[PortalInvoice]], responses=error_responses(401, 403)
)
async def invoices(who: CurrentCustomer, session: Session) -> object:
    rows = await service.list_invoices(session, who.customer_id)
    return ok([PortalInvoice.model_validate(r) for r in rows])


@router.post(
    "/billing-portal",
    response_model=Envelope[UrlOut],
    responses=error_responses(401, 403, 409, 422, 503),
)
async def billing_portal(
    body: BillingPortalIn, who: CurrentCustomer, ctx: Ctx, session: Session
) -> object:
    return ok(UrlOut(url=await billing.billing_portal_url(session, ctx, who, body.return_path)))


@router.post(
    "/tenants/{tenant_id}/plan",
    response_model=Envelope[PlanChangeOut],
    responses=error_responses(401, 403, 404, 409, 422, 503),
)
async def change_plan(
    tenant_id: Id, body: PlanChangeIn, who: CurrentCustomer, ctx: Ctx, session: Session
) -> object:
    return ok(
        await billing.change_plan(
            session, ctx, who, tenant_id, body.plan, body.interval, body.accept_downtime
        )
    )


@router.post(
    "/tenants/{tenant_id}/cancel",
    response_model=Envelope[CancelOut],
    responses=error_responses(401, 403, 404, 409, 422, 503),
)
async def cancel(tenant_id: Id, who: CurrentCustomer, ctx: Ctx, session: Session) -> object:
    return ok(await billing.cancel(session, ctx, who, tenant_id))


@router.get(
    "/tenants/{tenant_id}/backups",
    response_model=Envelope[list[PortalBackup]],
    responses=error_responses(401, 403, 404, 422),
)
async def backups(tenant_id: Id, who: CurrentCustomer, session: Session) -> object:
    rows = await service.list_backups(session, who.customer_id, tenant_id)
    return ok(
        [
            PortalBackup(
                id=b.id,
                tenant_id=b.tenant_id,
                kind=b.kind,
                status=b.status,
                size_bytes=b.size_bytes,
                started_at=b.started_at,
                finished_at=b.finished_at,
                downloadable=b.status == "succeeded" and bool(b.location),
            )
            for b in rows
        ]
    )


@router.get(
    "/backups/{backup_id}/download",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/zip": {}}, "description": "El zip del respaldo."},
        **error_responses(401, 403, 404, 409, 422),
    },
)
async def download_backup(
    backup_id: Id, who: CurrentCustomer, ctx: Ctx, session: Session
) -> StreamingResponse:
    await service.own_backup(session, who.customer_id, backup_id)
    download = await backup_service.open_download(session, ctx, who.actor, backup_id)
    ascii_name = download.filename.encode("ascii", "replace").decode().replace('"', "")
    headers = {
        "Content-Disposition": (
            f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(download.filename)}"
        ),
        "Cache-Control": "no-store",
    }
    if download.size is not None:
        headers["Content-Length"] = str(download.size)
    return StreamingResponse(download.chunks, media_type="application/zip", headers=headers)


@router.get(
    "/jobs/{job_id}",
    response_model=Envelope[PortalJob],
    responses=error_responses(401, 403, 404, 422),
)
async def get_job(job_id: Id, who: CurrentCustomer, session: Session) -> object:
    job = await service.own_job(session, who.customer_id, job_id)
    return ok(
        PortalJob(
            id=job.id,
            tenant_id=job.tenant_id,
            kind=job.kind,
            status=job.status,
            progress=job.progress,
            error=job.error,
            created_at=job.created_at,
            finished_at=job.finished_at,
        )
    )


@router.get(
    "/jobs/{job_id}/events",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "Server-Sent Events"},
        **error_responses(401, 403, 404, 422),
    },
)
async def job_stream(
    job_id: Id,
    who: CurrentCustomer,
    ctx: Ctx,
    session: Session,
    last_event_id: Annotated[int | None, Header(ge=0, le=2**62)] = None,
) -> StreamingResponse:
    """The same live progress operators see, for the owning customer only (no job params)."""
    await service.own_job(session, who.customer_id, job_id)
    return StreamingResponse(
        job_events(ctx, job_id, last_event_id or 0, public=True),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
