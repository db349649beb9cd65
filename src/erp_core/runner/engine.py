"""The operation runner: a persisted job of ordered, idempotent steps.

Each step records its status, attempts, timings, error and output, committed as it goes, so
the UI can follow it live and a crashed run resumes where it stopped (finished steps are not
re-run; the step that was running re-runs, which is safe because every step checks before
it acts). Transient vendor failures retry with exponential backoff and jitter, bounded; a
permanent failure either compensates finished steps in reverse (create) or stops and says
where (suspend, reactivate, delete), per the operation's policy.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from erp_core.context import AppContext
from erp_core.drivers.base import DriverError, TransientDriverError
from erp_core.logs_setup import job_id_var, tenant_id_var
from erp_core.models import Job, JobLog, JobStep
from erp_core.observability.metrics import observe_job

log = logging.getLogger(__name__)

JOB_LOCK_CLASS = 7270


class StepFailed(Exception):
    """A permanent failure with a Spanish, operator-facing message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class StepSkipped(Exception):
    """The step has nothing to do here (e.g. Cloudflare not configured); says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class StepRun:
    """What a step sees: the context, the job's parameters and earlier steps' outputs."""

    ctx: AppContext
    job_id: int
    tenant_id: int | None
    params: dict[str, Any]
    outputs: dict[str, dict[str, Any]]
    step: str = ""
    output: dict[str, Any] = field(default_factory=dict)

    async def log(self, level: str, message: str) -> None:
        await write_log(self.ctx, self.job_id, self.tenant_id, self.step, level, message)

    def secret(self, name: str) -> str:
        return self.ctx.secret_box.decrypt(self.params[f"{name}_enc"])

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A short transaction committed on exit."""
        async with self.ctx.db.sessionmaker() as session:
            yield session
            await session.commit()


StepFn = Callable[[StepRun], Awaitable[dict[str, Any] | None]]
CompensateFn = Callable[[StepRun], Awaitable[None]]
HookFn = Callable[[StepRun], Awaitable[None]]
FailureHookFn = Callable[[StepRun, str], Awaitable[None]]


@dataclass(frozen=True)
class Step:
    name: str
    label: str
    run: StepFn
    compensate: CompensateFn | None = None


@dataclass(frozen=True)
class Operation:
    kind: str
    label: str
    steps: tuple[Step, ...]
    compensate_on_failure: bool
    on_success: HookFn
    on_failure: FailureHookFn


OPERATIONS: dict[str, Operation] = {}
# Run before every job (e.g. settings' apply_overrides, so a worker sees an operator's change
# without a restart); registered by erp_core.composition, the runner imports no domain.
BEFORE_JOB: list[Callable[[AppContext], Awaitable[None]]] = []


def register(*operations: Operation) -> None:
    """Make operation kinds runnable; called by `erp_core.composition` only."""
    for operation in operations:
        OPERATIONS[operation.kind] = operation


def operation_for(kind: str) -> Operation:
    """The registered operation; a missing kind is a wiring bug (composition not run)."""
    try:
        return OPERATIONS[kind]
    except KeyError:
        raise LookupError(
            f"operation kind {kind!r} is not registered; build the context through "
            "erp_core.composition"
        ) from None


async def write_log(
    ctx: AppContext, job_id: int, tenant_id: int | None, step: str | None, level: str, message: str
) -> None:
    async with ctx.db.sessionmaker() as session:
        session.add(
            JobLog(
                job_id=job_id, tenant_id=tenant_id, step=step or None, level=level, message=message
            )
        )
        await session.commit()


def backoff_delay(ctx: AppContext, attempt: int) -> float:
    """Exponential backoff with full jitter, capped (attempt starts at 1)."""
    base = ctx.settings.job_retry_base_seconds
    cap = ctx.settings.job_retry_max_seconds
    return random.uniform(base / 2, min(cap, base * 2 ** (attempt - 1)))


def _now() -> datetime:
    return datetime.now(UTC)


async def _update_step(ctx: AppContext, step_id: int, **values: Any) -> None:
    async with ctx.db.sessionmaker() as session:
        row = await session.get(JobStep, step_id)
        assert row is not None
        for key, value in values.items():
            setattr(row, key, value)
        await session.commit()


