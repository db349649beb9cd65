"""Webhook intake (verify, store raw, acknowledge) and the processing that follows.

The request only verifies the signature and stores the event (duplicates by event id are
acknowledged and ignored); after commit it defers a queue job, and a periodic sweep
re-defers events a crash left behind. Processing locks the stored row, runs the handler in a
savepoint, records attempts and the last error, and lets the queue retry with backoff.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from procrastinate import exceptions as pq_exceptions
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from erp_core.api import ApiError, BadRequest, NotFound, ServiceUnavailable
from erp_core.billing import events
from erp_core.billing.parse import ts
from erp_core.context import AppContext
from erp_core.db import on_commit, run_after_commit
from erp_core.drivers.base import DriverError, WebhookRejected
from erp_core.drivers.stripe import verify_webhook
from erp_core.models import StripeEvent

log = logging.getLogger(__name__)

BATCH_TASK = "erp.billing.process_stripe_batch"
PROCESS_TASK = "erp.billing.process_event"
MAX_ATTEMPTS = 8
SWEEP_AFTER = timedelta(seconds=30)
TOLERANCE_SECONDS = 300


async def receive(
    session: AsyncSession, ctx: AppContext, payload: bytes, signature: str | None
) -> tuple[int | None, dict[str, Any]]:
    """Verify and store one delivery; returns (row id or None for a duplicate, event)."""
    secret = ctx.settings.stripe_webhook_secret
    if not secret:
        raise ServiceUnavailable(
            "Los webhooks de Stripe no están configurados (falta STRIPE_WEBHOOK_SECRET).",
            code="STRIPE_NOT_CONFIGURED",
        )

    try:
        event = verify_webhook(payload, signature, secret, tolerance=TOLERANCE_SECONDS)
    except WebhookRejected as exc:
        raise BadRequest(exc.message, code="INVALID_WEBHOOK") from exc
    row_id = await session.scalar(
        insert(StripeEvent)
        .values(
            event_id=event["id"][:255],
            event_type=event["type"][:120],
            payload=event,
            created=ts(event.get("created")),
            processed=False,
            attempts=0,
        )
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(StripeEvent.id)
    )
    if row_id is not None:
        defer_after_commit(session, ctx, row_id)
    return row_id, event


def defer_after_commit(session: AsyncSession, ctx: AppContext, event_pk: int) -> None:
    """After the event is stored, make sure a batch job will pick it up (one waits at most)."""

    async def _defer() -> None:
        await defer_batch(ctx)

    on_commit(session, _defer)


async def defer_batch(ctx: AppContext) -> bool:
    """Queue one batch run; while one is already waiting, this is a no-op (queueing lock)."""
    try:
        await ctx.queue.tasks[BATCH_TASK].configure(queueing_lock="stripe-batch").defer_async()
    except pq_exceptions.AlreadyEnqueued:
        return False
    return True


async def process_batch(ctx: AppContext, *, size: int = 200, concurrency: int = 4) -> int:
    """Drain stored events that were never tried, oldest first, in one job.

    One queue job per event costs several queue round trips each; a batch spends them once.
    An event whose handler fails is handed to its own job, which retries it with backoff.
    Events are applied a few at a time: handlers order by the event's `created` time and lock
    the rows they change, so applying them concurrently cannot roll a newer state back.
    """
    gate = asyncio.Semaphore(concurrency)
    done = 0
    while True:
        async with ctx.db.sessionmaker() as session:
            ids = list(
                await session.scalars(
                    select(StripeEvent.id)
                    .where(StripeEvent.processed.is_(False), StripeEvent.attempts == 0)
                    .order_by(StripeEvent.id)
                    .limit(size)
                )
            )
        if not ids:
            return done
        results = await asyncio.gather(*(_apply(ctx, pk, gate) for pk in ids))
        done += sum(results)


async def _apply(ctx: AppContext, event_pk: int, gate: asyncio.Semaphore) -> int:
    """Apply one event under the batch's concurrency limit; a failure goes to its own job."""
    async with gate:
        try:
            await process_event(ctx, event_pk)
            return 1
        except Exception:  # recorded on the row by process_event
            await defer_event(ctx, event_pk)
            return 0


