"""Spares: clones of a ready template prepared before anyone signs up (issue 15).

Cloning a template is cheap, but a clone still needs PBKDF2 hashes (~0.25 s of Odoo's CPU
each) for its administrator's and its service user's passwords, plus the checks of the
logins that prove them. A spare has had all of that done in the background
(``spare_prepare``): it is a copy of the template under a reserved name (``__spare_…``), with
a random administrator password and a service user whose random password we keep, both
encrypted. Frappe Cloud's "standby sites" are the same idea.

- ``POST /api/tenants`` without a chosen password **reserves** a ready spare on a server
  with room (``FOR UPDATE SKIP LOCKED``: two requests never get the same one) and shows
  the spare's administrator password as the tenant's generated one. The tenant is placed
  on the spare's server.
- The create job **claims** it: rename the spare to the tenant's name (one master-password
  check), log in as its service user, personalise, hand the administrator the tenant's
  login, and prove that login. A spare that cannot be claimed (its server changed, Odoo
  was upgraded, the database vanished) is dropped and the create goes on by cloning the
  template, so both paths end in the same state.
- Each reservation queues a replacement; a template rebuild retires its spares (they are
  copies of the old database) and prepares new ones.
"""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from erp_core.context import AppContext
from erp_core.drivers.base import (
    CompanyProfile,
    DriverError,
    OdooDatabaseManager,
    PermanentDriverError,
    ServiceUser,
    TransientDriverError,
)
from erp_core.drivers.factory import odoo_for
from erp_core.models import OdooServer, OdooSpare, OdooTemplate, Tenant
from erp_core.reconciliation import RESERVED_DATABASE_PREFIXES
from erp_core.runner.engine import Operation, Step, StepFailed, StepRun
from erp_core.runner.service import start_job
from erp_core.security import generate_password
from erp_core.templates.service import (
    TEMPLATE_ADMIN_LOGIN,
    drop_quietly,
    modules_hash,
    plan_modules,
    template_credentials,
)
from erp_core.tenants.credentials import SERVICE_USER_NAME, service_login

SPARE_PREFIX = RESERVED_DATABASE_PREFIXES[3]  # "__spare_": no hostname can select it
assert SPARE_PREFIX == "__spare_"
PREPARE_KIND = "spare_prepare"
PATH_SPARE = "spare"


def new_spare_name(server_id: int) -> str:
    return f"{SPARE_PREFIX}{server_id}_{secrets.token_hex(4)}"


# --- the pool -------------------------------------------------------------------------------


async def refill(session: AsyncSession, ctx: AppContext, template: OdooTemplate) -> int:
    """Queue preparations until the template has ``ODOO_TEMPLATE_SPARES`` ready or
    preparing spares; returns how many were queued. Only RPC-mode servers keep spares
    (host mode clones through ``odoo-bin`` at create time: see docs/instant-tenants.md)."""
    wanted = ctx.settings.odoo_template_spares
    if wanted <= 0 or template.state != "ready" or not template.db_name:
        return 0
    mode = await session.scalar(
        select(OdooServer.mode).where(
            OdooServer.id == template.odoo_server_id, OdooServer.state == "active"
        )
    )
    if mode != "rpc":
        return 0
    have = int(
        await session.scalar(
            select(func.count())
            .select_from(OdooSpare)
            .where(
                OdooSpare.template_id == template.id,
                OdooSpare.state.in_(("preparing", "ready")),
            )
        )
        or 0
    )
    queued = 0
    for _ in range(max(wanted - have, 0)):
        spare = OdooSpare(
            template_id=template.id,
            db_name=new_spare_name(template.odoo_server_id),
            state="preparing",
            admin_password_enc=ctx.secret_box.encrypt(generate_password()),
            service_password_enc=ctx.secret_box.encrypt(generate_password(32)),
        )
        session.add(spare)
        await session.flush()
        job = await start_job(session, ctx, PREPARE_KIND, None, {"spare_id": spare.id}, None)
        spare.prepare_job_id = job.id
        queued += 1
    return queued


