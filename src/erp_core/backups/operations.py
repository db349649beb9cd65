"""Backup job kinds: backup, restore (in place), restore_copy (new tenant), backup_drill,
backup_verify and backup_delete — each a list of idempotent steps run by the engine.

Restores never write over a database directly: the backup is first restored under a
scratch name (``<sub>-restore-<job>``), checked, and only then swapped in by a rename.
Why: the upload and Odoo's restore are the slow, failure-prone part (minutes for a large
database); doing them under a scratch name keeps the tenant's current database untouched
until a good copy is ready, so a failed restore changes nothing. The swap itself is a drop
and a rename (seconds), and a crash between the two is finished by the re-run (the scratch
database is still there and is renamed). A pre-restore backup is taken first in any case.
"""

from __future__ import annotations

from typing import Any

from erp_core.backups.core import (
    fail_row,
    now_utc,
    record_verification,
    store_backup,
    take_verified_backup,
    verify_and_finish,
    verify_object,
)
from erp_core.backups.schedule import run_schedule
from erp_core.drivers.base import DriverError, OdooDatabaseManager, TransientDriverError
from erp_core.drivers.factory import public_hostname, public_url, store_for
from erp_core.drivers.store import StoreError
from erp_core.models import Backup, Tenant
from erp_core.provisioning.backup import BackupInvalid
from erp_core.provisioning.naming import tenant_database
from erp_core.provisioning.operations import (
    create_succeeded,
    load_tenant,
    locate_database,
    mark_failed,
    place,
    remove_route,
    route_active,
    tenant_odoo,
    update_tenant,
    verify_http,
)
from erp_core.runner.engine import Operation, Step, StepFailed, StepRun, StepSkipped
from erp_core.tenants.credentials import (
    MISSING,
    ServiceCredential,
    new_service_user,
    service_credential,
)


def scratch_name(subdomain: str, purpose: str, job_id: int) -> str:
    return f"{subdomain[:40]}-{purpose}-{job_id}"


async def _backup_row(run: StepRun) -> Backup:
    async with run.session() as session:
        row = await session.get(Backup, int(run.params["backup_id"]))
        if row is None or row.status != "succeeded" or not row.location:
            raise StepFailed("El respaldo elegido ya no está disponible.")
        session.expunge(row)
        return row


# --- backup (manual / scheduled) -------------------------------------------------------------


async def stream_to_store(run: StepRun) -> dict[str, Any]:
    tenant, _server, odoo = await tenant_odoo(run)
    try:
        database = await locate_database(odoo, tenant)
        if database is None:
            raise StepFailed(f"La base de datos «{tenant.subdomain}» no existe en Odoo.")
        taken = await store_backup(
            run, odoo, tenant, run.params["kind"], run.ctx.settings, database
        )
    finally:
        await odoo.aclose()
    return taken.as_output()


async def verify_stored_backup(run: StepRun) -> dict[str, Any]:
    backup_id = int(run.outputs["backup"]["backup_id"])
    return (await verify_and_finish(run, backup_id, run.ctx.settings)).as_output()


async def _fail_open_rows(run: StepRun, reason: str) -> None:
    backup_id = run.outputs.get("backup", {}).get("backup_id")
    if backup_id is not None:
        await fail_row(run, int(backup_id), reason)
    else:
        from sqlalchemy import select

        async with run.session() as session:
            ids = list(
                await session.scalars(
                    select(Backup.id).where(Backup.job_id == run.job_id, Backup.status == "running")
                )
            )
        for row_id in ids:
            await fail_row(run, row_id, reason)


async def backup_done(run: StepRun) -> None:
    await _refill_schedule(run)


async def backup_failed(run: StepRun, reason: str) -> None:
    await _fail_open_rows(run, reason)
    await _refill_schedule(run)


async def _refill_schedule(run: StepRun) -> None:
    """A finished scheduled backup frees its server's slot: start the next one now."""
    if run.params.get("kind") == "scheduled":
        await run_schedule(run.ctx, finishing_job=run.job_id)


# --- restore building blocks ---------------------------------------------------------------


