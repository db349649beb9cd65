"""Auth, users and audit endpoints (thin: validate, authorise, call the service)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from erp_core.api import Conflict, Envelope, Page, Pagination, Unauthorized, error_responses, ok
from erp_core.audit import service as audit
from erp_core.auth import service
from erp_core.auth.schemas import (
    AuditOut,
    LoggedOut,
    LoginIn,
    LogoutIn,
    PasswordOut,
    RefreshIn,
    TokenOut,
    UserCreate,
    UserCreated,
    UserOut,
    UserUpdate,
)
from erp_core.deps import (
    Actor,
    Admin,
    Ctx,
    Session,
    anonymous_actor,
    current_actor,
    forget_user,
)
from erp_core.security import generate_password

router = APIRouter(prefix="/api", tags=["auth"])


# The browser keeps its refresh token in this cookie: httpOnly (no script reads it),
# SameSite=Strict and scoped to /api/auth (sent only to login/refresh/logout, never from
# another site), Secure whenever the request came over https. Access tokens stay in memory.
REFRESH_COOKIE = "jc_refresh"
COOKIE_PATH = "/api/auth"
# A refresh by cookie must carry this header: a cross-site form cannot set it, and a
# cross-origin script cannot send it without a CORS preflight this API never grants.
CSRF_HEADER = "x-requested-with"


def _is_https(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"


def set_refresh_cookie(response: Response, request: Request, ctx: Ctx, raw: str) -> None:
    """Give the browser its refresh token in the session cookie (login, refresh, and the
    portal's e-mail verification, which signs the customer in)."""
    response.set_cookie(
        REFRESH_COOKIE,
        raw,
        max_age=ctx.settings.refresh_token_ttl_seconds,
        path=COOKIE_PATH,
        httponly=True,
        secure=_is_https(request),
        samesite="strict",
    )


def _cleared_cookie(request: Request) -> str:
    gone = Response()
    gone.delete_cookie(
        REFRESH_COOKIE,
        path=COOKIE_PATH,
        httponly=True,
        secure=_is_https(request),
        samesite="strict",
    )
    return gone.headers["set-cookie"]


@router.post(
    "/auth/login", response_model=Envelope[TokenOut], responses=error_responses(401, 422, 429)
)
async def login(
    body: LoginIn, request: Request, response: Response, ctx: Ctx, session: Session
) -> object:
    tokens = await service.login(session, ctx, anonymous_actor(request), body.email, body.password)
    set_refresh_cookie(response, request, ctx, tokens.refresh_token)
    return ok(tokens)


@router.post(
    "/auth/refresh", response_model=Envelope[TokenOut], responses=error_responses(401, 422)
)
async def refresh(
    request: Request,
    response: Response,
    ctx: Ctx,
    session: Session,
    body: RefreshIn | None = None,
) -> object:
    """Rotate the refresh token given in the body (API clients) or the session cookie (SPA)."""
    raw = body.refresh_token if body is not None else None
    from_cookie = raw is None
    if from_cookie:
        raw = request.cookies.get(REFRESH_COOKIE)
        if not raw or len(raw) > 512 or not request.headers.get(CSRF_HEADER):
            raise Unauthorized(service.INVALID_REFRESH, code="INVALID_TOKEN")
    assert raw is not None
    try:
        tokens = await service.refresh(session, ctx, anonymous_actor(request), raw)
    except Unauthorized as exc:
        if from_cookie:
            exc.headers = {**(exc.headers or {}), "Set-Cookie": _cleared_cookie(request)}
        raise
    set_refresh_cookie(response, request, ctx, tokens.refresh_token)
    return ok(tokens)


@router.post("/auth/logout", response_model=Envelope[LoggedOut], responses=error_responses(401))
async def logout(
    body: LogoutIn,
    request: Request,
    response: Response,
    actor: Annotated[Actor, Depends(current_actor)],
    session: Session,
) -> object:
    """Any signed-in user may log out, customers included (they have no operator rank)."""
    await service.logout(session, actor, body.refresh_token)
    cookie = request.cookies.get(REFRESH_COOKIE)
    if cookie and cookie != body.refresh_token and len(cookie) <= 512:
        await service.logout(session, actor, cookie, audit=False)
    response.delete_cookie(
        REFRESH_COOKIE,
        path=COOKIE_PATH,
        httponly=True,
        secure=_is_https(request),
        samesite="strict",
    )
    return ok(LoggedOut())


@router.get("/auth/me", response_model=Envelope[UserOut], responses=error_responses(401))
async def me(actor: Annotated[Actor, Depends(current_actor)], session: Session) -> object:
    """Any signed-in user, customers included: the SPA reads the role here to know whether
    to open the operators' panel or the customer portal (one's own user only)."""
    assert actor.user_id is not None
    return ok(UserOut.model_validate(await service.get_user(session, actor.user_id)))


@router.get(
    "/users", response_model=Page[UserOut], tags=["users"], responses=error_responses(401, 403)
)
async def list_users(
    actor: Admin, session: Session, pagination: Annotated[Pagination, Depends()]
) -> object:
    users, total = await service.list_users(session, pagination.offset, pagination.per_page)
    return Page(data=[UserOut.model_validate(u) for u in users], meta=pagination.meta(total))


@router.post(
    "/users",
    status_code=201,
    response_model=Envelope[UserCreated],
    tags=["users"],
    responses=error_responses(401, 403, 409, 422),
)
async def create_user(body: UserCreate, actor: Admin, session: Session) -> object:
    user, generated = await service.create_user(
        session, str(body.email), body.name, body.role, body.password
    )
    audit.record(
        session, actor, "user.create", "user", user.id, {"email": user.email, "role": user.role}
    )
    out = UserCreated.model_validate(user)
    out.password = generated
    return ok(out)


@router.put(
    "/users/{user_id}",
    response_model=Envelope[UserOut],
    tags=["users"],
    responses=error_responses(401, 403, 404, 409, 422),
)
async def update_user(
    user_id: int, body: UserUpdate, actor: Admin, ctx: Ctx, session: Session
) -> object:
    user = await service.get_user(session, user_id)
    changes = body.model_dump(exclude_none=True)
    if user.id == actor.user_id and (
        changes.get("disabled") or changes.get("role", "admin") != "admin"
    ):
        raise Conflict(
            "No puede deshabilitar su propia cuenta ni quitarse el rol de administrador."
        )
    for key, value in changes.items():
        setattr(user, key, value)
    if changes.get("disabled"):
        await service.revoke_all_for_user(session, user.id)
    forget_user(session, ctx, user.id)
    audit.record(session, actor, "user.update", "user", user.id, changes)
    await session.flush()
    await session.refresh(user)
    return ok(UserOut.model_validate(user))


@router.post(
    "/users/{user_id}/reset-password",
    response_model=Envelope[PasswordOut],
    tags=["users"],
    responses=error_responses(401, 403, 404),
)
async def reset_password(user_id: int, actor: Admin, session: Session) -> object:
    user = await service.get_user(session, user_id)
    password = generate_password()
    await service.set_password(session, user, password)
    audit.record(session, actor, "user.reset_password", "user", user.id)
    return ok(PasswordOut(password=password))


@router.get(
    "/audit",
    response_model=Page[AuditOut],
    tags=["audit"],
    responses=error_responses(401, 403, 422),
)
async def list_audit(
    actor: Admin,
    session: Session,
    pagination: Annotated[Pagination, Depends()],
    action: Annotated[str | None, Query(max_length=64)] = None,
    user_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    object_type: Annotated[str | None, Query(max_length=64)] = None,
    object_id: Annotated[str | None, Query(max_length=128)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> object:
    rows, total = await audit.search(
        session,
        offset=pagination.offset,
        limit=pagination.per_page,
        action=action,
        user_id=user_id,
        object_type=object_type,
        object_id=object_id,
        since=since,
        until=until,
    )
    return Page(data=[AuditOut.model_validate(r) for r in rows], meta=pagination.meta(total))