async def reserve(
    session: AsyncSession, ctx: AppContext, tenant: Tenant, room: dict[int, int]
) -> tuple[OdooSpare, str] | None:
    """A ready spare for ``tenant`` (same language, country and module set) on an active
    server with room left, locked and marked ``reserved``; with its administrator password,
    which becomes the tenant's. ``room`` is each active server's free capacity."""
    if ctx.settings.odoo_template_spares <= 0:
        return None
    modules = await plan_modules(session, tenant.plan)
    candidates = [server_id for server_id, free in room.items() if free > 0]
    if not candidates:
        return None
    spare = await session.scalar(
        select(OdooSpare)
        .join(OdooTemplate, OdooTemplate.id == OdooSpare.template_id)
        .where(
            OdooSpare.state == "ready",
            OdooTemplate.state == "ready",
            OdooTemplate.odoo_server_id.in_(candidates),
            OdooTemplate.lang == tenant.language,
            OdooTemplate.country == (tenant.country or ""),
            OdooTemplate.modules_hash == modules_hash(modules),
        )
        .order_by(OdooSpare.id)
        .limit(1)
        .with_for_update(of=OdooSpare, skip_locked=True)
    )
    if spare is None:
        return None
    template = await session.get(OdooTemplate, spare.template_id)
    assert template is not None
    spare.state, spare.tenant_id = "reserved", tenant.id
    tenant.odoo_server_id = template.odoo_server_id
    return spare, ctx.secret_box.decrypt(spare.admin_password_enc)


async def refill_template(run: StepRun, template_id: int) -> None:
    """A create that had to clone found no spare: prepare some for the next ones (also how
    a pool starts after ``ODOO_TEMPLATE_SPARES`` is raised). The unit of work (not
    ``run.session()``) defers the preparation jobs after commit."""
    async for session in run.ctx.db.session():
        row = await session.get(OdooTemplate, template_id)
        if row is not None:
            await refill(session, run.ctx, row)


async def refill_after_create(run: StepRun) -> None:
    """A create that reserved a spare has ended (either way): prepare its replacement now,
    not at the reservation, so the preparation's PBKDF2 hashes do not compete for Odoo's
    CPU with the claim they replace."""
    if run.params.get("spare_id") is None:
        return
    async with run.session() as session:
        tenant = await session.get(Tenant, run.tenant_id)
        template_id = await session.scalar(
            select(OdooTemplate.id).where(
                OdooTemplate.odoo_server_id == (tenant.odoo_server_id if tenant else None),
                OdooTemplate.state == "ready",
                OdooTemplate.lang == (tenant.language if tenant else ""),
                OdooTemplate.country == ((tenant.country or "") if tenant else ""),
                OdooTemplate.modules_hash
                == modules_hash(await plan_modules(session, tenant.plan) if tenant else []),
            )
        )
    if template_id is not None:
        await refill_template(run, template_id)


async def retire(session: AsyncSession, template_id: int) -> list[str]:
    """Forget the template's unreserved spares (a rebuild makes them copies of an old
    database); returns their database names for the caller to drop."""
    names = list(
        await session.scalars(
            delete(OdooSpare)
            .where(OdooSpare.template_id == template_id, OdooSpare.state != "reserved")
            .returning(OdooSpare.db_name)
        )
    )
    return [str(n) for n in names]


# --- the claim (a tenant's create_database step) ---------------------------------------------


async def claim(run: StepRun, odoo: OdooDatabaseManager, tenant: Tenant) -> dict[str, Any] | None:
    """Rename the spare reserved for this create into the tenant's database and move its
    service credential onto the tenant; None (after dropping the spare) when it cannot be
    used, and the create clones the template instead. The spare's row goes either way: its
    administrator password was shown to this tenant, so it is never offered again."""
    spare_id = run.params.get("spare_id")
    if spare_id is None:
        return None
    version = await odoo.server_version()
    async with run.session() as session:
        spare = await session.get(OdooSpare, int(spare_id), with_for_update=True)
        template = await session.get(OdooTemplate, spare.template_id) if spare else None
        if spare is None or template is None or spare.tenant_id != tenant.id:
            return None
        db_name, template_id = spare.db_name, template.id
        usable = (
            template.state == "ready"
            and template.odoo_server_id == tenant.odoo_server_id
            and template.odoo_version == version
        )
        if usable:
            row = await session.get(Tenant, tenant.id)
            assert row is not None
            row.service_login = service_login(run.ctx)
            row.service_password_enc = spare.service_password_enc
        await session.delete(spare)
    if not usable:
        await _give_up(run, odoo, db_name, "La base de reserva ya no corresponde al servidor.")
        return None
    try:
        await odoo.rename_database(db_name, tenant.subdomain)
    except TransientDriverError:
        raise
    except DriverError as exc:
        await _give_up(run, odoo, db_name, f"No se pudo usar la base de reserva ({exc.message}).")
        return None
    await run.log("info", f"Base de reserva {db_name} asignada: solo queda personalizarla.")
    return {"path": PATH_SPARE, "template_id": template_id, "spare": db_name}