async def _restore_into(run: StepRun, name: str, *, copy: bool, neutralize: bool) -> None:
    row = await _backup_row(run)
    assert row.location is not None
    store = store_for(run.ctx.settings, row.store)
    try:
        await verify_object(store, row.location, row.sha256)
    except BackupInvalid as exc:
        await record_verification(run, row.id, exc.message)
        raise StepFailed(f"El respaldo está dañado y no se restaura: {exc.message}") from exc
    _tenant, _server, odoo = await tenant_odoo(run)
    try:
        if await odoo.database_exists(name):
            await run.log("info", f"Se descarta la base temporal {name} de un intento anterior.")
            await odoo.drop_database(name)
        await run.log("info", f"Cargando el respaldo {row.id} en la base {name}…")
        async with store.local_copy(row.location) as path:
            await odoo.restore_from_file(name, path, copy=copy, neutralize=neutralize)
    except StoreError as exc:
        raise StepFailed(exc.message) from exc
    finally:
        await odoo.aclose()


def _scratch(run: StepRun, subdomain: str) -> str:
    return scratch_name(subdomain, str(run.params.get("scratch", "restore")), run.job_id)


async def restore_scratch(run: StepRun) -> dict[str, Any]:
    tenant = await load_tenant(run)
    name = _scratch(run, tenant.subdomain)
    await _restore_into(
        run,
        name,
        copy=bool(run.params.get("copy", False)),
        neutralize=bool(run.params.get("neutralize", False)),
    )
    return {"scratch": name, "backup_id": int(run.params["backup_id"])}


async def drop_scratch_if_unused(run: StepRun) -> None:
    """Undo: drop the scratch database — unless an in-place swap already dropped the
    tenant's own database, in which case the scratch copy is the tenant's data now."""
    name = run.outputs.get("restore_scratch", {}).get("scratch")
    if not name:
        return
    tenant, _server, odoo = await tenant_odoo(run)
    try:
        if not await odoo.database_exists(name):
            return
        if run.params.get("mode") == "in_place" and await locate_database(odoo, tenant) is None:
            await run.log(
                "error",
                f"Se conserva la base {name}: contiene los datos restaurados y la base "
                f"{tenant.subdomain} ya no existe. Renómbrela o reintente la restauración.",
            )
            return
        await odoo.drop_database(name)
    finally:
        await odoo.aclose()


async def check_scratch(run: StepRun) -> dict[str, Any]:
    """The restored database exists and Odoo serves its login page (it opens)."""
    name = run.outputs["restore_scratch"]["scratch"]
    _tenant, _server, odoo = await tenant_odoo(run)
    try:
        if not await odoo.database_exists(name):
            raise StepFailed(f"Odoo no lista la base restaurada «{name}».")
        if not await odoo.login_page_ok(public_hostname(run.ctx, name)):
            raise StepFailed(f"La base restaurada «{name}» no abre la página de inicio de sesión.")
    finally:
        await odoo.aclose()
    await run.log("info", f"La base restaurada {name} abre correctamente.")
    return {"opened": True}


async def _rename(odoo: OdooDatabaseManager, old: str, new: str) -> None:
    await odoo.rename_database(old, new)


async def swap_in(run: StepRun) -> dict[str, Any]:
    """Replace the tenant's database with the checked scratch copy (drop, then rename).

    The copy takes the name the current database has (a suspended tenant's stays locked
    under ``__susp_…``), or the one the tenant's state says if it is already gone."""
    tenant, _server, odoo = await tenant_odoo(run)
    name = run.outputs["restore_scratch"]["scratch"]
    try:
        current = await locate_database(odoo, tenant)
        if not await odoo.database_exists(name):
            if current is not None:
                return {"swapped": True, "resumed": True}  # an earlier run finished the rename
            raise StepFailed("La base temporal restaurada ya no existe.")
        target = current or tenant_database(tenant)
        if current is not None:
            await odoo.drop_database(current)
        await _rename(odoo, name, target)
    finally:
        await odoo.aclose()
    await run.log("info", f"La base {target} ahora contiene el respaldo restaurado.")
    return {"swapped": True, "database": target}


async def pre_restore_backup(run: StepRun) -> dict[str, Any]:
    tenant, _server, odoo = await tenant_odoo(run)
    try:
        database = await locate_database(odoo, tenant)
        if database is None:
            raise StepSkipped("El tenant no tiene base de datos que respaldar antes de restaurar.")
        taken = await take_verified_backup(run, odoo, tenant, "pre-restore", database)
    finally:
        await odoo.aclose()
    return taken.as_output()


async def restore_done(run: StepRun) -> None:
    await update_tenant(run, last_error=None)


async def restore_failed(run: StepRun, reason: str) -> None:
    """The tenant keeps its status; the reason is shown on it."""
    await _fail_open_rows(run, reason)
    await update_tenant(run, last_error=reason)


# --- restore as a new tenant ------------------------------------------------------------------


