"""Billing's queue tasks: process a stored Stripe event (retried with backoff), sweep events
left behind, the dunning pass and the invoice backfill/sync."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import procrastinate

from erp_core.billing.dunning import run_dunning
from erp_core.billing.service import sync_invoices
from erp_core.billing.webhooks import (
    BATCH_TASK,
    MAX_ATTEMPTS,
    PROCESS_TASK,
    process_batch,
    process_event,
    sweep_events,
)

log = logging.getLogger(__name__)

BILLING_QUEUE = "billing"
SWEEP_TASK = "erp.billing.sweep_events"
DUNNING_TASK = "erp.billing.dunning"
SYNC_TASK = "erp.billing.sync_invoices"


def _ctx(job_context: procrastinate.JobContext) -> object:
    return job_context.additional_context["ctx"]


async def process_stripe_event(job_context: procrastinate.JobContext, event_pk: int) -> None:

    await process_event(_ctx(job_context), event_pk)  # type: ignore[arg-type]


async def process_stripe_batch(job_context: procrastinate.JobContext) -> None:

    await process_batch(_ctx(job_context))  # type: ignore[arg-type]


async def sweep_stripe_events(job_context: procrastinate.JobContext, timestamp: int) -> None:

    await sweep_events(_ctx(job_context))  # type: ignore[arg-type]


async def dunning_pass(job_context: procrastinate.JobContext, timestamp: int) -> None:

    result = await run_dunning(_ctx(job_context), datetime.now(UTC))  # type: ignore[arg-type]
    log.info("dunning pass", extra={"result": result.__dict__})


async def sync_invoices_task(job_context: procrastinate.JobContext, timestamp: int = 0) -> None:

    await sync_invoices(_ctx(job_context))  # type: ignore[arg-type]


def register_tasks(app: procrastinate.App) -> None:
    """Register billing's tasks and periodic schedules on `app` (once per App)."""
    if PROCESS_TASK in app.tasks:
        return
    app.task(
        name=PROCESS_TASK,
        queue=BILLING_QUEUE,
        pass_context=True,
        retry=procrastinate.RetryStrategy(max_attempts=MAX_ATTEMPTS - 1, exponential_wait=2),
    )(process_stripe_event)
    app.task(name=BATCH_TASK, queue=BILLING_QUEUE, pass_context=True)(process_stripe_batch)
    sweep = app.task(
        name=SWEEP_TASK, queue=BILLING_QUEUE, pass_context=True, queueing_lock="billing-sweep"
    )(sweep_stripe_events)
    app.periodic(cron="* * * * *", periodic_id="billing-sweep")(sweep)
    dunning = app.task(
        name=DUNNING_TASK, queue=BILLING_QUEUE, pass_context=True, queueing_lock="billing-dunning"
    )(dunning_pass)
    app.periodic(cron="*/15 * * * *", periodic_id="billing-dunning")(dunning)
    sync = app.task(
        name=SYNC_TASK, queue=BILLING_QUEUE, pass_context=True, queueing_lock="billing-sync"
    )(sync_invoices_task)
    app.periodic(cron="17 3 * * *", periodic_id="billing-sync")(sync)
