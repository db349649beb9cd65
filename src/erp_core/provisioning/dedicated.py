"""Dedicated tenants: one Proxmox LXC container (cloned from the golden Odoo template) each.

Create: reserve node + VMID + address → clone → configure (plan resources, static net0) →
start → wait for Odoo → rotate the template's master password → create the database →
route the node's tunnel to the container → verify. A failed create undoes in reverse; the
reservation's undo also destroys any container left with its VMID and hostname. Suspend
routes to the suspended page, then stops the container; reactivate starts it and routes
back; delete backs up, unroutes, destroys and releases the reservation.

Each container is registered as an ``odoo_servers`` row (capacity 0, so shared placement
never picks it) holding its URL, its own encrypted master password and its node's tunnel:
that is what lets the shared steps (database, company, routing, backup) run unchanged.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from erp_core.billing.provisioning_step import ensure_stripe_subscription
from erp_core.domains import steps as domain_steps
from erp_core.models import DedicatedContainer, Plan, Tenant
from erp_core.provisioning import dedicated_steps as steps
from erp_core.provisioning import operations as shared
from erp_core.runner.engine import Operation, Step, StepRun

log = logging.getLogger(__name__)
DEDICATED_BY_DEFAULT = frozenset({"enterprise"})
_KINDS = ("create", "suspend", "reactivate", "delete")


# --- what the tenant service needs ---------------------------------------------------------


async def plan_is_dedicated(session: AsyncSession, plan_code: str) -> bool:
    """The plan row's ``dedicated`` flag; without a row, enterprise is dedicated."""
    flag = await session.scalar(select(Plan.dedicated).where(Plan.code == plan_code))
    return bool(flag) if flag is not None else plan_code in DEDICATED_BY_DEFAULT


async def operation_kind(session: AsyncSession, tenant: Tenant, kind: str) -> str:
    """The job kind for ``kind`` (create/suspend/reactivate/delete) on this tenant.

    Create follows the plan; the others follow where the tenant actually lives (a live
    dedicated container), so a plan change never strands a running container.
    """
    if kind not in _KINDS:
        return kind
    if kind == "create":
        dedicated = await plan_is_dedicated(session, tenant.plan)
    else:
        dedicated = (
            await session.scalar(
                select(DedicatedContainer.id).where(
                    DedicatedContainer.tenant_id == tenant.id,
                    DedicatedContainer.released_at.is_(None),
                )
            )
            is not None
        )
    return f"{kind}_dedicated" if dedicated else kind


def base_kind(kind: str) -> str:
    """``suspend_dedicated`` → ``suspend`` (for status maps keyed by the shared kinds)."""
    return kind.removesuffix("_dedicated")


async def create_succeeded(run: StepRun) -> None:
    await steps.set_link_state(run, "active", "active")
    await shared.create_succeeded(run)


# --- suspend / reactivate / delete -----------------------------------------------------------


async def suspend_succeeded(run: StepRun) -> None:
    await steps.set_link_state(run, "suspended", "down")
    await shared.suspend_succeeded(run)


async def reactivate_succeeded(run: StepRun) -> None:
    await steps.set_link_state(run, "active", "active")
    await shared.reactivate_succeeded(run)


def _steps_wait_and_route() -> tuple[Step, ...]:
    return (
        Step("start", "Arrancar el contenedor", steps.start),
        Step("wait_odoo", "Esperar a que Odoo responda en el contenedor", steps.wait_odoo),
        Step("route", "Restaurar la ruta hacia Odoo", shared.route_active),
        Step("verify_http", "Comprobar que la URL responde", shared.verify_http),
    )


CREATE_DEDICATED = Operation(
    kind="create_dedicated",
    label="Crear tenant dedicado",
    steps=(
        Step("reserve", "Elegir nodo y reservar VMID y dirección", steps.reserve, steps.release),
        Step("clone", "Clonar la plantilla de Odoo", steps.clone),
        Step("configure", "Asignar CPU, RAM, disco y red del plan", steps.configure),
        Step("start", "Arrancar el contenedor", steps.start),
        Step("wait_odoo", "Esperar a que Odoo responda en el contenedor", steps.wait_odoo),
        Step("secure_odoo", "Sustituir la contraseña maestra de la plantilla", steps.secure_odoo),
        Step(
            "create_database",
            "Crear la base de datos Odoo",
            shared.create_database,
            shared.drop_created_database,
        ),
        Step(
            "verify_database",
            "Verificar la base de datos (inicio de sesión)",
            shared.verify_database,
        ),
        Step("set_company", "Configurar la empresa", shared.set_company),
        Step("stripe", "Crear la suscripción en Stripe", ensure_stripe_subscription),
        Step(
            "route",
            "Publicar en Cloudflare (túnel del nodo y DNS)",
            shared.route_active,
            shared.remove_route,
        ),
        Step("verify_http", "Comprobar que la URL responde", shared.verify_http),
    ),
    compensate_on_failure=True,
    on_success=create_succeeded,
    on_failure=shared.mark_failed,
)
SUSPEND_DEDICATED = Operation(
    kind="suspend_dedicated",
    label="Suspender tenant dedicado",
    steps=(
        Step("route", "Dirigir el dominio a la página de suspensión", shared.route_suspended),
        Step(
            "custom_domains",
            "Dirigir los dominios personalizados a la página de suspensión",
            domain_steps.route_domains_suspended,
        ),
        Step("stop", "Detener el contenedor", steps.stop),
    ),
    compensate_on_failure=False,
    on_success=suspend_succeeded,
    on_failure=shared.mark_failed,
)
REACTIVATE_DEDICATED = Operation(
    kind="reactivate_dedicated",
    label="Reactivar tenant dedicado",
    steps=(
        *_steps_wait_and_route(),
        Step(
            "custom_domains",
            "Restaurar los dominios personalizados",
            domain_steps.route_domains_active,
        ),
    ),
    compensate_on_failure=False,
    on_success=reactivate_succeeded,
    on_failure=shared.mark_failed,
)
DELETE_DEDICATED = Operation(
    kind="delete_dedicated",
    label="Eliminar tenant dedicado",
    steps=(
        Step("start", "Arrancar el contenedor para respaldarlo", steps.start),
        Step("wait_odoo", "Esperar a que Odoo responda en el contenedor", steps.wait_odoo),
        Step("backup", "Respaldo previo verificado", steps.backup),
        Step("unroute", "Retirar ruta y DNS", steps.unroute),
        Step(
            "custom_domains",
            "Retirar los dominios personalizados",
            domain_steps.remove_all_domains,
        ),
        Step("destroy", "Destruir el contenedor y liberar VMID y dirección", steps.destroy),
    ),
    compensate_on_failure=False,
    on_success=shared.delete_succeeded,
    on_failure=shared.mark_failed,
)

# Registered by erp_core.composition (no registration by import side effect).
OPERATIONS = (
    CREATE_DEDICATED,
    SUSPEND_DEDICATED,
    REACTIVATE_DEDICATED,
    DELETE_DEDICATED,
)