async def _give_up(run: StepRun, odoo: OdooDatabaseManager, db_name: str, reason: str) -> None:
    await drop_quietly(odoo, db_name)
    await run.log("info", f"{reason} Se clona la plantilla.")


async def personalize_claimed(
    run: StepRun, odoo: OdooDatabaseManager, tenant: Tenant, profile: CompanyProfile
) -> dict[str, Any]:
    """The claimed spare's personalisation, as its service user, and the proof that the
    tenant's administrator logs in, at once.

    The service user's session (a password check, and loading the renamed database's
    registry) hands the administrator the tenant's login, e-mail and language, and
    personalises the company, country, currency, ``web.base.url`` and the template's
    scheduled actions. Beside it, on Odoo's other core, the administrator logs in with the
    tenant's password under the tenant's database name: still with the template's login
    when it gets there first, with the tenant's login once the hand-over has landed (a
    retried step, or a slow session). Odoo logs a user in by finding the login and then
    checking that user's password, so a password proven on the administrator plus a
    confirmed change of its login is the login the tenant will use; the two password checks
    run side by side instead of one after the other (~0.25 s of PBKDF2 each). The
    administrator's password is already the one the tenant was shown (a spare is only
    reserved for a generated password), so no new hash is computed on the way."""
    assert tenant.service_login and tenant.service_password_enc
    login = tenant.service_login
    secret = run.ctx.secret_box.decrypt(tenant.service_password_enc)
    password = run.secret("admin_password")
    db = tenant.subdomain

    async def prove_admin() -> int:
        try:
            return await odoo.verify_login(db, TEMPLATE_ADMIN_LOGIN, password)
        except PermanentDriverError as exc:
            if exc.vendor_code != "login_failed":
                raise
            return await odoo.verify_login(db, tenant.admin_login, password)

    async def company() -> list[int]:
        await odoo.personalize(db, login, secret, profile)
        return await odoo.resume_crons(db, login, secret)

    uid, _handed, resumed = await asyncio.gather(
        prove_admin(),
        odoo.hand_over_admin(
            db, login, secret, TEMPLATE_ADMIN_LOGIN, tenant.admin_login, lang=tenant.language
        ),
        company(),
    )
    await run.log("info", f"Usuario de servicio {login} listo en Odoo.")
    return {"resumed_crons": len(resumed), "uid": uid}


# --- the spare_prepare job -------------------------------------------------------------------


async def _load(run: StepRun) -> tuple[OdooSpare, OdooTemplate, OdooDatabaseManager]:
    async with run.session() as session:
        spare = await session.get(OdooSpare, int(run.params["spare_id"]))
        template = await session.get(OdooTemplate, spare.template_id) if spare else None
        server = await session.get(OdooServer, template.odoo_server_id) if template else None
        if spare is None or template is None or server is None:
            raise StepFailed("La base de reserva ya no hace falta (su plantilla cambió).")
        for row in (spare, template, server):
            session.expunge(row)
    return spare, template, odoo_for(run.ctx, server)


async def copy_template(run: StepRun) -> dict[str, Any]:
    spare, template, odoo = await _load(run)
    try:
        if template.state != "ready" or not template.db_name:
            raise StepFailed("La plantilla no está lista.")
        if not await odoo.database_exists(spare.db_name):
            await odoo.duplicate_database(template.db_name, spare.db_name)
    finally:
        await odoo.aclose()
    return {"created": True, "db_name": spare.db_name, "template": template.db_name}


