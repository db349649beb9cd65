"""The ``template_build`` job: create a template database with Odoo's own path, install
the plan's modules, verify, then publish it (and drop the database it replaces).

The new database gets a fresh name per build, so a ready template keeps serving clones
until its replacement is verified; a failed build drops what it created and marks the row
``broken`` with the reason.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from erp_core.drivers.base import DriverError, OdooDatabaseManager
from erp_core.drivers.factory import odoo_for
from erp_core.models import OdooServer, OdooTemplate
from erp_core.runner.engine import Operation, Step, StepFailed, StepRun
from erp_core.templates import spares
from erp_core.templates.service import BUILD_KIND, TEMPLATE_ADMIN_LOGIN, drop_quietly, template_key


async def _load(run: StepRun) -> tuple[OdooTemplate, OdooServer]:
    async with run.session() as session:
        row = await session.get(OdooTemplate, int(run.params["template_id"]))
        if row is None:
            raise StepFailed("La plantilla ya no existe.")
        server = await session.get(OdooServer, row.odoo_server_id)
        if server is None:
            raise StepFailed("El servidor Odoo de la plantilla ya no existe.")
        session.expunge(row)
        session.expunge(server)
    return row, server


async def _odoo(run: StepRun) -> tuple[OdooTemplate, OdooServer, OdooDatabaseManager]:
    row, server = await _load(run)
    return row, server, odoo_for(run.ctx, server)


async def create_template_database(run: StepRun) -> dict[str, Any]:
    row, server, odoo = await _odoo(run)
    name = str(run.params["db_name"])
    try:
        version = await odoo.server_version()
        if not await odoo.database_exists(name):
            await run.log("info", f"Creando la plantilla {name} en {server.name} (Odoo {version})…")
            await odoo.create_database(
                name,
                admin_login=TEMPLATE_ADMIN_LOGIN,
                admin_password=run.secret("admin_password"),
                lang=row.lang,
                country_code=row.country or None,
            )
    finally:
        await odoo.aclose()
    return {"created": True, "db_name": name, "odoo_version": version}


async def drop_template_database(run: StepRun) -> None:
    if not run.outputs.get("create", {}).get("created"):
        return
    _row, _server, odoo = await _odoo(run)
    try:
        await odoo.drop_database(str(run.params["db_name"]))
    finally:
        await odoo.aclose()


async def install_modules(run: StepRun) -> dict[str, Any]:
    row, _server, odoo = await _odoo(run)
    name = str(run.params["db_name"])
    modules = [str(m) for m in row.modules or []]
    try:
        installed = await odoo.install_modules(
            name, TEMPLATE_ADMIN_LOGIN, run.secret("admin_password"), modules
        )
    finally:
        await odoo.aclose()
    missing = sorted(set(modules) - set(installed))
    if missing:
        raise StepFailed(f"Odoo no instaló los módulos: {', '.join(missing)}.")
    await run.log("info", f"Módulos instalados: {', '.join(installed) or 'solo base'}.")
    return {"modules": installed}


async def pause_crons(run: StepRun) -> dict[str, Any]:
    """A template runs no scheduled actions: Odoo's cron thread visits every database of its
    role, dbfilter or not. Each clone switches the same ones back on (set_company)."""
    _row, _server, odoo = await _odoo(run)
    try:
        paused = await odoo.pause_crons(
            str(run.params["db_name"]), TEMPLATE_ADMIN_LOGIN, run.secret("admin_password")
        )
    finally:
        await odoo.aclose()
    await run.log("info", f"Tareas programadas de Odoo en pausa en la plantilla: {len(paused)}.")
    return {"paused_crons": len(paused)}


async def verify_template(run: StepRun) -> dict[str, Any]:
    """Log in (Odoo answers true even when initialisation failed) and measure the size
    (the backup zip's: what a clone copies, filestore included)."""
    _row, _server, odoo = await _odoo(run)
    name = str(run.params["db_name"])
    size = 0
    try:
        await odoo.verify_login(name, TEMPLATE_ADMIN_LOGIN, run.secret("admin_password"))
        try:
            async with odoo.backup_stream(name) as chunks:
                async for chunk in chunks:
                    size += len(chunk)
        except DriverError as exc:
            await run.log("warning", f"No se pudo medir el tamaño de la plantilla: {exc.message}")
    finally:
        await odoo.aclose()
    return {"size_bytes": size or None}


async def publish_template(run: StepRun) -> dict[str, Any]:
    """Point the row at the new database, then drop the one it replaces."""
    row, _server, odoo = await _odoo(run)
    name = str(run.params["db_name"])
    version = str(run.outputs["create"]["odoo_version"])
    old = row.db_name if row.db_name != name else None
    async with run.session() as session:
        fresh = await session.get(OdooTemplate, row.id, with_for_update=True)
        assert fresh is not None
        fresh.db_name = name
        fresh.state = "ready"
        fresh.odoo_version = version
        fresh.key = template_key(version, fresh.lang, fresh.country, fresh.modules or [])
        fresh.size_bytes = run.outputs.get("verify", {}).get("size_bytes")
        fresh.built_at = datetime.now(UTC)
        fresh.admin_login = TEMPLATE_ADMIN_LOGIN
        fresh.admin_password_enc = run.params["admin_password_enc"]
        fresh.last_error = None
        key = fresh.key
    # Spares are copies of the database this build replaces: retire them, prepare new ones.
    # The unit of work (not run.session()) defers the preparation jobs after commit.
    async for session in run.ctx.db.session():
        retired = await spares.retire(session, row.id)
        fresh = await session.get(OdooTemplate, row.id)
        assert fresh is not None
        queued = await spares.refill(session, run.ctx, fresh)
    try:
        for spare in retired:
            await drop_quietly(odoo, spare)
        if old:
            await odoo.drop_database(old)
    except DriverError as exc:
        await run.log("warning", f"No se pudo eliminar la plantilla anterior {old}: {exc.message}")
    finally:
        await odoo.aclose()
    await run.log("info", f"Plantilla {key} lista ({name}).")
    if queued:
        await run.log("info", f"Se preparan {queued} bases de reserva para altas inmediatas.")
    return {"db_name": name, "key": key, "replaced": old, "spares_queued": queued}


async def build_succeeded(run: StepRun) -> None:
    return None


async def build_failed(run: StepRun, reason: str) -> None:
    async with run.session() as session:
        row = await session.get(OdooTemplate, int(run.params["template_id"]), with_for_update=True)
        if row is not None:
            # a rebuild of a template that was ready leaves it serving; else it is broken
            keep = run.params.get("previous_state") == "ready" and row.db_name is not None
            row.state = "ready" if keep else "broken"
            row.last_error = reason


BUILD = Operation(
    kind=BUILD_KIND,
    label="Construir plantilla Odoo",
    steps=(
        Step(
            "create",
            "Crear la base de datos de la plantilla",
            create_template_database,
            drop_template_database,
        ),
        Step("install_modules", "Instalar los módulos del plan", install_modules),
        Step("pause_crons", "Pausar las tareas programadas de la plantilla", pause_crons),
        Step("verify", "Verificar la plantilla (inicio de sesión)", verify_template),
        Step("publish", "Publicar la plantilla", publish_template),
    ),
    compensate_on_failure=True,
    on_success=build_succeeded,
    on_failure=build_failed,
)

# Registered by erp_core.composition.
OPERATIONS = (BUILD,)