async def move_into_place(run: StepRun) -> dict[str, Any]:
    """Rename the checked copy to the new tenant's subdomain, never over another database."""
    tenant, _server, odoo = await tenant_odoo(run)
    name = run.outputs["restore_scratch"]["scratch"]
    try:
        scratch_there = await odoo.database_exists(name)
        target_there = await odoo.database_exists(tenant.subdomain)
        if not scratch_there and target_there:
            return {"moved": True, "resumed": True}
        if target_there:
            raise StepFailed(
                f"Ya existe una base de datos «{tenant.subdomain}» en el servidor; no se toca."
            )
        await _rename(odoo, name, tenant.subdomain)
    finally:
        await odoo.aclose()
    return {"moved": True, "database": tenant.subdomain}


async def drop_moved(run: StepRun) -> None:
    if not run.outputs.get("move", {}).get("moved"):
        return
    tenant, _server, odoo = await tenant_odoo(run)
    try:
        await odoo.drop_database(tenant.subdomain)
    finally:
        await odoo.aclose()


async def _working_credential(
    run: StepRun, odoo: OdooDatabaseManager, copy: Tenant
) -> tuple[ServiceCredential, bool]:
    """The service credential that logs into the copy now: the copy's own when an earlier
    run of this step already rotated it (``True``), else the source's, which the restored
    database still holds."""
    async with run.session() as session:
        source = await session.get(Tenant, int(run.params["source_tenant_id"]))
    own = service_credential(run.ctx, copy)
    from_source = service_credential(run.ctx, source) if source is not None else None
    for credential, rotated in ((own, True), (from_source, False)):
        if credential is None:
            continue
        try:
            await odoo.verify_login(copy.subdomain, credential.login, credential.password)
        except TransientDriverError:
            raise
        except DriverError:
            continue
        return credential, rotated
    if from_source is None:
        raise StepFailed(f"{MISSING} No se puede dar a la copia su propia contraseña.")
    raise StepFailed(
        "El usuario de servicio del tenant de origen no inicia sesión en la copia restaurada "
        "(el respaldo es anterior a él o se cambió su contraseña)."
    )


async def own_credentials(run: StepRun) -> dict[str, Any]:
    """Make the copy its own tenant inside Odoo: a new admin password (the one the API
    returned once), ``web.base.url`` = the copy's public address (Odoo's restore-as-copy
    resets it to ``http://localhost:<port>`` and keeps it frozen), and a new service user
    password. Odoo's copy already gave it a new ``database.uuid`` and ``database.secret``."""
    copy, _server, odoo = await tenant_odoo(run)
    url = public_url(run.ctx, copy.subdomain)
    try:
        credential, rotated = await _working_credential(run, odoo, copy)
        db, login, password = copy.subdomain, credential.login, credential.password
        await odoo.set_user_password(
            db, login, password, copy.admin_login, run.secret("admin_password")
        )
        writer = getattr(odoo, "set_config_param", None)
        if writer is not None:
            await writer(db, login, password, "web.base.url", url)
            await writer(db, login, password, "web.base.url.freeze", "True")
        if not rotated:
            # Stored first, rotated second: a re-run finds the copy's own credential working.
            user = new_service_user(run.ctx)
            async with run.session() as session:
                row = await session.get(Tenant, copy.id)
                assert row is not None
                row.service_login = user["login"]
                row.service_password_enc = run.ctx.secret_box.encrypt(user["password"])
            await odoo.ensure_service_user(db, login, password, user)
            await odoo.verify_login(db, user["login"], user["password"])
    finally:
        await odoo.aclose()
    await run.log(
        "info",
        "La copia tiene su propia contraseña de administrador y su propio usuario de servicio.",
    )
    return {"web_base_url": url if writer is not None else None}


# --- restore drill, verification, deletion --------------------------------------------------


async def drop_scratch(run: StepRun) -> dict[str, Any]:
    await drop_scratch_if_unused(run)
    return {"dropped": run.outputs["restore_scratch"]["scratch"]}


async def _record_drill(run: StepRun, error: str | None) -> None:
    async with run.session() as session:
        row = await session.get(Backup, int(run.params["backup_id"]))
        if row is not None:
            row.drill_status = "failed" if error else "ok"
            row.drill_error = error
            row.drill_at = now_utc()


async def drill_done(run: StepRun) -> None:
    await _record_drill(run, None)


async def drill_failed(run: StepRun, reason: str) -> None:
    await _record_drill(run, reason)


