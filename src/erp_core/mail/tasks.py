"""Mail queue tasks: send one message (retried with backoff) and a sweeper that re-queues
messages left behind, so an SMTP outage longer than the retries still loses nothing."""

from __future__ import annotations

import contextlib
from datetime import timedelta

import procrastinate
import procrastinate.exceptions

from erp_core.context import AppContext
from erp_core.mail.outbox import MAIL_QUEUE, SEND_TASK, SWEEP_TASK
from erp_core.mail.sender import due_for_retry, send_outbox

SEND_MAX_ATTEMPTS = 8
SWEEP_AFTER = timedelta(minutes=10)


def _ctx(job_context: procrastinate.JobContext) -> AppContext:
    ctx: AppContext = job_context.additional_context["ctx"]
    return ctx


async def send_mail_task(job_context: procrastinate.JobContext, outbox_id: int) -> None:
    await send_outbox(_ctx(job_context), outbox_id)


async def sweep_mail_task(job_context: procrastinate.JobContext, timestamp: int) -> None:
    ctx = _ctx(job_context)
    for outbox_id in await due_for_retry(ctx, SWEEP_AFTER):
        # A duplicate send task is harmless (the row lock and `sent` status make it a no-op);
        # the lock only stops the sweeper piling up copies of its own.
        with contextlib.suppress(procrastinate.exceptions.AlreadyEnqueued):
            await (
                ctx.queue.tasks[SEND_TASK]
                .configure(queueing_lock=f"mail-{outbox_id}")
                .defer_async(outbox_id=outbox_id)
            )


def register_tasks(app: procrastinate.App) -> None:
    """Register the mail tasks on `app` (once per App)."""
    if SEND_TASK in app.tasks:
        return
    app.task(
        name=SEND_TASK,
        queue=MAIL_QUEUE,
        pass_context=True,
        retry=procrastinate.RetryStrategy(
            max_attempts=SEND_MAX_ATTEMPTS, exponential_wait=2, retry_exceptions={Exception}
        ),
    )(send_mail_task)
    sweep = app.task(
        name=SWEEP_TASK, queue=MAIL_QUEUE, pass_context=True, queueing_lock="mail-sweep"
    )(sweep_mail_task)
    app.periodic(cron="*/5 * * * *", periodic_id="mail-sweep")(sweep)