async def _update_job(ctx: AppContext, job_id: int, **values: Any) -> None:
    async with ctx.db.sessionmaker() as session:
        row = await session.get(Job, job_id)
        assert row is not None
        for key, value in values.items():
            setattr(row, key, value)
        row.heartbeat_at = _now()
        await session.commit()


async def _record(
    ctx: AppContext,
    row: JobStep,
    *,
    log: tuple[str, str] | None = None,
    tenant_id: int | None = None,
    progress: int | None = None,
    **values: Any,
) -> None:
    """One transaction for a step's bookkeeping: its columns, an optional log line and the
    job's progress (fewer round trips per step is most of the engine's own latency)."""
    async with ctx.db.sessionmaker() as session:
        step = await session.get(JobStep, row.id)
        assert step is not None
        for key, value in values.items():
            setattr(step, key, value)
        if log is not None:
            session.add(
                JobLog(
                    job_id=row.job_id,
                    tenant_id=tenant_id,
                    step=row.name,
                    level=log[0],
                    message=log[1],
                )
            )
        if progress is not None:
            job = await session.get(Job, row.job_id)
            assert job is not None
            job.progress, job.heartbeat_at = progress, _now()
        await session.commit()


async def _run_step(
    run: StepRun, row: JobStep, step: Step, announce: str, progress: int
) -> str | None:
    """Run one step to success, skip or permanent failure; returns the error or None."""
    ctx = run.ctx
    max_attempts = ctx.settings.job_step_max_attempts
    attempts = row.attempts + 1
    run.step = step.name
    await _record(
        ctx,
        row,
        log=("info", announce),
        tenant_id=run.tenant_id,
        status="running",
        started_at=row.started_at or _now(),
        error=None,
        attempts=attempts,
    )
    while True:
        try:
            result = await step.run(run)
        except StepSkipped as skipped:
            await _record(
                ctx,
                row,
                log=("info", f"Paso omitido: {skipped.reason}"),
                tenant_id=run.tenant_id,
                progress=progress,
                status="skipped",
                finished_at=_now(),
                output={"skipped": skipped.reason},
            )
            return None
        except TransientDriverError as exc:
            if attempts >= max_attempts:
                await _vendor_detail(run, exc)
                return await _fail_step(run, row, f"{exc.message} (tras {attempts} intentos)")
            delay = backoff_delay(ctx, attempts)
            await run.log(
                "warning", f"Intento {attempts} fallido: {exc.message}. Reintento en {delay:.1f} s."
            )
            await asyncio.sleep(delay)
            attempts += 1
            await _record(ctx, row, attempts=attempts)
            continue
        except (DriverError, StepFailed) as exc:
            message = exc.message
            cause = exc if isinstance(exc, DriverError) else exc.__cause__
            if isinstance(cause, DriverError):
                await _vendor_detail(run, cause)
            return await _fail_step(run, row, message)
        except Exception:
            log.exception("step crashed", extra={"step": step.name})
            return await _fail_step(
                run, row, "Error interno inesperado (detalles en el registro del servidor)."
            )
        output = result or {}
        run.outputs[step.name] = output
        await _record(
            ctx,
            row,
            progress=progress,
            status="succeeded",
            finished_at=_now(),
            output=output,
            error=None,
        )
        return None


async def _vendor_detail(run: StepRun, exc: DriverError) -> None:
    """The vendor's own words (drivers scrub secrets from them) in the job log and as a
    WARNING in the server log: the Spanish message says what failed, this says why."""
    if not exc.vendor_detail:
        return
    detail = exc.vendor_detail[:2000]
    log.warning(
        "step %s failed: %s (vendor: %s)",
        run.step,
        exc.message,
        detail,
        extra={"job_id": run.job_id, "tenant_id": run.tenant_id, "vendor_code": exc.vendor_code},
    )
    await run.log("warning", f"Detalle del proveedor: {detail}")


async def _fail_step(run: StepRun, row: JobStep, message: str) -> str:
    # An alert matches on this line: tenant, job, step and the (already scrubbed) message.
    log.warning(
        "job step failed",
        extra={
            "job_id": run.job_id,
            "tenant_id": run.tenant_id,
            "step": row.name,
            "error": message,
        },
    )
    await run.log("error", message)
    await _update_step(run.ctx, row.id, status="failed", finished_at=_now(), error=message)
    return message


