"""`erp-core`: serve, worker, migrate, users, openapi."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from erp_core.auth import service
from erp_core.composition import build_context, register_hooks
from erp_core.config import Settings, get_settings
from erp_core.db import Database, resolve_database_url, run_after_commit, to_libpq_url
from erp_core.lab.runtime import price_lab_plans_sync, start_lab
from erp_core.lab.simulation_job import start_simulation
from erp_core.logs_setup import configure_logging
from erp_core.main import create_app
from erp_core.models import Job, JobLog, User
from erp_core.runner.queue import worker_options
from erp_core.security import SecretBox, generate_password
from erp_core.settings.service import rotate_secrets

T = TypeVar("T")

app = typer.Typer(help="Jeturing Core: plano de control de Odoo ERP.", no_args_is_help=True)
users_app = typer.Typer(help="Gestión de usuarios del panel.", no_args_is_help=True)
app.add_typer(users_app, name="users")
settings_app = typer.Typer(help="Ajustes y secretos.", no_args_is_help=True)
app.add_typer(settings_app, name="settings")
lab_app = typer.Typer(help="Herramientas del modo laboratorio.", no_args_is_help=True)
app.add_typer(lab_app, name="lab")


def migrations_dir() -> Path:
    return Path(__file__).resolve().parent / "migrations"


def run_migrations(database_url: str) -> None:
    """`alembic upgrade head` against `database_url` (idempotent, safe on every start)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.set_main_option("sqlalchemy.url", to_libpq_url(database_url).replace("%", "%%"))
    command.upgrade(cfg, "heads")


def _prepare(settings: Settings) -> str:

    url = resolve_database_url(settings)
    run_migrations(url)
    return url


@app.command()
def migrate() -> None:
    """Apply database migrations (creates every table on an empty database)."""

    settings = get_settings()
    configure_logging(settings.erp_core_log_level, settings.erp_core_log_format)
    _prepare(settings)
    typer.echo("Migraciones aplicadas.")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Dirección de escucha")] = None,
    port: Annotated[int | None, typer.Option(help="Puerto")] = None,
    lab: Annotated[
        bool, typer.Option("--lab", help="Emula Odoo, Cloudflare, Proxmox y Stripe")
    ] = False,
    worker: Annotated[bool | None, typer.Option(help="Ejecutar el worker en el proceso")] = None,
) -> None:
    """Serve the API and the admin app (and, by default, an in-process job worker)."""
    import uvicorn

    settings = get_settings()
    configure_logging(settings.erp_core_log_level, settings.erp_core_log_format)
    host = host or settings.erp_core_host
    port = port or settings.erp_core_port
    settings.erp_core_host, settings.erp_core_port = host, port  # the lab calls back here
    settings.erp_core_public_url = (
        settings.erp_core_public_url
        if "ERP_CORE_PUBLIC_URL" in _env_keys()
        else f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    )
    lab_runtime = None
    if lab:
        lab_runtime = start_lab(settings)
    _prepare(settings)
    if lab_runtime is not None:
        price_lab_plans_sync(settings)  # the plans get lab Stripe prices (issue 19)
    application = create_app(settings, run_worker=worker, lab=lab_runtime)
    typer.echo(f"Jeturing Core en http://{host}:{port}  (API: /api/docs)")
    try:
        uvicorn.run(application, host=host, port=port, log_config=None, access_log=False)
    finally:
        if lab_runtime is not None:
            lab_runtime.stop()


def _env_keys() -> set[str]:
    import os

    return {k.upper() for k in os.environ}


@app.command("worker")
def worker_cmd(
    concurrency: Annotated[int | None, typer.Option(help="Trabajos simultáneos")] = None,
) -> None:
    """Run a standalone job worker (start several, on several machines, against one database)."""

    settings = get_settings()
    configure_logging(settings.erp_core_log_level, settings.erp_core_log_format)
    _prepare(settings)

    async def _run() -> None:
        ctx = build_context(settings)
        async with ctx.queue.open_async():
            options = worker_options(ctx, concurrency=concurrency)
            options["install_signal_handlers"] = True
            await ctx.queue.run_worker_async(**options)
        await ctx.close()

    asyncio.run(_run())


@app.command()
def openapi(
    output: Annotated[Path | None, typer.Option("--output", "-o")] = None,
) -> None:
    """Print (or write) the OpenAPI document, for the frontend's generated types."""

    document = create_app(get_settings()).openapi()
    text = json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    if output:
        output.write_text(text)
    else:
        sys.stdout.write(text)


