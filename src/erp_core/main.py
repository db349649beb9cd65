"""create_app(): routers, middleware, error handlers, the SPA, and the lifespan that owns the
process's context (database, cache, queue, optional in-process worker and lab)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from erp_core import __version__
from erp_core.config import Settings, get_settings
from erp_core.context import AppContext, build_context
from erp_core.errors import envelope_openapi, install_error_handlers
from erp_core.middleware import RequestContextMiddleware
from erp_core.spa import default_spa_dir, mount_spa

log = logging.getLogger(__name__)

API_DESCRIPTION = (
    "Plano de control de Jeturing Core: tenants de Odoo, facturación, infraestructura. "
    "Todas las respuestas usan el sobre `{success, data, meta}` / `{success, error, detail}`."
)


def _include_routers(app: FastAPI) -> None:
    from erp_core import health
    from erp_core.auth import routes as auth_routes

    app.include_router(health.router)
    app.include_router(auth_routes.router)
    for module in _optional_routers():
        app.include_router(module.router)
    if os.environ.get("ERP_CORE_BENCH_BASELINE") == "true":
        from erp_core.observability import bench

        app.include_router(bench.router)


def _optional_routers() -> list[ModuleType]:
    """Domain routers; each room registers here as it lands."""
    import importlib

    found = []
    for name in (
        "erp_core.tenants.routes",
        "erp_core.provisioning.routes",
        "erp_core.logs.routes",
        "erp_core.billing.routes",
        "erp_core.infrastructure.routes",
        "erp_core.dashboard.routes",
        "erp_core.settings.routes",
        "erp_core.backups.routes",
        "erp_core.observability.routes",
        "erp_core.reconciliation.routes",
    ):
        try:
            found.append(importlib.import_module(name))
        except ModuleNotFoundError as exc:
            if exc.name is None or not name.startswith(exc.name):
                raise
    return found


async def start_runtime(ctx: AppContext, *, run_worker: bool) -> list[asyncio.Task[None]]:
    """Open the queue, run first-start chores and (optionally) the in-process worker."""
    from erp_core.bootstrap import ensure_first_admin
    from erp_core.jobs import worker_options
    from erp_core.settings.service import apply_overrides
    from erp_core.tenants.servers import ensure_default_server

    await ctx.queue.open_async()
    await apply_overrides(ctx)
    await ensure_first_admin(ctx)
    await ensure_default_server(ctx)
    hooks = ctx.extras.get("startup_hooks", [])
    for hook in hooks:
        await hook(ctx)
    tasks: list[asyncio.Task[None]] = []
    if run_worker:
        tasks.append(asyncio.create_task(ctx.queue.run_worker_async(**worker_options(ctx))))
    return tasks


async def stop_runtime(ctx: AppContext, tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(task, timeout=10)
    with contextlib.suppress(Exception):
        await ctx.queue.close_async()
    await ctx.close()


def create_app(
    settings: Settings | None = None,
    *,
    ctx: AppContext | None = None,
    run_worker: bool | None = None,
    spa_dir: Path | None = None,
    lab: object | None = None,
) -> FastAPI:
    """Build the ASGI app. With `ctx` given (tests), the caller owns the runtime."""
    settings = ctx.settings if ctx else (settings or get_settings())

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if ctx is not None:
            app.state.ctx = ctx
            yield
            return
        built = await asyncio.to_thread(build_context, settings, lab=lab)
        app.state.ctx = built
        worker = settings.erp_core_worker_in_process if run_worker is None else run_worker
        tasks = await start_runtime(built, run_worker=worker)
        # Everything loaded so far lives as long as the process: keep it out of the cyclic
        # collector, whose full passes over it were the latency tail under load.
        gc.freeze()
        try:
            yield
        finally:
            await stop_runtime(built, tasks)

    app = FastAPI(
        title="Jeturing Core API",
        version=__version__,
        description=API_DESCRIPTION,
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    if ctx is not None:
        app.state.ctx = ctx
    install_error_handlers(app)
    _include_routers(app)
    envelope_openapi(app)
    mount_spa(app, spa_dir or default_spa_dir())
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
        )
    app.add_middleware(
        RequestContextMiddleware,
        base_domain=settings.base_domain,
        public_url=settings.erp_core_public_url,
    )
    return app
