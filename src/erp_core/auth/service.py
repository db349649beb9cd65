"""Login, rotating refresh tokens with reuse detection, and user management.

Refresh tokens are opaque; only their SHA-256 is stored. Each login starts a family; using a
token spends it and issues the next one in the family. Presenting a spent token means it was
copied: the whole family is revoked, so the thief and the victim both have to log in again.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from erp_core.api import Conflict, NotFound, RateLimited, Unauthorized
from erp_core.audit.service import record, record_detached
from erp_core.auth.schemas import TokenOut
from erp_core.context import AppContext
from erp_core.deps import Actor
from erp_core.models import RefreshToken, User
from erp_core.security import (
    generate_password,
    hash_password,
    issue_access_token,
    sha256_hex,
    verify_password,
)

INVALID_CREDENTIALS = "Correo electrónico o contraseña incorrectos."
INVALID_REFRESH = "La sesión ha caducado o no es válida. Inicie sesión de nuevo."


def _now() -> datetime:
    return datetime.now(UTC)


async def _issue_tokens(
    session: AsyncSession, ctx: AppContext, user: User, family_id: uuid.UUID, ip: str | None
) -> TokenOut:
    settings = ctx.settings
    assert settings.jwt_secret_key is not None
    raw = secrets.token_urlsafe(48)
    session.add(
        RefreshToken(
            id=uuid.uuid4(),
            user_id=user.id,
            family_id=family_id,
            token_hash=sha256_hex(raw),
            expires_at=_now() + timedelta(seconds=settings.refresh_token_ttl_seconds),
            ip=ip,
        )
    )
    access = issue_access_token(
        settings.jwt_secret_key, user.id, user.role, settings.access_token_ttl_seconds
    )
    return TokenOut(
        access_token=access, refresh_token=raw, expires_in=settings.access_token_ttl_seconds
    )


async def issue_session(
    session: AsyncSession, ctx: AppContext, user: User, ip: str | None
) -> TokenOut:
    """A new login session for `user` (the portal's verification link signs the customer in)."""
    return await _issue_tokens(session, ctx, user, uuid.uuid4(), ip)


async def _check_login_rate(ctx: AppContext, ip: str | None, email: str) -> None:
    settings = ctx.settings
    window = settings.login_rate_limit_window_seconds
    ip_count = await ctx.cache.incr(f"rl:login:ip:{ip}", window)
    account_failures = await ctx.cache.get(f"rl:login:acct:{email}")
    if ip_count > settings.login_rate_limit_per_ip or int(account_failures or b"0") >= (
        settings.login_rate_limit_per_account
    ):
        raise RateLimited(
            "Demasiados intentos de inicio de sesión. Espere unos minutos.", retry_after=window
        )


async def login(
    session: AsyncSession, ctx: AppContext, actor: Actor, email: str, password: str
) -> TokenOut:
    email = email.strip().lower()
    await _check_login_rate(ctx, actor.ip, email)
    user = await session.scalar(select(User).where(func.lower(User.email) == email))
    valid = verify_password(user.password_hash if user else None, password)
    if user is None or not valid or user.disabled:
        await ctx.cache.incr(f"rl:login:acct:{email}", ctx.settings.login_rate_limit_window_seconds)
        reason = "disabled" if user is not None and valid else "bad_credentials"
        # Attribute the attempt to the e-mail tried: "Sistema" hides who is being attacked.
        tried = replace(actor, email=email[:254])
        await record_detached(
            ctx,
            tried,
            "auth.login_failed",
            "user",
            user.id if user else None,
            {"email": email, "reason": reason},
        )
        raise Unauthorized(INVALID_CREDENTIALS, code="INVALID_CREDENTIALS")
    await ctx.cache.delete(f"rl:login:acct:{email}")
    user.last_login_at = _now()
    tokens = await _issue_tokens(session, ctx, user, uuid.uuid4(), actor.ip)
    me = Actor(user.id, user.email, user.role, actor.ip, actor.request_id)
    record(session, me, "auth.login", "user", user.id)
    return tokens


async def _revoke_family(ctx: AppContext, family_id: uuid.UUID) -> None:
    """Revoke in its own transaction: the request itself answers 401 and rolls back."""
    async with ctx.db.sessionmaker() as session:
        await session.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=_now())
        )
        await session.commit()


async def refresh(session: AsyncSession, ctx: AppContext, actor: Actor, raw: str) -> TokenOut:
    token = await session.scalar(
        select(RefreshToken).where(RefreshToken.token_hash == sha256_hex(raw)).with_for_update()
    )
    if token is None:
        raise Unauthorized(INVALID_REFRESH, code="INVALID_TOKEN")
    if token.used_at is not None or token.revoked_at is not None:
        if token.used_at is not None:  # a spent token came back: it was copied
            family_id, owner = token.family_id, token.user_id
            await session.rollback()  # release our row lock before revoking elsewhere
            await _revoke_family(ctx, family_id)
            details = {"family": str(family_id)}
            await record_detached(ctx, actor, "auth.refresh_reuse", "user", owner, details)
        raise Unauthorized(INVALID_REFRESH, code="INVALID_TOKEN")
    if token.expires_at <= _now():
        raise Unauthorized(INVALID_REFRESH, code="INVALID_TOKEN")
    user = await session.get(User, token.user_id)
    if user is None or user.disabled:
        raise Unauthorized(INVALID_REFRESH, code="INVALID_TOKEN")
    token.used_at = _now()
    return await _issue_tokens(session, ctx, user, token.family_id, actor.ip)


async def logout(
    session: AsyncSession, actor: Actor, raw: str | None, *, audit: bool = True
) -> None:
    if raw:
        token = await session.scalar(
            select(RefreshToken).where(
                RefreshToken.token_hash == sha256_hex(raw), RefreshToken.user_id == actor.user_id
            )
        )
        if token is not None:
            await session.execute(
                update(RefreshToken)
                .where(RefreshToken.family_id == token.family_id, RefreshToken.revoked_at.is_(None))
                .values(revoked_at=_now())
            )
    if audit:
        record(session, actor, "auth.logout", "user", actor.user_id)


async def revoke_all_for_user(session: AsyncSession, user_id: int) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=_now())
    )


async def get_user(session: AsyncSession, user_id: int) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound(f"El usuario con ID {user_id} no existe.", code="USER_NOT_FOUND")
    return user


async def list_users(session: AsyncSession, offset: int, limit: int) -> tuple[list[User], int]:
    """Staff accounts only: customers' logins are listed under their customer."""
    staff = User.role != "customer"
    total = await session.scalar(select(func.count(User.id)).where(staff))
    rows = await session.scalars(
        select(User).where(staff).order_by(User.id).offset(offset).limit(limit)
    )
    return list(rows), int(total or 0)


async def create_user(
    session: AsyncSession, email: str, name: str, role: str, password: str | None
) -> tuple[User, str | None]:
    """Create a user; returns the generated password when none was given (shown once)."""
    email = email.strip().lower()
    exists = await session.scalar(select(User.id).where(func.lower(User.email) == email))
    if exists is not None:
        raise Conflict(f"Ya existe un usuario con el correo {email}.", code="USER_EXISTS")
    generated = None if password else generate_password()
    user = User(
        email=email, name=name, role=role, password_hash=hash_password(password or generated or "")
    )
    session.add(user)
    await session.flush()
    return user, generated


async def set_password(session: AsyncSession, user: User, password: str) -> None:
    user.password_hash = hash_password(password)
    await revoke_all_for_user(session, user.id)


async def count_users(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count(User.id))) or 0)
