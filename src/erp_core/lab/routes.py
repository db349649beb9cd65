"""Lab-only API: ``POST /api/lab/simulate`` starts the business simulation as a job.

Admin only, and only when this process serves ``--lab`` (409 ``LAB_MODE_REQUIRED``
otherwise): a production control plane must never drive its Stripe account from here.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from erp_core.api import Conflict, Envelope, error_responses, ok
from erp_core.audit.service import record
from erp_core.deps import Admin, Ctx, Session
from erp_core.lab.simulation_job import start_simulation

router = APIRouter(prefix="/api/lab", tags=["lab"])


class SimulationIn(BaseModel):
    """How much business to simulate; the same seed always tells the same story."""

    model_config = ConfigDict(extra="forbid")

    months: int = Field(default=12, ge=1, le=24)
    customers: int = Field(default=40, ge=1, le=200)
    seed: int = Field(default=1, ge=0, le=2**31 - 1)


class SimulationStarted(BaseModel):
    """A 202 answer: the job that runs the simulation (follow it at /api/jobs/{id})."""

    job_id: int
    months: int
    customers: int
    seed: int


@router.post(
    "/simulate",
    status_code=202,
    response_model=Envelope[SimulationStarted],
    responses=error_responses(401, 403, 409, 422),
)
async def simulate(body: SimulationIn, actor: Admin, ctx: Ctx, session: Session) -> object:
    if not ctx.lab_mode:
        raise Conflict(
            "La simulación solo está disponible en modo laboratorio.", code="LAB_MODE_REQUIRED"
        )
    job = await start_simulation(
        session,
        ctx,
        months=body.months,
        customers=body.customers,
        seed=body.seed,
        created_by=actor.user_id,
    )
    record(session, actor, "lab.simulate", "job", job.id, body.model_dump())
    payload = SimulationStarted(job_id=job.id, **body.model_dump())
    return JSONResponse(jsonable_encoder(ok(payload)), status_code=202)
