"""Alembic environment: our metadata; procrastinate's own objects are left out of `check`."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import create_engine, pool

from erp_core.config import get_settings
from erp_core.db import resolve_database_url, to_sqlalchemy_url
from erp_core.models import Base

config = context.config
target_metadata = Base.metadata


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Ignore the job queue's tables: procrastinate owns them (created by migration 0001)."""
    return not (name or "").startswith("procrastinate")


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        url = resolve_database_url(get_settings())
    return to_sqlalchemy_url(url)


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, include_object=include_object)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = create_engine(_url(), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            include_object=include_object,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