async def _compensate(run: StepRun, rows: list[JobStep], steps: dict[str, Step]) -> bool:
    """Undo finished steps in reverse order; True when every undo succeeded."""
    complete = True
    for row in reversed(rows):
        step = steps[row.name]
        if row.status != "succeeded" or step.compensate is None:
            continue
        run.step = step.name
        for attempt in range(1, run.ctx.settings.job_step_max_attempts + 1):
            try:
                await step.compensate(run)
            except TransientDriverError as exc:
                if attempt == run.ctx.settings.job_step_max_attempts:
                    await run.log("error", f"No se pudo deshacer «{step.label}»: {exc.message}")
                    complete = False
                    break
                await asyncio.sleep(backoff_delay(run.ctx, attempt))
                continue
            except Exception as exc:
                detail = exc.message if isinstance(exc, DriverError) else "error inesperado"
                await run.log("error", f"No se pudo deshacer «{step.label}»: {detail}")
                complete = False
                break
            await run.log("info", f"Deshecho: {step.label}")
            await _update_step(run.ctx, row.id, status="compensated")
            break
    return complete


@asynccontextmanager
async def _job_lock(ctx: AppContext, job_id: int) -> AsyncIterator[bool]:
    """A session-level advisory lock on a dedicated connection: one runner per job.

    If the process dies, PostgreSQL drops the connection and the lock with it.
    """
    async with ctx.db.engine.connect() as conn:
        got = await conn.scalar(
            text("SELECT pg_try_advisory_lock(:c, :o)"), {"c": JOB_LOCK_CLASS, "o": job_id}
        )
        await conn.commit()
        try:
            yield bool(got)
        finally:
            if got:
                await conn.execute(
                    text("SELECT pg_advisory_unlock(:c, :o)"), {"c": JOB_LOCK_CLASS, "o": job_id}
                )
                await conn.commit()


async def run_operation(ctx: AppContext, job_id: int) -> str | None:
    """Run (or resume) job `job_id` to its end. Safe to call twice: the second call no-ops.

    Returns the outcome ("succeeded"/"failed"), None when there was nothing to run.
    """
    async with _job_lock(ctx, job_id) as acquired:
        if not acquired:
            log.info("job already running elsewhere", extra={"job_id": job_id})
            return None
        async with ctx.db.sessionmaker() as session:
            job = await session.get(Job, job_id)
            if job is None or job.status not in ("queued", "running"):
                return None
            rows = list(
                await session.scalars(
                    select(JobStep).where(JobStep.job_id == job_id).order_by(JobStep.position)
                )
            )
            kind, tenant_id, params, runs = job.kind, job.tenant_id, dict(job.params), job.runs
            job.status, job.runs, job.heartbeat_at = "running", runs + 1, _now()
            job.started_at = job.started_at or _now()
            await session.commit()
        token_job, token_tenant = job_id_var.set(job_id), tenant_id_var.set(tenant_id)
        started = time.perf_counter()
        outcome = "crashed"
        try:
            for hook in BEFORE_JOB:
                await hook(ctx)
            outcome = await _execute(ctx, job_id, tenant_id, kind, params, rows, resumed=runs > 0)
        finally:
            observe_job(kind, outcome, time.perf_counter() - started)
            job_id_var.reset(token_job)
            tenant_id_var.reset(token_tenant)
        return outcome