async def defer_event(ctx: AppContext, event_pk: int) -> bool:
    """Queue processing of a stored event once (a waiting job is not duplicated)."""
    task = ctx.queue.tasks[PROCESS_TASK]
    try:
        await task.configure(queueing_lock=f"stripe-event:{event_pk}").defer_async(
            event_pk=event_pk
        )
    except pq_exceptions.AlreadyEnqueued:
        return False
    return True


def _error_text(exc: Exception) -> str:
    if isinstance(exc, DriverError | ApiError):
        return str(getattr(exc, "message", None) or getattr(exc, "detail", ""))[:2000]
    return "Error interno al procesar el evento (detalles en el registro del servidor)."


async def process_event(ctx: AppContext, event_pk: int) -> str | None:
    """Apply one stored event; raises on failure (after recording it) so the queue retries."""
    async with ctx.db.sessionmaker() as session:
        row = await session.get(StripeEvent, event_pk, with_for_update=True)
        if row is None or row.processed:
            return None
        row.attempts += 1
        obj = row.payload.get("data", {})
        ev = events.EventInput(
            session=session,
            ctx=ctx,
            event_id=row.event_id,
            type=row.event_type,
            created=row.created or row.received_at,
            seq=row.id,
            obj=dict(obj.get("object") or {}) if isinstance(obj, dict) else {},
        )
        try:
            async with session.begin_nested():
                outcome = await events.handle(ev)
        except Exception as exc:
            session.info.pop("after_commit", None)
            row.error = _error_text(exc)
            await session.commit()
            log.warning(
                "stripe event failed",
                extra={"event_id": row.event_id, "type": row.event_type, "attempt": row.attempts},
                exc_info=not isinstance(exc, DriverError),
            )
            raise
        row.processed, row.processed_at, row.error = True, datetime.now(UTC), None
        await session.commit()
        await run_after_commit(session)
        log.info("stripe event processed", extra={"event_id": row.event_id, "outcome": outcome})
        return outcome


async def process_pending(ctx: AppContext, *, limit: int = 1000) -> int:
    """Process stored, unprocessed events in reception order (tests and manual catch-up)."""
    async with ctx.db.sessionmaker() as session:
        ids = list(
            await session.scalars(
                select(StripeEvent.id)
                .where(StripeEvent.processed.is_(False))
                .order_by(StripeEvent.id)
                .limit(limit)
            )
        )
    done = 0
    for event_pk in ids:
        try:
            await process_event(ctx, event_pk)
            done += 1
        except Exception:  # recorded on the row; the caller inspects it
            log.debug("event left for retry", extra={"event_pk": event_pk})
    return done


async def sweep_events(ctx: AppContext, now: datetime | None = None) -> int:
    """Re-defer events left unprocessed (a crash between commit and defer, or a lost job)."""
    cutoff = (now or datetime.now(UTC)) - SWEEP_AFTER
    async with ctx.db.sessionmaker() as session:
        ids = list(
            await session.scalars(
                select(StripeEvent.id).where(
                    StripeEvent.processed.is_(False),
                    StripeEvent.attempts < MAX_ATTEMPTS,
                    StripeEvent.received_at < cutoff,
                )
            )
        )
    deferred = 0
    for event_pk in ids:
        if await defer_event(ctx, event_pk):
            deferred += 1
    return deferred


async def reprocess(session: AsyncSession, ctx: AppContext, event_pk: int) -> StripeEvent:
    """Run a stored event again (handlers are idempotent)."""
    row = await session.get(StripeEvent, event_pk, with_for_update=True)
    if row is None:
        raise NotFound(f"El evento con ID {event_pk} no existe.", code="EVENT_NOT_FOUND")
    row.processed, row.processed_at, row.error = False, None, None
    defer_after_commit(session, ctx, event_pk)
    return row