async def verify_backup_step(run: StepRun) -> dict[str, Any]:
    row = await _backup_row(run)
    assert row.location is not None
    try:
        await verify_object(store_for(run.ctx.settings, row.store), row.location, row.sha256)
    except BackupInvalid as exc:
        await record_verification(run, row.id, exc.message)
        raise StepFailed(f"El respaldo no supera la verificación: {exc.message}") from exc
    await record_verification(run, row.id, None)
    return {"backup_id": row.id, "sha256": row.sha256, "ok": True}


async def delete_object(run: StepRun) -> dict[str, Any]:
    async with run.session() as session:
        row = await session.get(Backup, int(run.params["backup_id"]))
        if row is None:
            raise StepFailed("El respaldo ya no existe.")
        store_name, key = row.store, row.location
    removed = False
    if key:
        try:
            removed = await store_for(run.ctx.settings, store_name).delete(key)
        except StoreError as exc:
            raise StepFailed(exc.message) from exc
    return {"removed": removed}


async def mark_deleted(run: StepRun) -> None:
    async with run.session() as session:
        row = await session.get(Backup, int(run.params["backup_id"]))
        if row is not None:
            row.status = "deleted"


async def nothing(run: StepRun, reason: str = "") -> None:
    return None


async def _noop_success(run: StepRun) -> None:
    return None


BACKUP = Operation(
    kind="backup",
    label="Respaldar tenant",
    steps=(
        Step("backup", "Respaldar la base de datos (zip de Odoo)", stream_to_store),
        Step("verify", "Verificar el respaldo (sha256 e índice del zip)", verify_stored_backup),
    ),
    compensate_on_failure=False,
    on_success=backup_done,
    on_failure=backup_failed,
)
RESTORE = Operation(
    kind="restore",
    label="Restaurar tenant desde un respaldo",
    steps=(
        Step("pre_restore", "Respaldo previo a la restauración", pre_restore_backup),
        Step(
            "restore_scratch",
            "Cargar el respaldo en una base temporal",
            restore_scratch,
            drop_scratch_if_unused,
        ),
        Step("check", "Comprobar que la base restaurada abre", check_scratch),
        Step("swap", "Sustituir la base de datos del tenant", swap_in),
        Step("verify_http", "Comprobar que la URL responde", verify_http),
    ),
    compensate_on_failure=True,
    on_success=restore_done,
    on_failure=restore_failed,
)
RESTORE_COPY = Operation(
    kind="restore_copy",
    label="Restaurar respaldo como tenant nuevo",
    steps=(
        Step("place", "Elegir servidor Odoo", place),
        Step(
            "restore_scratch",
            "Cargar el respaldo neutralizado (correo y tareas programadas desactivados)",
            restore_scratch,
            drop_scratch_if_unused,
        ),
        Step("check", "Comprobar que la base restaurada abre", check_scratch),
        Step("move", "Asignar la base al nuevo subdominio", move_into_place, drop_moved),
        Step(
            "own_credentials",
            "Dar a la copia su propia contraseña de administrador",
            own_credentials,
        ),
        Step("route", "Publicar en Cloudflare (túnel y DNS)", route_active, remove_route),
        Step("verify_http", "Comprobar que la URL responde", verify_http),
    ),
    compensate_on_failure=True,
    on_success=create_succeeded,
    on_failure=mark_failed,
)
DRILL = Operation(
    kind="backup_drill",
    label="Simulacro de restauración",
    steps=(
        Step(
            "restore_scratch",
            "Restaurar el último respaldo en una base de prueba",
            restore_scratch,
            drop_scratch_if_unused,
        ),
        Step("check", "Comprobar que la base de prueba abre", check_scratch),
        Step("drop", "Eliminar la base de prueba", drop_scratch),
    ),
    compensate_on_failure=True,
    on_success=drill_done,
    on_failure=drill_failed,
)
VERIFY = Operation(
    kind="backup_verify",
    label="Verificar respaldo",
    steps=(Step("verify", "Recalcular sha256 y revisar el zip", verify_backup_step),),
    compensate_on_failure=False,
    on_success=_noop_success,
    on_failure=nothing,
)
DELETE_BACKUP = Operation(
    kind="backup_delete",
    label="Eliminar respaldo",
    steps=(Step("delete", "Eliminar el archivo del respaldo", delete_object),),
    compensate_on_failure=False,
    on_success=mark_deleted,
    on_failure=nothing,
)

# Registered by erp_core.composition (no registration by import side effect).
OPERATIONS = (
    BACKUP,
    RESTORE,
    RESTORE_COPY,
    DRILL,
    VERIFY,
    DELETE_BACKUP,
)