async def _execute(
    ctx: AppContext,
    job_id: int,
    tenant_id: int | None,
    kind: str,
    params: dict[str, Any],
    rows: list[JobStep],
    *,
    resumed: bool,
) -> str:
    """Run the remaining steps; returns the outcome ("succeeded" or "failed")."""
    operation = operation_for(kind)
    steps = {s.name: s for s in operation.steps}
    outputs = {r.name: dict(r.output) for r in rows if r.status == "succeeded"}
    run = StepRun(ctx, job_id, tenant_id, params, outputs)
    if resumed:
        await run.log("warning", "Se reanuda la operación tras una interrupción.")
    else:
        await run.log("info", f"Inicio: {operation.label}.")
    total = len(rows)
    for index, row in enumerate(rows):
        if row.status in ("succeeded", "skipped"):
            continue
        announce = f"Paso {index + 1}/{total}: {steps[row.name].label}"
        error = await _run_step(run, row, steps[row.name], announce, int((index + 1) * 100 / total))
        if error is not None:
            label = steps[row.name].label
            reason = f"Falló el paso «{label}»: {error}"
            if operation.compensate_on_failure:
                fresh = await _reload_steps(ctx, job_id)
                if not await _compensate(run, fresh, steps):
                    reason += " La limpieza quedó incompleta; revise el registro."
            run.step = ""
            await operation.on_failure(run, reason)
            await _update_job(ctx, job_id, status="failed", error=reason, finished_at=_now())
            await run.log("error", reason)
            log.error(
                "operation failed",
                extra={
                    "job_id": job_id,
                    "tenant_id": tenant_id,
                    "operation": kind,
                    "step": row.name,
                    "error": reason,
                },
            )
            return "failed"
    run.step = ""
    await operation.on_success(run)
    public_params = {k: v for k, v in params.items() if not k.endswith("_enc")}
    await _update_job(
        ctx,
        job_id,
        status="succeeded",
        progress=100,
        finished_at=_now(),
        error=None,
        params=public_params,
    )
    await run.log("info", f"Completado: {operation.label}.")
    return "succeeded"


async def _reload_steps(ctx: AppContext, job_id: int) -> list[JobStep]:
    async with ctx.db.sessionmaker() as session:
        return list(
            await session.scalars(
                select(JobStep).where(JobStep.job_id == job_id).order_by(JobStep.position)
            )
        )


FINISHING_WAIT_SECONDS = 3.0
"""How long a new operation waits for the tenant's previous job to close when that job has
no step left to run (see :func:`settled_open_job`)."""


async def settled_open_job(session: AsyncSession, tenant_id: int) -> int | None:
    """The id of the tenant's open (queued or running) job, or None.

    A tenant reads its new status (``active``…) a moment before its job is marked finished:
    the job's ``on_success`` sets the one, the runner the other right after. An operation
    asked for in that moment would meet the still-open job and answer 409 to someone who
    saw the tenant ready. So an open job with no pending or running step is waited for
    (bounded by :data:`FINISHING_WAIT_SECONDS`); one with work left is returned at once.
    Each query sees what has committed since (PostgreSQL's READ COMMITTED), and the
    runner's close touches only the job's row, so a caller holding the tenant's row lock
    does not block it."""
    deadline = time.monotonic() + FINISHING_WAIT_SECONDS
    while True:
        open_id = await session.scalar(
            select(Job.id).where(Job.tenant_id == tenant_id, Job.status.in_(("queued", "running")))
        )
        if open_id is None:
            return None
        left = await session.scalar(
            select(JobStep.id)
            .where(JobStep.job_id == open_id, JobStep.status.in_(("pending", "running")))
            .limit(1)
        )
        if left is not None or time.monotonic() > deadline:
            return int(open_id)
        await asyncio.sleep(0.05)


async def add_job(
    session: AsyncSession,
    kind: str,
    tenant_id: int | None,
    params: dict[str, Any],
    created_by: int | None,
) -> Job:
    """Write a job and its pending steps in the caller's transaction (deferred after commit).
    Raises IntegrityError while the tenant has another open job (one per tenant, a unique
    index), after waiting for one that is only finishing (:func:`settled_open_job`)."""
    operation = operation_for(kind)
    while True:
        job = Job(
            kind=kind, tenant_id=tenant_id, params=params, created_by=created_by, status="queued"
        )
        try:
            async with session.begin_nested():
                session.add(job)
                await session.flush()
            break
        except IntegrityError as exc:
            if (
                tenant_id is None
                or "uq_jobs_one_open_per_tenant" not in str(exc.orig)
                or await settled_open_job(session, tenant_id) is not None
            ):
                raise
    for position, step in enumerate(operation.steps):
        session.add(
            JobStep(job_id=job.id, position=position, name=step.name, label=step.label, output={})
        )
    await session.flush()
    return job