async def drop_copy(run: StepRun) -> None:
    if not run.outputs.get("copy", {}).get("created"):
        return
    spare, _template, odoo = await _load(run)
    try:
        await drop_quietly(odoo, spare.db_name)
    finally:
        await odoo.aclose()


async def set_credentials(run: StepRun) -> dict[str, Any]:
    """As the template's administrator: the service user with the spare's password, then
    the administrator's own new password (the last call the template's password allows);
    then both logins at once, so only a spare that works is ever offered."""
    spare, template, odoo = await _load(run)
    login, secret = await template_credentials(run, template.id)
    box = run.ctx.secret_box
    admin_password = box.decrypt(spare.admin_password_enc)
    user: ServiceUser = {
        "login": service_login(run.ctx),
        "password": box.decrypt(spare.service_password_enc),
        "name": SERVICE_USER_NAME,
    }
    try:
        await odoo.ensure_service_user(spare.db_name, login, secret, user)
        await odoo.hand_over_admin(
            spare.db_name, login, secret, login, login, lang=template.lang,
            new_password=admin_password,
        )  # fmt: skip
        await asyncio.gather(
            odoo.verify_login(spare.db_name, login, admin_password),
            odoo.verify_login(spare.db_name, user["login"], user["password"]),
        )
    finally:
        await odoo.aclose()
    return {"verified": True}


async def publish(run: StepRun) -> dict[str, Any]:
    async with run.session() as session:
        spare = await session.get(OdooSpare, int(run.params["spare_id"]), with_for_update=True)
        if spare is None:
            raise StepFailed("La base de reserva ya no hace falta (su plantilla cambió).")
        spare.state = "ready"
        name = spare.db_name
    await run.log("info", f"Base de reserva {name} lista.")
    return {"db_name": name}


async def prepare_failed(run: StepRun, reason: str) -> None:
    """A failed preparation leaves nothing: its copy was dropped (compensation) and its row
    goes; the next reservation queues another."""
    async with run.session() as session:
        await session.execute(
            delete(OdooSpare).where(
                OdooSpare.id == int(run.params["spare_id"]), OdooSpare.state == "preparing"
            )
        )


async def prepare_succeeded(run: StepRun) -> None:
    return None


async def counts(session: AsyncSession, template_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per template: its spares by state (the admin app's templates panel)."""
    rows = await session.execute(
        select(OdooSpare.template_id, OdooSpare.state, func.count())
        .where(OdooSpare.template_id.in_(template_ids))
        .group_by(OdooSpare.template_id, OdooSpare.state)
    )
    result: dict[int, dict[str, int]] = {}
    for template_id, state, count in rows.all():
        result.setdefault(int(template_id), {})[str(state)] = int(count)
    return result


async def free_room(session: AsyncSession, exclude_tenant_id: int | None) -> dict[int, int]:
    """Each active server's free capacity: its capacity minus the tenants that count
    against it (all but deleted and failed ones, and ``exclude_tenant_id``)."""
    servers = list(await session.scalars(select(OdooServer).where(OdooServer.state == "active")))
    used = dict(
        (
            await session.execute(
                select(Tenant.odoo_server_id, func.count())
                .where(
                    Tenant.status.notin_(("deleted", "failed")),
                    Tenant.id != (exclude_tenant_id or 0),
                )
                .group_by(Tenant.odoo_server_id)
            )
        ).all()
    )
    return {s.id: s.capacity - int(used.get(s.id, 0)) for s in servers}


PREPARE = Operation(
    kind=PREPARE_KIND,
    label="Preparar base de reserva",
    steps=(
        Step("copy", "Copiar la plantilla", copy_template, drop_copy),
        Step("credentials", "Contraseñas propias y verificación", set_credentials),
        Step("publish", "Dejar lista la base de reserva", publish),
    ),
    compensate_on_failure=True,
    on_success=prepare_succeeded,
    on_failure=prepare_failed,
)

OPERATIONS = (PREPARE,)