def _with_session(fn: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `fn(session)` in one committed transaction on the configured database."""

    settings = get_settings()
    url = _prepare(settings)

    async def _run() -> T:
        db = Database(url, pool_size=1)
        try:
            async with db.sessionmaker() as session:
                result = await fn(session)
                await session.commit()
                return result
        finally:
            await db.dispose()

    return asyncio.run(_run())


@users_app.command("create")
def users_create(
    email: str,
    role: Annotated[str, typer.Option(help="admin | operator | viewer")] = "operator",
    name: Annotated[str, typer.Option()] = "",
    password: Annotated[
        str | None, typer.Option(help="Vacía: se genera y se muestra una vez")
    ] = None,
) -> None:
    """Create a user."""

    if role not in ("admin", "operator", "viewer"):
        raise typer.BadParameter("El rol debe ser admin, operator o viewer.")

    async def _create(session: AsyncSession) -> Any:
        return await service.create_user(session, email, name, role, password)

    user, generated = _with_session(_create)
    typer.echo(f"Usuario {user.email} creado (ID {user.id}, rol {user.role}).")
    if generated:
        typer.echo(f"Contraseña: {generated}")


@users_app.command("list")
def users_list() -> None:
    """List users."""

    async def _list(session: AsyncSession) -> Any:
        users, _ = await service.list_users(session, 0, 10_000)
        return users

    for user in _with_session(_list):
        state = "deshabilitado" if user.disabled else "activo"
        typer.echo(f"{user.id:>4}  {user.email:<40} {user.role:<9} {state}")


@users_app.command("set-password")
def users_set_password(
    email: str,
    password: Annotated[str | None, typer.Option(help="Vacía: se genera y se muestra")] = None,
) -> None:
    """Set a user's password (revokes their sessions)."""
    from sqlalchemy import func, select

    new_password = password or generate_password()

    async def _set(session: AsyncSession) -> Any:
        user = await session.scalar(select(User).where(func.lower(User.email) == email.lower()))
        if user is None:
            return False
        await service.set_password(session, user, new_password)
        return True

    if not _with_session(_set):
        typer.echo(f"No existe el usuario {email}.", err=True)
        raise typer.Exit(1)
    typer.echo(
        "Contraseña actualizada." + ("" if password else f" Nueva contraseña: {new_password}")
    )


@users_app.command("disable")
def users_disable(email: str) -> None:
    """Disable a user and revoke their sessions."""
    from sqlalchemy import func, select

    async def _disable(session: AsyncSession) -> Any:
        user = await session.scalar(select(User).where(func.lower(User.email) == email.lower()))
        if user is None:
            return False
        user.disabled = True
        await service.revoke_all_for_user(session, user.id)
        return True

    if not _with_session(_disable):
        typer.echo(f"No existe el usuario {email}.", err=True)
        raise typer.Exit(1)
    typer.echo(f"Usuario {email} deshabilitado.")


@settings_app.command("rotate-key")
def settings_rotate_key(
    new_key: Annotated[
        str | None,
        typer.Option(help="Nueva clave (vacía: se genera una)", envvar="ERP_CORE_NEW_SECRET_KEY"),
    ] = None,
) -> None:
    """Re-encrypt every stored secret with a new ERP_CORE_SECRET_KEY, in one transaction."""
    import os
    import secrets as pysecrets

    settings = get_settings()
    assert settings.erp_core_secret_key is not None
    register_hooks()  # the encrypted columns the domains declared
    old_box = SecretBox(settings.erp_core_secret_key)
    key = new_key or pysecrets.token_urlsafe(48)
    new_box = SecretBox(key)

    async def _rotate(session: AsyncSession) -> int:
        return await rotate_secrets(session, old_box, new_box)

    count = _with_session(_rotate)
    key_file = settings.var_dir / "keys" / "secret_key"
    if "ERP_CORE_SECRET_KEY" not in os.environ and key_file.exists():
        key_file.write_text(key)
        typer.echo(f"{count} secretos recifrados; nueva clave guardada en {key_file}.")
    else:
        typer.echo(
            f"{count} secretos recifrados. Actualice ERP_CORE_SECRET_KEY con la nueva clave:"
        )
        typer.echo(key)


@lab_app.command("simulate")
def lab_simulate(
    months: Annotated[int, typer.Option(min=1, max=24, help="Meses simulados")] = 12,
    customers: Annotated[int, typer.Option(min=1, max=200, help="Clientes simulados")] = 40,
    seed: Annotated[int, typer.Option(min=0, help="Semilla (misma semilla, misma historia)")] = 1,
    timeout: Annotated[float, typer.Option(help="Segundos máximos de espera")] = 1800.0,
) -> None:
    """Simulate a year of business in the running `serve --lab` (a job it runs itself)."""
    import time

    import httpx
    from sqlalchemy import select

    settings = get_settings()
    base = f"http://{settings.erp_core_host}:{settings.erp_core_port}"
    try:
        health = httpx.get(f"{base}/api/health", timeout=5).json()
    except (httpx.HTTPError, ValueError):
        health = {}
    if not (health.get("data") or {}).get("lab"):
        typer.echo(f"No hay un `erp-core serve --lab` escuchando en {base}.", err=True)
        raise typer.Exit(2)
    _prepare(settings)

    async def _run() -> str:
        ctx = build_context(settings)
        db = ctx.db
        try:
            await ctx.queue.open_async()
            async with db.sessionmaker() as session:
                job = await start_simulation(
                    session, ctx, months=months, customers=customers, seed=seed, created_by=None
                )
                job_id = job.id
                await session.commit()
                await run_after_commit(session)  # deferred now; the lab server's worker runs it
            typer.echo(f"Trabajo {job_id} en cola.")
            seen, deadline = 0, time.monotonic() + timeout
            while time.monotonic() < deadline:
                async with db.sessionmaker() as session:
                    row = await session.get(Job, job_id)
                    logs = list(
                        await session.scalars(
                            select(JobLog)
                            .where(JobLog.job_id == job_id, JobLog.id > seen)
                            .order_by(JobLog.id)
                        )
                    )
                for entry in logs:
                    typer.echo(f"  {entry.message}")
                    seen = entry.id
                if row is not None and row.status in ("succeeded", "failed", "cancelled"):
                    return str(row.status)
                await asyncio.sleep(1)
            return "timeout"
        finally:
            await ctx.queue.close_async()
            await ctx.close()

    status = asyncio.run(_run())
    typer.echo(f"Simulación: {status}.")
    if status != "succeeded":
        raise typer.Exit(1)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
