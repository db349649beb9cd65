"""Request dependencies: context, session (committed before the response), the caller."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from erp_core.api import Forbidden, Unauthorized
from erp_core.context import AppContext
from erp_core.db import on_commit
from erp_core.models import User
from erp_core.security import decode_access_token

ROLE_RANK = {"viewer": 0, "operator": 1, "admin": 2}


def get_ctx(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One unit of work per request; `scope="function"` below makes it commit before replying."""
    ctx = get_ctx(request)
    async for session in ctx.db.session():
        yield session


Ctx = Annotated[AppContext, Depends(get_ctx)]
Session = Annotated[AsyncSession, Depends(get_session, scope="function")]


@dataclass(frozen=True)
class Actor:
    """Who is asking and from where: what services need for authorisation and audit."""

    user_id: int | None
    email: str | None
    role: str
    ip: str | None
    request_id: str | None

    def at_least(self, role: str) -> bool:
        return ROLE_RANK.get(self.role, -1) >= ROLE_RANK[role]


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def request_id(request: Request) -> str | None:
    rid: str | None = getattr(request.state, "request_id", None)
    return rid


def anonymous_actor(request: Request) -> Actor:
    return Actor(None, None, "anonymous", client_ip(request), request_id(request))


async def current_actor(request: Request, session: Session) -> Actor:
    """The caller behind a valid Bearer token whose user still exists and is enabled."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized()
    ctx = get_ctx(request)
    assert ctx.settings.jwt_secret_key is not None
    claims = decode_access_token(ctx.settings.jwt_secret_key, token.strip())
    if claims is None:
        raise Unauthorized("La sesión no es válida o ha caducado.", code="INVALID_TOKEN")
    status = await user_status(ctx, session, claims.user_id)
    if status is None or status.disabled:
        raise Unauthorized("La cuenta no existe o está deshabilitada.", code="INVALID_TOKEN")
    request.state.user_id = claims.user_id
    return Actor(claims.user_id, status.email, status.role, client_ip(request), request_id(request))


@dataclass(frozen=True)
class UserStatus:
    email: str
    role: str
    disabled: bool


USER_STATUS_TTL = 5.0


def user_status_key(user_id: int) -> str:
    return f"user:{user_id}"


async def user_status(ctx: AppContext, session: AsyncSession, user_id: int) -> UserStatus | None:
    """The user's role and state, cached for a few seconds.

    Every authenticated request needs them; reading them from the cache spares a database
    round trip per request. Changes made through the API drop the entry after commit (see
    `forget_user`), so they apply at once; a change made elsewhere (the CLI) applies within
    USER_STATUS_TTL seconds.
    """
    key = user_status_key(user_id)
    cached = await ctx.cache.get(key)
    if cached is not None:
        email, role, disabled = cached.decode().split("\x1f")
        return UserStatus(email, role, disabled == "1")
    user = await session.get(User, user_id)
    if user is None:
        return None
    status = UserStatus(user.email, user.role, user.disabled)
    value = f"{status.email}\x1f{status.role}\x1f{int(status.disabled)}".encode()
    await ctx.cache.set(key, value, USER_STATUS_TTL)
    return status


def forget_user(session: AsyncSession, ctx: AppContext, user_id: int) -> None:
    """Drop the cached status once the change is committed (not before: a concurrent
    request could re-cache the old state in between)."""

    async def _forget() -> None:
        await ctx.cache.delete(user_status_key(user_id))

    on_commit(session, _forget)


def require(role: str) -> Callable[..., Coroutine[Any, Any, Actor]]:
    """Dependency factory: the caller must hold `role` or a higher one."""

    async def dependency(actor: Annotated[Actor, Depends(current_actor)]) -> Actor:
        if not actor.at_least(role):
            raise Forbidden()
        return actor

    return dependency


Viewer = Annotated[Actor, Depends(require("viewer"))]
Operator = Annotated[Actor, Depends(require("operator"))]
Admin = Annotated[Actor, Depends(require("admin"))]
