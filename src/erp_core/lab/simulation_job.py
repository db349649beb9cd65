"""The ``lab_simulate`` job: price the plans, play the simulation, wait for its events.

A job like any other (``jobs`` row written in the request's transaction, deferred after
commit, followed at ``/api/jobs/{id}``), so the API, the CLI and the banner button share one
path. It runs only in the ``serve --lab`` process, where the lab Stripe lives.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from erp_core.context import AppContext
from erp_core.lab.runtime import price_lab_plans
from erp_core.lab.simulate import SimulationError, run_simulation, wait_until
from erp_core.models import Job, StripeEvent
from erp_core.runner.engine import Operation, Step, StepFailed, StepRun
from erp_core.runner.service import start_job

log = logging.getLogger(__name__)

KIND = "lab_simulate"
SETTLE_TIMEOUT_S = 900.0


def _lab_stripe(run: StepRun) -> Any:
    lab = run.ctx.lab
    handle = getattr(lab, "stripe", None) if lab is not None else None
    if handle is None or not run.ctx.settings.stripe_api_base:
        raise StepFailed("La simulación solo funciona en modo laboratorio (serve --lab).")
    return handle


async def price_step(run: StepRun) -> dict[str, Any]:
    _lab_stripe(run)
    prices = await price_lab_plans(run.ctx)
    await run.log("info", "Planes con precio mensual y anual en el Stripe del laboratorio.")
    return {"prices": {code: list(ids) for code, ids in prices.items()}}


async def simulate_step(run: StepRun) -> dict[str, Any]:
    handle = _lab_stripe(run)
    prices = {k: (v[0], v[1]) for k, v in run.outputs["price"]["prices"].items()}
    months, customers = int(run.params["months"]), int(run.params["customers"])

    async def progress(done: int, total: int, message: str) -> None:
        await run.log("info", message)
        async with run.session() as session:
            job = await session.get(Job, run.job_id)
            if job is not None:
                job.progress = max(job.progress, 33 + int(33 * done / max(total, 1)))

    try:
        counts = await run_simulation(
            api_base=handle.api_base,
            api_key=handle.api_key,
            prices=prices,
            months=months,
            customers=customers,
            seed=int(run.params["seed"]),
            run_tag=f"j{run.job_id}",
            progress=progress,
        )
    except SimulationError as exc:
        raise StepFailed(str(exc)) from exc
    return {"actions": counts, "events": len(handle.state.events)}


async def settle_step(run: StepRun) -> dict[str, Any]:
    """Done when the lab Stripe delivered every event and our intake applied each one."""

    handle = _lab_stripe(run)

    async def settled() -> bool:
        with handle.state.lock:
            pending = [d for d in handle.state.deliveries if d["status"] is None]
        if pending:
            return False
        async with run.session() as session:
            waiting = await session.scalar(
                select(func.count(StripeEvent.id)).where(
                    StripeEvent.processed.is_(False), StripeEvent.error.is_(None)
                )
            )
        return not waiting

    if not await wait_until(settled, timeout=SETTLE_TIMEOUT_S, interval=1.0):
        raise StepFailed("Los eventos de la simulación no terminaron de aplicarse a tiempo.")
    async with run.session() as session:
        failed = await session.scalar(
            select(func.count(StripeEvent.id)).where(
                StripeEvent.processed.is_(False), StripeEvent.error.is_not(None)
            )
        )
    await run.log("info", "Todos los eventos de la simulación están aplicados.")
    return {"failed_events": int(failed or 0)}


async def _done(run: StepRun) -> None:
    await run.log("info", "Simulación completada: Facturación ya muestra el año simulado.")


async def _failed(run: StepRun, error: str) -> None:
    log.warning("lab simulation failed", extra={"job_id": run.job_id})


SIMULATE = Operation(
    kind=KIND,
    label="Simular un año de negocio",
    steps=(
        Step("price", "Poner precio a los planes en el Stripe del laboratorio", price_step),
        Step("simulate", "Simular altas, cambios de plan, impagos y bajas", simulate_step),
        Step("settle", "Esperar a que se apliquen los eventos de Stripe", settle_step),
    ),
    compensate_on_failure=False,
    on_success=_done,
    on_failure=_failed,
)


OPERATIONS = (SIMULATE,)


async def start_simulation(
    session: AsyncSession,
    ctx: AppContext,
    *,
    months: int,
    customers: int,
    seed: int,
    created_by: int | None,
) -> Job:
    """Write the job in the caller's transaction; it is deferred after commit."""
    return await start_job(
        session,
        ctx,
        KIND,
        None,
        {"months": months, "customers": customers, "seed": seed},
        created_by,
    )
