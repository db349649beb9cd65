"""What one running control plane holds: settings, database, cache, crypto and the queue.

Built once in the lifespan (or by the CLI/worker) and read by request dependencies from
`app.state.ctx`, so services get their collaborators explicitly instead of importing globals.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from erp_core.cache import Cache, make_cache
from erp_core.config import Settings
from erp_core.db import Database, resolve_database_url
from erp_core.security import SecretBox

if TYPE_CHECKING:
    import procrastinate


@dataclass
class AppContext:
    settings: Settings
    db: Database
    cache: Cache
    secret_box: SecretBox
    queue: procrastinate.App
    lab: Any | None = None  # erp_core.lab runtime when serving with --lab
    extras: dict[Any, Any] = field(default_factory=dict)
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    @property
    def lab_mode(self) -> bool:
        return self.lab is not None

    async def close(self) -> None:
        for closer in reversed(self.closers):
            with contextlib.suppress(Exception):
                await closer()
        self.closers.clear()
        await self.cache.close()
        await self.db.dispose()


def build_context(
    settings: Settings,
    *,
    queue_factory: Callable[[str], procrastinate.App],
    lab: Any | None = None,
) -> AppContext:
    """Wire the process's collaborators from settings (starting embedded PostgreSQL if needed).

    The queue comes from `queue_factory` (the composition root's, which knows every task) so
    this module stays below the runner and the domains.
    """
    url = resolve_database_url(settings)
    assert settings.erp_core_secret_key is not None
    # Every running job holds one connection for its advisory lock (runner.engine._job_lock)
    # and needs another for each step's session: a pool smaller than the worker's
    # concurrency starves the jobs it is running (seen with 20 creates at once).
    pool_size = max(settings.erp_core_db_pool_size, settings.erp_core_worker_concurrency + 2)
    return AppContext(
        settings=settings,
        db=Database(url, pool_size=pool_size),
        cache=make_cache(settings.redis_url),
        secret_box=SecretBox(settings.erp_core_secret_key),
        queue=queue_factory(url),
        lab=lab,
    )
